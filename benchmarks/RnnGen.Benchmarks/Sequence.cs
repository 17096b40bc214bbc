using System;
using BenchmarkDotNet.Attributes;
using Microsoft.ML.OnnxRuntime;

namespace RnnGen.Benchmarks;

/// <summary>
/// Whole-sequence inference of configuration 2 (LSTM, input 128, hidden 256, 2 layers, bidirectional), T = 128, from
/// zero states: batch 1 with <c>Forward(input, output)</c>, batch 32 with <c>Forward(input, 32, default, output)</c>
/// (time-major). The batch-32 / batch-1 time ratio shows how well a batch amortizes the weights.
/// </summary>
public class Sequence
{
    [Params(1, Fixture.SequenceBatch)]
    public int Batch { get; set; }

    private BiLstm128x256 _model = null!;
    private BiLstm128x256Int8? _int8;
    private BiLstm128x256Bf16? _bf16;
    private HandWrittenRnn _handWritten = null!;
    private InferenceSession? _session;
    private OrtSequenceRunner? _ort;
    private TorchSequencePeer? _torch;
    private float[] _input = null!, _output = null!;

    private void Common()
    {
        _model = new BiLstm128x256(Fixture.Seed);
        _model.Reserve(Fixture.SequenceSteps, Batch);
        _input = Validation.RandomVector(new Random(Fixture.Seed + 11), Fixture.SequenceSteps * Batch * BiLstm128x256.InputSize, 1f);
        _output = new float[Fixture.SequenceSteps * Batch * BiLstm128x256.OutputSize];
    }

    [GlobalSetup(Targets = new[] { nameof(Ours) })]
    public void SetupOurs() => Common();

    /// <summary>The same weights with Weights = Int8 (rounded: not equal to the others; the tests bound the difference).</summary>
    [GlobalSetup(Targets = new[] { nameof(OursInt8) })]
    public void SetupOursInt8()
    {
        Common();
        _int8 = new BiLstm128x256Int8(Fixture.Seed);
        _int8.Reserve(Fixture.SequenceSteps, Batch);
    }

    /// <summary>The same weights with Weights = BFloat16.</summary>
    [GlobalSetup(Targets = new[] { nameof(OursBFloat16) })]
    public void SetupOursBFloat16()
    {
        Common();
        _bf16 = new BiLstm128x256Bf16(Fixture.Seed);
        _bf16.Reserve(Fixture.SequenceSteps, Batch);
    }

    /// <summary>Ours with <c>Threads</c> = 2: the two directions of each layer at the same time, one per core.</summary>
    [GlobalSetup(Targets = new[] { nameof(OursTwoThreads) })]
    public void SetupOursTwoThreads()
    {
        Common();
        _model.Threads = 2;
    }

    /// <summary>ONNX Runtime with two intra-op threads, the peer of <see cref="OursTwoThreads"/>.</summary>
    [GlobalSetup(Targets = new[] { nameof(OrtTwoThreads) })]
    public void SetupOrtTwoThreads()
    {
        Common();
        _session = OrtSessions.Open(ModelSpec.Sequence.OnnxPath, threads: 2);
        _ort = new OrtSequenceRunner(_session, Fixture.SequenceSteps, Batch, BiLstm128x256.InputSize, BiLstm128x256.OutputSize);
        _input.CopyTo(_ort.Input, 0);
    }

    [GlobalSetup(Targets = new[] { nameof(HandWritten) })]
    public void SetupHandWritten()
    {
        Common();
        _handWritten = ModelSpec.Sequence.CreateHandWritten(ModelSpec.Sequence.WeightsPath);
    }

    [GlobalSetup(Targets = new[] { nameof(Ort) })]
    public void SetupOrt()
    {
        Common();
        _session = OrtSessions.Open(ModelSpec.Sequence.OnnxPath);
        _ort = new OrtSequenceRunner(_session, Fixture.SequenceSteps, Batch, BiLstm128x256.InputSize, BiLstm128x256.OutputSize);
        _input.CopyTo(_ort.Input, 0);
    }

    [GlobalSetup(Targets = new[] { nameof(TorchSharp) })]
    public void SetupTorchSharp()
    {
        Common();
        _torch = new TorchSequencePeer(ModelSpec.Sequence, Fixture.SequenceSteps, Batch);
        TorchWeights.Set(_torch.Input, _input);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_model is not null) _model.Threads = 1;
        _ort?.Dispose();
        _ort = null;
        _session?.Dispose();
        _session = null;
        _torch?.Dispose();
        _torch = null;
    }

    /// <summary>The generated model.</summary>
    [Benchmark]
    public void Ours()
    {
        if (Batch == 1) _model.Forward(_input, _output);
        else _model.Forward(_input, Batch, default, _output);
    }

    /// <summary>The generated model with int8 weights.</summary>
    [Benchmark]
    public void OursInt8()
    {
        if (Batch == 1) _int8!.Forward(_input, _output);
        else _int8!.Forward(_input, Batch, default, _output);
    }

    /// <summary>The generated model with bfloat16 weights.</summary>
    [Benchmark]
    public void OursBFloat16()
    {
        if (Batch == 1) _bf16!.Forward(_input, _output);
        else _bf16!.Forward(_input, Batch, default, _output);
    }

    /// <summary>The generated model with two threads (not part of the single-thread comparison).</summary>
    [Benchmark]
    public void OursTwoThreads() => Ours();

    /// <summary>ONNX Runtime with two intra-op threads.</summary>
    [Benchmark]
    public void OrtTwoThreads() => _ort!.Run();

    /// <summary>The hand-written cell, one sequence after another.</summary>
    [Benchmark(Baseline = true)]
    public void HandWritten() => _handWritten.Forward(_input, Batch, _output);

    /// <summary>ONNX Runtime, whole-sequence graph (ONNX LSTM operators).</summary>
    [Benchmark]
    public void Ort() => _ort!.Run();

    /// <summary>TorchSharp, torch.nn.LSTM, no autograd.</summary>
    [Benchmark]
    public void TorchSharp() => _torch!.Run();
}
