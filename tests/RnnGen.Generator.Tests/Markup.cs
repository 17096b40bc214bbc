using System;
using Microsoft.CodeAnalysis.Text;

namespace RnnGen.Generator.Tests;

/// <summary>Source with one <c>[|...|]</c> marker, as in Roslyn's own tests: the marked span is where a diagnostic is expected.</summary>
internal static class Markup
{
    public static (string Source, TextSpan Span) Parse(string markup)
    {
        int start = markup.IndexOf("[|", StringComparison.Ordinal);
        int end = markup.IndexOf("|]", StringComparison.Ordinal);
        if (start < 0 || end < start || markup.IndexOf("[|", start + 2, StringComparison.Ordinal) >= 0)
        {
            throw new ArgumentException("Expected exactly one [|...|] marker.", nameof(markup));
        }
        string source = markup.Remove(end, 2).Remove(start, 2);
        return (source, TextSpan.FromBounds(start, end - 2));
    }
}
