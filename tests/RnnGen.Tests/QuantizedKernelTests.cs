using System;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using RnnGen.CompilerServices;
using Xunit;

namespace RnnGen.Tests;

/// <summary>
/// The int8 kernels (Kernels.Quantized.cs): the quantization and its documented layout, the dynamic product bit for bit
/// against a scalar definition on every instruction set the machine has (VNNI, AVX2, SSSE3), the batched product row
/// by row, and both against the float product within the issue's bound
/// (5e-2 of the largest output) at the shapes models use. Outputs sit between guard elements that must stay untouched.
/// </summary>
public class QuantizedKernelTests
{
    // Rows = inputs, Cols = outputs. The LSTM 32→64 step (W_ih [256, 32], W_hh [256, 64]), configuration 2's
    // 128→256 (W_ih [1024, 128], W_hh [1024, 256]), and odd sizes for every tail (inputs not a multiple of 4, outputs
    // not a multiple of a vector or a panel).
    private struct S32x256 : IMatrixShape { public int Rows => 32; public int Cols => 256; public int PanelRows => 32; }
    private struct S64x256 : IMatrixShape { public int Rows => 64; public int Cols => 256; public int PanelRows => 64; }
    private struct S128x1024 : IMatrixShape { public int Rows => 128; public int Cols => 1024; public int PanelRows => 128; }
    private struct S256x1024 : IMatrixShape { public int Rows => 256; public int Cols => 1024; public int PanelRows => 256; }
    private struct S13x37 : IMatrixShape { public int Rows => 13; public int Cols => 37; public int PanelRows => 13; }
    private struct S37x100 : IMatrixShape { public int Rows => 37; public int Cols => 100; public int PanelRows => 37; }
    private struct S100x13 : IMatrixShape { public int Rows => 100; public int Cols => 13; public int PanelRows => 100; }
    private struct S1x3 : IMatrixShape { public int Rows => 1; public int Cols => 3; public int PanelRows => 1; }
    private struct S6x70 : IMatrixShape { public int Rows => 6; public int Cols => 70; public int PanelRows => 6; }
    private struct Huge : IMatrixShape { public int Rows => 1 << 30; public int Cols => 1 << 10; public int PanelRows => 1 << 30; }

    private const int Guard = 11;

    [Fact]
    public void QuantizeInt8_writes_the_documented_layout()
    {
        const int outputs = 70, inputs = 13;
        float[] w = Uniform(outputs * inputs, 1, 0.3f);
        for (int k = 0; k < inputs; k++) w[5 * inputs + k] = 0f; // an all-zero row
        w[7 * inputs + 2] = 1.5f * 0.3f / 127f * 127f; // the row's max
        int size = Kernels.QuantizeInt8Size(outputs, inputs);
        int quads = (inputs + 3) / 4, panels = (outputs + 63) / 64;
        Assert.Equal(panels * quads * 256 + panels * 64 * 4, size);
        var q = new sbyte[size];
        q.AsSpan().Fill(99); // every byte is written, padding included
        var scales = new float[outputs];
        Kernels.QuantizeInt8(w, outputs, inputs, q, scales);
        ReadOnlySpan<int> sums = MemoryMarshal.Cast<sbyte, int>(q.AsSpan(panels * quads * 256));
        for (int c = 0; c < panels * 64; c++)
        {
            float max = 0f;
            for (int k = 0; c < outputs && k < inputs; k++) max = Math.Max(max, Math.Abs(w[c * inputs + k]));
            if (c < outputs) Assert.Equal(max / 127f, scales[c]);
            int sum = 0;
            for (int k = 0; k < quads * 4; k++)
            {
                int expected = 0;
                if (c < outputs && k < inputs && max > 0f)
                    expected = Math.Clamp((int)Math.Round(w[c * inputs + k] / (max / 127f), MidpointRounding.ToEven), -127, 127);
                int at = c / 64 * quads * 256 + k / 4 * 256 + c % 64 * 4 + k % 4;
                Assert.True(expected == q[at], $"q[{c}, {k}] at byte {at}: expected {expected}, got {q[at]}");
                sum += expected;
            }
            Assert.Equal(sum, sums[c]);
        }
        Assert.Equal(0f, scales[5]);
        Assert.Equal(127, Math.Abs((int)q[7 * 4 + 2 / 4 * 256 + 2 % 4]));
    }

    [Fact]
    public void MatVecTInt8_is_its_scalar_definition_bit_for_bit_on_every_instruction_set()
    {
        CheckExact<S32x256>();
        CheckExact<S64x256>();
        CheckExact<S128x1024>();
        CheckExact<S256x1024>();
        CheckExact<S13x37>();
        CheckExact<S37x100>();
        CheckExact<S100x13>();
        CheckExact<S1x3>();
        CheckExact<S6x70>();
    }

    [Fact]
    public void Int8_products_are_within_the_issue_bound_of_the_float_product()
    {
        CheckAccuracy<S32x256>(64);
        CheckAccuracy<S64x256>(64);
        CheckAccuracy<S128x1024>(256);
        CheckAccuracy<S256x1024>(256);
        CheckAccuracy<S37x100>(25);
        CheckAccuracy<S100x13>(25);
    }

    [Fact]
    public void GemmPInt8_is_MatVecTInt8_row_by_row()
    {
        CheckGemm<S32x256>();
        CheckGemm<S256x1024>();
        CheckGemm<S13x37>();
        CheckGemm<S37x100>();
        CheckGemm<S100x13>();
        CheckGemm<S1x3>();
    }

    [Fact]
    public void The_int8_kernels_reject_spans_too_short_naming_the_parameter()
    {
        const int outputs = 37, inputs = 13;
        var w = new float[outputs * inputs];
        var q = new sbyte[Kernels.QuantizeInt8Size(outputs, inputs)];
        var scales = new float[outputs];
        Kernels.QuantizeInt8(w, outputs, inputs, q, scales);
        AssertRejects("weight", () => Kernels.QuantizeInt8(w.AsSpan(1), outputs, inputs, q, scales));
        AssertRejects("destination", () => Kernels.QuantizeInt8(w, outputs, inputs, q.AsSpan(1), scales));
        AssertRejects("scales", () => Kernels.QuantizeInt8(w, outputs, inputs, q, scales.AsSpan(1)));
        AssertRejects("outputs", () => Kernels.QuantizeInt8(w, -1, inputs, q, scales));
        AssertRejects("inputs", () => Kernels.QuantizeInt8Size(outputs, -1));
        AssertRejects("inputs", () => Kernels.QuantizeInt8InputSize(-1));
        // 64-bit sizes: a weight whose copy would not fit an array is refused, not wrapped.
        AssertRejects("outputs", () => Kernels.QuantizeInt8Size(1 << 20, 1 << 20));

        var scratch = new byte[Kernels.QuantizeInt8InputSize(inputs)];
        Assert.Equal(16, scratch.Length);
        var x = new float[inputs];
        var y = new float[outputs];
        Kernels.MatVecTInt8<S13x37>(q, scales, x, y, scratch);
        AssertRejects("wq", () => Kernels.MatVecTInt8<S13x37>(q.AsSpan(1), scales, x, y, scratch));
        AssertRejects("scales", () => Kernels.MatVecTInt8<S13x37>(q, scales.AsSpan(1), x, y, scratch));
        AssertRejects("x", () => Kernels.MatVecTInt8<S13x37>(q, scales, x.AsSpan(1), y, scratch));
        AssertRejects("y", () => Kernels.MatVecTInt8<S13x37>(q, scales, x, y.AsSpan(1), scratch));
        AssertRejects("scratch", () => Kernels.MatVecTInt8<S13x37>(q, scales, x, y, scratch.AsSpan(1)));
        AssertRejects("wq", () => Kernels.MatVecTInt8<Huge>(q, scales, x, y, scratch));

        const int n = 3, xs = 15, ys = 40;
        var xb = new float[(n - 1) * xs + inputs];
        var yb = new float[(n - 1) * ys + outputs];
        scratch = new byte[Kernels.GemmPInt8ScratchSize(inputs)];
        Assert.Equal(32 * 16, scratch.Length); // a block of 32 rows of 13 inputs, padded to quads
        AssertRejects("inputs", () => Kernels.GemmPInt8ScratchSize(-1));
        Kernels.GemmPInt8<S13x37>(q, scales, default, xb, xs, n, yb, ys, scratch);
        AssertRejects("bias", () => Kernels.GemmPInt8<S13x37>(q, scales, new float[outputs - 1], xb, xs, n, yb, ys, scratch));
        AssertRejects("x", () => Kernels.GemmPInt8<S13x37>(q, scales, default, xb.AsSpan(1), xs, n, yb, ys, scratch));
        AssertRejects("y", () => Kernels.GemmPInt8<S13x37>(q, scales, default, xb, xs, n, yb.AsSpan(1), ys, scratch));
        AssertRejects("xStride", () => Kernels.GemmPInt8<S13x37>(q, scales, default, xb, -1, n, yb, ys, scratch));
        AssertRejects("n", () => Kernels.GemmPInt8<S13x37>(q, scales, default, xb, xs, -1, yb, ys, scratch));
        AssertRejects("scratch", () => Kernels.GemmPInt8<S13x37>(q, scales, default, xb, xs, n, yb, ys, scratch.AsSpan(1)));
    }

    [Fact]
    public void The_int8_products_allocate_nothing()
    {
        var (q, scales) = Quantized<S64x256>(3);
        float[] x = Uniform(64, 4, 1f);
        var y = new float[256];
        var scratch = new byte[Kernels.QuantizeInt8InputSize(64)];
        Allocations.AssertNone("MatVecTInt8", () => Kernels.MatVecTInt8<S64x256>(q, scales, x, y, scratch), 100);
        float[] xb = Uniform(5 * 64, 5, 1f);
        var yb = new float[5 * 256];
        var gemmScratch = new byte[Kernels.GemmPInt8ScratchSize(64)];
        Allocations.AssertNone("GemmPInt8", () => Kernels.GemmPInt8<S64x256>(q, scales, default, xb, 64, 5, yb, 256, gemmScratch), 20);
    }

    // ---- definitions -----------------------------------------------------------------------------------------------

    private static float[] Uniform(int length, int seed, float bound)
    {
        var rng = new Rng((ulong)seed);
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (rng.NextSingle() * 2f - 1f) * bound;
        return values;
    }

    /// <summary>Realistic weights, ~U(-1/√H, 1/√H) as PyTorch initializes them (H: the hidden size, a quarter of the gate outputs).</summary>
    private static (sbyte[] Q, float[] Scales) Quantized<T>(int seed, float[]? weight = null) where T : struct, IMatrixShape
    {
        int rows = default(T).Rows, cols = default(T).Cols;
        weight ??= Weight<T>(seed);
        var q = new sbyte[Kernels.QuantizeInt8Size(cols, rows)];
        var scales = new float[cols];
        Kernels.QuantizeInt8(weight, cols, rows, q, scales);
        return (q, scales);
    }

    private static float[] Weight<T>(int seed) where T : struct, IMatrixShape
        => Uniform(default(T).Cols * default(T).Rows, seed, 1f / MathF.Sqrt(Math.Max(1, default(T).Cols / 4)));

    private static int QAt<T>(sbyte[] q, int c, int k) where T : struct, IMatrixShape
        => q[c / 64 * ((default(T).Rows + 3) / 4) * 256 + k / 4 * 256 + c % 64 * 4 + k % 4];

    /// <summary>The documented dynamic product in scalar code: x quantized, exact int32 sums, y + (s_x · scale) · sum.</summary>
    private static float[] DynamicDefinition<T>(sbyte[] q, float[] scales, float[] x, float[] y) where T : struct, IMatrixShape
    {
        int rows = default(T).Rows, cols = default(T).Cols;
        float max = 0f;
        for (int k = 0; k < rows; k++) max = Math.Max(max, Math.Abs(x[k]));
        float inv = max > 0f ? 127f / max : 0f, sx = max / 127f;
        var qx = new int[rows];
        for (int k = 0; k < rows; k++) qx[k] = (int)MathF.Round(x[k] * inv, MidpointRounding.ToEven);
        var expected = (float[])y.Clone();
        for (int c = 0; c < cols; c++)
        {
            int sum = 0;
            for (int k = 0; k < rows; k++) sum += qx[k] * QAt<T>(q, c, k);
            expected[Guard + c] = y[Guard + c] + sx * scales[c] * sum;
        }
        return expected;
    }

    private static void CheckExact<T>() where T : struct, IMatrixShape
    {
        int rows = default(T).Rows, cols = default(T).Cols;
        var (q, scales) = Quantized<T>(6);
        float[] x = Uniform(rows, 7, 1f);
        float[] y = Uniform(2 * Guard + cols, 8, 1f);
        float[] expected = DynamicDefinition<T>(q, scales, x, y);
        var scratch = new byte[Kernels.QuantizeInt8InputSize(rows)];
        var actual = (float[])y.Clone();
        Kernels.MatVecTInt8<T>(q, scales, x, actual.AsSpan(Guard, cols), scratch);
        AssertBits(expected, actual, $"MatVecTInt8<{typeof(T).Name}>");
        // The batched product's tiles on the same instruction sets: every row of four the same bits.
        CheckGemmTiles<T>(q, scales, x, y, expected);

        // The portable path (netstandard2.1, or no vectors), which the dispatch here never takes.
        actual = (float[])y.Clone();
        float sx = Kernels.QuantizeInput(x, (nuint)rows, scratch, offset: false);
        Kernels.Int8Scalar<T>(q, scales, scratch, sx, actual.AsSpan(Guard, cols));
        AssertBits(expected, actual, $"Int8Scalar {typeof(T).Name}");
        ReadOnlySpan<int> sums = Kernels.Int8Sums<T>(q);
        if (AvxVnni.IsSupported)
        {
            actual = (float[])y.Clone();
            Kernels.Int8Product<T, Vector256<int>, Vnni256>(q, sums, scales, x, actual.AsSpan(Guard, cols), scratch);
            AssertBits(expected, actual, $"Vnni256 {typeof(T).Name}");
        }
        if (Avx2.IsSupported)
        {
            actual = (float[])y.Clone();
            Kernels.Int8Product<T, Vector256<int>, Madd256>(q, sums, scales, x, actual.AsSpan(Guard, cols), scratch);
            AssertBits(expected, actual, $"Madd256 {typeof(T).Name}");
        }
        if (Ssse3.IsSupported)
        {
            actual = (float[])y.Clone();
            Kernels.Int8Product<T, Vector128<int>, Madd128>(q, sums, scales, x, actual.AsSpan(Guard, cols), scratch);
            AssertBits(expected, actual, $"Madd128 {typeof(T).Name}");
        }
        // Extremes: x at ±max everywhere (every product 127 · 127, the sums at their largest) and x all zero.
        var extreme = new float[rows];
        for (int k = 0; k < rows; k++) extreme[k] = k % 3 == 0 ? -2f : 2f;
        expected = DynamicDefinition<T>(q, scales, extreme, y);
        actual = (float[])y.Clone();
        Kernels.MatVecTInt8<T>(q, scales, extreme, actual.AsSpan(Guard, cols), scratch);
        AssertBits(expected, actual, $"MatVecTInt8<{typeof(T).Name}> at ±max");
        actual = (float[])y.Clone();
        Kernels.MatVecTInt8<T>(q, scales, new float[rows], actual.AsSpan(Guard, cols), scratch);
        AssertBits(y, actual, $"MatVecTInt8<{typeof(T).Name}> of zero");
    }

    private static void CheckGemmTiles<T>(sbyte[] q, float[] scales, float[] x, float[] y, float[] expected) where T : struct, IMatrixShape
    {
        int rows = default(T).Rows, cols = default(T).Cols, ys = 2 * Guard + cols;
        var xs = new float[4 * rows];
        var ys4 = new float[4 * ys];
        for (int r = 0; r < 4; r++) { x.CopyTo(xs, r * rows); y.CopyTo(ys4, r * ys); }
        var scratch = new byte[Kernels.GemmPInt8ScratchSize(rows)];
        ReadOnlySpan<int> sums = Kernels.Int8Sums<T>(q);
        void Check(string what, float[] actual)
        {
            for (int r = 0; r < 4; r++) AssertBits(expected, actual.AsSpan(r * ys, ys).ToArray(), $"{what} {typeof(T).Name} row {r}");
        }
        if (AvxVnni.IsSupported)
        {
            var actual = (float[])ys4.Clone();
            Kernels.Int8Gemm<T, Vector256<int>, Vnni256>(q, sums, scales, xs, (nuint)rows, 4, actual.AsSpan(Guard), (nuint)ys, scratch);
            Check("Vnni256 tile", actual);
        }
        if (Avx2.IsSupported)
        {
            var actual = (float[])ys4.Clone();
            Kernels.Int8Gemm<T, Vector256<int>, Madd256>(q, sums, scales, xs, (nuint)rows, 4, actual.AsSpan(Guard), (nuint)ys, scratch);
            Check("Madd256 tile", actual);
        }
        if (Ssse3.IsSupported)
        {
            var actual = (float[])ys4.Clone();
            Kernels.Int8Gemm<T, Vector128<int>, Madd128>(q, sums, scales, xs, (nuint)rows, 4, actual.AsSpan(Guard), (nuint)ys, scratch);
            Check("Madd128 tile", actual);
        }
    }

    private static void CheckAccuracy<T>(int batch) where T : struct, IMatrixShape
    {
        int rows = default(T).Rows, cols = default(T).Cols;
        float[] weight = Weight<T>(9);
        var (q, scales) = Quantized<T>(9, weight);
        var scratch = new byte[Kernels.QuantizeInt8InputSize(rows)];
        float[] xs = Uniform(batch * rows, 10, 1f);
        float worstDynamic = 0f;
        for (int i = 0; i < batch; i++)
        {
            float[] x = xs.AsSpan(i * rows, rows).ToArray();
            var reference = new double[cols];
            double largest = 0;
            for (int c = 0; c < cols; c++)
            {
                double sum = 0;
                for (int k = 0; k < rows; k++) sum += (double)weight[c * rows + k] * x[k];
                reference[c] = sum;
                largest = Math.Max(largest, Math.Abs(sum));
            }
            var dynamic = new float[cols];
            Kernels.MatVecTInt8<T>(q, scales, x, dynamic, scratch);
            for (int c = 0; c < cols; c++) worstDynamic = Math.Max(worstDynamic, (float)(Math.Abs(dynamic[c] - reference[c]) / largest));
        }
        Assert.True(worstDynamic <= 5e-2f, $"{typeof(T).Name}: dynamic int8 off by {worstDynamic} of the largest output");
    }

    private static void CheckGemm<T>() where T : struct, IMatrixShape
    {
        int rows = default(T).Rows, cols = default(T).Cols;
        var (q, scales) = Quantized<T>(14);
        var scratch = new byte[Kernels.QuantizeInt8InputSize(rows)];
        var gemmScratch = new byte[Kernels.GemmPInt8ScratchSize(rows)];
        float[] bias = Uniform(cols, 15, 1f);
        foreach (int n in new[] { 0, 1, 2, 3, 4, 5, 7, 9, 32, 33, 70 })
        {
            foreach (bool withBias in new[] { false, true })
            {
                int xs = rows + 3, ys = cols + 5;
                float[] x = Uniform(Math.Max(0, n * xs), 16 + n, 1f);
                float[] y = Uniform(2 * Guard + n * ys, 17 + n, 1f);
                var expected = (float[])y.Clone();
                for (int i = 0; i < n; i++)
                {
                    if (withBias) bias.CopyTo(expected, Guard + i * ys);
                    Kernels.MatVecTInt8<T>(q, scales, x.AsSpan(i * xs, rows), expected.AsSpan(Guard + i * ys, cols), scratch);
                }
                var actual = (float[])y.Clone();
                Kernels.GemmPInt8<T>(q, scales, withBias ? bias : default, x, xs, n, actual.AsSpan(Guard, n * ys), ys, gemmScratch);
                AssertBits(expected, actual, $"GemmPInt8<{typeof(T).Name}> n={n} bias={withBias}");
            }
        }
    }

    private static void AssertRejects(string parameter, Action call)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(call);
        Assert.Equal(parameter, ex.ParamName);
    }

    private static void AssertBits(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"{what}: element {i - Guard}: expected {expected[i]:R}, got {actual[i]:R}");
    }

    /// <summary>Equal to the double-precision definition within float rounding of a sum of <paramref name="terms"/> products of |x| ≤ 1 and |q| ≤ 127 scaled, and the guards bit for bit.</summary>
    private static void AssertClose(float[] expected, float[] actual, int terms, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float tolerance = 4e-7f * (terms + 2);
        for (int i = 0; i < expected.Length; i++)
        {
            bool guard = i < Guard || i >= expected.Length - Guard;
            if (guard)
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"{what}: guard element {i} was written");
            else
                Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1f, Math.Abs(expected[i])), $"{what}: element {i - Guard}: expected {expected[i]:R}, got {actual[i]:R}");
        }
    }
}
