using System;

namespace RnnGen.Samples;

/// <summary>
/// The fixed character set of the character-level samples: id 0 is '\n', ids 1..95 are the printable ASCII
/// characters ' ' (32) to '~' (126), so <see cref="Size"/> is 96 and a model trained on one corpus can read any other.
/// </summary>
/// <remarks>
/// Every other character (tabs, '\r', accented letters, emoji, ...) encodes as <see cref="FallbackId"/>, the id of
/// '?'. The mapping is lossy on purpose: it keeps the vocabulary, and so the model's size, independent of the corpus.
/// Use <see cref="IsKnown"/> or <see cref="CountUnknown"/> to tell the user how much of a corpus was replaced.
/// </remarks>
public static class CharVocabulary
{
    /// <summary>Number of ids: '\n' plus the 95 printable ASCII characters.</summary>
    public const int Size = 96;

    /// <summary>The id of '\n'.</summary>
    public const int NewlineId = 0;

    /// <summary>The character that unknown characters become.</summary>
    public const char FallbackChar = '?';

    /// <summary>The id every character outside the vocabulary encodes to: the id of '?'.</summary>
    public const int FallbackId = FallbackChar - ' ' + 1;

    private const char FirstPrintable = ' ';
    private const char LastPrintable = '~';

    /// <summary>Whether <paramref name="c"/> has its own id (it is '\n' or printable ASCII).</summary>
    public static bool IsKnown(char c) => c == '\n' || (c >= FirstPrintable && c <= LastPrintable);

    /// <summary>The id of <paramref name="c"/>, or <see cref="FallbackId"/> when it is not in the vocabulary.</summary>
    public static int Encode(char c)
    {
        if (c == '\n') return NewlineId;
        if (c >= FirstPrintable && c <= LastPrintable) return c - FirstPrintable + 1;
        return FallbackId;
    }

    /// <summary>The ids of every character of <paramref name="text"/>, one per char (unknown ones as <see cref="FallbackId"/>).</summary>
    public static int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new int[text.Length];
        Encode(text, ids);
        return ids;
    }

    /// <summary>Writes the ids of <paramref name="text"/> into <paramref name="ids"/>, which must be exactly as long.</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void Encode(ReadOnlySpan<char> text, Span<int> ids)
    {
        if (ids.Length != text.Length)
            throw new ArgumentException($"ids has {ids.Length} elements; expected {text.Length} (one per character of text).", nameof(ids));
        for (int i = 0; i < text.Length; i++) ids[i] = Encode(text[i]);
    }

    /// <summary>The character of <paramref name="id"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="id"/> is not in [0, <see cref="Size"/>).</exception>
    public static char Decode(int id)
    {
        if ((uint)id >= Size) throw new ArgumentOutOfRangeException(nameof(id), id, $"A character id must be in [0, {Size}).");
        return id == NewlineId ? '\n' : (char)(FirstPrintable + id - 1);
    }

    /// <summary>The text of a sequence of ids.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is not in [0, <see cref="Size"/>).</exception>
    public static string Decode(ReadOnlySpan<int> ids)
    {
        var chars = new char[ids.Length];
        for (int i = 0; i < ids.Length; i++) chars[i] = Decode(ids[i]);
        return new string(chars);
    }

    /// <summary>How many characters of <paramref name="text"/> are outside the vocabulary (and would become '?').</summary>
    public static int CountUnknown(ReadOnlySpan<char> text)
    {
        int count = 0;
        foreach (char c in text)
        {
            if (!IsKnown(c)) count++;
        }
        return count;
    }
}
