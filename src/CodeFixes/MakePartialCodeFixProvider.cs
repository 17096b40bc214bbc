using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace RnnGen.CodeFixes;

/// <summary>
/// RNNG0001 (the model class is not partial) and RNNG0003 (a type containing it is not partial): adds the
/// <c>partial</c> modifier. Both diagnostics are located on the model class's identifier.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MakePartialCodeFixProvider)), Shared]
public sealed class MakePartialCodeFixProvider : CodeFixProvider
{
    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } =
        ImmutableArray.Create(DiagnosticIds.NotPartial, DiagnosticIds.ContainingTypeNotPartial);

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

            if (diagnostic.Id == DiagnosticIds.NotPartial)
            {
                if (model.Modifiers.Any(SyntaxKind.PartialKeyword)) continue;
                string title = $"Make class '{SyntaxEdits.DisplayName(model)}' partial";
                context.RegisterCodeFix(
                    CodeAction.Create(title, ct => MakePartialAsync(context.Document, new[] { model }, ct), nameof(DiagnosticIds.NotPartial)),
                    diagnostic);
            }
            else if (diagnostic.Id == DiagnosticIds.ContainingTypeNotPartial)
            {
                // Outermost first, as they read. One diagnostic is reported per such type, all at the same place, so
                // every one of them gets the same action: fixing them all at once is what the user wants.
                TypeDeclarationSyntax[] containing = model.Ancestors()
                    .OfType<TypeDeclarationSyntax>()
                    .Where(t => !t.Modifiers.Any(SyntaxKind.PartialKeyword))
                    .Reverse()
                    .ToArray();
                if (containing.Length == 0) continue;
                string names = string.Join(", ", containing.Select(t => "'" + SyntaxEdits.DisplayName(t) + "'"));
                string title = containing.Length == 1 ? $"Make {names} partial" : $"Make containing types {names} partial";
                context.RegisterCodeFix(
                    CodeAction.Create(title, ct => MakePartialAsync(context.Document, containing, ct), nameof(DiagnosticIds.ContainingTypeNotPartial)),
                    diagnostic);
            }
        }
    }

    private static async Task<Document> MakePartialAsync(Document document, IReadOnlyCollection<TypeDeclarationSyntax> declarations, CancellationToken cancellationToken)
    {
        SyntaxNode? root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null) return document;
        // ReplaceNodes hands nested declarations over already rewritten, so an outer and an inner type can both change.
        SyntaxNode updated = root.ReplaceNodes(declarations, static (_, rewritten) => SyntaxEdits.AddPartial(rewritten));
        return document.WithSyntaxRoot(updated);
    }
}
