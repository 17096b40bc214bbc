using System;
using RnnGen.CompilerServices;
using Xunit;

namespace RnnGen.Tests;

/// <summary>
/// The runtime's matrix products (Kernels.GemmP, GemmTN, MatVecT, MatVecTHalf), specialized on shape structs, against
/// scalar definitions written from their documentation, at shapes that take every path: widths below one vector of each
/// size, tails of every kind, inner sizes past the 256 block, row counts with every remainder of the 6-row tile and past
/// the 48-row block, matrices that are a slice of taller panels. Outputs sit between guard elements that must stay
/// untouched. The parity, batch and training tests run the same kernels inside the models.
/// </summary>
public class ProductKernelTests
{
    private struct S3x3r3 : IMatrixShape { public int Rows => 3; public int Cols => 3; public int PanelRows => 3; }
    private struct S5x7r9 : IMatrixShape { public int Rows => 5; public int Cols => 7; public int PanelRows => 9; }
    private struct S13x52r20 : IMatrixShape { public int Rows => 13; public int Cols => 52; public int PanelRows => 20; }
    private struct S33x99r42 : IMatrixShape { public int Rows => 33; public int Cols => 99; public int PanelRows => 42; }
    private struct S64x256r96 : IMatrixShape { public int Rows => 64; public int Cols => 256; public int PanelRows => 96; }
    private struct S300x140r300 : IMatrixShape { public int Rows => 300; public int Cols => 140; public int PanelRows => 300; }
    private struct S17x1029r17 : IMatrixShape { public int Rows => 17; public int Cols => 1029; public int PanelRows => 17; }
    private struct S9x12r9 : IMatrixShape { public int Rows => 9; public int Cols => 12; public int PanelRows => 9; }
    private struct S7x20r7 : IMatrixShape { public int Rows => 7; public int Cols => 20; public int PanelRows => 7; }
    private struct S6x96r10 : IMatrixShape { public int Rows => 6; public int Cols => 96; public int PanelRows => 10; }
    private struct S40x1000r40 : IMatrixShape { public int Rows => 40; public int Cols => 1000; public int PanelRows => 40; }
    private struct Broken : IMatrixShape { public int Rows => 8; public int Cols => 16; public int PanelRows => 4; }
    private struct Huge : IMatrixShape { public int Rows => 1 << 24; public int Cols => 4; public int PanelRows => 1 << 24; }

    private const int Guard = 19;

    [Fact]
    public void GemmP_matches_its_definition()
    {
        CheckGemmP<S3x3r3>(0);
        CheckGemmP<S5x7r9>(4);
        CheckGemmP<S13x52r20>(7);
        CheckGemmP<S33x99r42>(9);
        CheckGemmP<S64x256r96>(32);
        CheckGemmP<S300x140r300>(0);
        CheckGemmP<S17x1029r17>(0);
        CheckGemmP<S9x12r9>(0);
        CheckGemmP<S7x20r7>(0);
        CheckGemmP<S6x96r10>(4);
    }

    [Fact]
    public void GemmTN_matches_its_definition_for_every_row_range()
    {
        CheckGemmTN<S3x3r3>();
        CheckGemmTN<S5x7r9>();
        CheckGemmTN<S13x52r20>();
        CheckGemmTN<S33x99r42>();
        CheckGemmTN<S64x256r96>();
        CheckGemmTN<S17x1029r17>();
        CheckGemmTN<S9x12r9>();
        CheckGemmTN<S40x1000r40>();
    }

    [Fact]
    public void MatVecT_matches_its_definition_in_both_block_orders()
    {
        CheckMatVecT<S3x3r3>(0);
        CheckMatVecT<S5x7r9>(4);
        CheckMatVecT<S13x52r20>(7);
        CheckMatVecT<S33x99r42>(9);
        CheckMatVecT<S64x256r96>(32);
        CheckMatVecT<S300x140r300>(0);
        CheckMatVecT<S17x1029r17>(0);
        CheckMatVecT<S9x12r9>(0);
        CheckMatVecT<S7x20r7>(0);
        CheckMatVecT<S40x1000r40>(0);
    }

    [Fact]
    public void MatVecTHalf_matches_its_definition()
    {
        CheckMatVecTHalf<S5x7r9>();
        CheckMatVecTHalf<S13x52r20>();
        CheckMatVecTHalf<S33x99r42>();
        CheckMatVecTHalf<S64x256r96>();
        CheckMatVecTHalf<S17x1029r17>();
        CheckMatVecTHalf<S40x1000r40>();
    }

    /// <summary>
    /// The scalar cores (the portable path Unity runs, and every vector path's tail columns), called directly so that
    /// every run checks them, not only the CI run with intrinsics off: blocks of eight accumulators give each column
    /// the sum of the one-column loop in float — start value, then the inner index ascending, a product then an add —
    /// to the last bit, at every start column (the tails start anywhere).
    /// </summary>
    [Fact]
    public void Scalar_cores_sum_each_column_in_order_to_the_bit()
    {
        ScalarCores<S3x3r3>(0);
        ScalarCores<S13x52r20>(7);
        ScalarCores<S33x99r42>(9);
        ScalarCores<S64x256r96>(32);
        ScalarCores<S17x1029r17>(0);
        ScalarCores<S40x1000r40>(0);
    }

    private static void ScalarCores<T>(int rowOffset) where T : struct, IMatrixShape
    {
        int inner = default(T).Rows, outer = default(T).Cols, chunked = outer / 32 * 32;
        float[] panels = Random(rowOffset * 64 + PanelFloats<T>(), 21);
        ReadOnlySpan<float> m = panels.AsSpan(rowOffset * 64, PanelFloats<T>());
        float W(int k, int c) => panels[rowOffset * 64 + PanelIndex<T>(k, c)];
        float[] bias = Random(outer, 22);
        var rng = new Rng(23);
        var wh = new ushort[inner * chunked];
        for (int i = 0; i < wh.Length; i++) wh[i] = (ushort)(0x3C00 + rng.NextInt(0x0400) - (rng.NextInt(2) << 15));
        foreach (int start in new[] { 0, 1, 5, 8, 13, outer - 1 })
        {
            if (start < 0 || start >= outer) continue;
            const int n = 3;
            int xs = inner + 1, ys = outer + 2;
            float[] x = Random(n * xs, 24 + start);
            foreach (bool withBias in new[] { false, true })
            {
                float[] y = Random(2 * Guard + n * ys, 25 + start);
                var expected = (float[])y.Clone();
                for (int i = 0; i < n; i++)
                {
                    for (int c = start; c < outer; c++)
                    {
                        float sum = withBias ? bias[c] : y[Guard + i * ys + c];
                        for (int k = 0; k < inner; k++) sum += x[i * xs + k] * W(k, c);
                        expected[Guard + i * ys + c] = sum;
                    }
                }
                Kernels.GemmPScalarColumns<T>(m, withBias ? bias : default, x, (nuint)xs, n, y.AsSpan(Guard, n * ys), (nuint)ys, (nuint)start);
                Assert.Equal(expected, y);
            }
            {
                float[] y = Random(2 * Guard + outer, 26 + start);
                var expected = (float[])y.Clone();
                for (int c = start; c < outer; c++)
                {
                    float sum = y[Guard + c];
                    for (int k = 0; k < inner; k++) sum += x[k] * W(k, c);
                    expected[Guard + c] = sum;
                }
                Kernels.MatVecTScalar<T>(m, x, y.AsSpan(Guard, outer), (nuint)start);
                Assert.Equal(expected, y);
            }
            {
                // C [inner, outer] += Aᵀ B over n rows, rows 1.. of C (a thread's range), columns from start.
                int @as = inner + 2, bs = outer + 3;
                float[] a = Random(n * @as, 27 + start), b = Random(n * bs, 28 + start);
                float[] c = Random(2 * Guard + inner * outer, 29 + start);
                var expected = (float[])c.Clone();
                for (int r = 1; r < inner; r++)
                {
                    for (int col = start; col < outer; col++)
                    {
                        float sum = c[Guard + r * outer + col];
                        for (int i = 0; i < n; i++) sum += a[i * @as + r] * b[i * bs + col];
                        expected[Guard + r * outer + col] = sum;
                    }
                }
                Kernels.GemmTNScalarColumns<T>(a, (nuint)@as, b, (nuint)bs, n, c.AsSpan(Guard, inner * outer), 1, (nuint)inner, (nuint)start);
                Assert.Equal(expected, c);
            }
        }
        if (chunked > 0)
        {
            float[] x = Random(inner, 30);
            float[] y = Random(2 * Guard + outer, 31);
            var expected = (float[])y.Clone();
            for (int c = 0; c < chunked; c++)
            {
                int chunk = c / 32, j = c % 32, lane = chunk * 32 + 2 * (j % 16);
                float sum = y[Guard + c];
                for (int k = 0; k < inner; k++)
                {
                    int at = k * chunked + lane;
                    sum += x[k] * (j < 16 ? BitConverter.Int32BitsToSingle(wh[at] << 16) : BitConverter.Int32BitsToSingle(wh[at + 1] << 16 | wh[at]));
                }
                expected[Guard + c] = sum;
            }
            Kernels.MatVecTHalfScalar<T>(wh, x, y.AsSpan(Guard, outer));
            Assert.Equal(expected, y);
        }
    }

    [Fact]
    public void The_products_reject_spans_too_short_naming_the_parameter()
    {
        const int n = 5, xs = 13, ys = 52;
        var m = new float[PanelFloats<S13x52r20>()];
        var x = new float[(n - 1) * xs + 13];
        var y = new float[(n - 1) * ys + 52];
        Kernels.GemmP<S13x52r20>(m, default, x, xs, n, y, ys);
        AssertRejects("m", () => Kernels.GemmP<S13x52r20>(m.AsSpan(1), default, x, xs, n, y, ys));
        AssertRejects("bias", () => Kernels.GemmP<S13x52r20>(m, new float[51], x, xs, n, y, ys));
        AssertRejects("x", () => Kernels.GemmP<S13x52r20>(m, default, x.AsSpan(1), xs, n, y, ys));
        AssertRejects("y", () => Kernels.GemmP<S13x52r20>(m, default, x, xs, n, y.AsSpan(1), ys));
        AssertRejects("n", () => Kernels.GemmP<S13x52r20>(m, default, x, xs, -1, y, ys));
        AssertRejects("xStride", () => Kernels.GemmP<S13x52r20>(m, default, x, -xs, n, y, ys));
        AssertRejects("x", () => Kernels.GemmP<S13x52r20>(m, default, x, int.MaxValue, n, y, ys));

        var a = new float[n * 13];
        var b = new float[n * 52];
        var c = new float[13 * 52];
        var scratch = new float[Kernels.GemmTNScratchSize(13, 52)];
        Kernels.GemmTN<S13x52r20>(a, 13, b, 52, n, c, new float[13], scratch);
        AssertRejects("a", () => Kernels.GemmTN<S13x52r20>(a.AsSpan(1), 13, b, 52, n, c, default, scratch));
        AssertRejects("b", () => Kernels.GemmTN<S13x52r20>(a, 13, b.AsSpan(1), 52, n, c, default, scratch));
        AssertRejects("c", () => Kernels.GemmTN<S13x52r20>(a, 13, b, 52, n, c.AsSpan(1), default, scratch));
        AssertRejects("sums", () => Kernels.GemmTN<S13x52r20>(a, 13, b, 52, n, c, new float[12], scratch));
        if (System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated)
            AssertRejects("scratch", () => Kernels.GemmTN<S13x52r20>(a, 13, b, 52, n, c, default, scratch.AsSpan(1)));
        AssertRejects("rowFirst", () => Kernels.GemmTN<S13x52r20>(a, 13, b, 52, n, c, default, scratch, 2, 13));
        AssertRejects("rowEnd", () => Kernels.GemmTN<S13x52r20>(a, 13, b, 52, n, c, default, scratch, 4, 14));

        var wt = new float[PanelFloats<S13x52r20>()];
        Kernels.MatVecT<S13x52r20>(wt, new float[13], new float[52], reverse: false);
        AssertRejects("wt", () => Kernels.MatVecT<S13x52r20>(wt.AsSpan(1), new float[13], new float[52], reverse: false));
        AssertRejects("x", () => Kernels.MatVecT<S13x52r20>(wt, new float[12], new float[52], reverse: false));
        AssertRejects("y", () => Kernels.MatVecT<S13x52r20>(wt, new float[13], new float[51], reverse: true));
        var wh = new ushort[13 * 32];
        Kernels.MatVecTHalf<S13x52r20>(wh, wt, new float[13], new float[52]);
        AssertRejects("wh", () => Kernels.MatVecTHalf<S13x52r20>(wh.AsSpan(1), wt, new float[13], new float[52]));

        // A shape so large that its scratch would not fit an int: the size is computed in 64 bits, never wrapped to a
        // small or negative count that a short scratch would pass.
        Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.GemmTNScratchSize(1 << 24, 64));
        if (System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated)
            AssertRejects("scratch", () => Kernels.GemmTN<Huge>(default, 0, default, 0, 0, default, default, new float[16]));

        // A shape struct whose panels are shorter than its rows is refused before anything is read.
        var ex = Assert.Throws<ArgumentException>(() => Kernels.MatVecT<Broken>(new float[4096], new float[8], new float[16], reverse: false));
        Assert.Contains("PanelRows 4", ex.Message);
    }

    private static void AssertRejects(string parameter, Action call)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(call);
        Assert.Equal(parameter, ex.ParamName);
    }

    // ---- definitions -----------------------------------------------------------------------------------------------

    private static int PanelIndex<T>(int k, int c) where T : struct, IMatrixShape
        => (c / 64) * default(T).PanelRows * 64 + k * 64 + c % 64;

    /// <summary>Floats of the panels from the matrix's first row to its last element (the matrix a slice of taller panels).</summary>
    private static int PanelFloats<T>() where T : struct, IMatrixShape
        => PanelIndex<T>(default(T).Rows - 1, default(T).Cols - 1) + 1;

    private static float[] Random(int length, int seed)
    {
        var rng = new Rng((ulong)seed);
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = rng.NextSingle() * 2f - 1f;
        return values;
    }

    private static void CheckGemmP<T>(int rowOffset) where T : struct, IMatrixShape
    {
        int inner = default(T).Rows, outer = default(T).Cols;
        // The matrix starts rowOffset rows into its panels (the recurrent half of [W_ih | W_hh]ᵀ).
        float[] panels = Random(rowOffset * 64 + PanelFloats<T>() + 64, 1);
        ReadOnlySpan<float> m = panels.AsSpan(rowOffset * 64, PanelFloats<T>());
        float[] bias = Random(outer, 2);
        foreach (int n in new[] { 0, 1, 2, 3, 4, 5, 6, 7, 11, 12, 49, 97 })
        {
            foreach (bool withBias in new[] { false, true })
            {
                int xs = inner + 3, ys = outer + 5;
                float[] x = Random(Math.Max(0, n * xs), 3 + n);
                float[] y = Random(2 * Guard + Math.Max(0, n * ys), 4 + n);
                float[] before = (float[])y.Clone();
                var expected = (float[])y.Clone();
                for (int i = 0; i < n; i++)
                {
                    for (int c = 0; c < outer; c++)
                    {
                        double sum = withBias ? bias[c] : before[Guard + i * ys + c];
                        for (int k = 0; k < inner; k++) sum += (double)x[i * xs + k] * panels[rowOffset * 64 + PanelIndex<T>(k, c)];
                        expected[Guard + i * ys + c] = (float)sum;
                    }
                }
                Kernels.GemmP<T>(m, withBias ? bias : default, x, xs, n, y.AsSpan(Guard, y.Length - 2 * Guard), ys);
                AssertClose(expected, y, inner, $"GemmP<{typeof(T).Name}> n={n} bias={withBias}");
            }
        }
    }

    private static void CheckGemmTN<T>() where T : struct, IMatrixShape
    {
        int rows = default(T).Rows, cols = default(T).Cols;
        foreach (int n in new[] { 1, 3, 127, 130 })
        {
            int @as = rows + 2, bs = cols + 3;
            float[] a = Random(n * @as, 5 + n);
            float[] b = Random(n * bs, 6 + n);
            float[] start = Random(rows * cols, 7);
            float[] sumsStart = Random(rows, 8);
            var expected = new float[2 * Guard + rows * cols];
            var expectedSums = new float[2 * Guard + rows];
            for (int r = 0; r < rows; r++)
            {
                for (int col = 0; col < cols; col++)
                {
                    double sum = start[r * cols + col];
                    for (int i = 0; i < n; i++) sum += (double)a[i * @as + r] * b[i * bs + col];
                    expected[Guard + r * cols + col] = (float)sum;
                }
                double s = sumsStart[r];
                for (int i = 0; i < n; i++) s += a[i * @as + r];
                expectedSums[Guard + r] = (float)s;
            }
            var scratch = new float[Kernels.GemmTNScratchSize(rows, cols)];
            // The whole product, then the same in row ranges (as threads split it): the same bits.
            var whole = new float[2 * Guard + rows * cols];
            var wholeSums = new float[2 * Guard + rows];
            start.CopyTo(whole, Guard);
            sumsStart.CopyTo(wholeSums, Guard);
            Kernels.GemmTN<T>(a, @as, b, bs, n, whole.AsSpan(Guard, rows * cols), wholeSums.AsSpan(Guard, rows), scratch);
            AssertClose(expected, whole, n, $"GemmTN<{typeof(T).Name}> n={n}");
            AssertClose(expectedSums, wholeSums, n, $"GemmTN<{typeof(T).Name}> sums n={n}");
            var split = new float[2 * Guard + rows * cols];
            var splitSums = new float[2 * Guard + rows];
            start.CopyTo(split, Guard);
            sumsStart.CopyTo(splitSums, Guard);
            for (int r0 = 0; r0 < rows; r0 += 8)
                Kernels.GemmTN<T>(a, @as, b, bs, n, split.AsSpan(Guard, rows * cols), splitSums.AsSpan(Guard, rows), scratch, r0, Math.Min(rows, r0 + 8));
            Assert.Equal(whole, split);
            Assert.Equal(wholeSums, splitSums);
        }
    }

    private static void CheckMatVecT<T>(int rowOffset) where T : struct, IMatrixShape
    {
        int rows = default(T).Rows, cols = default(T).Cols;
        float[] panels = Random(rowOffset * 64 + PanelFloats<T>(), 9);
        ReadOnlySpan<float> wt = panels.AsSpan(rowOffset * 64);
        float[] x = Random(rows, 10);
        float[] y = Random(2 * Guard + cols, 11);
        var expected = (float[])y.Clone();
        for (int c = 0; c < cols; c++)
        {
            double sum = y[Guard + c];
            for (int k = 0; k < rows; k++) sum += (double)x[k] * panels[rowOffset * 64 + PanelIndex<T>(k, c)];
            expected[Guard + c] = (float)sum;
        }
        foreach (bool reverse in new[] { false, true })
        {
            var actual = (float[])y.Clone();
            Kernels.MatVecT<T>(wt, x, actual.AsSpan(Guard, cols), reverse);
            AssertClose(expected, actual, rows, $"MatVecT<{typeof(T).Name}> reverse={reverse}");
        }
    }

    private static void CheckMatVecTHalf<T>() where T : struct, IMatrixShape
    {
        int rows = default(T).Rows, cols = default(T).Cols, chunked = cols / 32 * 32;
        float[] panels = Random(PanelFloats<T>(), 12);
        // The bfloat16 copy: per row, per chunk of 32 columns, 32-bit lane j holds column j in its low half (widened:
        // shifted left by 16) and column 16 + j in its high half (read as the whole lane: the packing chooses the high
        // half knowing the low one rides along below it).
        var wh = new ushort[rows * chunked];
        var rng = new Rng(13);
        for (int i = 0; i < wh.Length; i++) wh[i] = (ushort)(0x3C00 + rng.NextInt(0x0400) - (rng.NextInt(2) << 15));
        float Half(int k, int c)
        {
            int chunk = c / 32, j = c % 32;
            int lane = k * chunked + chunk * 32 + 2 * (j % 16);
            return j < 16 ? BitConverter.Int32BitsToSingle(wh[lane] << 16) : BitConverter.Int32BitsToSingle(wh[lane + 1] << 16 | wh[lane]);
        }
        float[] x = Random(rows, 14);
        float[] y = Random(2 * Guard + cols, 15);
        var expected = (float[])y.Clone();
        for (int c = 0; c < cols; c++)
        {
            double sum = y[Guard + c];
            for (int k = 0; k < rows; k++) sum += (double)x[k] * (c < chunked ? Half(k, c) : panels[PanelIndex<T>(k, c)]);
            expected[Guard + c] = (float)sum;
        }
        Kernels.MatVecTHalf<T>(wh, panels, x, y.AsSpan(Guard, cols));
        AssertClose(expected, y, rows, $"MatVecTHalf<{typeof(T).Name}>");
    }

    /// <summary>Equal to the double-precision definition within float rounding of a sum of <paramref name="terms"/>, and the guards bit for bit.</summary>
    private static void AssertClose(float[] expected, float[] actual, int terms, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float tolerance = 4e-7f * (terms + 2);
        for (int i = 0; i < expected.Length; i++)
        {
            bool guard = i < Guard || i >= expected.Length - Guard;
            if (guard)
            {
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"{what}: guard element {i} was written");
            }
            else
            {
                Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1f, Math.Abs(expected[i])), $"{what}: element {i - Guard}: expected {expected[i]:R}, got {actual[i]:R}");
            }
        }
    }
}
