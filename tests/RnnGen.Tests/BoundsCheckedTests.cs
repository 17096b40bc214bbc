using System;
using System.Linq;
using System.Numerics;
using System.Runtime.Intrinsics;
using RnnGen.CompilerServices;
using Xunit;

namespace RnnGen.Tests;

/// <summary>Which build this is: .ci/run sets RNNGEN_EXPECT_BOUNDS_CHECKED=1 for its bounds-checked run.</summary>
public class BuildModeTests
{
    private static readonly bool TestsBoundsChecked =
#if RNNGEN_BOUNDS_CHECKED
        true;
#else
        false;
#endif

    /// <summary>
    /// The tests (with the generated code in them) and the runtime are built in the same mode, and in the mode the run
    /// expects when RNNGEN_EXPECT_BOUNDS_CHECKED is set (1 or 0, as .ci/run sets it), so the checked run cannot silently
    /// test a default build, nor the other runs a checked one.
    /// </summary>
    [Fact]
    public void BuildIsInTheExpectedMode()
    {
        Assert.Equal(TestsBoundsChecked, SpanAccess.BoundsChecked);
        string? expected = Environment.GetEnvironmentVariable("RNNGEN_EXPECT_BOUNDS_CHECKED");
        if (expected is not null) Assert.Equal(expected == "1", TestsBoundsChecked);
    }
}

#if RNNGEN_BOUNDS_CHECKED

/// <summary>
/// Only in the bounds-checked build (<c>-p:RnnGenBoundsChecked=true</c>): the runtime's kernels, called
/// directly with a span one element short, throw instead of reading or writing past it. In the default build the same
/// calls would run off the end of the arrays, which is why these tests exist only here.
/// </summary>
public class BoundsCheckedTests
{
    private struct Shape13x52r20 : IMatrixShape { public int Rows => 13; public int Cols => 52; public int PanelRows => 20; }

    private struct Shape20x99r20 : IMatrixShape { public int Rows => 20; public int Cols => 99; public int PanelRows => 20; }

    [Fact]
    public void RuntimeIsTheBoundsCheckedBuild()
        => Assert.True(SpanAccess.BoundsChecked, "RnnGen.Runtime was built without RNNGEN_BOUNDS_CHECKED: the checked test build picked up the default runtime");

    /// <summary>
    /// The product kernels' cores (behind the entry checks, which these calls skip), at every vector width the machine
    /// has: the first element past each span is out of reach.
    /// </summary>
    [Fact]
    public void MatrixProductCores_ThrowOnASpanOneShort()
    {
        ProductCores<Vector128<float>, Ops128>();
        if (Vector256.IsHardwareAccelerated) ProductCores<Vector256<float>, Ops256>();
        if (Vector512.IsHardwareAccelerated) ProductCores<Vector512<float>, Ops512>();
    }

    private static void ProductCores<TV, TOps>() where TV : struct where TOps : struct, IVectorOps<TV>
    {
        string width = typeof(TOps).Name;
        {
            int inner = 13, outer = 52, n = 7;
            var m = new float[(outer - 1) / 64 * 20 * 64 + (inner - 1) * 64 + (outer - 1) % 64 + 1];
            var x = Filled(n * inner);
            var y = new float[n * outer];
            RnnGen.CompilerServices.Kernels.GemmP<Shape13x52r20, TV, TOps>(m, default, x, (nuint)inner, (nuint)n, y, (nuint)outer);
            AssertOutOfRange(width + " GemmP m", () => RnnGen.CompilerServices.Kernels.GemmP<Shape13x52r20, TV, TOps>(m.AsSpan(0, m.Length - 1), default, x, (nuint)inner, (nuint)n, y, (nuint)outer));
            AssertOutOfRange(width + " GemmP x", () => RnnGen.CompilerServices.Kernels.GemmP<Shape13x52r20, TV, TOps>(m, default, x.AsSpan(0, x.Length - 1), (nuint)inner, (nuint)n, y, (nuint)outer));
            AssertOutOfRange(width + " GemmP y", () => RnnGen.CompilerServices.Kernels.GemmP<Shape13x52r20, TV, TOps>(m, default, x, (nuint)inner, (nuint)n, y.AsSpan(0, y.Length - 1), (nuint)outer));
            AssertOutOfRange(width + " GemmP bias", () => RnnGen.CompilerServices.Kernels.GemmP<Shape13x52r20, TV, TOps>(m, new float[outer - 1], x, (nuint)inner, (nuint)n, y, (nuint)outer));
            var wt = m;
            AssertOutOfRange(width + " MatVecT x", () => RnnGen.CompilerServices.Kernels.MatVecT<Shape13x52r20, TV, TOps>(wt, x.AsSpan(0, inner - 1), y, reverse: false));
            AssertOutOfRange(width + " MatVecT y", () => RnnGen.CompilerServices.Kernels.MatVecT<Shape13x52r20, TV, TOps>(wt, x, y.AsSpan(0, outer - 1), reverse: true));
        }
        {
            int rows = 20, cols = 99, n = 5;
            var a = Filled(n * rows);
            var b = Filled(n * cols);
            var c = new float[rows * cols];
            var sums = new float[rows];
            var scratch = new float[RnnGen.CompilerServices.Kernels.GemmTNScratchSize(rows, cols)];
            RnnGen.CompilerServices.Kernels.GemmTN<Shape20x99r20, TV, TOps>(a, (nuint)rows, b, (nuint)cols, (nuint)n, c, sums, scratch, 0, (nuint)rows);
            AssertOutOfRange(width + " GemmTN a", () => RnnGen.CompilerServices.Kernels.GemmTN<Shape20x99r20, TV, TOps>(a.AsSpan(0, a.Length - 1), (nuint)rows, b, (nuint)cols, (nuint)n, c, sums, scratch, 0, (nuint)rows));
            AssertOutOfRange(width + " GemmTN b", () => RnnGen.CompilerServices.Kernels.GemmTN<Shape20x99r20, TV, TOps>(a, (nuint)rows, b.AsSpan(0, b.Length - 1), (nuint)cols, (nuint)n, c, sums, scratch, 0, (nuint)rows));
            AssertOutOfRange(width + " GemmTN c", () => RnnGen.CompilerServices.Kernels.GemmTN<Shape20x99r20, TV, TOps>(a, (nuint)rows, b, (nuint)cols, (nuint)n, c.AsSpan(0, c.Length - 1), sums, scratch, 0, (nuint)rows));
            AssertOutOfRange(width + " GemmTN sums", () => RnnGen.CompilerServices.Kernels.GemmTN<Shape20x99r20, TV, TOps>(a, (nuint)rows, b, (nuint)cols, (nuint)n, c, sums.AsSpan(0, rows - 1), scratch, 0, (nuint)rows));
        }
    }

    private struct Shape13x70 : IMatrixShape { public int Rows => 13; public int Cols => 70; public int PanelRows => 13; }

    /// <summary>
    /// The int8 products' cores (behind the entry checks), on every instruction set and width the machine has: the int8
    /// copy, the column sums, the scales, x, y and the quantized x's scratch one short each.
    /// </summary>
    [Fact]
    public void Int8ProductCores_ThrowOnASpanOneShort()
    {
        const int inputs = 13, outputs = 70;
        var q = new sbyte[RnnGen.CompilerServices.Kernels.QuantizeInt8Size(outputs, inputs)];
        var scales = new float[outputs];
        RnnGen.CompilerServices.Kernels.QuantizeInt8(Filled(outputs * inputs), outputs, inputs, q, scales);
        int[] sums = RnnGen.CompilerServices.Kernels.Int8Sums<Shape13x70>(q).ToArray();
        var x = Filled(inputs);
        var y = new float[outputs];
        var scratch = new byte[RnnGen.CompilerServices.Kernels.QuantizeInt8InputSize(inputs)];
        // The last byte read: in the last quad row of the last panel, the end of the vector holding the last column
        // (the columns past it to the panel's end are never read); the sums likewise up to that vector's end.
        int weightBytes = q.Length - sums.Length * 4;
        int ReadEnd(int lanes) => weightBytes - 256 + 4 * ((outputs % 64 + lanes - 1) / lanes * lanes);
        sbyte[] Weights(int lanes) => q.AsSpan(0, ReadEnd(lanes)).ToArray();
        if (System.Runtime.Intrinsics.X86.AvxVnni.IsSupported) Int8Core<Vector256<int>, Vnni256>("Vnni256", Weights(8), sums.AsSpan(0, 72).ToArray(), scales, x, y, scratch, checkSums: true);
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported) Int8Core<Vector256<int>, Madd256>("Madd256", Weights(8), sums, scales, x, y, scratch, checkSums: false);
        if (System.Runtime.Intrinsics.X86.Ssse3.IsSupported) Int8Core<Vector128<int>, Madd128>("Madd128", Weights(4), sums, scales, x, y, scratch, checkSums: false);
    }

    private static void Int8Core<TI, TOps>(string what, sbyte[] weights, int[] sums, float[] scales, float[] x, float[] y, byte[] scratch, bool checkSums)
        where TI : struct where TOps : struct, IInt8DotOps<TI>
    {
        RnnGen.CompilerServices.Kernels.Int8Product<Shape13x70, TI, TOps>(weights, sums, scales, x, y, scratch);
        AssertOutOfRange(what + " wq", () => RnnGen.CompilerServices.Kernels.Int8Product<Shape13x70, TI, TOps>(weights.AsSpan(0, weights.Length - 1), sums, scales, x, y, scratch));
        if (checkSums) AssertOutOfRange(what + " sums", () => RnnGen.CompilerServices.Kernels.Int8Product<Shape13x70, TI, TOps>(weights, sums.AsSpan(0, sums.Length - 1), scales, x, y, scratch));
        AssertOutOfRange(what + " scales", () => RnnGen.CompilerServices.Kernels.Int8Product<Shape13x70, TI, TOps>(weights, sums, scales.AsSpan(0, scales.Length - 1), x, y, scratch));
        AssertOutOfRange(what + " x", () => RnnGen.CompilerServices.Kernels.Int8Product<Shape13x70, TI, TOps>(weights, sums, scales, x.AsSpan(0, x.Length - 1), y, scratch));
        AssertOutOfRange(what + " y", () => RnnGen.CompilerServices.Kernels.Int8Product<Shape13x70, TI, TOps>(weights, sums, scales, x, y.AsSpan(0, y.Length - 1), scratch));
        AssertOutOfRange(what + " scratch", () => RnnGen.CompilerServices.Kernels.Int8Product<Shape13x70, TI, TOps>(weights, sums, scales, x, y, scratch.AsSpan(0, scratch.Length - 1)));

        // The batched product's blocks and tiles: 37 rows (a block of 32, eight tiles of four; then a block of five, a tile
        // of four and one of one), so a scratch one short is reached by the first block's last row.
        const int n = 37;
        var xs = Filled(n * 13);
        var ys = new float[n * 70];
        var gemmScratch = new byte[RnnGen.CompilerServices.Kernels.GemmPInt8ScratchSize(13)];
        RnnGen.CompilerServices.Kernels.Int8Gemm<Shape13x70, TI, TOps>(weights, sums, scales, xs, 13, n, ys, 70, gemmScratch);
        AssertOutOfRange(what + " tile wq", () => RnnGen.CompilerServices.Kernels.Int8Gemm<Shape13x70, TI, TOps>(weights.AsSpan(0, weights.Length - 1), sums, scales, xs, 13, n, ys, 70, gemmScratch));
        AssertOutOfRange(what + " tile x", () => RnnGen.CompilerServices.Kernels.Int8Gemm<Shape13x70, TI, TOps>(weights, sums, scales, xs.AsSpan(0, xs.Length - 1), 13, n, ys, 70, gemmScratch));
        AssertOutOfRange(what + " tile y", () => RnnGen.CompilerServices.Kernels.Int8Gemm<Shape13x70, TI, TOps>(weights, sums, scales, xs, 13, n, ys.AsSpan(0, ys.Length - 1), 70, gemmScratch));
        AssertOutOfRange(what + " tile scales", () => RnnGen.CompilerServices.Kernels.Int8Gemm<Shape13x70, TI, TOps>(weights, sums, scales.AsSpan(0, scales.Length - 1), xs, 13, n, ys, 70, gemmScratch));
        AssertOutOfRange(what + " tile scratch", () => RnnGen.CompilerServices.Kernels.Int8Gemm<Shape13x70, TI, TOps>(weights, sums, scales, xs, 13, n, ys, 70, gemmScratch.AsSpan(0, gemmScratch.Length - 1)));
    }

    /// <summary>The scalar cores (the portable path, and the vector paths' tail columns), the same way.</summary>
    [Fact]
    public void ScalarProductCores_ThrowOnASpanOneShort()
    {
        int inner = 13, outer = 52, n = 3;
        var m = new float[(outer - 1) / 64 * 20 * 64 + (inner - 1) * 64 + (outer - 1) % 64 + 1];
        var x = Filled(n * inner);
        var y = new float[n * outer];
        Kernels.GemmPScalarColumns<Shape13x52r20>(m, default, x, (nuint)inner, (nuint)n, y, (nuint)outer, 0);
        AssertOutOfRange("scalar GemmP m", () => Kernels.GemmPScalarColumns<Shape13x52r20>(m.AsSpan(0, m.Length - 1), default, x, (nuint)inner, (nuint)n, y, (nuint)outer, 0));
        AssertOutOfRange("scalar GemmP x", () => Kernels.GemmPScalarColumns<Shape13x52r20>(m, default, x.AsSpan(0, x.Length - 1), (nuint)inner, (nuint)n, y, (nuint)outer, 0));
        AssertOutOfRange("scalar GemmP y", () => Kernels.GemmPScalarColumns<Shape13x52r20>(m, default, x, (nuint)inner, (nuint)n, y.AsSpan(0, y.Length - 1), (nuint)outer, 0));
        AssertOutOfRange("scalar GemmP bias", () => Kernels.GemmPScalarColumns<Shape13x52r20>(m, new float[outer - 1], x, (nuint)inner, (nuint)n, y, (nuint)outer, 0));
        Kernels.MatVecTScalar<Shape13x52r20>(m, x, y, 0);
        AssertOutOfRange("scalar MatVecT x", () => Kernels.MatVecTScalar<Shape13x52r20>(m, x.AsSpan(0, inner - 1), y, 0));
        AssertOutOfRange("scalar MatVecT y", () => Kernels.MatVecTScalar<Shape13x52r20>(m, x, y.AsSpan(0, outer - 1), 0));
        var wh = new ushort[inner * 32];
        Kernels.MatVecTHalfScalar<Shape13x52r20>(wh, x, y);
        AssertOutOfRange("scalar MatVecTHalf wh", () => Kernels.MatVecTHalfScalar<Shape13x52r20>(wh.AsSpan(0, wh.Length - 1), x, y));
        int rows = 20, cols = 99;
        var a = Filled(n * rows);
        var b = Filled(n * cols);
        var c = new float[rows * cols];
        Kernels.GemmTNScalarColumns<Shape20x99r20>(a, (nuint)rows, b, (nuint)cols, (nuint)n, c, 0, (nuint)rows, 0);
        AssertOutOfRange("scalar GemmTN a", () => Kernels.GemmTNScalarColumns<Shape20x99r20>(a.AsSpan(0, a.Length - 1), (nuint)rows, b, (nuint)cols, (nuint)n, c, 0, (nuint)rows, 0));
        AssertOutOfRange("scalar GemmTN b", () => Kernels.GemmTNScalarColumns<Shape20x99r20>(a, (nuint)rows, b.AsSpan(0, b.Length - 1), (nuint)cols, (nuint)n, c, 0, (nuint)rows, 0));
        AssertOutOfRange("scalar GemmTN c", () => Kernels.GemmTNScalarColumns<Shape20x99r20>(a, (nuint)rows, b, (nuint)cols, (nuint)n, c.AsSpan(0, c.Length - 1), 0, (nuint)rows, 0));
    }

    /// <summary>The runtime's optimizer loop reads the gradients vector by vector: one short, the last vector is out of range.</summary>
    [Fact]
    public void RuntimeOptimizerKernel_ThrowsOnGradientsOneShort()
    {
        int count = 4 * Vector<float>.Count;
        var parameters = Filled(count);
        var update = new Halve();
        OptimizerKernel.Apply(parameters, Filled(count), ref update);
        AssertOutOfRange("gradients", () => OptimizerKernel.Apply(new float[count], new float[count - 1], ref update));
    }

    /// <summary>The runtime's vector loads and stores themselves, at every width.</summary>
    [Fact]
    public void RuntimeVectorAccess_ThrowsPastTheEnd()
    {
        var data = new float[64];
        AssertOutOfRange("Load", () => SpanAccess.Load(data, 64 - Vector<float>.Count + 1));
        AssertOutOfRange("Store", () => SpanAccess.Store(Vector<float>.One, data, 64 - Vector<float>.Count + 1));
        AssertOutOfRange("Load512", () => SpanAccess.Load512(data, 49));
        AssertOutOfRange("Store512", () => SpanAccess.Store512(default, data, 49));
        AssertOutOfRange("Load256", () => SpanAccess.Load256(data, 57));
        AssertOutOfRange("Store256", () => SpanAccess.Store256(default, data, 57));
        AssertOutOfRange("offset over int.MaxValue", () => SpanAccess.Load512(data, (nuint)int.MaxValue + 1));
        Assert.Equal(0f, SpanAccess.Load512(data, 48)[15]);
    }

    private struct Halve : IParameterUpdate
    {
        public readonly Vector<float> Invoke(Vector<float> parameter, Vector<float> gradient, int index) => parameter - 0.5f * gradient;
    }

    private static float[] Filled(int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (i % 13 - 6) * 0.125f;
        return values;
    }

    private static void AssertOutOfRange(string what, Action call)
    {
        Exception? ex = Record.Exception(call);
        Assert.True(ex is IndexOutOfRangeException or ArgumentOutOfRangeException or OverflowException,
            $"{what}: expected an out-of-range exception, got {(ex is null ? "none" : ex.GetType().Name + ": " + ex.Message)}");
    }
}
#endif
