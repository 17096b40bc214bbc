using System;
using BenchmarkDotNet.Attributes;

namespace RnnGen.Benchmarks;

/// <summary>
/// Streaming at batch 1: one call advances one caller-owned state by one step (a real-time audio frame, a game tick).
/// Ours is the generated <c>Step(x, state, output)</c>; the baseline is the hand-written cell; ONNX Runtime runs the
/// one-step graph with its state bound back in; TorchSharp calls torch.nn.LSTM/GRU on a length-1 sequence.
/// <see cref="OursBFloat16"/> is the generated Step of the same model with <c>Weights = WeightPrecision.BFloat16</c>
/// (not equal to the others: its weights are rounded; the validation prints by how much). <see cref="OrtInt8"/> is
/// ONNX Runtime's own int8 LSTM (<c>DynamicQuantizeLSTM</c>) on the same weights, LSTM 32→64 only (other sizes are
/// filtered out: only that case is checked).
/// </summary>
public class Streaming
{
    [Params(StreamingModel.Lstm32x64, StreamingModel.Gru32x64, StreamingModel.Lstm64x64, StreamingModel.Lstm256x256)]
    public StreamingModel Model { get; set; }

    private ModelSpec _spec = null!;
    private Lstm32x64 _lstm32x64 = null!;
    private Gru32x64 _gru32x64 = null!;
    private Lstm64x64 _lstm64x64 = null!;
    private Lstm256x256 _lstm256x256 = null!;
    private Lstm32x64Bf16 _lstm32x64Bf16 = null!;
    private Gru32x64Bf16 _gru32x64Bf16 = null!;
    private Lstm64x64Bf16 _lstm64x64Bf16 = null!;
    private Lstm256x256Bf16 _lstm256x256Bf16 = null!;
    private Lstm32x64Int8 _lstm32x64Int8 = null!;
    private HandWrittenRnn _handWritten = null!;
    private OrtStepRunner? _ort;
    private TorchStepPeer? _torch;
    private float[] _x = null!, _state = null!, _output = null!;

    private void Common()
    {
        _spec = ModelSpec.Of(Model);
        _lstm32x64 = new Lstm32x64(Fixture.Seed);
        _gru32x64 = new Gru32x64(Fixture.Seed);
        _lstm64x64 = new Lstm64x64(Fixture.Seed);
        _lstm256x256 = new Lstm256x256(Fixture.Seed);
        IVectorStreamingModel model = ModelSpec.CreateStreaming(Model);
        var random = new Random(Fixture.Seed + 10);
        _x = Validation.RandomVector(random, model.InputSize, 1f);
        _state = new float[model.StateSize];
        _output = new float[model.OutputSize];
    }

    [GlobalSetup(Targets = new[] { nameof(Ours) })]
    public void SetupOurs() => Common();

    [GlobalSetup(Targets = new[] { nameof(OursBFloat16) })]
    public void SetupOursBFloat16()
    {
        Common();
        _lstm32x64Bf16 = new Lstm32x64Bf16(Fixture.Seed);
        _gru32x64Bf16 = new Gru32x64Bf16(Fixture.Seed);
        _lstm64x64Bf16 = new Lstm64x64Bf16(Fixture.Seed);
        _lstm256x256Bf16 = new Lstm256x256Bf16(Fixture.Seed);
    }

    /// <summary>Int8 weights: the LSTM 32→64 only (the streaming target).</summary>
    [GlobalSetup(Targets = new[] { nameof(OursInt8) })]
    public void SetupOursInt8()
    {
        Common();
        _lstm32x64Int8 = new Lstm32x64Int8(Fixture.Seed);
    }

    [GlobalSetup(Targets = new[] { nameof(HandWritten) })]
    public void SetupHandWritten()
    {
        Common();
        _handWritten = _spec.CreateHandWritten(_spec.WeightsPath);
    }

    [GlobalSetup(Targets = new[] { nameof(Ort) })]
    public void SetupOrt()
    {
        Common();
        _ort = new OrtStepRunner(_spec.OnnxPath, _spec.IsLstm, _spec.InputSize, _spec.HiddenSize, batch: 1);
        _x.CopyTo(_ort.X, 0);
    }

    /// <summary>ONNX Runtime's int8 LSTM graph, run by the same step runner as the float graph.</summary>
    [GlobalSetup(Targets = new[] { nameof(OrtInt8) })]
    public void SetupOrtInt8()
    {
        Common();
        if (Model != StreamingModel.Lstm32x64) throw new NotSupportedException("ONNX Runtime's int8 graph is exported for Lstm32x64 only.");
        _ort = new OrtStepRunner(_spec.OnnxInt8Path, lstm: true, _spec.InputSize, _spec.HiddenSize, batch: 1);
        _x.CopyTo(_ort.X, 0);
    }

    [GlobalSetup(Targets = new[] { nameof(TorchSharp) })]
    public void SetupTorchSharp()
    {
        Common();
        _torch = new TorchStepPeer(_spec, batch: 1);
        TorchWeights.Set(_torch.X, _x);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ort?.Dispose();
        _ort = null;
        _torch?.Dispose();
        _torch = null;
    }

    /// <summary>The generated model's Step on caller-owned state.</summary>
    [Benchmark]
    public void Ours()
    {
        switch (Model)
        {
            case StreamingModel.Lstm32x64: _lstm32x64.Step(_x, _state, _output); break;
            case StreamingModel.Gru32x64: _gru32x64.Step(_x, _state, _output); break;
            case StreamingModel.Lstm64x64: _lstm64x64.Step(_x, _state, _output); break;
            default: _lstm256x256.Step(_x, _state, _output); break;
        }
    }

    /// <summary>The generated model's Step with bfloat16 step weights.</summary>
    [Benchmark]
    public void OursBFloat16()
    {
        switch (Model)
        {
            case StreamingModel.Lstm32x64: _lstm32x64Bf16.Step(_x, _state, _output); break;
            case StreamingModel.Gru32x64: _gru32x64Bf16.Step(_x, _state, _output); break;
            case StreamingModel.Lstm64x64: _lstm64x64Bf16.Step(_x, _state, _output); break;
            default: _lstm256x256Bf16.Step(_x, _state, _output); break;
        }
    }

    /// <summary>The generated model's Step with int8 weights (LSTM 32→64; the other shapes run their float Step).</summary>
    [Benchmark]
    public void OursInt8()
    {
        if (Model == StreamingModel.Lstm32x64) _lstm32x64Int8.Step(_x, _state, _output);
        else Ours();
    }

    /// <summary>The hand-written cell with runtime sizes.</summary>
    [Benchmark(Baseline = true)]
    public void HandWritten() => _handWritten.Step(_x, _state, _output);

    /// <summary>ONNX Runtime, one-step graph, state fed back through the bindings.</summary>
    [Benchmark]
    public void Ort() => _ort!.Step();

    /// <summary>ONNX Runtime's int8 LSTM (DynamicQuantizeLSTM), one-step graph, state fed back through the bindings.</summary>
    [Benchmark]
    public void OrtInt8() => _ort!.Step();

    /// <summary>TorchSharp, torch.nn.LSTM/GRU on a length-1 sequence, no autograd.</summary>
    [Benchmark]
    public void TorchSharp() => _torch!.Step();
}
