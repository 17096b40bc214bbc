using System;
using System.Text;

namespace RnnGen.Samples.CharRnn;

/// <summary>
/// A small built-in corpus for running the sample without data: rhyming four-line verses under an upper-case title,
/// generated from a small grammar, always the same text (a fixed seed). It has what a character model learns first —
/// spelling of a few hundred words, capitals at line starts, punctuation, quotes, blank lines between verses — and
/// some longer-range structure (the AABB rhymes and a title naming the rhyme words) for bigger models to pick up.
/// </summary>
/// <example>
/// <code>
/// THE SLED AND THE KITE
///
/// Anna walked by the sled,
/// And Anna saw a brave bed.
/// A golden fox lost the kite,
/// "I have the tiny dog!" said the night.
/// </code>
/// </example>
public static class SyntheticCorpus
{
    /// <summary>The default size, about 100 KB: enough text for a minute of training without memorizing it.</summary>
    public const int DefaultLength = 100_000;

    private const ulong Seed = 20240601;

    // Groups of rhyming nouns; each couplet ends its two lines with two words of one group.
    private static readonly string[][] Rhymes =
    [
        ["cat", "hat", "mat", "bat", "rat"],
        ["hill", "mill", "windowsill", "quill"],
        ["moon", "spoon", "dune", "tune", "balloon"],
        ["bay", "hay", "clay", "tray", "way"],
        ["night", "light", "kite", "height"],
        ["sea", "tree", "bee", "key"],
        ["lake", "cake", "snake", "rake"],
        ["door", "floor", "shore", "store"],
        ["bed", "shed", "bread", "sled"],
        ["rain", "lane", "plane", "train"],
        ["log", "dog", "frog", "fog", "bog"],
        ["boat", "coat", "goat", "moat"],
        ["star", "jar", "car", "guitar"],
        ["house", "mouse", "blouse"],
        ["ring", "string", "swing", "king"],
    ];

    private static readonly string[] Animals =
        ["cat", "dog", "fox", "frog", "bird", "mouse", "goat", "bee", "duck", "owl", "hen", "pig", "bear", "fish", "rabbit", "horse"];

    private static readonly string[] Adjectives =
        ["little", "happy", "old", "green", "red", "sleepy", "brave", "tiny", "big", "silly", "quiet", "lazy", "clever", "small", "golden", "funny"];

    private static readonly string[] Names = ["Tom", "Anna", "Sam", "Lily", "Max", "Rosa", "Ben", "Kate", "Jack", "Emma"];

    // "went (somewhere) the X" verbs: past tense plus a preposition.
    private static readonly string[] Moves =
        ["sat on", "ran to", "sang near", "slept in", "jumped over", "looked at", "walked by", "danced on", "hid under", "flew over", "swam to", "waited by"];

    private static readonly string[] Takes = ["found", "saw", "lost", "made", "took", "painted", "wanted", "carried", "loved", "dropped"];

    private static readonly string[] Wants = ["love", "want", "see", "need", "like", "have"];

    private static readonly string[] Adverbs = ["slowly", "softly", "quickly", "happily", "quietly", "sadly", "gladly"];

    private static readonly string[] Times = ["One day", "At night", "In the morning", "Long ago", "Then", "After the rain", "Once upon a time"];

    /// <summary>Generates the corpus: whole verses until at least <paramref name="length"/> characters, the same text on every call.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is not positive.</exception>
    public static string Generate(int length = DefaultLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        var rng = new Rng(Seed);
        var text = new StringBuilder(length + 256);
        while (text.Length < length) AppendVerse(text, rng);
        return text.ToString();
    }

    private static void AppendVerse(StringBuilder text, Rng rng)
    {
        string[] first = Pick(rng, Rhymes);
        string[] second = Pick(rng, Rhymes);
        (string a1, string a2) = TwoOf(rng, first);
        (string b1, string b2) = TwoOf(rng, second);

        text.Append(Title(rng, a1, b1).ToUpperInvariant()).Append("\n\n");
        AppendLine(text, Line(rng, a1, opening: true), ",");
        AppendLine(text, Line(rng, a2, opening: false), Pick(rng, [".", ".", ";", "!"]));
        AppendLine(text, Line(rng, b1, opening: true), ",");
        AppendLine(text, Line(rng, b2, opening: false), Pick(rng, [".", ".", "!"]));
        text.Append('\n');
    }

    private static string Title(Rng rng, string a, string b) => rng.NextInt(4) switch
    {
        0 => $"the {a} and the {b}",
        1 => $"{Pick(rng, Names)} and the {a}",
        2 => $"a song of the {b}",
        _ => $"the {Pick(rng, Adjectives)} {a}",
    };

    /// <summary>One line ending in the rhyme word; opening lines start a couplet, the others answer it.</summary>
    private static string Line(Rng rng, string rhyme, bool opening)
    {
        if (opening)
        {
            return rng.NextInt(5) switch
            {
                0 => $"{Subject(rng)} {Pick(rng, Moves)} the {rhyme}",
                1 => $"{Pick(rng, Times)}, {Subject(rng)} {Pick(rng, Takes)} a {Pick(rng, Adjectives)} {rhyme}",
                2 => $"{Subject(rng)} {Pick(rng, Adverbs)} {Pick(rng, Moves)} the {rhyme}",
                3 => $"{Pick(rng, Names)} and {Subject(rng)} {Pick(rng, Moves)} the {rhyme}",
                _ => $"{Subject(rng)} {Pick(rng, Takes)} the {rhyme}",
            };
        }
        return rng.NextInt(5) switch
        {
            0 => $"and {Subject(rng)} {Pick(rng, Moves)} the {rhyme}",
            1 => $"\"I {Pick(rng, Wants)} the {Pick(rng, Adjectives)} {Pick(rng, Animals)}!\" said the {rhyme}",
            2 => $"but {Subject(rng)} {Pick(rng, Takes)} the {rhyme}",
            3 => $"so {Subject(rng)} {Pick(rng, Adverbs)} {Pick(rng, Moves)} the {rhyme}",
            _ => $"and {Pick(rng, Names)} {Pick(rng, Takes)} a {Pick(rng, Adjectives)} {rhyme}",
        };
    }

    private static string Subject(Rng rng) => rng.NextInt(4) switch
    {
        0 => Pick(rng, Names),
        1 => $"the {Pick(rng, Animals)}",
        2 => $"a {Pick(rng, Adjectives)} {Pick(rng, Animals)}",
        _ => $"the {Pick(rng, Adjectives)} {Pick(rng, Animals)}",
    };

    private static void AppendLine(StringBuilder text, string line, string end)
    {
        text.Append(char.ToUpperInvariant(line[0])).Append(line, 1, line.Length - 1).Append(end).Append('\n');
    }

    private static (string, string) TwoOf(Rng rng, string[] group)
    {
        int i = rng.NextInt(group.Length);
        int j = (i + 1 + rng.NextInt(group.Length - 1)) % group.Length;
        return (group[i], group[j]);
    }

    private static T Pick<T>(Rng rng, T[] items) => items[rng.NextInt(items.Length)];
}
