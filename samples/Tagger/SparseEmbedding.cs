using System;

namespace RnnGen.Samples.Tagger;

/// <summary>
/// The gradient of an embedding table as the rows a batch used: a batch of a few hundred words touches a few hundred
/// of the table's rows, so clearing, checking, clipping and updating the whole table every step would be wasted work.
/// Rows are added in first-use order; <see cref="Words"/> says which table row each holds.
/// </summary>
public sealed class SparseEmbeddingGradient
{
    private readonly int _width;
    private readonly int[] _rowOfWord;
    private int[] _words = new int[256];
    private float[] _values;

    /// <summary>Creates an empty gradient for a table of <paramref name="vocabulary"/> rows of <paramref name="width"/> floats.</summary>
    public SparseEmbeddingGradient(int vocabulary, int width)
    {
        _width = width;
        _rowOfWord = new int[vocabulary];
        _rowOfWord.AsSpan().Fill(-1);
        _values = new float[_words.Length * width];
    }

    /// <summary>Rows held.</summary>
    public int Count { get; private set; }

    /// <summary>The table row (word id) of each held row.</summary>
    public ReadOnlySpan<int> Words => _words.AsSpan(0, Count);

    /// <summary>The held rows' gradients, [Count, width].</summary>
    public Span<float> Values => _values.AsSpan(0, Count * _width);

    /// <summary>The gradient row of <paramref name="word"/>, added (as zeros) on first use.</summary>
    public Span<float> Row(int word)
    {
        int row = _rowOfWord[word];
        if (row < 0)
        {
            if (Count == _words.Length)
            {
                Array.Resize(ref _words, 2 * _words.Length);
                Array.Resize(ref _values, _words.Length * _width);
            }
            row = Count++;
            _rowOfWord[word] = row;
            _words[row] = word;
            _values.AsSpan(row * _width, _width).Clear();
        }
        return _values.AsSpan(row * _width, _width);
    }

    /// <summary>Forgets every row.</summary>
    public void Clear()
    {
        foreach (int word in Words) _rowOfWord[word] = -1;
        Count = 0;
    }
}

/// <summary>
/// Adam for an embedding table with row-sparse gradients, as PyTorch's <c>torch.optim.SparseAdam</c>: only the rows
/// a step has gradients for have their moments and values updated (a word not in the batch keeps its vector and its
/// moments), with the bias corrections of the global step count.
/// </summary>
public sealed class SparseRowAdam
{
    private readonly int _width;
    private readonly float[] _m;
    private readonly float[] _v;
    private readonly float _beta1, _beta2, _epsilon;

    /// <summary>Creates the optimizer for a table of <paramref name="vocabulary"/> rows of <paramref name="width"/> floats.</summary>
    public SparseRowAdam(int vocabulary, int width, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f)
    {
        _width = width;
        _m = new float[vocabulary * width];
        _v = new float[vocabulary * width];
        LearningRate = learningRate;
        _beta1 = beta1;
        _beta2 = beta2;
        _epsilon = epsilon;
    }

    /// <summary>The learning rate of the next step.</summary>
    public float LearningRate { get; set; }

    /// <summary>Steps taken.</summary>
    public long StepCount { get; private set; }

    /// <summary>Updates the rows of <paramref name="table"/> that <paramref name="gradient"/> holds.</summary>
    public void Step(Span<float> table, SparseEmbeddingGradient gradient)
    {
        StepCount++;
        double correction1 = 1 - Math.Pow(_beta1, StepCount);
        double correction2 = 1 - Math.Pow(_beta2, StepCount);
        float stepSize = (float)(LearningRate * Math.Sqrt(correction2) / correction1);
        ReadOnlySpan<int> words = gradient.Words;
        ReadOnlySpan<float> values = gradient.Values;
        for (int r = 0; r < words.Length; r++)
        {
            int offset = words[r] * _width;
            Span<float> p = table.Slice(offset, _width);
            Span<float> m = _m.AsSpan(offset, _width);
            Span<float> v = _v.AsSpan(offset, _width);
            ReadOnlySpan<float> g = values.Slice(r * _width, _width);
            for (int i = 0; i < g.Length; i++)
            {
                m[i] = _beta1 * m[i] + (1 - _beta1) * g[i];
                v[i] = _beta2 * v[i] + (1 - _beta2) * g[i] * g[i];
                p[i] -= stepSize * m[i] / (MathF.Sqrt(v[i]) + _epsilon);
            }
        }
    }
}
