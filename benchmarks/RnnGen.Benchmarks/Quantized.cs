using System;
using BenchmarkDotNet.Attributes;
using RnnGen.CompilerServices;

namespace RnnGen.Benchmarks;

/// <summary>
/// The single-stream products of issue 20 alone, on one weight: float <c>MatVecT</c> (the baseline) against int8
/// (<c>MatVecTInt8</c>: x quantized per call, int32 dot products) and bfloat16 (<c>MatVecTHalf</c>). Shapes are inputs x
/// outputs: the LSTM 32→64 step's two products (W_ih [256, 32], W_hh [256, 64]) and configuration 2's W_hh per
/// direction ([1024, 256]). Run alone with <c>--filter '*Quantized*'</c> (no peers: the set-up is skipped).
/// docs/design-notes.md, "Int8 products: dynamic vs weight-only", has the figures (the weight-only form was measured
/// at 68e7ba4 and removed since).
/// </summary>
public class Quantized
{
    private struct S32x256 : IMatrixShape { public int Rows => 32; public int Cols => 256; public int PanelRows => 32; }
    private struct S64x256 : IMatrixShape { public int Rows => 64; public int Cols => 256; public int PanelRows => 64; }
    private struct S256x1024 : IMatrixShape { public int Rows => 256; public int Cols => 1024; public int PanelRows => 256; }

    [Params("32x256", "64x256", "256x1024")]
    public string Shape { get; set; } = "32x256";

    private int _inputs, _outputs;
    private float[] _panels = null!, _x = null!, _y = null!, _scales = null!;
    private sbyte[] _q = null!;
    private ushort[] _half = null!;
    private byte[] _scratch = null!;

    [GlobalSetup]
    public void Setup()
    {
        string[] parts = Shape.Split('x');
        _inputs = int.Parse(parts[0]);
        _outputs = int.Parse(parts[1]);
        var random = new Random(Fixture.Seed + 40);
        float bound = 1f / MathF.Sqrt(_outputs / 4); // PyTorch's U(-1/√H, 1/√H)
        float[] weight = Validation.RandomVector(random, _outputs * _inputs, bound);
        _x = Validation.RandomVector(random, _inputs, 1f);
        _y = new float[_outputs];
        _panels = new float[(_outputs + 63) / 64 * 64 * _inputs];
        Kernels.PackPanels(weight, _outputs, _inputs, _panels, 0, _inputs);
        _q = new sbyte[Kernels.QuantizeInt8Size(_outputs, _inputs)];
        _scales = new float[_outputs];
        Kernels.QuantizeInt8(weight, _outputs, _inputs, _q, _scales);
        _half = new ushort[_inputs * (_outputs / 32 * 32)];
        Kernels.ToBFloat16InterleavedTransposed(weight, _outputs, _inputs, _half);
        _scratch = new byte[Kernels.QuantizeInt8InputSize(_inputs)];

        // The int8 products agree with the float one within the bound (5e-2 of the largest output).
        Float();
        float[] reference = (float[])_y.Clone();
        float largest = 0f;
        foreach (float v in reference) largest = Math.Max(largest, Math.Abs(v));
        Int8Dynamic();
        double difference = Validation.MaxDifference(reference, _y);
        Console.WriteLine($"// Quantized {Shape}: int8 differs from float by {difference / largest:G3} of the largest output");
        if (difference > 5e-2 * largest) throw new InvalidOperationException($"Quantized {Shape}: int8 differs by {difference:G3} (largest output {largest:G3}).");
    }

    [Benchmark(Baseline = true)]
    public void Float()
    {
        Array.Clear(_y);
        switch (_inputs)
        {
            case 32: Kernels.MatVecT<S32x256>(_panels, _x, _y, reverse: false); break;
            case 64: Kernels.MatVecT<S64x256>(_panels, _x, _y, reverse: false); break;
            default: Kernels.MatVecT<S256x1024>(_panels, _x, _y, reverse: false); break;
        }
    }

    [Benchmark]
    public void Int8Dynamic()
    {
        Array.Clear(_y);
        switch (_inputs)
        {
            case 32: Kernels.MatVecTInt8<S32x256>(_q, _scales, _x, _y, _scratch); break;
            case 64: Kernels.MatVecTInt8<S64x256>(_q, _scales, _x, _y, _scratch); break;
            default: Kernels.MatVecTInt8<S256x1024>(_q, _scales, _x, _y, _scratch); break;
        }
    }

    [Benchmark]
    public void BFloat16()
    {
        Array.Clear(_y);
        switch (_inputs)
        {
            case 32: Kernels.MatVecTHalf<S32x256>(_half, _panels, _x, _y); break;
            case 64: Kernels.MatVecTHalf<S64x256>(_half, _panels, _x, _y); break;
            default: Kernels.MatVecTHalf<S256x1024>(_half, _panels, _x, _y); break;
        }
    }
}
