using System;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace RnnGen;

/// <summary>How a loss combines its per-element terms (PyTorch's <c>reduction</c> argument).</summary>
public enum Reduction
{
    /// <summary>The average of the terms (PyTorch's default, <c>reduction="mean"</c>).</summary>
    Mean,

    /// <summary>The sum of the terms (<c>reduction="sum"</c>).</summary>
    Sum,
}

/// <summary>
/// Loss functions with their gradients, matching <c>torch.nn.functional</c>. Each returns the loss and writes
/// d(loss)/d(input) into <c>gradient</c> (overwriting it, not accumulating) in the same pass. Nothing allocates.
/// </summary>
/// <remarks>
/// <c>gradient</c> may be the very span that holds the predictions or logits (an in-place update), but must not
/// otherwise overlap the inputs. With <see cref="Reduction.Mean"/> over zero terms every loss here returns 0 and
/// writes a zero gradient, where PyTorch returns NaN: an empty batch then leaves the parameters unchanged instead of
/// poisoning them.
/// </remarks>
public static class Losses
{
    /// <summary>
    /// Softmax cross-entropy, as <c>torch.nn.functional.cross_entropy(logits, targets, ignore_index=ignoreIndex,
    /// reduction=...)</c>: loss_n = logsumexp(logits_n) - logits_n[target_n], computed stably (the row maximum is
    /// subtracted before exponentiating).
    /// </summary>
    /// <param name="logits">[N, C] row-major, N = <paramref name="targets"/>.Length.</param>
    /// <param name="targets">One class index per row, in [0, C), or <paramref name="ignoreIndex"/>.</param>
    /// <param name="gradient">[N, C], receives d(loss)/d(logits): (softmax - one_hot) · scale per row, zero for ignored rows.</param>
    /// <param name="reduction">Mean divides by the number of rows whose target is not ignored (not by N), as PyTorch does.</param>
    /// <param name="ignoreIndex">A target value that contributes neither loss nor gradient (padding).</param>
    /// <returns>
    /// The loss. With <see cref="Reduction.Mean"/> and every target ignored it is 0 and the gradient is all zeros
    /// (PyTorch returns NaN there).
    /// </returns>
    /// <exception cref="ArgumentException">The lengths disagree, or C would be zero.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A target is outside [0, C) and is not <paramref name="ignoreIndex"/>.</exception>
    [MethodImpl(Jit.Optimized)] // once per training step over a whole batch: see Optimizers.Apply
    public static float SoftmaxCrossEntropy(
        ReadOnlySpan<float> logits,
        ReadOnlySpan<int> targets,
        Span<float> gradient,
        Reduction reduction = Reduction.Mean,
        int ignoreIndex = -100)
    {
        int rows = targets.Length;
        if (rows == 0)
        {
            if (logits.Length != 0)
                throw new ArgumentException($"logits has {logits.Length} values but targets is empty; expected 0 logits for 0 rows.", nameof(logits));
            TrainingChecks.SameLength(gradient.Length, 0, nameof(gradient), "logits");
            return 0f;
        }
        if (logits.Length == 0 || logits.Length % rows != 0)
            throw new ArgumentException(
                $"logits has {logits.Length} values, which is not a positive multiple of the {rows} targets; expected N x C = {rows} x C values.",
                nameof(logits));
        TrainingChecks.SameLength(gradient.Length, logits.Length, nameof(gradient), nameof(logits));
        TrainingChecks.DefinedReduction(reduction);
        int classes = logits.Length / rows;

        // Validate every target before writing anything, and count the ones that take part in the mean.
        int counted = 0;
        for (int n = 0; n < rows; n++)
        {
            int target = targets[n];
            if (target == ignoreIndex) continue;
            if ((uint)target >= (uint)classes)
                throw new ArgumentOutOfRangeException(
                    nameof(targets), target, $"targets[{n}] = {target} is not a class index in [0, {classes}) nor the ignore index {ignoreIndex}.");
            counted++;
        }
        if (counted == 0)
        {
            gradient.Clear();
            return 0f;
        }

        float scale = reduction == Reduction.Mean ? 1f / counted : 1f;
        double total = 0;
        for (int n = 0; n < rows; n++)
        {
            ReadOnlySpan<float> row = logits.Slice(n * classes, classes);
            Span<float> rowGradient = gradient.Slice(n * classes, classes);
            int target = targets[n];
            if (target == ignoreIndex)
            {
                rowGradient.Clear();
                continue;
            }

            // Read before writing: the gradient may alias the logits.
            float max = TensorPrimitives.Max(row);
            float targetLogit = row[target];
            TensorPrimitives.Subtract(row, max, rowGradient);
            TensorPrimitives.Exp(rowGradient, rowGradient);
            float sumExp = TensorPrimitives.Sum(rowGradient);
            total += Math.Log(sumExp) + max - targetLogit;

            // d/dlogits = softmax - one_hot(target), times the reduction's scale.
            TensorPrimitives.Multiply(rowGradient, scale / sumExp, rowGradient);
            rowGradient[target] -= scale;
        }
        return (float)(total * scale);
    }

    /// <summary>
    /// Mean squared error, as <c>torch.nn.functional.mse_loss(prediction, target, reduction=...)</c>:
    /// Σ (prediction - target)² divided by the element count for <see cref="Reduction.Mean"/>.
    /// </summary>
    /// <param name="prediction">The model's outputs.</param>
    /// <param name="target">The wanted outputs, the same length.</param>
    /// <param name="gradient">Receives d(loss)/d(prediction) = 2 (prediction - target) · scale.</param>
    /// <param name="reduction">Mean (divide by the element count) or Sum.</param>
    /// <returns>The loss; 0 for empty inputs (PyTorch returns NaN for an empty mean).</returns>
    /// <exception cref="ArgumentException">The lengths disagree.</exception>
    [MethodImpl(Jit.Optimized)] // once per training step over a whole batch: see Optimizers.Apply
    public static float MeanSquaredError(
        ReadOnlySpan<float> prediction,
        ReadOnlySpan<float> target,
        Span<float> gradient,
        Reduction reduction = Reduction.Mean)
    {
        TrainingChecks.SameLength(target.Length, prediction.Length, nameof(target), nameof(prediction));
        TrainingChecks.SameLength(gradient.Length, prediction.Length, nameof(gradient), nameof(prediction));
        TrainingChecks.DefinedReduction(reduction);
        if (prediction.Length == 0) return 0f;

        float scale = reduction == Reduction.Mean ? 1f / prediction.Length : 1f;
        TensorPrimitives.Subtract(prediction, target, gradient);
        float sumOfSquares = TensorPrimitives.SumOfSquares(gradient);
        TensorPrimitives.Multiply(gradient, 2f * scale, gradient);
        return sumOfSquares * scale;
    }

    /// <summary>
    /// Binary cross-entropy on logits, as <c>torch.nn.functional.binary_cross_entropy_with_logits(logits, targets,
    /// reduction=...)</c>, in the stable form max(x, 0) - x·y + log(1 + e^-|x|), which never exponentiates a large
    /// positive number.
    /// </summary>
    /// <param name="logits">Pre-sigmoid scores x.</param>
    /// <param name="targets">Target probabilities y in [0, 1] (not checked, as PyTorch), the same length.</param>
    /// <param name="gradient">Receives d(loss)/d(logits) = (σ(x) - y) · scale.</param>
    /// <param name="reduction">Mean (divide by the element count) or Sum.</param>
    /// <returns>The loss; 0 for empty inputs (PyTorch returns NaN for an empty mean).</returns>
    /// <exception cref="ArgumentException">The lengths disagree.</exception>
    [MethodImpl(Jit.Optimized)] // once per training step over a whole batch: see Optimizers.Apply
    public static float BinaryCrossEntropyWithLogits(
        ReadOnlySpan<float> logits,
        ReadOnlySpan<float> targets,
        Span<float> gradient,
        Reduction reduction = Reduction.Mean)
    {
        TrainingChecks.SameLength(targets.Length, logits.Length, nameof(targets), nameof(logits));
        TrainingChecks.SameLength(gradient.Length, logits.Length, nameof(gradient), nameof(logits));
        TrainingChecks.DefinedReduction(reduction);
        if (logits.Length == 0) return 0f;

        float scale = reduction == Reduction.Mean ? 1f / logits.Length : 1f;
        // The loss terms need a buffer the size of the input; a fixed stack chunk keeps this allocation-free and
        // lets the gradient alias the logits (each chunk's logits are read before its gradient is written).
        const int ChunkSize = 256;
        Span<float> terms = stackalloc float[ChunkSize];
        double total = 0;
        // start advances by count, never past logits.Length, so it cannot overflow near int.MaxValue.
        for (int start = 0, count; start < logits.Length; start += count)
        {
            count = Math.Min(ChunkSize, logits.Length - start);
            ReadOnlySpan<float> x = logits.Slice(start, count);
            ReadOnlySpan<float> y = targets.Slice(start, count);
            Span<float> chunk = terms.Slice(0, count);
            Span<float> chunkGradient = gradient.Slice(start, count);

            // log(1 + e^-|x|)
            TensorPrimitives.Abs(x, chunk);
            TensorPrimitives.Negate(chunk, chunk);
            TensorPrimitives.Exp(chunk, chunk);
#if NET8_0_OR_GREATER
            TensorPrimitives.LogP1(chunk, chunk);
#else
            TensorPrimitives.Add(chunk, 1f, chunk);
            TensorPrimitives.Log(chunk, chunk);
#endif
            total += TensorPrimitives.Sum(chunk);
            // + max(x, 0) - x·y
            Portable.MaxWithZero(x, chunk);
            total += TensorPrimitives.Sum(chunk);
            total -= TensorPrimitives.Dot(x, y);

            TensorPrimitives.Sigmoid(x, chunkGradient);
            TensorPrimitives.Subtract(chunkGradient, y, chunkGradient);
            TensorPrimitives.Multiply(chunkGradient, scale, chunkGradient);
        }
        return (float)(total * scale);
    }
}

/// <summary>Argument checks shared by the training runtime; each message states the expected and the actual value.</summary>
internal static class TrainingChecks
{
    public static void SameLength(int actual, int expected, string name, string otherName)
    {
        if (actual != expected)
            throw new ArgumentException($"{name} has {actual} elements; expected {expected} (the length of {otherName}).", name);
    }

    public static void Length(int actual, int expected, string name, string what)
    {
        if (actual != expected)
            throw new ArgumentException($"{name} has {actual} elements; expected {expected} ({what}).", name);
    }

    public static void AtLeast(int actual, int minimum, string name, string what)
    {
        if (actual < minimum)
            throw new ArgumentException($"{name} has {actual} elements; expected at least {minimum} ({what}).", name);
    }

    public static void DefinedReduction(Reduction reduction)
    {
        if (reduction is not (Reduction.Mean or Reduction.Sum))
            throw new ArgumentOutOfRangeException(nameof(reduction), reduction, "Expected Reduction.Mean or Reduction.Sum.");
    }

    /// <summary>A hyperparameter that must be finite and ≥ 0 (learning rates, decays, epsilons).</summary>
    public static float NonNegative(float value, string name)
    {
        if (!(value >= 0f) || float.IsPositiveInfinity(value))
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite value ≥ 0.");
        return value;
    }

    /// <summary>A decay rate in [0, 1) (Adam's betas).</summary>
    public static float UnitInterval(float value, string name)
    {
        if (!(value >= 0f && value < 1f))
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [0, 1).");
        return value;
    }
}
