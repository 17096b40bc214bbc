using System;
using System.Runtime.CompilerServices;
#if NET8_0_OR_GREATER
using System.Runtime.Intrinsics;
#endif

namespace RnnGen.CompilerServices;

public static partial class Kernels
{
#if NET8_0_OR_GREATER
    // Vectorized exp, sigmoid and tanh for the cell kernels: Cephes-style range reduction and polynomials, about
    // 2 ulp from the correctly rounded value over the range the cells see (PyTorch parity holds to ~1e-7).
    // netstandard2.1 (Unity's Mono and IL2CPP, where Vector<T> is often emulated in software and slower than scalar)
    // runs only the scalar loops below, on MathF.
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2Hi = 0.693359375f;
    private const float Ln2Lo = -2.12194440e-4f;
    private const float ExpMax = 88.3762626647949f;
    private const float ExpMin = -87.3365447504f;

    // Exp, SigmoidVector, TanhVector and the loops below are written once, generic over the vector width (IVectorOps:
    // Ops512, Ops256), and compile to the code the former per-width twins did: the same vector instructions, results the
    // same to the last bit. Two habits keep it so. An operation whose operand is itself an operation (other than a
    // constant) gets a local of its own: nested calls make the inliner spill the earlier arguments to temporaries, which
    // kept constants such as One from being shared and hoisted out of the loops (a broadcast or a move more per vector).
    // And a loop's bound is a local computed before it, which the JIT keeps in a register.

    /// <summary>e^x for x clamped to [<see cref="ExpMin"/>, <see cref="ExpMax"/>]: a normal float, about 2⁻¹²⁶ to 2¹²⁷·⁵, never infinity.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Exp<TV, TOps>(TV x) where TV : struct where TOps : struct, IVectorOps<TV>
    {
        TOps v = default;
        x = v.Clamp(x, ExpMin, ExpMax);
        // On AVX-512, vrndscaleps rounds and vscalefps multiplies by 2ⁿ (RoundProduct, ScaleByPowerOfTwo): the portable
        // form's float-to-int conversion (saturating since .NET 9, three extra instructions), bias, shift and multiply
        // become one instruction. A sigmoid of 16 floats went from 27 to 19 instructions; 320 sigmoids 136-200 -> 100 ns
        // in a micro-benchmark, with the same results to the last bit.
        TV n = v.RoundProduct(x, v.Create(Log2E));
        TV r = v.MultiplyAdd(n, v.Create(-Ln2Hi), x);
        r = v.MultiplyAdd(n, v.Create(-Ln2Lo), r);
        TV p = v.Create(1.9875691500e-4f);
        p = v.MultiplyAdd(p, r, v.Create(1.3981999507e-3f));
        p = v.MultiplyAdd(p, r, v.Create(8.3334519073e-3f));
        p = v.MultiplyAdd(p, r, v.Create(4.1665795894e-2f));
        p = v.MultiplyAdd(p, r, v.Create(1.6666665459e-1f));
        p = v.MultiplyAdd(p, r, v.Create(5.0000001201e-1f));
        p = v.MultiplyAdd(p, v.Multiply(r, r), v.Add(r, v.One));
        return v.ScaleByPowerOfTwo(p, n);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV SigmoidVector<TV, TOps>(TV x) where TV : struct where TOps : struct, IVectorOps<TV>
    {
        TOps v = default;
        TV e = Exp<TV, TOps>(v.Negate(x));
        TV d = v.Add(v.One, e);
        return v.Divide(v.One, d);
    }

    /// <summary>tanh: an odd polynomial for |x| &lt; 0.625 (no cancellation near 0), else 1 - 2 / (e^{2|x|} + 1) with the sign restored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV TanhVector<TV, TOps>(TV x) where TV : struct where TOps : struct, IVectorOps<TV>
    {
        TOps v = default;
        TV ax = v.Abs(x);
        TV z = v.Multiply(x, x);
        TV p = v.Create(-5.70498872745e-3f);
        p = v.MultiplyAdd(p, z, v.Create(2.06390887954e-2f));
        p = v.MultiplyAdd(p, z, v.Create(-5.37397155531e-2f));
        p = v.MultiplyAdd(p, z, v.Create(1.33314422036e-1f));
        p = v.MultiplyAdd(p, z, v.Create(-3.33332819422e-1f));
        TV small = v.MultiplyAdd(v.Multiply(p, z), x, x);
        TV e = Exp<TV, TOps>(v.Add(ax, ax));
        TV d = v.Add(e, v.One);
        TV q = v.Divide(v.Create(2f), d);
        TV large = v.Subtract(v.One, q);
        large = v.ConditionalSelect(v.Create(-0f), x, large); // copy the sign of x
        return v.ConditionalSelect(v.LessThan(ax, v.Create(0.625f)), small, large);
    }

    // The vector loops of the cells: from unit j on, in whole vectors of the width; each returns the first unit left for
    // a narrower width or the scalar loop. Inlined into their callers, which run 512 bits, then 256, then scalar code.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int LstmUpdateVectors<TV, TOps>(Span<float> gates, Span<float> c, Span<float> h, Span<float> tanhC, int n, int j)
        where TV : struct where TOps : struct, IVectorOps<TV>
    {
        TOps v = default;
        int w = v.Count, last = n - w;
        for (; j <= last; j += w)
        {
            nuint o = (nuint)j;
            TV cn = v.MultiplyAdd(v.Load(gates, o + (nuint)n), v.Load(c, o), v.Multiply(v.Load(gates, o), v.Load(gates, o + (nuint)(2 * n))));
            TV tc = TanhVector<TV, TOps>(cn);
            v.Store(cn, c, o);
            v.Store(tc, tanhC, o);
            v.Store(v.Multiply(v.Load(gates, o + (nuint)(3 * n)), tc), h, o);
        }
        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int GruGateVectors<TV, TOps>(Span<float> gatesX, ReadOnlySpan<float> gatesH, int m, int j)
        where TV : struct where TOps : struct, IVectorOps<TV>
    {
        TOps v = default;
        int w = v.Count, last = m - w;
        for (; j <= last; j += w)
        {
            nuint o = (nuint)j;
            v.Store(SigmoidVector<TV, TOps>(v.Add(v.Load(gatesX, o), v.Load(gatesH, o))), gatesX, o);
        }
        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int GruUpdateVectors<TV, TOps>(Span<float> gatesX, ReadOnlySpan<float> gatesH, Span<float> h, int n, int j)
        where TV : struct where TOps : struct, IVectorOps<TV>
    {
        TOps v = default;
        int w = v.Count, last = n - w;
        for (; j <= last; j += w)
        {
            nuint o = (nuint)j;
            TV nn = TanhVector<TV, TOps>(v.MultiplyAdd(v.Load(gatesX, o), v.Load(gatesH, o + (nuint)(2 * n)), v.Load(gatesX, o + (nuint)(2 * n))));
            v.Store(nn, gatesX, o + (nuint)(2 * n));
            v.Store(v.MultiplyAdd(v.Load(gatesX, o + (nuint)n), v.Subtract(v.Load(h, o), nn), nn), h, o);
        }
        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SigmoidVectors<TV, TOps>(Span<float> x, int j) where TV : struct where TOps : struct, IVectorOps<TV>
    {
        TOps v = default;
        int w = v.Count, last = x.Length - w;
        for (; j <= last; j += w)
        {
            nuint o = (nuint)j;
            v.Store(SigmoidVector<TV, TOps>(v.Load(x, o)), x, o);
        }
        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int TanhVectors<TV, TOps>(Span<float> x, int j) where TV : struct where TOps : struct, IVectorOps<TV>
    {
        TOps v = default;
        int w = v.Count, last = x.Length - w;
        for (; j <= last; j += w)
        {
            nuint o = (nuint)j;
            v.Store(TanhVector<TV, TOps>(v.Load(x, o)), x, o);
        }
        return j;
    }
#endif

    private static float SigmoidScalar(float x) => 1f / (1f + MathF.Exp(-x));

    /// <summary>
    /// The LSTM cell over n hidden units in two passes: first the gate activations in place (i, f, o = σ; g = tanh), then
    /// c = f ⊙ c + i ⊙ g, tanh(c) and h = o ⊙ tanh(c). In the first pass every vector is independent of the others, so
    /// the out-of-order core overlaps their long exp chains; a single fused pass made each cell update wait on its own
    /// gates and measured 0-15% slower in A/B runs on the benchmark machine.
    /// </summary>
    [MethodImpl(HotPath)]
    private static void LstmCellFused(Span<float> gates, Span<float> c, Span<float> h, Span<float> tanhC)
    {
        int n = c.Length;
        SigmoidInPlace(gates.Slice(0, 2 * n));
        TanhFused(gates.Slice(2 * n, n));
        SigmoidInPlace(gates.Slice(3 * n, n));
        int j = 0;
#if NET8_0_OR_GREATER
        if (Vector512.IsHardwareAccelerated) j = LstmUpdateVectors<Vector512<float>, Ops512>(gates, c, h, tanhC, n, j);
        if (Vector256.IsHardwareAccelerated) j = LstmUpdateVectors<Vector256<float>, Ops256>(gates, c, h, tanhC, n, j);
#endif
        for (; j < n; j++)
        {
            float cn = gates[n + j] * c[j] + gates[j] * gates[2 * n + j];
            float tc = MathF.Tanh(cn);
            c[j] = cn;
            tanhC[j] = tc;
            h[j] = gates[3 * n + j] * tc;
        }
    }

    /// <summary>
    /// The GRU cell over n hidden units in two passes, as <see cref="LstmCellFused"/>: first r and z = σ(x + h parts)
    /// for every unit (independent vectors), then n = tanh(x_n + r ⊙ h_n) and h = n + z ⊙ (h - n).
    /// </summary>
    [MethodImpl(HotPath)]
    private static void GruCellFused(Span<float> gatesX, ReadOnlySpan<float> gatesH, Span<float> h)
    {
        int n = h.Length;
        int j = 0, m = 2 * n;
#if NET8_0_OR_GREATER
        if (Vector512.IsHardwareAccelerated) j = GruGateVectors<Vector512<float>, Ops512>(gatesX, gatesH, m, j);
        if (Vector256.IsHardwareAccelerated) j = GruGateVectors<Vector256<float>, Ops256>(gatesX, gatesH, m, j);
#endif
        for (; j < m; j++) gatesX[j] = SigmoidScalar(gatesX[j] + gatesH[j]);
        j = 0;
#if NET8_0_OR_GREATER
        if (Vector512.IsHardwareAccelerated) j = GruUpdateVectors<Vector512<float>, Ops512>(gatesX, gatesH, h, n, j);
        if (Vector256.IsHardwareAccelerated) j = GruUpdateVectors<Vector256<float>, Ops256>(gatesX, gatesH, h, n, j);
#endif
        for (; j < n; j++)
        {
            float nn = MathF.Tanh(gatesX[2 * n + j] + gatesX[j] * gatesH[2 * n + j]);
            gatesX[2 * n + j] = nn;
            h[j] = nn + gatesX[n + j] * (h[j] - nn);
        }
    }

    // The four entry points (LstmCellFused, GruCellFused, SigmoidInPlace, TanhFused) are compiled fully optimized on
    // their first call (HotPath): their vector loops are written once over IVectorOps, whose members only become the
    // width's instructions once inlined, and unoptimized (tier-0) code does not inline. At tier 0 every vector
    // operation was a call, the first calls of a fresh process ran several times slower (a second Forward of
    // configuration 2 took 17 ms instead of 11, benchmarks/coldstart) and each wrapper was compiled on its own.

    /// <summary>x = σ(x) in place with the cells' sigmoid (the same function on every path as before the split).</summary>
    [MethodImpl(HotPath)]
    private static void SigmoidInPlace(Span<float> x)
    {
        int j = 0, n = x.Length;
#if NET8_0_OR_GREATER
        if (Vector512.IsHardwareAccelerated) j = SigmoidVectors<Vector512<float>, Ops512>(x, j);
        if (Vector256.IsHardwareAccelerated) j = SigmoidVectors<Vector256<float>, Ops256>(x, j);
#endif
        for (; j < n; j++) x[j] = SigmoidScalar(x[j]);
    }

    [MethodImpl(HotPath)]
    private static void TanhFused(Span<float> x)
    {
        int j = 0, n = x.Length;
#if NET8_0_OR_GREATER
        if (Vector512.IsHardwareAccelerated) j = TanhVectors<Vector512<float>, Ops512>(x, j);
        if (Vector256.IsHardwareAccelerated) j = TanhVectors<Vector256<float>, Ops256>(x, j);
#endif
        for (; j < n; j++) x[j] = MathF.Tanh(x[j]);
    }
}
