using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace RnnGen.CodeFixes;

/// <summary>
/// Fixes for wrong <c>[RecurrentModel]</c> arguments. Each diagnostic is located on the offending argument
/// (<c>Hidden = 0</c>), or on the whole attribute when a required size is missing:
/// <list type="bullet">
/// <item>RNNG0004 (Input/Hidden/Layers not positive): "Set Hidden to 1", or "Add Input = 1" when it is missing;</item>
/// <item>RNNG0005 (Vocabulary/Output negative): "Set Output to 0";</item>
/// <item>RNNG0007 (a size beyond its cap): "Set Hidden to 16384", the largest supported value;</item>
/// <item>RNNG0006 (Nonlinearity on an LSTM or GRU): removes the Nonlinearity argument;</item>
/// <item>RNNG0011 (StepWeights, replaced by Weights): renames the argument to Weights, keeping its value;</item>
/// <item>RNNG0013 (Dropout not in [0, 1)): "Set Dropout to 0";</item>
/// <item>RNNG0014 (Dropout on a one-layer model): removes the Dropout argument.</item>
/// </list>
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AttributeArgumentCodeFixProvider)), Shared]
public sealed class AttributeArgumentCodeFixProvider : CodeFixProvider
{
    /// <summary>The sizes that have no default and so can be missing, in the order they are usually written.</summary>
    private static readonly string[] RequiredSizes = { "Input", "Hidden" };

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(
        DiagnosticIds.SizeNotPositive, DiagnosticIds.SizeNegative, DiagnosticIds.NonlinearityNotRnn, DiagnosticIds.SizeTooLarge,
        DiagnosticIds.StepWeightsReplaced, DiagnosticIds.DropoutOutOfRange, DiagnosticIds.DropoutOneLayer);

    /// <inheritdoc />
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        Document document = context.Document;
        SyntaxNode? root = await document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null) return;
        SemanticModel? semanticModel = await document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);

        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            if (SyntaxEdits.ArgumentAt(root, diagnostic.Location.SourceSpan) is { } argument)
            {
                if (argument.Parent?.Parent is AttributeSyntax owner && SyntaxEdits.IsRecurrentModel(owner, semanticModel))
                {
                    RegisterArgumentFix(context, diagnostic, argument);
                }
            }
            else if (diagnostic.Id == DiagnosticIds.SizeNotPositive
                && SyntaxEdits.AttributeAt(root, diagnostic.Location.SourceSpan) is { } attribute
                && SyntaxEdits.IsRecurrentModel(attribute, semanticModel))
            {
                foreach (string property in MissingSizes(attribute, diagnostic))
                {
                    context.RegisterCodeFix(
                        CodeAction.Create(
                            $"Add {property} = 1",
                            ct => AddArgumentAsync(document, attribute, property, ct),
                            DiagnosticIds.SizeNotPositive + ".Add." + property),
                        diagnostic);
                }
            }
        }
    }

    private static void RegisterArgumentFix(CodeFixContext context, Diagnostic diagnostic, AttributeArgumentSyntax argument)
    {
        string property = SyntaxEdits.PropertyName(argument);
        Document document = context.Document;
        switch (diagnostic.Id)
        {
            case DiagnosticIds.SizeNotPositive when SizeLimits.IsPositiveSize(property):
                RegisterSetValue(context, diagnostic, argument, property, 1, "");
                break;
            case DiagnosticIds.SizeNegative when SizeLimits.IsOptionalSize(property):
                RegisterSetValue(context, diagnostic, argument, property, 0, "");
                break;
            case DiagnosticIds.SizeTooLarge when SizeLimits.MaxOf(property) is int max:
                RegisterSetValue(context, diagnostic, argument, property, max, " (the largest supported)");
                break;
            case DiagnosticIds.StepWeightsReplaced when property == "StepWeights":
                context.RegisterCodeFix(
                    CodeAction.Create(
                        "Rename StepWeights to Weights (it now applies to every inference path)",
                        ct => RenameArgumentAsync(document, argument, "Weights", ct),
                        DiagnosticIds.StepWeightsReplaced),
                    diagnostic);
                break;
            case DiagnosticIds.NonlinearityNotRnn when property == "Nonlinearity":
                context.RegisterCodeFix(
                    CodeAction.Create(
                        "Remove Nonlinearity (it applies only to Cell = CellKind.Rnn)",
                        ct => RemoveArgumentAsync(document, argument, ct),
                        DiagnosticIds.NonlinearityNotRnn),
                    diagnostic);
                break;
            case DiagnosticIds.DropoutOutOfRange when property == "Dropout":
                RegisterSetValue(context, diagnostic, argument, property, 0, " (none)");
                break;
            case DiagnosticIds.DropoutOneLayer when property == "Dropout":
                context.RegisterCodeFix(
                    CodeAction.Create(
                        "Remove Dropout (it applies only between layers)",
                        ct => RemoveArgumentAsync(document, argument, ct),
                        DiagnosticIds.DropoutOneLayer),
                    diagnostic);
                break;
        }
    }

    private static void RegisterSetValue(CodeFixContext context, Diagnostic diagnostic, AttributeArgumentSyntax argument, string property, int value, string note)
    {
        string text = value.ToString(CultureInfo.InvariantCulture);
        Document document = context.Document;
        context.RegisterCodeFix(
            CodeAction.Create(
                $"Set {property} to {text}{note}",
                ct => SetValueAsync(document, argument, value, ct),
                diagnostic.Id + ".Set." + property),
            diagnostic);
    }

    /// <summary>
    /// The required sizes the attribute leaves out. Two can be missing at once, each with its own diagnostic at the same
    /// place; the message names the one it is about ("RecurrentModel.Input must be ..."), and when it cannot be read
    /// every missing size is offered.
    /// </summary>
    private static IEnumerable<string> MissingSizes(AttributeSyntax attribute, Diagnostic diagnostic)
    {
        var present = new HashSet<string>(
            attribute.ArgumentList?.Arguments.Where(a => a.NameEquals is not null).Select(SyntaxEdits.PropertyName) ?? Enumerable.Empty<string>());
        string[] missing = RequiredSizes.Where(p => !present.Contains(p)).ToArray();
        string? named = PropertyInMessage(diagnostic.GetMessage(CultureInfo.InvariantCulture));
        return named is not null && missing.Contains(named) ? new[] { named } : missing;
    }

    private static string? PropertyInMessage(string message)
    {
        const string Prefix = "RecurrentModel.";
        int start = message.IndexOf(Prefix, System.StringComparison.Ordinal);
        if (start < 0) return null;
        start += Prefix.Length;
        int end = start;
        while (end < message.Length && char.IsLetter(message[end])) end++;
        return end > start ? message.Substring(start, end - start) : null;
    }

    private static async Task<Document> SetValueAsync(Document document, AttributeArgumentSyntax argument, int value, CancellationToken cancellationToken)
    {
        SyntaxNode? root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null) return document;
        return document.WithSyntaxRoot(root.ReplaceNode(argument.Expression, SyntaxEdits.IntegerLiteral(value, argument.Expression)));
    }

    private static async Task<Document> RenameArgumentAsync(Document document, AttributeArgumentSyntax argument, string name, CancellationToken cancellationToken)
    {
        SyntaxNode? root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null || argument.NameEquals is not { } nameEquals) return document;
        SyntaxToken old = nameEquals.Name.Identifier;
        SyntaxToken renamed = Microsoft.CodeAnalysis.CSharp.SyntaxFactory.Identifier(old.LeadingTrivia, name, old.TrailingTrivia);
        return document.WithSyntaxRoot(root.ReplaceToken(old, renamed));
    }

    private static async Task<Document> RemoveArgumentAsync(Document document, AttributeArgumentSyntax argument, CancellationToken cancellationToken)
    {
        SyntaxNode? root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null || argument.Parent is not AttributeArgumentListSyntax list) return document;
        return document.WithSyntaxRoot(root.ReplaceNode(list, SyntaxEdits.RemoveArgument(list, argument)));
    }

    private static async Task<Document> AddArgumentAsync(Document document, AttributeSyntax attribute, string property, CancellationToken cancellationToken)
    {
        SyntaxNode? root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null) return document;
        // Input goes before Hidden and Hidden after Input, as in the docs; otherwise at the end.
        SeparatedSyntaxList<AttributeArgumentSyntax> arguments = attribute.ArgumentList?.Arguments ?? default;
        int IndexOf(string name)
        {
            for (int i = 0; i < arguments.Count; i++)
            {
                if (arguments[i].NameEquals is not null && SyntaxEdits.PropertyName(arguments[i]) == name) return i;
            }
            return -1;
        }
        int index = arguments.Count;
        if (property == "Input" && IndexOf("Hidden") is int hidden and >= 0) index = hidden;
        else if (property == "Hidden" && IndexOf("Input") is int input and >= 0) index = input + 1;
        AttributeArgumentSyntax added = SyntaxEdits.NamedArgument(property, SyntaxEdits.IntegerLiteral(1));
        return document.WithSyntaxRoot(root.ReplaceNode(attribute, SyntaxEdits.InsertArgument(attribute, index, added)));
    }
}
