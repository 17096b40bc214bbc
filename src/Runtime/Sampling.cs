using System;
using System.Numerics.Tensors;

namespace RnnGen;

/// <summary>
/// Picks the next token from a model's output logits: greedy, temperature sampling and top-k sampling, plus the
/// softmax they rest on. Random choices come from a seedable <see cref="Rng"/> (one <see cref="Rng.NextDouble"/> per
/// draw), so a seed fixes the generated sequence. Nothing allocates; callers pass a scratch span.
/// </summary>
/// <remarks>
/// Logits may contain -∞ (masked tokens, never drawn) but need at least one finite value, and no NaN or +∞.
/// </remarks>
public static class Sampling
{
    /// <summary>The index of the largest logit (the lowest such index on ties).</summary>
    /// <exception cref="ArgumentException"><paramref name="logits"/> is empty.</exception>
    public static int Greedy(ReadOnlySpan<float> logits)
    {
        TrainingChecks.AtLeast(logits.Length, 1, nameof(logits), "one logit per token");
        return TensorPrimitives.IndexOfMax(logits);
    }

    /// <summary>
    /// probabilities = softmax(logits / temperature), computed stably (the maximum is subtracted first). Lower
    /// temperatures sharpen the distribution, higher ones flatten it.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths differ, or the logits are empty, NaN, +∞ or all -∞.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="temperature"/> is not a finite value &gt; 0.</exception>
    public static void Softmax(ReadOnlySpan<float> logits, Span<float> probabilities, float temperature = 1f)
    {
        TrainingChecks.AtLeast(logits.Length, 1, nameof(logits), "one logit per token");
        TrainingChecks.SameLength(probabilities.Length, logits.Length, nameof(probabilities), nameof(logits));
        CheckTemperature(temperature);
        float sum = Exponentiate(logits, probabilities, temperature, CheckedMaximum(logits));
        TensorPrimitives.Divide(probabilities, sum, probabilities);
    }

    /// <summary>
    /// Draws an index with probability softmax(logits / temperature), by inverse CDF: one uniform draw u, then the
    /// first index whose cumulative weight exceeds u.
    /// </summary>
    /// <param name="logits">One score per token.</param>
    /// <param name="temperature">&gt; 0; 1 samples the model's distribution, → 0 approaches <see cref="Greedy"/>.</param>
    /// <param name="rng">The random source; advanced by exactly one <see cref="Rng.NextDouble"/>.</param>
    /// <param name="scratch">At least <paramref name="logits"/>.Length floats; overwritten.</param>
    /// <exception cref="ArgumentException">The scratch is too short, or the logits are empty, NaN, +∞ or all -∞.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="temperature"/> is not a finite value &gt; 0.</exception>
    public static int Sample(ReadOnlySpan<float> logits, float temperature, Rng rng, Span<float> scratch)
    {
        if (rng is null) throw new ArgumentNullException(nameof(rng));
        TrainingChecks.AtLeast(logits.Length, 1, nameof(logits), "one logit per token");
        TrainingChecks.AtLeast(scratch.Length, logits.Length, nameof(scratch), "the length of logits");
        CheckTemperature(temperature);
        Span<float> weights = scratch.Slice(0, logits.Length);
        float sum = Exponentiate(logits, weights, temperature, CheckedMaximum(logits));
        return InverseCdf(weights, sum, rng);
    }

    /// <summary>
    /// Top-k sampling: like <see cref="Sample"/>, but only the <paramref name="k"/> largest logits can be drawn,
    /// renormalized among themselves. Where equal logits straddle the cut, the lower indices are kept, so the
    /// candidate set never depends on anything but the logits.
    /// </summary>
    /// <param name="logits">One score per token.</param>
    /// <param name="k">How many candidates to keep, in [1, logits.Length]; 1 is <see cref="Greedy"/>.</param>
    /// <param name="temperature">&gt; 0, applied to the kept logits.</param>
    /// <param name="rng">The random source; advanced by exactly one <see cref="Rng.NextDouble"/>.</param>
    /// <param name="scratch">At least <paramref name="logits"/>.Length floats; overwritten.</param>
    /// <exception cref="ArgumentException">The scratch is too short, or the logits are empty, NaN, +∞ or all -∞.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> or <paramref name="temperature"/> is out of range.</exception>
    public static int SampleTopK(ReadOnlySpan<float> logits, int k, float temperature, Rng rng, Span<float> scratch)
    {
        if (rng is null) throw new ArgumentNullException(nameof(rng));
        TrainingChecks.AtLeast(logits.Length, 1, nameof(logits), "one logit per token");
        TrainingChecks.AtLeast(scratch.Length, logits.Length, nameof(scratch), "the length of logits");
        if (k < 1 || k > logits.Length)
            throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be in [1, {logits.Length}] (the number of logits).");
        CheckTemperature(temperature);
        float max = CheckedMaximum(logits);

        Span<float> weights = scratch.Slice(0, logits.Length);
        logits.CopyTo(weights);
        float threshold = KthLargest(weights, k);

        // Keep everything above the threshold and, of the values equal to it, the lowest indices until k are kept.
        int tiesKept = k;
        for (int i = 0; i < logits.Length; i++)
        {
            if (logits[i] > threshold) tiesKept--;
        }
        for (int i = 0; i < logits.Length; i++)
        {
            float logit = logits[i];
            bool kept = logit > threshold || (logit == threshold && tiesKept-- > 0);
            weights[i] = kept ? (logit - max) / temperature : float.NegativeInfinity;
        }
        TensorPrimitives.Exp(weights, weights);
        return InverseCdf(weights, TensorPrimitives.Sum(weights), rng);
    }

    private static void CheckTemperature(float temperature)
    {
        if (!(temperature > 0f) || float.IsPositiveInfinity(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be a finite value > 0.");
    }

    private static float CheckedMaximum(ReadOnlySpan<float> logits)
    {
        float max = TensorPrimitives.Max(logits);
        if (!float.IsFinite(max))
            throw new ArgumentException(
                $"logits have maximum {max}; expected a finite maximum (no NaN or +∞, and not every logit -∞).", nameof(logits));
        return max;
    }

    /// <summary>weights = exp((logits - max) / temperature); returns their sum (≥ 1, the maximum contributes e⁰).</summary>
    private static float Exponentiate(ReadOnlySpan<float> logits, Span<float> weights, float temperature, float max)
    {
        TensorPrimitives.Subtract(logits, max, weights);
        if (temperature != 1f) TensorPrimitives.Divide(weights, temperature, weights);
        TensorPrimitives.Exp(weights, weights);
        return TensorPrimitives.Sum(weights);
    }

    private static int InverseCdf(ReadOnlySpan<float> weights, float sum, Rng rng)
    {
        double u = rng.NextDouble() * sum;
        double cumulative = 0;
        int last = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            float weight = weights[i];
            if (weight <= 0f) continue;
            cumulative += weight;
            last = i;
            if (u < cumulative) return i;
        }
        // Rounding can leave u a hair above the accumulated total; the last drawable index is the right answer then.
        return last;
    }

    /// <summary>
    /// The k-th largest value (k is 1-based), by quickselect with a three-way partition (robust to many equal
    /// values). Reorders <paramref name="values"/>; they must contain no NaN.
    /// </summary>
    private static float KthLargest(Span<float> values, int k)
    {
        int target = k - 1;
        int low = 0, high = values.Length - 1;
        while (low < high)
        {
            float pivot = MedianOfThree(values[low], values[low + (high - low) / 2], values[high]);
            // Descending: [low, greater) > pivot, [greater, i) == pivot, (less, high] < pivot.
            int greater = low, i = low, less = high;
            while (i <= less)
            {
                float value = values[i];
                if (value > pivot)
                {
                    (values[greater], values[i]) = (values[i], values[greater]);
                    greater++;
                    i++;
                }
                else if (value < pivot)
                {
                    (values[less], values[i]) = (values[i], values[less]);
                    less--;
                }
                else
                {
                    i++;
                }
            }
            if (target < greater) high = greater - 1;
            else if (target > less) low = less + 1;
            else return pivot;
        }
        return values[low];
    }

    private static float MedianOfThree(float a, float b, float c)
        => Math.Max(Math.Min(a, b), Math.Min(Math.Max(a, b), c));
}
