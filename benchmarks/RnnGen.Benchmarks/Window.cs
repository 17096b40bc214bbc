using System;
using BenchmarkDotNet.Attributes;

namespace RnnGen.Benchmarks;

/// <summary>
/// Fixed windows, as a game that feeds the last N frames every tick: LSTM 32→64 from a zero state over
/// <see cref="Frames"/> frames, as one <c>Forward</c> over the window against N single <c>Step</c>s (the baseline). Both
/// write every frame's output and the final state. What the issue's <c>Steps</c> option (a window length fixed at compile
/// time, with the time loop unrolled) could still remove is Forward's cost per call and per step on top of the work
/// itself; this group measures both (docs/design-notes.md, "Fixed windows").
/// </summary>
public class Window
{
    [Params(1, 8, 32)]
    public int Frames { get; set; }

    private Lstm32x64 _model = null!;
    private float[] _input = null!, _output = null!, _state = null!;

    [GlobalSetup]
    public void Setup()
    {
        _model = new Lstm32x64(Fixture.Seed);
        _model.Reserve(Frames, 1);
        _input = Validation.RandomVector(new Random(Fixture.Seed + 20), Frames * Lstm32x64.InputSize, 1f);
        _output = new float[Frames * Lstm32x64.OutputSize];
        _state = new float[Lstm32x64.StateSize];
        // Both ways compute the same window (different kernels: the recurrent product of a Forward is a matrix
        // product over the packed rows, a Step's a matrix-vector product).
        Steps();
        float[] stepped = (float[])_output.Clone(), steppedState = (float[])_state.Clone();
        Forward();
        double difference = Math.Max(Validation.MaxDifference(stepped, _output), Validation.MaxDifference(steppedState, _state));
        if (difference > 1e-5)
            throw new InvalidOperationException($"Window: Forward and {Frames} Steps differ by {difference:G3} (more than 1e-5).");
    }

    /// <summary>N single Steps from a zero state.</summary>
    [Benchmark(Baseline = true)]
    public void Steps()
    {
        Array.Clear(_state);
        for (int t = 0; t < Frames; t++)
        {
            _model.Step(_input.AsSpan(t * Lstm32x64.InputSize, Lstm32x64.InputSize), _state, _output.AsSpan(t * Lstm32x64.OutputSize, Lstm32x64.OutputSize));
        }
    }

    /// <summary>One Forward over the window from a zero state.</summary>
    [Benchmark]
    public void Forward() => _model.Forward(_input, _output, default, _state);
}
