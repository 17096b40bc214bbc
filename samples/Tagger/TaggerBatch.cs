using System;

namespace RnnGen.Samples.Tagger;

/// <summary>
/// One padded batch of sentences in the layouts the two networks take, plus the glue between them:
/// <list type="bullet">
/// <item>the character batch: each distinct spelling of the batch once, its characters time-major
/// [<see cref="CharSteps"/>, <see cref="Unique"/>] with lengths;</item>
/// <item>the sentence batch: word ids, targets and the spelling slot of every word, time-major
/// [<see cref="Steps"/>, <see cref="Batch"/>] with lengths, padded with id 0, target -1 and slot -1;</item>
/// <item><see cref="BuildInput"/>, which makes the tagger's input vectors from the word embedding and the character
/// model's final states, and <see cref="CharStateGradient"/> and <see cref="AddWordEmbeddingGradient"/>, which send the
/// gradient of those vectors back to each.</item>
/// </list>
/// Buffers grow to the largest batch seen and are then reused; nothing allocates per batch after that.
/// </summary>
public sealed class TaggerBatch
{
    /// <summary>The target of padded positions, ignored by the loss.</summary>
    public const int IgnoredTarget = -1;

    private const int E = TaggerModels.WordEmbedding;
    private const int Hc = TaggerModels.CharHidden;
    private const int In = TaggerModels.TaggerInput;

    private int[] _slotOfForm = [];
    private int[] _stampOfForm = [];
    private int _stamp;
    private int[] _uniqueForms = [];

    /// <summary>Padded steps of the sentence batch: its longest sentence.</summary>
    public int Steps { get; private set; }

    /// <summary>Sentences in the batch.</summary>
    public int Batch { get; private set; }

    /// <summary>Words in the batch (padding excluded).</summary>
    public int Tokens { get; private set; }

    /// <summary>Distinct spellings in the batch: the character model's batch.</summary>
    public int Unique { get; private set; }

    /// <summary>Padded steps of the character batch: its longest spelling.</summary>
    public int CharSteps { get; private set; }

    /// <summary>Length of each sentence, [Batch].</summary>
    public int[] Lengths { get; private set; } = [];

    /// <summary>Word ids [Steps, Batch] (after word dropout when training), 0 at padding.</summary>
    public int[] WordIds { get; private set; } = [];

    /// <summary>Tag ids [Steps, Batch], <see cref="IgnoredTarget"/> at padding.</summary>
    public int[] Targets { get; private set; } = [];

    /// <summary>Whether each word [Steps, Batch] is outside the vocabulary (before word dropout).</summary>
    public bool[] Unknown { get; private set; } = [];

    /// <summary>Character-batch slot of each word's spelling [Steps, Batch], -1 at padding.</summary>
    public int[] Slots { get; private set; } = [];

    /// <summary>Character ids [CharSteps, Unique], time-major, padded with 0.</summary>
    public int[] CharTokens { get; private set; } = [];

    /// <summary>Characters of each distinct spelling, [Unique].</summary>
    public int[] CharLengths { get; private set; } = [];

    /// <summary>The sentence batch's rows, Steps * Batch.</summary>
    public int Rows => Steps * Batch;

    /// <summary>
    /// Lays out sentences <paramref name="sentences"/> of <paramref name="corpus"/>. With <paramref name="dropout"/>,
    /// word w becomes <c>&lt;unk&gt;</c> with probability alpha / (alpha + count(w)) (rare words more often), so the
    /// tagger learns to use the spelling feature on the words it will not know at test time.
    /// </summary>
    public void Prepare(EncodedCorpus corpus, ReadOnlySpan<int> sentences, WordDropout? dropout = null)
    {
        int batch = sentences.Length;
        if (batch == 0) throw new ArgumentException("A batch needs at least one sentence.", nameof(sentences));
        int steps = 0, tokens = 0;
        foreach (int s in sentences)
        {
            steps = Math.Max(steps, corpus.Lengths[s]);
            tokens += corpus.Lengths[s];
        }
        Steps = steps;
        Batch = batch;
        Tokens = tokens;
        int rows = steps * batch;
        if (Lengths.Length < batch) Lengths = new int[batch];
        if (WordIds.Length < rows)
        {
            WordIds = new int[rows];
            Targets = new int[rows];
            Slots = new int[rows];
            Unknown = new bool[rows];
        }
        if (_slotOfForm.Length < corpus.Forms.Count)
        {
            int size = Math.Max(corpus.Forms.Count, 2 * _slotOfForm.Length);
            _slotOfForm = new int[size];
            _stampOfForm = new int[size];
            _stamp = 0;
        }
        if (++_stamp == int.MaxValue)
        {
            Array.Clear(_stampOfForm);
            _stamp = 1;
        }
        if (CharLengths.Length < tokens) CharLengths = new int[Math.Max(tokens, 2 * CharLengths.Length)];
        if (_uniqueForms.Length < tokens) _uniqueForms = new int[Math.Max(tokens, 2 * _uniqueForms.Length)];

        WordIds.AsSpan(0, rows).Clear();
        Targets.AsSpan(0, rows).Fill(IgnoredTarget);
        Slots.AsSpan(0, rows).Fill(-1);
        Unknown.AsSpan(0, rows).Clear();
        int unique = 0, charSteps = 0;
        for (int b = 0; b < batch; b++)
        {
            int s = sentences[b];
            int[] wordIds = corpus.WordIds[s];
            int[] formIds = corpus.FormIds[s];
            int[] tags = corpus.Sentences[s].Tags;
            Lengths[b] = wordIds.Length;
            for (int t = 0; t < wordIds.Length; t++)
            {
                int row = t * batch + b;
                int word = wordIds[t];
                Unknown[row] = word == WordVocabulary.Unknown;
                if (dropout is not null && word != WordVocabulary.Unknown && dropout.Drops(word)) word = WordVocabulary.Unknown;
                WordIds[row] = word;
                Targets[row] = tags[t];
                int form = formIds[t];
                if (_stampOfForm[form] != _stamp)
                {
                    _stampOfForm[form] = _stamp;
                    _slotOfForm[form] = unique;
                    _uniqueForms[unique] = form;
                    int length = corpus.Forms.Chars(form).Length;
                    CharLengths[unique] = length;
                    charSteps = Math.Max(charSteps, length);
                    unique++;
                }
                Slots[row] = _slotOfForm[form];
            }
        }
        Unique = unique;
        CharSteps = charSteps;
        if (CharTokens.Length < charSteps * unique) CharTokens = new int[Math.Max(charSteps * unique, 2 * CharTokens.Length)];
        Span<int> charTokens = CharTokens.AsSpan(0, charSteps * unique);
        charTokens.Clear();
        for (int u = 0; u < unique; u++)
        {
            int[] chars = corpus.Forms.Chars(_uniqueForms[u]);
            for (int t = 0; t < chars.Length; t++) charTokens[t * unique + u] = chars[t];
        }
    }


    /// <summary>
    /// Writes the tagger's input [Steps, Batch, TaggerInput]: per word its embedding row, then the forward and the
    /// reverse final h of its spelling (from <paramref name="charFinalState"/>, the character model's batched final
    /// state [2, Unique, CharHidden] of h then c); zeros at padding.
    /// </summary>
    public void BuildInput(ReadOnlySpan<float> wordEmbedding, ReadOnlySpan<float> charFinalState, Span<float> input)
    {
        int rows = Rows, unique = Unique;
        for (int row = 0; row < rows; row++)
        {
            Span<float> x = input.Slice(row * In, In);
            int slot = Slots[row];
            if (slot < 0)
            {
                x.Clear();
                continue;
            }
            wordEmbedding.Slice(WordIds[row] * E, E).CopyTo(x);
            charFinalState.Slice(slot * Hc, Hc).CopyTo(x.Slice(E, Hc));
            charFinalState.Slice((unique + slot) * Hc, Hc).CopyTo(x.Slice(E + Hc, Hc));
        }
    }

    /// <summary>
    /// The spelling part of dL/d(input) [Steps, Batch, TaggerInput] as dL/d(character final state)
    /// [2 * Unique * CharHidden h, then as many c]: each word adds its gradient to its spelling's forward and reverse h
    /// (a spelling used twice gets both); c gets none.
    /// </summary>
    public void CharStateGradient(ReadOnlySpan<float> inputGradient, Span<float> charFinalStateGradient)
    {
        int rows = Rows, unique = Unique;
        charFinalStateGradient.Slice(0, 2 * 2 * unique * Hc).Clear();
        for (int row = 0; row < rows; row++)
        {
            int slot = Slots[row];
            if (slot < 0) continue;
            ReadOnlySpan<float> dx = inputGradient.Slice(row * In, In);
            Add(dx.Slice(E, Hc), charFinalStateGradient.Slice(slot * Hc, Hc));
            Add(dx.Slice(E + Hc, Hc), charFinalStateGradient.Slice((unique + slot) * Hc, Hc));
        }
    }

    /// <summary>
    /// Adds the word-embedding part of dL/d(input) [Steps, Batch, TaggerInput] to the embedding's gradient rows (a
    /// scatter-add: a word used twice gets both).
    /// </summary>
    public void AddWordEmbeddingGradient(ReadOnlySpan<float> inputGradient, SparseEmbeddingGradient wordEmbeddingGradient)
    {
        int rows = Rows;
        for (int row = 0; row < rows; row++)
        {
            if (Slots[row] < 0) continue;
            Add(inputGradient.Slice(row * In, E), wordEmbeddingGradient.Row(WordIds[row]));
        }
    }

    private static void Add(ReadOnlySpan<float> source, Span<float> destination) =>
        System.Numerics.Tensors.TensorPrimitives.Add(source, destination, destination);
}

/// <summary>Word dropout: replaces word w by <c>&lt;unk&gt;</c> with probability alpha / (alpha + count(w)).</summary>
public sealed class WordDropout
{
    private readonly float[] _probability;
    private readonly Rng _rng;

    /// <summary>Creates the dropout for a vocabulary with training counts, drawing from <paramref name="rng"/>.</summary>
    public WordDropout(TaggerVocabulary vocabulary, float alpha, Rng rng)
    {
        _rng = rng;
        _probability = new float[vocabulary.Count];
        for (int id = 0; id < _probability.Length; id++)
        {
            int count = vocabulary.Counts[id];
            _probability[id] = count == 0 || alpha <= 0 ? 0f : alpha / (alpha + count);
        }
    }

    /// <summary>Whether this occurrence of <paramref name="word"/> is dropped.</summary>
    public bool Drops(int word) => _probability[word] > 0 && _rng.NextSingle() < _probability[word];
}
