using System;
using BenchmarkDotNet.Attributes;

namespace RnnGen.Benchmarks;

/// <summary>
/// Many agents: 256 independent LSTM 32→64 states (one per game agent, say) advanced one step. Ours batched is the
/// multi-agent <c>Step(x, 256, states, outputs)</c>, which turns 256 matrix-vector products into matrix-matrix products;
/// the baseline is 256 single generated <c>Step</c> calls. ONNX Runtime and TorchSharp run the one-step graph at batch 256.
/// </summary>
public class Agents
{
    private const int Count = Fixture.Agents;

    private Lstm32x64 _model = null!;
    private Lstm32x64Int8? _int8;
    private HandWrittenRnn _handWritten = null!;
    private OrtStepRunner? _ort;
    private TorchStepPeer? _torch;
    private float[] _x = null!, _states = null!, _outputs = null!;

    private void Common()
    {
        _model = new Lstm32x64(Fixture.Seed);
        _model.Reserve(1, Count);
        var random = new Random(Fixture.Seed + 12);
        _x = Validation.RandomVector(random, Count * Lstm32x64.InputSize, 1f);
        _states = Validation.RandomVector(random, Count * Lstm32x64.StateSize, 0.5f);
        _outputs = new float[Count * Lstm32x64.OutputSize];
    }

    [GlobalSetup(Targets = new[] { nameof(OursBatched), nameof(OursSingles) })]
    public void SetupOurs() => Common();

    /// <summary>Ours with <c>Threads</c> = 2: the agents in two runs, one per core.</summary>
    [GlobalSetup(Targets = new[] { nameof(OursBatchedTwoThreads) })]
    public void SetupOursTwoThreads()
    {
        Common();
        _model.Threads = 2;
    }

    /// <summary>The same weights with Weights = Int8.</summary>
    [GlobalSetup(Targets = new[] { nameof(OursBatchedInt8) })]
    public void SetupOursInt8()
    {
        Common();
        _int8 = new Lstm32x64Int8(Fixture.Seed);
        _int8.Reserve(1, Count);
    }

    [GlobalSetup(Targets = new[] { nameof(HandWrittenSingles) })]
    public void SetupHandWritten()
    {
        Common();
        ModelSpec spec = ModelSpec.Of(StreamingModel.Lstm32x64);
        _handWritten = spec.CreateHandWritten(spec.WeightsPath);
    }

    [GlobalSetup(Targets = new[] { nameof(OrtBatched) })]
    public void SetupOrt()
    {
        Common();
        ModelSpec spec = ModelSpec.Of(StreamingModel.Lstm32x64);
        _ort = new OrtStepRunner(spec.OnnxPath, lstm: true, spec.InputSize, spec.HiddenSize, Count);
        _x.CopyTo(_ort.X, 0);
    }

    [GlobalSetup(Targets = new[] { nameof(TorchSharpBatched) })]
    public void SetupTorchSharp()
    {
        Common();
        _torch = new TorchStepPeer(ModelSpec.Of(StreamingModel.Lstm32x64), Count);
        TorchWeights.Set(_torch.X, _x);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_model is not null) _model.Threads = 1;
        _ort?.Dispose();
        _ort = null;
        _torch?.Dispose();
        _torch = null;
    }

    /// <summary>One multi-agent Step over all 256 states.</summary>
    [Benchmark]
    public void OursBatched() => _model.Step(_x, Count, _states, _outputs);

    /// <summary>One multi-agent Step over all 256 states, int8 weights.</summary>
    [Benchmark]
    public void OursBatchedInt8() => _int8!.Step(_x, Count, _states, _outputs);

    /// <summary>The multi-agent Step with two threads (not part of the single-thread comparison).</summary>
    [Benchmark]
    public void OursBatchedTwoThreads() => _model.Step(_x, Count, _states, _outputs);

    /// <summary>256 single generated Steps, one per agent's slice of the same buffers.</summary>
    [Benchmark(Baseline = true)]
    public void OursSingles()
    {
        Span<float> x = _x, states = _states, outputs = _outputs;
        for (int a = 0; a < Count; a++)
            _model.Step(x.Slice(a * Lstm32x64.InputSize, Lstm32x64.InputSize), states.Slice(a * Lstm32x64.StateSize, Lstm32x64.StateSize), outputs.Slice(a * Lstm32x64.OutputSize, Lstm32x64.OutputSize));
    }

    /// <summary>256 single steps of the hand-written cell.</summary>
    [Benchmark]
    public void HandWrittenSingles()
    {
        Span<float> x = _x, states = _states, outputs = _outputs;
        for (int a = 0; a < Count; a++)
            _handWritten.Step(x.Slice(a * Lstm32x64.InputSize, Lstm32x64.InputSize), states.Slice(a * Lstm32x64.StateSize, Lstm32x64.StateSize), outputs.Slice(a * Lstm32x64.OutputSize, Lstm32x64.OutputSize));
    }

    /// <summary>ONNX Runtime, one-step graph at batch 256.</summary>
    [Benchmark]
    public void OrtBatched() => _ort!.Step();

    /// <summary>TorchSharp, torch.nn.LSTM at batch 256, no autograd.</summary>
    [Benchmark]
    public void TorchSharpBatched() => _torch!.Step();
}
