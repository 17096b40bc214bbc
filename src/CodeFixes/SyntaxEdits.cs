using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace RnnGen.CodeFixes;

/// <summary>
/// Finding the syntax a generator diagnostic points at, and the small trivia-preserving edits the fixes make.
/// A generator diagnostic carries nothing but its id, message and location, so everything starts from the span.
/// </summary>
internal static class SyntaxEdits
{
    private const string AttributeName = "RecurrentModel";
    private const string AttributeMetadataName = "RnnGen.RecurrentModelAttribute";

    /// <summary>The class whose identifier is at <paramref name="span"/> (declaration diagnostics), or null.</summary>
    public static ClassDeclarationSyntax? ClassAt(SyntaxNode root, TextSpan span)
    {
        if (!root.FullSpan.Contains(span)) return null;
        SyntaxToken token = root.FindToken(span.Start);
        return token.Span == span && token.Parent is ClassDeclarationSyntax declaration && declaration.Identifier == token
            ? declaration
            : null;
    }

    /// <summary>The named attribute argument whose span is <paramref name="span"/>, or null.</summary>
    public static AttributeArgumentSyntax? ArgumentAt(SyntaxNode root, TextSpan span)
    {
        if (!root.FullSpan.Contains(span)) return null;
        AttributeArgumentSyntax? argument = root.FindNode(span).FirstAncestorOrSelf<AttributeArgumentSyntax>();
        return argument is { NameEquals: not null } && argument.Span == span && argument.Parent?.Parent is AttributeSyntax
            ? argument
            : null;
    }

    /// <summary>The attribute whose span is <paramref name="span"/> (value diagnostics whose argument is missing), or null.</summary>
    public static AttributeSyntax? AttributeAt(SyntaxNode root, TextSpan span)
    {
        if (!root.FullSpan.Contains(span)) return null;
        AttributeSyntax? attribute = root.FindNode(span).FirstAncestorOrSelf<AttributeSyntax>();
        return attribute is not null && attribute.Span == span ? attribute : null;
    }

    /// <summary>The property a named argument sets, e.g. <c>Hidden</c>.</summary>
    public static string PropertyName(AttributeArgumentSyntax argument) => argument.NameEquals!.Name.Identifier.ValueText;

    /// <summary>
    /// Whether <paramref name="attribute"/> is <c>[RecurrentModel]</c>: bound to the attribute type when the semantic
    /// model can tell, else by its written name (<c>RecurrentModel</c>, <c>RecurrentModelAttribute</c>, qualified or not).
    /// </summary>
    public static bool IsRecurrentModel(AttributeSyntax attribute, SemanticModel? semanticModel)
    {
        if (semanticModel?.GetSymbolInfo(attribute).Symbol is IMethodSymbol constructor)
        {
            return constructor.ContainingType.ToDisplayString() == AttributeMetadataName;
        }
        string name = attribute.Name switch
        {
            QualifiedNameSyntax qualified => qualified.Right.Identifier.ValueText,
            AliasQualifiedNameSyntax alias => alias.Name.Identifier.ValueText,
            SimpleNameSyntax simple => simple.Identifier.ValueText,
            _ => "",
        };
        return name is AttributeName or AttributeName + "Attribute";
    }

    /// <summary>An integer literal in place of <paramref name="expression"/>, keeping its trivia.</summary>
    public static ExpressionSyntax IntegerLiteral(int value, SyntaxNode? triviaFrom = null)
    {
        LiteralExpressionSyntax literal = SyntaxFactory.LiteralExpression(SyntaxKind.NumericLiteralExpression, SyntaxFactory.Literal(value));
        return triviaFrom is null ? literal : literal.WithTriviaFrom(triviaFrom);
    }

    /// <summary><c>Name = value</c>, spaced as people write it.</summary>
    public static AttributeArgumentSyntax NamedArgument(string name, ExpressionSyntax value) => SyntaxFactory.AttributeArgument(
        SyntaxFactory.NameEquals(
            SyntaxFactory.IdentifierName(name),
            SyntaxFactory.Token(SyntaxFactory.TriviaList(SyntaxFactory.Space), SyntaxKind.EqualsToken, SyntaxFactory.TriviaList(SyntaxFactory.Space))),
        nameColon: null,
        value);

    /// <summary>
    /// Inserts <paramref name="argument"/> at <paramref name="index"/>, laid out like its neighbours: it takes the
    /// indentation of the argument it goes before (or follows), and the new comma copies an existing one's trivia, so a
    /// one-argument-per-line list stays that way.
    /// </summary>
    public static AttributeSyntax InsertArgument(AttributeSyntax attribute, int index, AttributeArgumentSyntax argument)
    {
        if (attribute.ArgumentList is not { } list)
        {
            return attribute.WithArgumentList(SyntaxFactory.AttributeArgumentList(SyntaxFactory.SingletonSeparatedList(argument)));
        }
        SeparatedSyntaxList<AttributeArgumentSyntax> arguments = list.Arguments;
        if (arguments.Count == 0)
        {
            return attribute.WithArgumentList(list.WithArguments(SyntaxFactory.SingletonSeparatedList(argument)));
        }

        var nodes = new List<AttributeArgumentSyntax>(arguments);
        var separators = new List<SyntaxToken>(arguments.GetSeparators());
        SyntaxToken separator = separators.Count > 0
            ? SyntaxFactory.Token(separators[separators.Count - 1].LeadingTrivia, SyntaxKind.CommaToken, separators[separators.Count - 1].TrailingTrivia)
            : SyntaxFactory.Token(SyntaxFactory.TriviaList(), SyntaxKind.CommaToken, SyntaxFactory.TriviaList(SyntaxFactory.Space));
        bool separatorEndsLine = separator.TrailingTrivia.Any(SyntaxKind.EndOfLineTrivia);
        index = index < 0 ? 0 : index > nodes.Count ? nodes.Count : index;

        if (index == nodes.Count)
        {
            // After the last argument: whatever followed it (a line break before ')') now follows the new one.
            AttributeArgumentSyntax last = nodes[nodes.Count - 1];
            nodes[nodes.Count - 1] = last.WithTrailingTrivia();
            nodes.Add(argument.WithLeadingTrivia(separatorEndsLine ? last.GetLeadingTrivia() : default).WithTrailingTrivia(last.GetTrailingTrivia()));
            separators.Add(separator);
        }
        else
        {
            AttributeArgumentSyntax next = nodes[index];
            nodes[index] = separatorEndsLine ? next : next.WithLeadingTrivia();
            nodes.Insert(index, argument.WithLeadingTrivia(next.GetLeadingTrivia()));
            separators.Insert(index, separator);
        }
        return attribute.WithArgumentList(list.WithArguments(SyntaxFactory.SeparatedList(nodes, separators)));
    }

    /// <summary>Removes <paramref name="argument"/> and one comma next to it, keeping the layout of the others.</summary>
    public static AttributeArgumentListSyntax RemoveArgument(AttributeArgumentListSyntax list, AttributeArgumentSyntax argument)
    {
        SeparatedSyntaxList<AttributeArgumentSyntax> arguments = list.Arguments;
        int index = arguments.IndexOf(argument);
        if (index < 0) return list;
        var nodes = new List<AttributeArgumentSyntax>(arguments);
        var separators = new List<SyntaxToken>(arguments.GetSeparators());
        if (nodes.Count == 1)
        {
            return list.WithArguments(default);
        }
        if (index == nodes.Count - 1)
        {
            // The last argument goes with the comma before it; what followed it (a line break before ')') stays.
            nodes[index - 1] = nodes[index - 1].WithTrailingTrivia(argument.GetTrailingTrivia());
            separators.RemoveAt(index - 1);
        }
        else
        {
            separators.RemoveAt(index);
        }
        nodes.RemoveAt(index);
        return list.WithArguments(SyntaxFactory.SeparatedList(nodes, separators));
    }

    /// <summary>
    /// Adds <c>partial</c> to a type declaration, last among its modifiers (where C# requires it). With no modifiers,
    /// it takes the keyword's leading trivia, so indentation and comments stay in front.
    /// </summary>
    public static TypeDeclarationSyntax AddPartial(TypeDeclarationSyntax declaration)
    {
        if (declaration.Modifiers.Any(SyntaxKind.PartialKeyword)) return declaration;
        SyntaxToken keyword = declaration.Keyword;
        if (declaration.Modifiers.Count == 0)
        {
            SyntaxToken partial = SyntaxFactory.Token(keyword.LeadingTrivia, SyntaxKind.PartialKeyword, SyntaxFactory.TriviaList(SyntaxFactory.Space));
            TypeDeclarationSyntax withoutTrivia = declaration.ReplaceToken(keyword, keyword.WithLeadingTrivia());
            return withoutTrivia.WithModifiers(SyntaxFactory.TokenList(partial));
        }
        return declaration.WithModifiers(declaration.Modifiers.Add(
            SyntaxFactory.Token(SyntaxFactory.TriviaList(), SyntaxKind.PartialKeyword, SyntaxFactory.TriviaList(SyntaxFactory.Space))));
    }

    /// <summary>Removes the modifier of <paramref name="kind"/>; its leading trivia passes to what then comes first.</summary>
    public static TypeDeclarationSyntax RemoveModifier(TypeDeclarationSyntax declaration, SyntaxKind kind)
    {
        SyntaxTokenList modifiers = declaration.Modifiers;
        int index = modifiers.IndexOf(kind);
        if (index < 0) return declaration;
        SyntaxToken removed = modifiers[index];
        SyntaxTokenList remaining = modifiers.RemoveAt(index);
        if (index > 0 || removed.LeadingTrivia.Count == 0)
        {
            return declaration.WithModifiers(remaining);
        }
        if (remaining.Count > 0)
        {
            return declaration.WithModifiers(remaining.Replace(remaining[0], remaining[0].WithLeadingTrivia(removed.LeadingTrivia)));
        }
        SyntaxToken keyword = declaration.Keyword;
        TypeDeclarationSyntax withoutModifiers = declaration.WithModifiers(remaining);
        return withoutModifiers.ReplaceToken(withoutModifiers.Keyword, keyword.WithLeadingTrivia(removed.LeadingTrivia));
    }

    /// <summary>The name of a type declaration as it appears in a code action title.</summary>
    public static string DisplayName(BaseTypeDeclarationSyntax declaration) => declaration.Identifier.ValueText;
}
