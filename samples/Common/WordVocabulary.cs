using System;
using System.Collections.Generic;
using System.Linq;

namespace RnnGen.Samples;

/// <summary>
/// A word (or tag, or any string) vocabulary with reserved ids for padding, unknown words and sequence markers.
/// Built from counts with a minimum frequency and a size cap; ids are stable for a given corpus (most frequent
/// first, ties by ordinal order). Models have a compile-time vocabulary size, so <see cref="Capacity"/> fixes the
/// id range and rare words fall back to <see cref="Unknown"/>.
/// </summary>
public sealed class WordVocabulary
{
    /// <summary>Id of the padding token.</summary>
    public const int Padding = 0;

    /// <summary>Id of unknown words.</summary>
    public const int Unknown = 1;

    /// <summary>Id of the start-of-sequence marker.</summary>
    public const int Start = 2;

    /// <summary>Id of the end-of-sequence marker.</summary>
    public const int End = 3;

    /// <summary>Number of reserved ids.</summary>
    public const int Reserved = 4;

    private static readonly string[] ReservedWords = { "<pad>", "<unk>", "<start>", "<end>" };

    private readonly Dictionary<string, int> _ids;
    private readonly List<string> _words;

    private WordVocabulary(int capacity, IEnumerable<string> words)
    {
        Capacity = capacity;
        _words = new List<string>(ReservedWords);
        _ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < _words.Count; i++) _ids[_words[i]] = i;
        foreach (string word in words)
        {
            if (_words.Count >= capacity) break;
            if (_ids.ContainsKey(word)) continue;
            _ids[word] = _words.Count;
            _words.Add(word);
        }
    }

    /// <summary>The id range models must cover (their <c>Vocabulary</c>); ids in use are fewer or equal.</summary>
    public int Capacity { get; }

    /// <summary>Ids in use, reserved ones included.</summary>
    public int Count => _words.Count;

    /// <summary>
    /// Builds a vocabulary from a corpus: words seen at least <paramref name="minCount"/> times, most frequent first,
    /// up to <paramref name="capacity"/> ids in all.
    /// </summary>
    public static WordVocabulary Build(IEnumerable<string> corpus, int capacity, int minCount = 1)
    {
        if (capacity <= Reserved) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, $"capacity must exceed the {Reserved} reserved ids.");
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string word in corpus) counts[word] = counts.TryGetValue(word, out int n) ? n + 1 : 1;
        IEnumerable<string> ordered = counts
            .Where(pair => pair.Value >= minCount)
            .OrderByDescending(pair => pair.Value)
            .ThenBy(pair => pair.Key, StringComparer.Ordinal)
            .Select(pair => pair.Key);
        return new WordVocabulary(capacity, ordered);
    }

    /// <summary>A vocabulary of exactly these words (after the reserved ids), e.g. a fixed tag set.</summary>
    public static WordVocabulary FromWords(IEnumerable<string> words, int capacity) => new(capacity, words);

    /// <summary>The id of <paramref name="word"/>, or <see cref="Unknown"/>.</summary>
    public int this[string word] => _ids.TryGetValue(word, out int id) ? id : Unknown;

    /// <summary>Whether <paramref name="word"/> has its own id.</summary>
    public bool Contains(string word) => _ids.ContainsKey(word);

    /// <summary>The word of <paramref name="id"/>.</summary>
    public string Word(int id) => (uint)id < (uint)_words.Count ? _words[id] : ReservedWords[Unknown];

    /// <summary>Ids of a sequence of words, optionally framed by <see cref="Start"/> and <see cref="End"/>.</summary>
    public int[] Encode(IReadOnlyList<string> words, bool addStart = false, bool addEnd = false)
    {
        var ids = new int[words.Count + (addStart ? 1 : 0) + (addEnd ? 1 : 0)];
        int k = 0;
        if (addStart) ids[k++] = Start;
        foreach (string word in words) ids[k++] = this[word];
        if (addEnd) ids[k] = End;
        return ids;
    }

    /// <summary>Words of a sequence of ids, stopping at <see cref="End"/> and skipping padding and <see cref="Start"/>.</summary>
    public string Decode(ReadOnlySpan<int> ids, string separator = " ")
    {
        var words = new List<string>();
        foreach (int id in ids)
        {
            if (id == End) break;
            if (id == Padding || id == Start) continue;
            words.Add(Word(id));
        }
        return string.Join(separator, words);
    }

    /// <summary>All words in id order (reserved ones first), e.g. to save next to a model.</summary>
    public IReadOnlyList<string> Words => _words;
}
