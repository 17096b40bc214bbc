using System;
using System.Collections.Generic;

namespace RnnGen.Samples.Sentiment;

/// <summary>
/// The baseline: logistic regression over word counts, p(positive) = σ(b + Σ_w count(w) · weight[w]), trained with the
/// runtime's binary cross-entropy and Adam. It sees which words occur and how often but not their order, so "not bad"
/// and "bad" differ only by the weight of "not", and "good but too long" and "too long but good" not at all.
/// </summary>
public sealed class BagOfWords
{
    private readonly int _vocabulary;
    private readonly float[] _parameters; // weight per word id, then the bias
    private readonly float[] _gradients;

    /// <summary>A model of zero weights over word ids [0, <paramref name="vocabulary"/>).</summary>
    public BagOfWords(int vocabulary)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabulary);
        _vocabulary = vocabulary;
        _parameters = new float[vocabulary + 1];
        _gradients = new float[vocabulary + 1];
    }

    /// <summary>The logit of one review.</summary>
    public float Logit(ReadOnlySpan<int> tokens)
    {
        float logit = _parameters[_vocabulary];
        foreach (int token in tokens) logit += _parameters[token];
        return logit;
    }

    /// <summary>
    /// Trains on the given reviews for <paramref name="epochs"/> passes of mini-batches (shuffled by <paramref name="rng"/>),
    /// with Adam; returns the mean loss of the last epoch.
    /// </summary>
    public double Train(IReadOnlyList<int[]> tokens, IReadOnlyList<bool> positive, int epochs, int batchSize, float learningRate, Rng rng)
    {
        var optimizer = new Adam(_parameters.Length, learningRate);
        var order = new int[tokens.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var logits = new float[batchSize];
        var targets = new float[batchSize];
        var logitGradients = new float[batchSize];
        double epochLoss = 0;
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            Shuffle(order, rng);
            epochLoss = 0;
            int batches = 0;
            for (int start = 0; start < order.Length; start += batchSize)
            {
                int n = Math.Min(batchSize, order.Length - start);
                for (int k = 0; k < n; k++)
                {
                    int i = order[start + k];
                    logits[k] = Logit(tokens[i]);
                    targets[k] = positive[i] ? 1f : 0f;
                }
                epochLoss += Losses.BinaryCrossEntropyWithLogits(logits.AsSpan(0, n), targets.AsSpan(0, n), logitGradients.AsSpan(0, n));
                batches++;
                // d(loss)/d(weight[w]) = Σ over reviews of dloss/dlogit · count(w); d/dbias = Σ dloss/dlogit.
                Array.Clear(_gradients);
                for (int k = 0; k < n; k++)
                {
                    float g = logitGradients[k];
                    foreach (int token in tokens[order[start + k]]) _gradients[token] += g;
                    _gradients[_vocabulary] += g;
                }
                optimizer.Step(_parameters, _gradients);
            }
            epochLoss /= Math.Max(1, batches);
        }
        return epochLoss;
    }

    /// <summary>The weight learned for a word id (how much it pushes towards positive).</summary>
    public float Weight(int token) => _parameters[token];

    private static void Shuffle(int[] items, Rng rng)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
