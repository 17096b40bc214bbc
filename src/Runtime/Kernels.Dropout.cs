using System;
using System.Numerics.Tensors;

namespace RnnGen.CompilerServices;

/// <summary>
/// Dropout between recurrent layers, as PyTorch's <c>nn.LSTM(dropout=p)</c> (F.dropout on every layer's output but the
/// last, in training only): the trainer draws one scaled mask per element of a layer's packed outputs, multiplies the
/// outputs by it in Forward and the gradient flowing back into them by the same mask in Backward.
/// </summary>
public static partial class Kernels
{
    /// <summary>
    /// Fills <paramref name="mask"/> with independent draws: 0 with probability <paramref name="probability"/>, else
    /// 1 / (1 − <paramref name="probability"/>) (the kept elements scaled so that the expected output is the input).
    /// Each element reads 32 bits of <paramref name="rng"/> (two elements per 64-bit draw, low half first) and is
    /// dropped when they are below <paramref name="probability"/> · 2³²; the same generator state gives the same mask.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="probability"/> is not in [0, 1).</exception>
    public static void DropoutMask(Rng rng, float probability, Span<float> mask)
    {
        if (rng is null) throw new ArgumentNullException(nameof(rng));
        if (!(probability >= 0f && probability < 1f)) throw new ArgumentOutOfRangeException(nameof(probability), probability, "A dropout probability is at least 0 and less than 1.");
        float scale = DropoutScale(probability);
        // Elements whose 32 random bits are below the threshold are dropped: P(drop) = threshold / 2³² = p to within 2⁻³².
        uint threshold = (uint)Math.Min(Math.Round(probability * 4294967296.0), uint.MaxValue);
        int i = 0;
        for (; i + 1 < mask.Length; i += 2)
        {
            ulong bits = rng.NextUInt64();
            mask[i] = (uint)bits < threshold ? 0f : scale;
            mask[i + 1] = (uint)(bits >> 32) < threshold ? 0f : scale;
        }
        if (i < mask.Length) mask[i] = (uint)rng.NextUInt64() < threshold ? 0f : scale;
    }

    /// <summary>The factor kept elements are scaled by, 1 / (1 − <paramref name="probability"/>), rounded once to float.</summary>
    public static float DropoutScale(float probability) => (float)(1.0 / (1.0 - probability));

    /// <summary>
    /// destination = x ⊙ mask, element-wise: a layer's outputs through its dropout mask (Forward), or in place the
    /// gradient of the dropped outputs back to the layer's own (Backward: dL/dy = dL/d(y ⊙ mask) ⊙ mask).
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static void ApplyDropout(ReadOnlySpan<float> x, ReadOnlySpan<float> mask, Span<float> destination)
    {
        if (mask.Length != x.Length || destination.Length != x.Length) throw new ArgumentException($"ApplyDropout needs x, mask and destination of one length; got {x.Length}, {mask.Length}, {destination.Length}.");
        TensorPrimitives.Multiply(x, mask, destination);
    }
}
