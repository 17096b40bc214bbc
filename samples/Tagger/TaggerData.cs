using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RnnGen.Samples.Tagger;

/// <summary>
/// The tagger's word vocabulary: lower-cased training words, most frequent first, after the reserved ids of
/// <see cref="WordVocabulary"/> (<c>&lt;unk&gt;</c> is id 1). Words outside it are "unknown": they get the
/// <c>&lt;unk&gt;</c> embedding and are told apart only by their spelling, through the character model. Saved as a
/// small JSON file next to the model.
/// </summary>
public sealed class TaggerVocabulary
{
    /// <summary>The value of the JSON file's "format" field.</summary>
    public const string FormatName = "RnnGen.Samples.Tagger/1";

    private TaggerVocabulary(WordVocabulary words, int[] counts)
    {
        Words = words;
        Counts = counts;
    }

    /// <summary>The words; look up with <see cref="Id"/>, which lower-cases.</summary>
    public WordVocabulary Words { get; }

    /// <summary>Training occurrences of each id (0 for reserved ids and for a loaded vocabulary), for word dropout.</summary>
    public IReadOnlyList<int> Counts { get; }

    /// <summary>Ids in use, reserved ones included: the rows of the word embedding.</summary>
    public int Count => Words.Count;

    /// <summary>The key a word is looked up by: lower case (the character model still sees the original spelling).</summary>
    public static string Key(string word) => word.ToLowerInvariant();

    /// <summary>The id of <paramref name="word"/>, or <see cref="WordVocabulary.Unknown"/>.</summary>
    public int Id(string word) => Words[Key(word)];

    /// <summary>Builds the vocabulary of every word of the training sentences seen at least <paramref name="minCount"/> times.</summary>
    public static TaggerVocabulary Build(IEnumerable<TaggedSentence> sentences, int minCount = 1)
    {
        var keys = new List<string>();
        foreach (TaggedSentence sentence in sentences)
        {
            foreach (string word in sentence.Words) keys.Add(Key(word));
        }
        WordVocabulary words = WordVocabulary.Build(keys, int.MaxValue, minCount);
        var counts = new int[words.Count];
        foreach (string key in keys)
        {
            if (words.Contains(key)) counts[words[key]]++;
        }
        return new TaggerVocabulary(words, counts);
    }

    /// <summary>The file a model's vocabulary is saved in: the model path with <c>.vocab.json</c> for its extension.</summary>
    public static string PathFor(string modelPath) => Path.ChangeExtension(modelPath, ".vocab.json");

    /// <summary>Writes the vocabulary and the tag set as JSON.</summary>
    public void Save(string path, int hidden)
    {
        var file = new VocabularyFile
        {
            Format = FormatName,
            Lowercase = true,
            Hidden = hidden,
            WordEmbedding = TaggerModels.WordEmbedding,
            CharEmbedding = TaggerModels.CharEmbedding,
            CharHidden = TaggerModels.CharHidden,
            MaxWordChars = TaggerModels.MaxWordChars,
            Tags = UniversalTags.Names.ToArray(),
            Words = Words.Words.ToArray(),
        };
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        string temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(file, VocabularyJson.Default.VocabularyFile));
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads a vocabulary written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a vocabulary of this sample, or its sizes or tags differ from the compiled ones.</exception>
    public static TaggerVocabulary Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Vocabulary file '{path}' not found; it is written next to the model by training (full path {Path.GetFullPath(path)}).", path);
        VocabularyFile? file;
        try
        {
            file = JsonSerializer.Deserialize(File.ReadAllText(path), VocabularyJson.Default.VocabularyFile);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}", e);
        }
        if (file is null || file.Format != FormatName)
            throw new InvalidDataException($"'{path}' is not a tagger vocabulary (expected \"format\": \"{FormatName}\").");
        if (file.WordEmbedding != TaggerModels.WordEmbedding || file.CharEmbedding != TaggerModels.CharEmbedding
            || file.CharHidden != TaggerModels.CharHidden || file.MaxWordChars != TaggerModels.MaxWordChars)
            throw new InvalidDataException(
                $"'{path}' is for a tagger with word embedding {file.WordEmbedding}, char embedding {file.CharEmbedding}, char hidden {file.CharHidden} and "
                + $"{file.MaxWordChars} chars per word; this build has {TaggerModels.WordEmbedding}, {TaggerModels.CharEmbedding}, {TaggerModels.CharHidden} and {TaggerModels.MaxWordChars}.");
        if (file.Tags is null || !file.Tags.SequenceEqual(UniversalTags.Names))
            throw new InvalidDataException($"'{path}' has a different tag set; expected the 17 UPOS tags {string.Join(" ", UniversalTags.Names)}.");
        string[] words = file.Words ?? [];
        string[] reserved = WordVocabulary.FromWords([], WordVocabulary.Reserved + 1).Words.ToArray();
        if (words.Length < reserved.Length || !words.Take(reserved.Length).SequenceEqual(reserved) || words.Distinct(StringComparer.Ordinal).Count() != words.Length)
            throw new InvalidDataException($"'{path}' has a malformed word list (it must start with {string.Join(" ", reserved)} and hold no duplicates).");
        WordVocabulary vocabulary = WordVocabulary.FromWords(words.Skip(reserved.Length), words.Length);
        return new TaggerVocabulary(vocabulary, new int[vocabulary.Count]);
    }
}

/// <summary>The JSON layout of a saved vocabulary.</summary>
internal sealed class VocabularyFile
{
    [JsonPropertyName("format")] public string? Format { get; set; }
    [JsonPropertyName("lowercase")] public bool Lowercase { get; set; }
    [JsonPropertyName("hidden")] public int Hidden { get; set; }
    [JsonPropertyName("word_embedding")] public int WordEmbedding { get; set; }
    [JsonPropertyName("char_embedding")] public int CharEmbedding { get; set; }
    [JsonPropertyName("char_hidden")] public int CharHidden { get; set; }
    [JsonPropertyName("max_word_chars")] public int MaxWordChars { get; set; }
    [JsonPropertyName("tags")] public string[]? Tags { get; set; }
    [JsonPropertyName("words")] public string[]? Words { get; set; }
}

[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(VocabularyFile))]
internal sealed partial class VocabularyJson : JsonSerializerContext;

/// <summary>
/// Distinct word spellings (case kept) and their character ids, shared by the corpora of a run so the character
/// model runs once per spelling in a batch. Words longer than <see cref="TaggerModels.MaxWordChars"/> keep their
/// first and last <c>MaxWordChars / 2</c> characters (prefix and suffix carry the tag clues).
/// </summary>
public sealed class FormTable
{
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly List<int[]> _chars = new();

    /// <summary>Number of distinct spellings.</summary>
    public int Count => _chars.Count;

    /// <summary>The id of a spelling, adding it when new.</summary>
    public int Add(string form)
    {
        if (_ids.TryGetValue(form, out int id)) return id;
        id = _chars.Count;
        _ids[form] = id;
        _chars.Add(Encode(form));
        return id;
    }

    /// <summary>The character ids of spelling <paramref name="id"/>, 1 to <see cref="TaggerModels.MaxWordChars"/> of them.</summary>
    public int[] Chars(int id) => _chars[id];

    /// <summary>The character ids the model reads for <paramref name="form"/>.</summary>
    public static int[] Encode(string form)
    {
        const int Max = TaggerModels.MaxWordChars;
        if (form.Length == 0) return [CharVocabulary.Encode(' ')];
        if (form.Length <= Max) return CharVocabulary.Encode(form);
        return CharVocabulary.Encode(string.Concat(form.AsSpan(0, Max / 2), form.AsSpan(form.Length - (Max - Max / 2))));
    }
}

/// <summary>Sentences turned into ids: word ids of the vocabulary, spelling ids of a <see cref="FormTable"/>, tag ids.</summary>
public sealed class EncodedCorpus
{
    /// <summary>Encodes <paramref name="sentences"/>; new spellings are added to <paramref name="forms"/>.</summary>
    public EncodedCorpus(IReadOnlyList<TaggedSentence> sentences, TaggerVocabulary vocabulary, FormTable forms)
    {
        Sentences = sentences;
        Forms = forms;
        int count = sentences.Count;
        WordIds = new int[count][];
        FormIds = new int[count][];
        Lengths = new int[count];
        for (int s = 0; s < count; s++)
        {
            string[] words = sentences[s].Words;
            var wordIds = new int[words.Length];
            var formIds = new int[words.Length];
            for (int i = 0; i < words.Length; i++)
            {
                wordIds[i] = vocabulary.Id(words[i]);
                formIds[i] = forms.Add(words[i]);
                if (wordIds[i] == WordVocabulary.Unknown) UnknownTokens++;
            }
            WordIds[s] = wordIds;
            FormIds[s] = formIds;
            Lengths[s] = words.Length;
            Tokens += words.Length;
            MaxLength = Math.Max(MaxLength, words.Length);
        }
    }

    /// <summary>The sentences.</summary>
    public IReadOnlyList<TaggedSentence> Sentences { get; }

    /// <summary>The spellings the <see cref="FormIds"/> refer to.</summary>
    public FormTable Forms { get; }

    /// <summary>Vocabulary id of each word of each sentence.</summary>
    public int[][] WordIds { get; }

    /// <summary>Spelling id of each word of each sentence.</summary>
    public int[][] FormIds { get; }

    /// <summary>Words per sentence.</summary>
    public int[] Lengths { get; }

    /// <summary>Words in all.</summary>
    public int Tokens { get; }

    /// <summary>Words outside the vocabulary.</summary>
    public int UnknownTokens { get; }

    /// <summary>Words in the longest sentence.</summary>
    public int MaxLength { get; }

    /// <summary>Number of sentences.</summary>
    public int Count => Lengths.Length;

    /// <summary>Percent with two decimals, invariant culture.</summary>
    internal static string Percent(double fraction) => (100 * fraction).ToString("F2", CultureInfo.InvariantCulture);
}
