using System;
using System.Collections.Generic;

namespace RnnGen.Samples.Tagger;

/// <summary>
/// The 17 Universal POS tags of Universal Dependencies (https://universaldependencies.org/u/pos/), in alphabetical
/// order; a tag's id is its index here, which is also the row of the tagger head that scores it.
/// </summary>
public static class UniversalTags
{
    /// <summary>Number of tags.</summary>
    public const int Count = 17;

    private static readonly string[] s_names =
        ["ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X"];

    private static readonly Dictionary<string, int> s_ids = BuildIds();

    /// <summary>The tag names in id order.</summary>
    public static IReadOnlyList<string> Names => s_names;

    /// <summary>The name of tag <paramref name="id"/>.</summary>
    public static string Name(int id) => s_names[id];

    /// <summary>The id of a tag name (exact, upper case), or -1 when it is not a UPOS tag.</summary>
    public static int Id(string name) => s_ids.TryGetValue(name, out int id) ? id : -1;

    private static Dictionary<string, int> BuildIds()
    {
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < s_names.Length; i++) ids[s_names[i]] = i;
        return ids;
    }
}
