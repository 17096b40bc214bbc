using System.Collections.Immutable;
using System.Composition;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace RnnGen.CodeFixes;

/// <summary>RNNG0010 (the model class is static or abstract): removes the <c>static</c> or <c>abstract</c> modifier.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(StaticOrAbstractCodeFixProvider)), Shared]
public sealed class StaticOrAbstractCodeFixProvider : CodeFixProvider
{
    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.StaticClass);

    /// <inheritdoc />
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null) return;

        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            ClassDeclarationSyntax? model = SyntaxEdits.ClassAt(root, diagnostic.Location.SourceSpan);
            if (model is null) continue;
            // The modifier may sit on another part of the class, in another file; then there is nothing to fix here.
            SyntaxKind kind = model.Modifiers.Any(SyntaxKind.StaticKeyword) ? SyntaxKind.StaticKeyword
                : model.Modifiers.Any(SyntaxKind.AbstractKeyword) ? SyntaxKind.AbstractKeyword
                : SyntaxKind.None;
            if (kind == SyntaxKind.None) continue;
            string keyword = SyntaxFacts.GetText(kind);
            context.RegisterCodeFix(
                CodeAction.Create(
                    $"Remove '{keyword}' from '{SyntaxEdits.DisplayName(model)}'",
                    ct => RemoveAsync(context.Document, model, kind, ct),
                    DiagnosticIds.StaticClass + "." + keyword),
                diagnostic);
        }
    }

    private static async Task<Document> RemoveAsync(Document document, ClassDeclarationSyntax declaration, SyntaxKind kind, CancellationToken cancellationToken)
    {
        SyntaxNode? root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null) return document;
        return document.WithSyntaxRoot(root.ReplaceNode(declaration, SyntaxEdits.RemoveModifier(declaration, kind)));
    }
}
