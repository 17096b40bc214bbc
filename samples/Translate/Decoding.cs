using System;
using System.Collections.Generic;
using System.Linq;

namespace RnnGen.Samples.Translate;

/// <summary>One translation candidate of a beam search.</summary>
/// <param name="Tokens">Target ids, without &lt;start&gt; and &lt;end&gt;.</param>
/// <param name="LogProbability">Sum of the log-probabilities of its tokens (and of &lt;end&gt; when finished).</param>
/// <param name="Finished">Whether it ended with &lt;end&gt; (false: cut at the maximum length).</param>
public sealed record Hypothesis(int[] Tokens, double LogProbability, bool Finished)
{
    /// <summary>Tokens scored: the target ids, plus &lt;end&gt; when finished.</summary>
    public int Length => Tokens.Length + (Finished ? 1 : 0);

    /// <summary>The length-normalized score beams are ranked by: the mean log-probability per token.</summary>
    public double Score => LogProbability / Math.Max(1, Length);
}

/// <summary>
/// Greedy decoding and beam search with the decoder's multi-agent <c>Step</c>: every sentence (greedy) or every
/// hypothesis of every sentence's beam (beam search) is an agent with its own state row, and one call advances them
/// all with matrix-matrix products. States are in the agent layout, [agents, StateSize].
/// </summary>
public static class Decoding
{
    /// <summary>
    /// Greedy decoding: from each start state, feed &lt;start&gt;, then repeatedly the most likely token, until
    /// &lt;end&gt; or <paramref name="maxLength"/> tokens.
    /// </summary>
    /// <param name="decoder">The decoder.</param>
    /// <param name="initialStates">[sentences, StateSize]: each sentence's start state (the encoder's final state).</param>
    /// <param name="sentences">Number of sentences.</param>
    /// <param name="maxLength">Most tokens produced per sentence, &lt;end&gt; not counted.</param>
    /// <returns>Each sentence's target ids, without &lt;end&gt;.</returns>
    public static int[][] Greedy(NumberDecoder decoder, ReadOnlySpan<float> initialStates, int sentences, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        CheckArguments(initialStates, sentences, width: 1, maxLength);
        const int S = NumberDecoder.StateSize, V = NumberDecoder.OutputSize;
        var states = initialStates.ToArray();
        var tokens = new int[sentences];
        Array.Fill(tokens, WordVocabulary.Start);
        var logits = new float[sentences * V];
        var outputs = new List<int>[sentences];
        for (int i = 0; i < sentences; i++) outputs[i] = new List<int>(maxLength);
        var done = new bool[sentences];
        int remaining = sentences;
        for (int t = 0; t < maxLength && remaining > 0; t++)
        {
            // Sentences already done still step (their outputs are ignored): one call for all keeps the products large.
            decoder.Step(tokens, states.AsSpan(0, sentences * S), logits);
            for (int i = 0; i < sentences; i++)
            {
                if (done[i]) continue;
                int next = Sampling.Greedy(logits.AsSpan(i * V, V));
                tokens[i] = next;
                if (next == WordVocabulary.End)
                {
                    done[i] = true;
                    remaining--;
                }
                else
                {
                    outputs[i].Add(next);
                }
            }
        }
        return outputs.Select(o => o.ToArray()).ToArray();
    }

    /// <summary>
    /// Beam search with length-normalized scores. Each sentence keeps <paramref name="width"/> live hypotheses; at each
    /// step every live hypothesis is extended by every token, and the best 2 × width extensions by total
    /// log-probability are considered in order: an extension by &lt;end&gt; that ranks within the first
    /// <paramref name="width"/> is set aside as finished (scored by its mean log-probability per token, &lt;end&gt;
    /// included), the others refill the beam until it holds <paramref name="width"/> again. A sentence stops when it
    /// has <paramref name="width"/> finished hypotheses; at <paramref name="maxLength"/> its live ones are kept as
    /// unfinished. With width 1 this is exactly greedy decoding.
    /// </summary>
    /// <param name="decoder">The decoder.</param>
    /// <param name="initialStates">[sentences, StateSize]: each sentence's start state.</param>
    /// <param name="sentences">Number of sentences.</param>
    /// <param name="width">Hypotheses kept per sentence, ≥ 1.</param>
    /// <param name="maxLength">Most tokens per hypothesis, &lt;end&gt; not counted.</param>
    /// <returns>Per sentence, its hypotheses (up to <paramref name="width"/> and at least one), best score first.</returns>
    public static Hypothesis[][] Beam(NumberDecoder decoder, ReadOnlySpan<float> initialStates, int sentences, int width, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        CheckArguments(initialStates, sentences, width, maxLength);
        const int S = NumberDecoder.StateSize, V = NumberDecoder.OutputSize;
        int agents = sentences * width;

        // Agent (i * width + k) is hypothesis k of sentence i. All start from the sentence's encoder state, but only
        // k = 0 is live at first (the others would be copies of it).
        var states = new float[agents * S];
        var nextStates = new float[agents * S];
        for (int i = 0; i < sentences; i++)
        {
            for (int k = 0; k < width; k++) initialStates.Slice(i * S, S).CopyTo(states.AsSpan((i * width + k) * S, S));
        }
        var tokens = new int[agents];
        Array.Fill(tokens, WordVocabulary.Start);
        var scores = new double[agents];
        var nextScores = new double[agents];
        for (int a = 0; a < agents; a++) scores[a] = a % width == 0 ? 0 : double.NegativeInfinity;
        var history = new int[agents * maxLength];
        var nextHistory = new int[agents * maxLength];
        var logits = new float[agents * V];
        var logProbabilities = new double[V];
        var candidates = new List<Candidate>(width * V);
        var finished = new List<Hypothesis>[sentences];
        for (int i = 0; i < sentences; i++) finished[i] = new List<Hypothesis>(width);
        var done = new bool[sentences];
        int remaining = sentences;

        int t = 0;
        for (; t < maxLength && remaining > 0; t++)
        {
            // Dead hypotheses and finished sentences step too: one call over all agents keeps the products large.
            decoder.Step(tokens, states, logits);
            for (int i = 0; i < sentences; i++)
            {
                if (done[i]) continue;
                candidates.Clear();
                for (int k = 0; k < width; k++)
                {
                    int agent = i * width + k;
                    if (double.IsNegativeInfinity(scores[agent])) continue;
                    LogSoftmax(logits.AsSpan(agent * V, V), logProbabilities);
                    for (int v = 0; v < V; v++) candidates.Add(new Candidate(scores[agent] + logProbabilities[v], k, v));
                }
                candidates.Sort(); // best first; ties by hypothesis, then by token (greedy takes the lowest id too)

                int filled = 0;
                for (int rank = 0; rank < candidates.Count && rank < 2 * width && filled < width; rank++)
                {
                    Candidate c = candidates[rank];
                    int parent = i * width + c.Beam;
                    if (c.Token == WordVocabulary.End)
                    {
                        // Only an <end> among the best `width` finishes a hypothesis (so width 1 stops where greedy does).
                        if (rank < width) finished[i].Add(new Hypothesis(history.AsSpan(parent * maxLength, t).ToArray(), c.LogProbability, Finished: true));
                        continue;
                    }
                    int slot = i * width + filled++;
                    states.AsSpan(parent * S, S).CopyTo(nextStates.AsSpan(slot * S, S));
                    history.AsSpan(parent * maxLength, t).CopyTo(nextHistory.AsSpan(slot * maxLength, t));
                    nextHistory[slot * maxLength + t] = c.Token;
                    nextScores[slot] = c.LogProbability;
                    tokens[slot] = c.Token;
                }
                for (; filled < width; filled++)
                {
                    int slot = i * width + filled;
                    nextScores[slot] = double.NegativeInfinity;
                    tokens[slot] = WordVocabulary.End;
                }
                if (finished[i].Count >= width)
                {
                    done[i] = true;
                    remaining--;
                }
            }
            (states, nextStates) = (nextStates, states);
            (scores, nextScores) = (nextScores, scores);
            (history, nextHistory) = (nextHistory, history);
        }

        var results = new Hypothesis[sentences][];
        for (int i = 0; i < sentences; i++)
        {
            if (!done[i])
            {
                // Cut at the maximum length: the live hypotheses compete with the finished ones as they are.
                for (int k = 0; k < width; k++)
                {
                    int agent = i * width + k;
                    if (!double.IsNegativeInfinity(scores[agent]))
                        finished[i].Add(new Hypothesis(history.AsSpan(agent * maxLength, t).ToArray(), scores[agent], Finished: false));
                }
            }
            // Stable: equal scores keep the order they were found in.
            results[i] = finished[i].OrderByDescending(h => h.Score).Take(width).ToArray();
        }
        return results;
    }

    /// <summary>log softmax(logits), in double: logits - (max + log Σ exp(logits - max)).</summary>
    private static void LogSoftmax(ReadOnlySpan<float> logits, Span<double> result)
    {
        double max = double.NegativeInfinity;
        foreach (float logit in logits) max = Math.Max(max, logit);
        double sum = 0;
        foreach (float logit in logits) sum += Math.Exp(logit - max);
        double logNormalizer = max + Math.Log(sum);
        for (int v = 0; v < logits.Length; v++) result[v] = logits[v] - logNormalizer;
    }

    private static void CheckArguments(ReadOnlySpan<float> initialStates, int sentences, int width, int maxLength)
    {
        if (sentences < 1) throw new ArgumentOutOfRangeException(nameof(sentences), sentences, "Expected at least one sentence.");
        if (width < 1) throw new ArgumentOutOfRangeException(nameof(width), width, "The beam width must be at least 1.");
        if (maxLength < 1) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "The maximum length must be at least 1.");
        if (initialStates.Length != sentences * NumberDecoder.StateSize)
            throw new ArgumentException($"initialStates has {initialStates.Length} floats; expected {sentences * NumberDecoder.StateSize} ([{sentences}, {NumberDecoder.StateSize}]).", nameof(initialStates));
    }

    /// <summary>An extension of hypothesis <see cref="Beam"/> by <see cref="Token"/>; sorts best first, then by hypothesis and token.</summary>
    private readonly record struct Candidate(double LogProbability, int Beam, int Token) : IComparable<Candidate>
    {
        public int CompareTo(Candidate other)
        {
            int byScore = other.LogProbability.CompareTo(LogProbability);
            if (byScore != 0) return byScore;
            int byBeam = Beam.CompareTo(other.Beam);
            return byBeam != 0 ? byBeam : Token.CompareTo(other.Token);
        }
    }
}
