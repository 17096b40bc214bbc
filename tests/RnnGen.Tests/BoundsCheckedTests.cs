using System;
using System.Globalization;
using System.Linq;
using System.Numerics;
using System.Reflection;
using System.Text.RegularExpressions;
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
/// Only in the bounds-checked build (<c>-p:RnnGenBoundsChecked=true</c>): the kernels, generated and runtime, called
/// directly with a span one element short, throw instead of reading or writing past it. In the default build the same
/// calls would run off the end of the arrays, which is why these tests exist only here.
/// </summary>
public class BoundsCheckedTests
{
    private delegate void GemmKernel(ReadOnlySpan<float> m, ReadOnlySpan<float> bias, ReadOnlySpan<float> x, int xStride, int n, Span<float> y, int yStride);

    private delegate void GemmTNKernel(ReadOnlySpan<float> a, int aStride, ReadOnlySpan<float> b, int bStride, int n, Span<float> c, Span<float> sums, Span<float> scratch);

    private delegate void MatVecKernel(ReadOnlySpan<float> wt, ReadOnlySpan<float> x, Span<float> y, bool reverse);

    [Fact]
    public void RuntimeIsTheBoundsCheckedBuild()
        => Assert.True(SpanAccess.BoundsChecked, "RnnGen.Runtime was built without RNNGEN_BOUNDS_CHECKED: the checked test build picked up the default runtime");

    /// <summary>The generated kernels of the checked build: the first element past each span is out of reach.</summary>
    [Fact]
    public void GeneratedMatrixProducts_ThrowOnASpanOneShort()
    {
        var kernels = Kernels(typeof(WideLstm), @"^GemmP(\d+)x(\d+)r(\d+)$");
        Assert.NotEmpty(kernels);
        foreach ((MethodInfo method, int[] shape) in kernels)
        {
            var gemm = method.CreateDelegate<GemmKernel>();
            int inner = shape[0], outer = shape[1], panelRows = shape[2], n = 7;
            var m = new float[(outer + 63) / 64 * 64 * panelRows];
            var x = Filled(n * inner);
            var y = new float[n * outer];
            gemm(m, default, x, inner, n, y, outer);
            AssertOutOfRange(method.Name + " x", () => gemm(m, default, x.AsSpan(0, x.Length - 1), inner, n, y, outer));
            AssertOutOfRange(method.Name + " y", () => gemm(m, default, x, inner, n, y.AsSpan(0, y.Length - 1), outer));
            AssertOutOfRange(method.Name + " bias", () => gemm(m, new float[outer - 1], x, inner, n, y, outer));
        }
    }

    [Fact]
    public void GeneratedWeightGradientProducts_ThrowOnASpanOneShort()
    {
        var kernels = Kernels(typeof(WideLstm), @"^GemmTN(\d+)x(\d+)$").Where(k => k.Method.GetParameters().Length == 8).ToList();
        Assert.NotEmpty(kernels);
        foreach ((MethodInfo method, int[] shape) in kernels)
        {
            var gemm = method.CreateDelegate<GemmTNKernel>();
            int rows = shape[0], cols = shape[1], n = 5;
            var a = Filled(n * rows);
            var b = Filled(n * cols);
            var c = new float[rows * cols];
            var sums = new float[rows];
            var scratch = new float[rows / 4 * 4 * 128 + (cols + 63) / 64 * 64 * 128];
            gemm(a, rows, b, cols, n, c, sums, scratch);
            AssertOutOfRange(method.Name + " a", () => gemm(a.AsSpan(0, a.Length - 1), rows, b, cols, n, c, sums, scratch));
            AssertOutOfRange(method.Name + " b", () => gemm(a, rows, b.AsSpan(0, b.Length - 1), cols, n, c, sums, scratch));
            AssertOutOfRange(method.Name + " c", () => gemm(a, rows, b, cols, n, c.AsSpan(0, c.Length - 1), sums, scratch));
            AssertOutOfRange(method.Name + " sums", () => gemm(a, rows, b, cols, n, c, sums.AsSpan(0, rows - 1), scratch));
        }
    }

    [Fact]
    public void GeneratedStepProducts_ThrowOnASpanOneShort()
    {
        var kernels = Kernels(typeof(AgentGru), @"^MatVecT(\d+)x(\d+)r(\d+)$");
        Assert.NotEmpty(kernels);
        foreach ((MethodInfo method, int[] shape) in kernels)
        {
            var matVec = method.CreateDelegate<MatVecKernel>();
            int rows = shape[0], cols = shape[1], panelRows = shape[2];
            var wt = new float[(cols + 63) / 64 * 64 * panelRows];
            var x = Filled(rows);
            var y = new float[cols];
            matVec(wt, x, y, reverse: false);
            AssertOutOfRange(method.Name + " x", () => matVec(wt, x.AsSpan(0, rows - 1), y, reverse: false));
            AssertOutOfRange(method.Name + " y", () => matVec(wt, x, y.AsSpan(0, cols - 1), reverse: true));
        }
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

    private static System.Collections.Generic.List<(MethodInfo Method, int[] Shape)> Kernels(Type model, string pattern)
    {
        var regex = new Regex(pattern);
        return model.GetMethods(BindingFlags.NonPublic | BindingFlags.Static)
            .Select(m => (Method: m, Match: regex.Match(m.Name)))
            .Where(p => p.Match.Success)
            .Select(p => (p.Method, p.Match.Groups.Cast<Group>().Skip(1).Select(g => int.Parse(g.Value, CultureInfo.InvariantCulture)).ToArray()))
            .ToList();
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
