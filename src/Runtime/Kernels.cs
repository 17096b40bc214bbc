using System;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
#if NET8_0_OR_GREATER
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
#endif

namespace RnnGen;

/// <summary>
/// Size-independent kernels the generated models call: fused multiply-add on every vector width, activations,
/// and the element-wise parts of the cells. Sizes live in the generated code; nothing here allocates.
/// </summary>
/// <remarks>
/// The <c>MultiplyAdd</c> overloads on <c>System.Runtime.Intrinsics</c> vectors exist in the net8.0 build only; the
/// netstandard2.1 build (Unity and other runtimes without hardware intrinsics) runs portable code, and the generator
/// emits scalar kernels for compilations that lack the intrinsics types.
/// </remarks>
public static partial class Kernels
{
#if NET8_0_OR_GREATER
    /// <summary>a * b + c in one rounding where the hardware has FMA.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c)
        => Avx512F.IsSupported ? Avx512F.FusedMultiplyAdd(a, b, c) : a * b + c;

    /// <summary>a * b + c in one rounding where the hardware has FMA.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c)
        => Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) : a * b + c;

    /// <summary>a * b + c in one rounding where the hardware has FMA.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c)
    {
        if (Fma.IsSupported) return Fma.MultiplyAdd(a, b, c);
        if (AdvSimd.IsSupported) return AdvSimd.FusedMultiplyAdd(c, a, b);
        return a * b + c;
    }
#endif

    /// <summary>destination = x + y, element-wise (the two bias vectors folded into one).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Add(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> destination) => TensorPrimitives.Add(x, y, destination);

    /// <summary>x = 1 / (1 + e^-x), element-wise, in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Sigmoid(Span<float> x) => TensorPrimitives.Sigmoid(x, x);

    /// <summary>x = tanh(x), element-wise, in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Tanh(Span<float> x) => TanhFused(x);

    /// <summary>x = max(x, 0), element-wise, in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Relu(Span<float> x) => Portable.MaxWithZero(x, x);

    /// <summary>
    /// The LSTM cell update on pre-activation gates [i | f | g | o] (each <c>c.Length</c> wide):
    /// i, f, o = σ(·); g = tanh(·); c = f ⊙ c + i ⊙ g; h = o ⊙ tanh(c). On return the gates hold their
    /// activations (what backpropagation needs) and <paramref name="tanhC"/> holds tanh(c).
    /// </summary>
    public static void LstmCell(Span<float> gates, Span<float> c, Span<float> h, Span<float> tanhC)
    {
        int n = c.Length;
        if (gates.Length < 4 * n || h.Length < n || tanhC.Length < n) throw new ArgumentException($"LstmCell needs gates of {4 * n} and h, tanhC of {n} floats; got {gates.Length}, {h.Length}, {tanhC.Length}.");
        LstmCellFused(gates.Slice(0, 4 * n), c, h.Slice(0, n), tanhC.Slice(0, n));
    }

    /// <summary>
    /// The GRU cell update. <paramref name="gatesX"/> = W_ih x + b_ih and <paramref name="gatesH"/> = W_hh h + b_hh,
    /// each [r | z | n] of <c>h.Length</c>: r, z = σ(x + h parts); n = tanh(x_n + r ⊙ h_n); h = (1 - z) ⊙ n + z ⊙ h.
    /// On return <paramref name="gatesX"/> holds [r | z | n] activations and <paramref name="gatesH"/> is unchanged
    /// in its n part (W_hn h + b_hn, which backpropagation needs).
    /// </summary>
    public static void GruCell(Span<float> gatesX, ReadOnlySpan<float> gatesH, Span<float> h)
    {
        int n = h.Length;
        if (gatesX.Length < 3 * n || gatesH.Length < 3 * n) throw new ArgumentException($"GruCell needs gates of {3 * n} floats for h of {n}; got {gatesX.Length} and {gatesH.Length}.");
        GruCellFused(gatesX.Slice(0, 3 * n), gatesH.Slice(0, 3 * n), h);
    }
}
