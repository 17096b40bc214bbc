using System;
using System.Runtime.CompilerServices;
#if NET8_0_OR_GREATER
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
#endif

namespace RnnGen.CompilerServices;

public static partial class Kernels
{
#if NET8_0_OR_GREATER
    // Vectorized exp, sigmoid and tanh for the cell kernels: Cephes-style range reduction and polynomials, about
    // 2 ulp from the correctly rounded value over the range the cells see (PyTorch parity holds to ~1e-7).
    // One copy per width, on purpose: written once over IVectorOps (tried in issue 19, bit for bit the same), the
    // kernels only run well once their wrappers are inlined, so they must be compiled fully optimized on first call,
    // and that cost a fresh process about 12 ms more JIT on its first cell update (first Tanh 10.5 -> 15-20 ms, first
    // LstmCell 1.2 -> 8.5 ms); these, written on the width's own types, run acceptably at tier 0 until tier 1.
    // netstandard2.1 (Unity's Mono and IL2CPP, where Vector<T> is often emulated in software and slower than scalar)
    // runs only the scalar loops below, on MathF.Exp.
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2Hi = 0.693359375f;
    private const float Ln2Lo = -2.12194440e-4f;
    private const float ExpMax = 88.3762626647949f;
    private const float ExpMin = -87.3365447504f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Exp(Vector512<float> x)
    {
        x = Vector512.Min(Vector512.Max(x, Vector512.Create(ExpMin)), Vector512.Create(ExpMax));
        // On AVX-512, vrndscaleps rounds and vscalefps multiplies by 2ⁿ: the portable form's float-to-int conversion
        // (saturating since .NET 9, three extra instructions), bias, shift and multiply become one instruction. A
        // sigmoid of 16 floats went from 27 to 19 instructions; 320 sigmoids 136-200 -> 100 ns in a micro-benchmark,
        // with the same results to the last bit.
        Vector512<float> n = Avx512F.IsSupported
            ? Avx512F.RoundScale(x * Vector512.Create(Log2E), 0)
            : Vector512.Floor(MultiplyAdd(x, Vector512.Create(Log2E), Vector512.Create(0.5f)));
        Vector512<float> r = MultiplyAdd(n, Vector512.Create(-Ln2Hi), x);
        r = MultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
        Vector512<float> p = Vector512.Create(1.9875691500e-4f);
        p = MultiplyAdd(p, r, Vector512.Create(1.3981999507e-3f));
        p = MultiplyAdd(p, r, Vector512.Create(8.3334519073e-3f));
        p = MultiplyAdd(p, r, Vector512.Create(4.1665795894e-2f));
        p = MultiplyAdd(p, r, Vector512.Create(1.6666665459e-1f));
        p = MultiplyAdd(p, r, Vector512.Create(5.0000001201e-1f));
        p = MultiplyAdd(p, r * r, r + Vector512<float>.One);
        if (Avx512F.IsSupported) return Avx512F.Scale(p, n);
        Vector512<int> scale = (Vector512.ConvertToInt32(n) + Vector512.Create(127)) << 23;
        return p * scale.AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Exp(Vector256<float> x)
    {
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(ExpMin)), Vector256.Create(ExpMax));
        Vector256<float> n = Vector256.Floor(MultiplyAdd(x, Vector256.Create(Log2E), Vector256.Create(0.5f)));
        Vector256<float> r = MultiplyAdd(n, Vector256.Create(-Ln2Hi), x);
        r = MultiplyAdd(n, Vector256.Create(-Ln2Lo), r);
        Vector256<float> p = Vector256.Create(1.9875691500e-4f);
        p = MultiplyAdd(p, r, Vector256.Create(1.3981999507e-3f));
        p = MultiplyAdd(p, r, Vector256.Create(8.3334519073e-3f));
        p = MultiplyAdd(p, r, Vector256.Create(4.1665795894e-2f));
        p = MultiplyAdd(p, r, Vector256.Create(1.6666665459e-1f));
        p = MultiplyAdd(p, r, Vector256.Create(5.0000001201e-1f));
        p = MultiplyAdd(p, r * r, r + Vector256<float>.One);
        Vector256<int> scale = (Vector256.ConvertToInt32(n) + Vector256.Create(127)) << 23;
        return p * scale.AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> SigmoidVector(Vector512<float> x) => Vector512<float>.One / (Vector512<float>.One + Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> SigmoidVector(Vector256<float> x) => Vector256<float>.One / (Vector256<float>.One + Exp(-x));

    /// <summary>tanh: an odd polynomial for |x| &lt; 0.625 (no cancellation near 0), else 1 - 2 / (e^{2|x|} + 1) with the sign restored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> TanhVector(Vector512<float> x)
    {
        Vector512<float> ax = Vector512.Abs(x);
        Vector512<float> z = x * x;
        Vector512<float> p = Vector512.Create(-5.70498872745e-3f);
        p = MultiplyAdd(p, z, Vector512.Create(2.06390887954e-2f));
        p = MultiplyAdd(p, z, Vector512.Create(-5.37397155531e-2f));
        p = MultiplyAdd(p, z, Vector512.Create(1.33314422036e-1f));
        p = MultiplyAdd(p, z, Vector512.Create(-3.33332819422e-1f));
        Vector512<float> small = MultiplyAdd(p * z, x, x);
        Vector512<float> large = Vector512<float>.One - Vector512.Create(2f) / (Exp(ax + ax) + Vector512<float>.One);
        large = Vector512.ConditionalSelect(Vector512.Create(-0f), x, large); // copy the sign of x
        return Vector512.ConditionalSelect(Vector512.LessThan(ax, Vector512.Create(0.625f)), small, large);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> TanhVector(Vector256<float> x)
    {
        Vector256<float> ax = Vector256.Abs(x);
        Vector256<float> z = x * x;
        Vector256<float> p = Vector256.Create(-5.70498872745e-3f);
        p = MultiplyAdd(p, z, Vector256.Create(2.06390887954e-2f));
        p = MultiplyAdd(p, z, Vector256.Create(-5.37397155531e-2f));
        p = MultiplyAdd(p, z, Vector256.Create(1.33314422036e-1f));
        p = MultiplyAdd(p, z, Vector256.Create(-3.33332819422e-1f));
        Vector256<float> small = MultiplyAdd(p * z, x, x);
        Vector256<float> large = Vector256<float>.One - Vector256.Create(2f) / (Exp(ax + ax) + Vector256<float>.One);
        large = Vector256.ConditionalSelect(Vector256.Create(-0f), x, large);
        return Vector256.ConditionalSelect(Vector256.LessThan(ax, Vector256.Create(0.625f)), small, large);
    }
#endif

    private static float SigmoidScalar(float x) => 1f / (1f + MathF.Exp(-x));

    /// <summary>
    /// tanh as the vector paths compute it (Cephes: an odd polynomial below |x| = 0.625, else 1 - 2 / (e^{2|x|} + 1) with
    /// the sign of x), on <see cref="MathF.Exp"/>: the scalar loops' tanh, about three times faster than
    /// <see cref="MathF.Tanh"/> on .NET's and C's libraries (the portable path runs one per hidden unit per step, or two).
    /// </summary>
    private static float TanhScalar(float x)
    {
        float ax = Math.Abs(x);
        if (ax < 0.625f)
        {
            float z = x * x;
            float p = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z + 1.33314422036e-1f) * z - 3.33332819422e-1f) * z;
            return p * x + x;
        }
        float large = 1f - 2f / (MathF.Exp(ax + ax) + 1f);
        return x < 0 ? -large : large; // NaN takes this branch and stays NaN
    }

    /// <summary>
    /// The LSTM cell over n hidden units in two passes: first the gate activations in place (i, f, o = σ; g = tanh), then
    /// c = f ⊙ c + i ⊙ g, tanh(c) and h = o ⊙ tanh(c). In the first pass every vector is independent of the others, so
    /// the out-of-order core overlaps their long exp chains; a single fused pass made each cell update wait on its own
    /// gates and measured 0-15% slower in A/B runs on the benchmark machine.
    /// </summary>
    private static void LstmCellFused(Span<float> gates, Span<float> c, Span<float> h, Span<float> tanhC)
    {
        int n = c.Length;
        SigmoidInPlace(gates.Slice(0, 2 * n));
        TanhFused(gates.Slice(2 * n, n));
        SigmoidInPlace(gates.Slice(3 * n, n));
        int j = 0;
#if NET8_0_OR_GREATER
        if (Vector512.IsHardwareAccelerated)
        {
            for (; j <= n - 16; j += 16)
            {
                nuint o = (nuint)j;
                var cn = MultiplyAdd(SpanAccess.Load512(gates, o + (nuint)n), SpanAccess.Load512(c, o), SpanAccess.Load512(gates, o) * SpanAccess.Load512(gates, o + (nuint)(2 * n)));
                var tc = TanhVector(cn);
                SpanAccess.Store512(cn, c, o);
                SpanAccess.Store512(tc, tanhC, o);
                SpanAccess.Store512(SpanAccess.Load512(gates, o + (nuint)(3 * n)) * tc, h, o);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; j <= n - 8; j += 8)
            {
                nuint o = (nuint)j;
                var cn = MultiplyAdd(SpanAccess.Load256(gates, o + (nuint)n), SpanAccess.Load256(c, o), SpanAccess.Load256(gates, o) * SpanAccess.Load256(gates, o + (nuint)(2 * n)));
                var tc = TanhVector(cn);
                SpanAccess.Store256(cn, c, o);
                SpanAccess.Store256(tc, tanhC, o);
                SpanAccess.Store256(SpanAccess.Load256(gates, o + (nuint)(3 * n)) * tc, h, o);
            }
        }
#endif
        for (; j < n; j++)
        {
            float cn = gates[n + j] * c[j] + gates[j] * gates[2 * n + j];
            float tc = TanhScalar(cn);
            c[j] = cn;
            tanhC[j] = tc;
            h[j] = gates[3 * n + j] * tc;
        }
    }

    /// <summary>
    /// The GRU cell over n hidden units in two passes, as <see cref="LstmCellFused"/>: first r and z = σ(x + h parts)
    /// for every unit (independent vectors), then n = tanh(x_n + r ⊙ h_n) and h = n + z ⊙ (h - n).
    /// </summary>
    private static void GruCellFused(Span<float> gatesX, ReadOnlySpan<float> gatesH, Span<float> h)
    {
        int n = h.Length;
        int j = 0, m = 2 * n;
#if NET8_0_OR_GREATER
        if (Vector512.IsHardwareAccelerated)
        {
            for (; j <= m - 16; j += 16) SpanAccess.Store512(SigmoidVector(SpanAccess.Load512(gatesX, (nuint)j) + SpanAccess.Load512(gatesH, (nuint)j)), gatesX, (nuint)j);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; j <= m - 8; j += 8) SpanAccess.Store256(SigmoidVector(SpanAccess.Load256(gatesX, (nuint)j) + SpanAccess.Load256(gatesH, (nuint)j)), gatesX, (nuint)j);
        }
#endif
        for (; j < m; j++) gatesX[j] = SigmoidScalar(gatesX[j] + gatesH[j]);
        j = 0;
#if NET8_0_OR_GREATER
        if (Vector512.IsHardwareAccelerated)
        {
            for (; j <= n - 16; j += 16)
            {
                nuint o = (nuint)j;
                var nn = TanhVector(MultiplyAdd(SpanAccess.Load512(gatesX, o), SpanAccess.Load512(gatesH, o + (nuint)(2 * n)), SpanAccess.Load512(gatesX, o + (nuint)(2 * n))));
                SpanAccess.Store512(nn, gatesX, o + (nuint)(2 * n));
                SpanAccess.Store512(MultiplyAdd(SpanAccess.Load512(gatesX, o + (nuint)n), SpanAccess.Load512(h, o) - nn, nn), h, o);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; j <= n - 8; j += 8)
            {
                nuint o = (nuint)j;
                var nn = TanhVector(MultiplyAdd(SpanAccess.Load256(gatesX, o), SpanAccess.Load256(gatesH, o + (nuint)(2 * n)), SpanAccess.Load256(gatesX, o + (nuint)(2 * n))));
                SpanAccess.Store256(nn, gatesX, o + (nuint)(2 * n));
                SpanAccess.Store256(MultiplyAdd(SpanAccess.Load256(gatesX, o + (nuint)n), SpanAccess.Load256(h, o) - nn, nn), h, o);
            }
        }
#endif
        for (; j < n; j++)
        {
            float nn = TanhScalar(gatesX[2 * n + j] + gatesX[j] * gatesH[2 * n + j]);
            gatesX[2 * n + j] = nn;
            h[j] = nn + gatesX[n + j] * (h[j] - nn);
        }
    }

    /// <summary>x = σ(x) in place with the cells' sigmoid (the same function on every path as before the split).</summary>
    private static void SigmoidInPlace(Span<float> x)
    {
        int j = 0, n = x.Length;
#if NET8_0_OR_GREATER
        if (Vector512.IsHardwareAccelerated)
        {
            for (; j <= n - 16; j += 16) SpanAccess.Store512(SigmoidVector(SpanAccess.Load512(x, (nuint)j)), x, (nuint)j);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; j <= n - 8; j += 8) SpanAccess.Store256(SigmoidVector(SpanAccess.Load256(x, (nuint)j)), x, (nuint)j);
        }
#endif
        for (; j < n; j++) x[j] = SigmoidScalar(x[j]);
    }

    private static void TanhFused(Span<float> x)
    {
        int j = 0, n = x.Length;
#if NET8_0_OR_GREATER
        if (Vector512.IsHardwareAccelerated)
        {
            for (; j <= n - 16; j += 16) SpanAccess.Store512(TanhVector(SpanAccess.Load512(x, (nuint)j)), x, (nuint)j);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; j <= n - 8; j += 8) SpanAccess.Store256(TanhVector(SpanAccess.Load256(x, (nuint)j)), x, (nuint)j);
        }
#endif
        for (; j < n; j++) x[j] = TanhScalar(x[j]);
    }
}
