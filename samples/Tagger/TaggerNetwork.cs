using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace RnnGen.Samples.Tagger;

/// <summary>How many words a tagger got right, overall and on words outside its vocabulary.</summary>
public readonly record struct TaggingScore(int Correct, int Total, int UnknownCorrect, int UnknownTotal)
{
    /// <summary>Fraction of all words tagged right (0 when there are none).</summary>
    public double Accuracy => Total == 0 ? 0 : (double)Correct / Total;

    /// <summary>Fraction of unknown words tagged right (NaN when there are none).</summary>
    public double UnknownAccuracy => UnknownTotal == 0 ? double.NaN : (double)UnknownCorrect / UnknownTotal;

    /// <summary>Fraction of vocabulary words tagged right (NaN when there are none).</summary>
    public double KnownAccuracy => Total == UnknownTotal ? double.NaN : (double)(Correct - UnknownCorrect) / (Total - UnknownTotal);
}

/// <summary>
/// The whole tagger: word embedding table, character BiLSTM and sentence BiLSTM with its head, plus the vocabulary.
/// Tags padded batches of sentences with the models' inference <c>Forward</c>, and saves and loads itself as one
/// safetensors file (tensor names <c>word_embedding.weight</c>, <c>char_lstm.*</c>, <c>tagger.*</c>) with the
/// vocabulary in a JSON file next to it. Not thread-safe (it owns its inference buffers).
/// </summary>
public sealed class TaggerNetwork
{
    /// <summary>Tensor-name prefix of the character model in the saved file.</summary>
    public const string CharPrefix = "char_lstm.";

    /// <summary>Tensor-name prefix of the sentence model in the saved file.</summary>
    public const string TaggerPrefix = "tagger.";

    /// <summary>Name of the word embedding in the saved file.</summary>
    public const string WordEmbeddingName = "word_embedding.weight";

    private const int E = TaggerModels.WordEmbedding;
    private const int In = TaggerModels.TaggerInput;
    private const int Tags = TaggerModels.Tags;

    private readonly TaggerBatch _batch = new();
    private float[] _charOutput = [];
    private float[] _charFinal = [];
    private float[] _input = [];
    private float[] _logits = [];

    /// <summary>Creates a freshly initialized tagger: PyTorch's default initialization (the embedding N(0, 1)), from <paramref name="seed"/>.</summary>
    public TaggerNetwork(TaggerVocabulary vocabulary, int hidden, int seed)
    {
        Vocabulary = vocabulary ?? throw new ArgumentNullException(nameof(vocabulary));
        Hidden = hidden;
        Sentence = TaggerModels.CreateSentenceTagger(hidden, seed);
        Chars = new CharBiLstm(seed + 1);
        WordEmbedding = new float[vocabulary.Count * E];
        new Rng(seed + 2).FillNormal(WordEmbedding);
    }

    /// <summary>The words.</summary>
    public TaggerVocabulary Vocabulary { get; }

    /// <summary>Hidden width of each direction of the sentence BiLSTM.</summary>
    public int Hidden { get; }

    /// <summary>The character BiLSTM.</summary>
    public CharBiLstm Chars { get; }

    /// <summary>The sentence BiLSTM with its linear head to tag logits.</summary>
    public IVectorSequenceModel Sentence { get; }

    /// <summary>The word embedding [Vocabulary.Count, WordEmbedding], row-major.</summary>
    public float[] WordEmbedding { get; }

    /// <summary>Learnable floats in all three parts.</summary>
    public long ParameterCount => (long)WordEmbedding.Length + CharBiLstm.ParameterCount + Sentence.ParameterCount;

    /// <summary>Tags the sentences of <paramref name="corpus"/> (encoded with this vocabulary) and scores them against their tags.</summary>
    /// <param name="corpus">The sentences.</param>
    /// <param name="predictions">When given, receives the predicted tag ids of each sentence.</param>
    /// <param name="batchSize">Sentences per padded batch.</param>
    public TaggingScore Evaluate(EncodedCorpus corpus, int[][]? predictions = null, int batchSize = 64)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        int correct = 0, total = 0, unknownCorrect = 0, unknownTotal = 0;
        foreach (int[] sentences in Batching.BucketByLength(corpus.Lengths, batchSize))
        {
            Run(corpus, sentences);
            TaggerBatch batch = _batch;
            for (int b = 0; b < batch.Batch; b++)
            {
                int[]? predicted = predictions is null ? null : predictions[sentences[b]] = new int[batch.Lengths[b]];
                for (int t = 0; t < batch.Lengths[b]; t++)
                {
                    int row = t * batch.Batch + b;
                    int tag = ArgMax(_logits.AsSpan(row * Tags, Tags));
                    if (predicted is not null) predicted[t] = tag;
                    bool right = tag == batch.Targets[row];
                    total++;
                    if (right) correct++;
                    if (batch.Unknown[row])
                    {
                        unknownTotal++;
                        if (right) unknownCorrect++;
                    }
                }
            }
        }
        return new TaggingScore(correct, total, unknownCorrect, unknownTotal);
    }

    /// <summary>
    /// Tags and scores the sentences of <paramref name="corpus"/> as <see cref="Evaluate"/> does, but with twins of the
    /// two networks declared with <c>Weights = </c><paramref name="weights"/> (the same parameters copied in) and one
    /// sentence at a time: every word's spelling is a one-sequence <c>Forward</c> of the character model, every sentence
    /// one of the sentence model. Those read the reduced copy in their recurrent products (the one-row products: a
    /// batch would read the float weights); the input projections over a sequence's steps and the head read float.
    /// With <see cref="WeightPrecision.Single"/> it gives <see cref="Evaluate"/>'s scores up to float rounding.
    /// </summary>
    public TaggingScore EvaluateUnbatched(EncodedCorpus corpus, WeightPrecision weights)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        const int Hc = TaggerModels.CharHidden;
        ITokenSequenceModel chars = TaggerModels.CreateCharModel(0, weights);
        Chars.Parameters.CopyTo(chars.Parameters);
        IVectorSequenceModel sentence = TaggerModels.CreateSentenceTagger(Hidden, 0, weights);
        Sentence.Parameters.CopyTo(sentence.Parameters);
        var charOutput = new float[TaggerModels.MaxWordChars * CharBiLstm.OutputSize];
        var charFinal = new float[CharBiLstm.StateSize]; // h forward, h reverse, then c likewise
        float[] input = [], logits = [];
        int correct = 0, total = 0, unknownCorrect = 0, unknownTotal = 0;
        for (int s = 0; s < corpus.Count; s++)
        {
            int[] wordIds = corpus.WordIds[s];
            int[] formIds = corpus.FormIds[s];
            int[] tags = corpus.Sentences[s].Tags;
            int length = wordIds.Length;
            if (length == 0) continue;
            Grow(ref input, length * In);
            Grow(ref logits, length * Tags);
            for (int t = 0; t < length; t++)
            {
                int[] spelling = corpus.Forms.Chars(formIds[t]);
                chars.Forward(spelling, charOutput.AsSpan(0, spelling.Length * CharBiLstm.OutputSize), default, charFinal);
                Span<float> x = input.AsSpan(t * In, In);
                WordEmbedding.AsSpan(wordIds[t] * E, E).CopyTo(x);
                charFinal.AsSpan(0, 2 * Hc).CopyTo(x.Slice(E));
            }
            sentence.Forward(input.AsSpan(0, length * In), logits.AsSpan(0, length * Tags), default, default);
            for (int t = 0; t < length; t++)
            {
                bool right = ArgMax(logits.AsSpan(t * Tags, Tags)) == tags[t];
                total++;
                if (right) correct++;
                if (wordIds[t] == WordVocabulary.Unknown)
                {
                    unknownTotal++;
                    if (right) unknownCorrect++;
                }
            }
        }
        return new TaggingScore(correct, total, unknownCorrect, unknownTotal);
    }

    /// <summary>Tags one sentence of words (any tokenization; each word is looked up lower-cased and read by the character model as written).</summary>
    public string[] Tag(IReadOnlyList<string> words)
    {
        ArgumentNullException.ThrowIfNull(words);
        if (words.Count == 0) return [];
        var sentence = new TaggedSentence([.. words], new int[words.Count]);
        var corpus = new EncodedCorpus([sentence], Vocabulary, new FormTable());
        var predictions = new int[1][];
        Evaluate(corpus, predictions);
        var tags = new string[words.Count];
        for (int i = 0; i < tags.Length; i++) tags[i] = UniversalTags.Name(predictions[0][i]);
        return tags;
    }

    /// <summary>The full forward pass over one batch, leaving the logits [Steps, Batch, Tags] in <see cref="_logits"/>.</summary>
    private void Run(EncodedCorpus corpus, int[] sentences)
    {
        TaggerBatch batch = _batch;
        batch.Prepare(corpus, sentences);
        int unique = batch.Unique, rows = batch.Rows;
        Grow(ref _charOutput, batch.CharSteps * unique * CharBiLstm.OutputSize);
        Grow(ref _charFinal, unique * CharBiLstm.StateSize);
        Grow(ref _input, rows * In);
        Grow(ref _logits, rows * Tags);
        Chars.Forward(
            batch.CharTokens.AsSpan(0, batch.CharSteps * unique), unique, batch.CharLengths.AsSpan(0, unique),
            _charOutput.AsSpan(0, batch.CharSteps * unique * CharBiLstm.OutputSize), default, _charFinal.AsSpan(0, unique * CharBiLstm.StateSize));
        batch.BuildInput(WordEmbedding, _charFinal, _input);
        Sentence.Forward(_input.AsSpan(0, rows * In), batch.Batch, batch.Lengths.AsSpan(0, batch.Batch), _logits.AsSpan(0, rows * Tags), default, default);
    }

    private static void Grow(ref float[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new float[Math.Max(length, buffer.Length * 3 / 2)];
    }

    internal static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best]) best = i;
        }
        return best;
    }

    /// <summary>The tensor table of the saved file: the embedding, then the character model's and the sentence model's tensors under their prefixes.</summary>
    private List<TensorInfo> FileTensors()
    {
        var tensors = new List<TensorInfo> { new(WordEmbeddingName, 0, Vocabulary.Count, E) };
        int offset = WordEmbedding.Length;
        foreach (TensorInfo tensor in CharBiLstm.Tensors) tensors.Add(new TensorInfo(CharPrefix + tensor.Name, offset + tensor.Offset, [.. tensor.Shape]));
        offset += CharBiLstm.ParameterCount;
        foreach (TensorInfo tensor in Sentence.TensorTable) tensors.Add(new TensorInfo(TaggerPrefix + tensor.Name, offset + tensor.Offset, [.. tensor.Shape]));
        return tensors;
    }

    /// <summary>Saves the weights to <paramref name="path"/> (safetensors, atomically) and the vocabulary next to it; returns the vocabulary's path.</summary>
    public string Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        var all = new float[ParameterCount];
        WordEmbedding.CopyTo(all, 0);
        Chars.Parameters.CopyTo(all.AsSpan(WordEmbedding.Length));
        Sentence.Parameters.CopyTo(all.AsSpan(WordEmbedding.Length + CharBiLstm.ParameterCount));
        Safetensors.Save(path, FileTensors(), all);
        string vocabularyPath = TaggerVocabulary.PathFor(path);
        Vocabulary.Save(vocabularyPath, Hidden);
        return vocabularyPath;
    }

    /// <summary>Loads a tagger saved by <see cref="Save"/>: the sizes come from the file's tensor shapes, the words from the JSON file next to it.</summary>
    /// <exception cref="SafetensorsException">The file is not a tagger of this sample, or does not match its vocabulary.</exception>
    /// <exception cref="InvalidDataException">The vocabulary file is missing parts or is for other sizes.</exception>
    public static TaggerNetwork Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Model file '{path}' not found (full path {Path.GetFullPath(path)}).", path);
        IReadOnlyDictionary<string, SafetensorsTensor> tensors = Safetensors.ReadAll(path);
        if (!tensors.TryGetValue(TaggerPrefix + "rnn.weight_hh_l0", out SafetensorsTensor? weightHh) || weightHh.Shape.Count != 2 || weightHh.Shape[0] != 4 * weightHh.Shape[1])
            throw new SafetensorsException($"'{path}' has no LSTM tensor {TaggerPrefix}rnn.weight_hh_l0 of shape [4H, H]; it is not a model of this sample.");
        int hidden = weightHh.Shape[1];
        if (!TaggerModels.SupportedHidden.Contains(hidden))
            throw new SafetensorsException($"'{path}' holds a tagger with hidden size {hidden}; this build has {string.Join(", ", TaggerModels.SupportedHidden)}.");
        TaggerVocabulary vocabulary = TaggerVocabulary.Load(TaggerVocabulary.PathFor(path));
        if (!tensors.TryGetValue(WordEmbeddingName, out SafetensorsTensor? embedding) || embedding.Shape.Count != 2
            || embedding.Shape[0] != vocabulary.Count || embedding.Shape[1] != E)
            throw new SafetensorsException(
                $"'{path}' has no {WordEmbeddingName} of shape [{vocabulary.Count}, {E}] (the vocabulary file next to it has {vocabulary.Count} words); the two files do not belong together.");
        var network = new TaggerNetwork(vocabulary, hidden, seed: 0);
        embedding.Data.CopyTo(network.WordEmbedding, 0);
        network.Chars.LoadSafetensors(path, new SafetensorsOptions { Prefix = CharPrefix, IgnoreUnexpected = true });
        using (FileStream stream = File.OpenRead(path)) network.Sentence.LoadSafetensors(stream, new SafetensorsOptions { Prefix = TaggerPrefix, IgnoreUnexpected = true });
        return network;
    }
}
