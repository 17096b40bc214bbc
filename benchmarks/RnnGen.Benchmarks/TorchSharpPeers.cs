using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnGen.Benchmarks;

/// <summary>
/// Whether TorchSharp (libtorch) can run here. TorchSharp-cpu 0.107's native library needs GLIBCXX_3.4.32 (GCC 13's
/// libstdc++), newer than Debian 12's, so on such a machine it cannot load: the probe finds that out without failing
/// and the TorchSharp rows are left out of the run.
/// </summary>
internal static class TorchSharpProbe
{
    private static readonly Lazy<string?> s_failure = new(Probe);

    /// <summary>True when TorchSharp loaded and ran a first operation.</summary>
    public static bool Available => s_failure.Value is null;

    /// <summary>Why TorchSharp cannot be used, or null.</summary>
    public static string? Failure => s_failure.Value;

    private static string? Probe()
    {
        // Load the native bridge directly first: the dynamic loader then names what is missing (e.g. GLIBCXX_3.4.32).
        // Doing this before TorchSharp's own loader also spares its fallback, which copies ~1 GB of libtorch into bin/cpu.
        string? bridge = FindNativeBridge();
        if (bridge is not null && !TorchSharpDebian12.Applied && TorchSharpDebian12.Needed(bridge))
        {
            // Not loaded at all: a bridge weakened by an earlier run would end the process at its first call without the shim.
            return $"native library {Path.GetFileName(bridge)} needs GLIBCXX_3.4.32 (GCC 13's libstdc++), which "
                + $"{TorchSharpDebian12.LoadedLibStdCxx()} lacks" + (TorchSharpDebian12.Note is { } note ? "; " + note : "");
        }
        if (bridge is not null)
        {
            try
            {
                NativeLibrary.Load(bridge);
            }
            catch (DllNotFoundException e)
            {
                // .NET puts the dynamic loader's own words (e.g. "version `GLIBCXX_3.4.32' not found") on the last line.
                string loader = LastLine(e.Message);
                string hint = loader.Contains("GLIBCXX", StringComparison.Ordinal)
                    ? " (this libstdc++ is older than the GCC 13 one libtorch 2.10 was built against)"
                    : "";
                return "native library " + Path.GetFileName(bridge) + " does not load: " + loader + hint;
            }
        }
        try
        {
            return FirstOperation();
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or NotSupportedException or EntryPointNotFoundException or BadImageFormatException)
        {
            Exception inner = e.InnerException ?? e;
            return e.GetType().Name + ": " + FirstLine(inner.Message);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string? FirstOperation()
    {
        torch.set_num_threads(1);
        torch.set_num_interop_threads(1);
        using Tensor one = torch.ones(1);
        return one.sum().item<float>() == 1f ? null : "torch.ones(1).sum() is not 1";
    }

    public static string? FindNativeBridge()
    {
        string name = OperatingSystem.IsWindows() ? "LibTorchSharp.dll" : OperatingSystem.IsMacOS() ? "libLibTorchSharp.dylib" : "libLibTorchSharp.so";
        string path = Path.Combine(AppContext.BaseDirectory, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", name);
        return File.Exists(path) ? path : null;
    }

    private static string LastLine(string text)
    {
        string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? text : lines[^1];
    }

    private static string FirstLine(string text)
    {
        int end = text.IndexOfAny(new[] { '\r', '\n' });
        return end < 0 ? text : text.Substring(0, end);
    }
}

/// <summary>TorchSharp helpers shared by the peers: load a state_dict from a safetensors file written by our model.</summary>
internal static class TorchWeights
{
    public static void Load(nn.Module module, string safetensorsPath, string prefix)
    {
        var tensors = Safetensors.ReadAll(safetensorsPath);
        using var noGrad = torch.no_grad();
        foreach ((string name, TorchSharp.Modules.Parameter parameter) in module.named_parameters())
        {
            SafetensorsTensor source = tensors[prefix + name];
            using Tensor values = torch.tensor(source.Data, parameter.shape);
            parameter.copy_(values);
        }
    }

    public static void Set(Tensor destination, float[] values)
    {
        using var noGrad = torch.no_grad();
        using Tensor source = torch.tensor(values, destination.shape);
        destination.copy_(source);
    }

    public static float[] ToArray(Tensor tensor)
    {
        using Tensor dense = tensor.contiguous();
        return dense.data<float>().ToArray();
    }
}

/// <summary>The TorchSharp equality checks (run only when <see cref="TorchSharpProbe.Available"/>).</summary>
internal static class TorchChecks
{
    public static double Streaming(StreamingModel model, int steps)
    {
        ModelSpec spec = ModelSpec.Of(model);
        IVectorStreamingModel ours = ModelSpec.CreateStreaming(model);
        using var peer = new TorchStepPeer(spec, batch: 1);
        var random = new Random(Fixture.Seed + 4);
        float[] state = Validation.RandomVector(random, ours.StateSize, 0.5f);
        TorchWeights.Set(peer.H, state.AsSpan(0, spec.HiddenSize).ToArray());
        if (spec.IsLstm) TorchWeights.Set(peer.C, state.AsSpan(spec.HiddenSize, spec.HiddenSize).ToArray());
        var output = new float[ours.OutputSize];
        double max = 0;
        for (int s = 0; s < steps; s++)
        {
            float[] x = Validation.RandomVector(random, ours.InputSize, 1f);
            ours.Step(x, state, output);
            TorchWeights.Set(peer.X, x);
            peer.Step();
            max = Math.Max(max, Validation.MaxDifference(output, TorchWeights.ToArray(peer.Y)));
        }
        max = Math.Max(max, Validation.MaxDifference(state.AsSpan(0, spec.HiddenSize), TorchWeights.ToArray(peer.H)));
        if (spec.IsLstm) max = Math.Max(max, Validation.MaxDifference(state.AsSpan(spec.HiddenSize, spec.HiddenSize), TorchWeights.ToArray(peer.C)));
        return max;
    }

    public static double Agents()
    {
        ModelSpec spec = ModelSpec.Of(StreamingModel.Lstm32x64);
        var ours = new Lstm32x64(Fixture.Seed);
        int agents = Fixture.Agents, hidden = Lstm32x64.HiddenSize;
        using var peer = new TorchStepPeer(spec, agents);
        var random = new Random(Fixture.Seed + 5);
        float[] state = Validation.RandomVector(random, agents * Lstm32x64.StateSize, 0.5f);
        var h = new float[agents * hidden];
        var c = new float[agents * hidden];
        for (int a = 0; a < agents; a++)
        {
            state.AsSpan(a * Lstm32x64.StateSize, hidden).CopyTo(h.AsSpan(a * hidden));
            state.AsSpan(a * Lstm32x64.StateSize + hidden, hidden).CopyTo(c.AsSpan(a * hidden));
        }
        TorchWeights.Set(peer.H, h);
        TorchWeights.Set(peer.C, c);
        float[] x = Validation.RandomVector(random, agents * Lstm32x64.InputSize, 1f);
        var output = new float[agents * Lstm32x64.OutputSize];
        ours.Step(x, agents, state, output);
        TorchWeights.Set(peer.X, x);
        peer.Step();
        return Validation.MaxDifference(output, TorchWeights.ToArray(peer.Y));
    }

    public static double Sequence(int batch)
    {
        var ours = new BiLstm128x256(Fixture.Seed);
        using var peer = new TorchSequencePeer(ModelSpec.Sequence, Fixture.SequenceSteps, batch);
        float[] input = Validation.RandomVector(new Random(Fixture.Seed + 6), Fixture.SequenceSteps * batch * BiLstm128x256.InputSize, 1f);
        var output = new float[Fixture.SequenceSteps * batch * BiLstm128x256.OutputSize];
        ours.Forward(input, batch, default, output);
        TorchWeights.Set(peer.Input, input);
        peer.Run();
        return Validation.MaxDifference(output, TorchWeights.ToArray(peer.Output));
    }

    public static double TrainingLoss(TrainingModel model)
    {
        var ours = new OursTraining(model);
        using var peer = new TorchTrainingPeer(model, ours.Data);
        return Math.Abs((double)ours.Loss() - peer.Loss());
    }
}

/// <summary>TorchSharp advancing torch.nn.LSTM / GRU by one step for <c>batch</c> streams, state kept in tensors updated in place.</summary>
internal sealed class TorchStepPeer : IDisposable
{
    private readonly TorchSharp.Modules.LSTM? _lstm;
    private readonly TorchSharp.Modules.GRU? _gru;
    public readonly Tensor X, Y, H, C;

    public TorchStepPeer(ModelSpec spec, int batch)
    {
        if (spec.IsLstm) _lstm = nn.LSTM(spec.InputSize, spec.HiddenSize);
        else _gru = nn.GRU(spec.InputSize, spec.HiddenSize);
        TorchWeights.Load((nn.Module?)_lstm ?? _gru!, spec.WeightsPath, "rnn.");
        X = torch.zeros(1, batch, spec.InputSize);
        Y = torch.zeros(1, batch, spec.HiddenSize);
        H = torch.zeros(1, batch, spec.HiddenSize);
        C = torch.zeros(1, batch, spec.HiddenSize);
    }

    public void Step()
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        if (_lstm is not null)
        {
            var (y, h, c) = _lstm.call(X, (H, C));
            Y.copy_(y);
            H.copy_(h);
            C.copy_(c);
        }
        else
        {
            var (y, h) = _gru!.call(X, H);
            Y.copy_(y);
            H.copy_(h);
        }
    }

    public void Dispose()
    {
        foreach (Tensor t in new[] { X, Y, H, C }) t.Dispose();
        _lstm?.Dispose();
        _gru?.Dispose();
    }
}

/// <summary>TorchSharp running the configuration-2 network over a time-major batch, no autograd.</summary>
internal sealed class TorchSequencePeer : IDisposable
{
    private readonly TorchSharp.Modules.LSTM _lstm;
    public readonly Tensor Input, Output;

    public TorchSequencePeer(ModelSpec spec, int steps, int batch)
    {
        _lstm = nn.LSTM(spec.InputSize, spec.HiddenSize, numLayers: spec.Layers, bidirectional: spec.Bidirectional);
        TorchWeights.Load(_lstm, spec.WeightsPath, "rnn.");
        Input = torch.zeros(steps, batch, spec.InputSize);
        Output = torch.zeros(steps, batch, spec.Directions * spec.HiddenSize);
    }

    public void Run()
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var (y, _, _) = _lstm.call(Input, null);
        Output.copy_(y);
    }

    public void Dispose()
    {
        Input.Dispose();
        Output.Dispose();
        _lstm.Dispose();
    }
}

/// <summary>TorchSharp's training step (forward, loss, backward, Adam) for the two training configurations.</summary>
internal sealed class TorchTrainingPeer : IDisposable
{
    private sealed class CharNet : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Embedding embedding;
        private readonly TorchSharp.Modules.LSTM rnn;
        private readonly TorchSharp.Modules.Linear head;

        public CharNet() : base(nameof(CharNet))
        {
            embedding = nn.Embedding(CharLstm.VocabularySize, CharLstm.InputSize);
            rnn = nn.LSTM(CharLstm.InputSize, CharLstm.HiddenSize, numLayers: CharLstm.NumLayers);
            head = nn.Linear(CharLstm.HiddenSize, CharLstm.OutputSize);
            RegisterComponents();
        }

        public override Tensor forward(Tensor tokens)
        {
            var (y, _, _) = rnn.call(embedding.call(tokens), null);
            return head.call(y);
        }
    }

    private readonly TrainingModel _model;
    private readonly nn.Module _module;
    private readonly TorchSharp.Modules.LSTM? _bilstm;
    private readonly CharNet? _char;
    private readonly optim.Optimizer _adam;
    private readonly Tensor _input, _target;

    public TorchTrainingPeer(TrainingModel model, TrainingData data)
    {
        _model = model;
        if (model == TrainingModel.BiLstm128x256)
        {
            ModelSpec spec = ModelSpec.Sequence;
            _bilstm = nn.LSTM(spec.InputSize, spec.HiddenSize, numLayers: spec.Layers, bidirectional: true);
            _module = _bilstm;
            TorchWeights.Load(_bilstm, data.WeightsPath, "rnn.");
            _input = torch.tensor(data.Input!, new long[] { data.Steps, data.Batch, spec.InputSize });
            _target = torch.tensor(data.Target!, new long[] { data.Steps, data.Batch, spec.Directions * spec.HiddenSize });
        }
        else
        {
            _char = new CharNet();
            _module = _char;
            TorchWeights.Load(_char, data.WeightsPath, "");
            _input = torch.tensor(Array.ConvertAll(data.Tokens!, t => (long)t), new long[] { data.Steps, data.Batch });
            _target = torch.tensor(Array.ConvertAll(data.NextTokens!, t => (long)t), new long[] { data.Steps * data.Batch });
        }
        _adam = optim.Adam(_module.parameters(), lr: 1e-3);
    }

    /// <summary>Forward and loss only, no autograd.</summary>
    public float Loss()
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        return LossTensor().item<float>();
    }

    /// <summary>One optimizer step: zero_grad, forward, loss, backward, Adam.</summary>
    public void TrainStep()
    {
        using var scope = torch.NewDisposeScope();
        _adam.zero_grad();
        LossTensor().backward();
        _adam.step();
    }

    /// <summary>The training forward alone (autograd recording on, as in a training step).</summary>
    public void Forward()
    {
        using var scope = torch.NewDisposeScope();
        LossTensor();
    }

    private Tensor LossTensor()
    {
        if (_model == TrainingModel.BiLstm128x256)
        {
            var (y, _, _) = _bilstm!.call(_input, null);
            return nn.functional.mse_loss(y, _target);
        }
        Tensor logits = _char!.call(_input);
        return nn.functional.cross_entropy(logits.reshape(-1, CharLstm.OutputSize), _target);
    }

    public void Dispose()
    {
        _input.Dispose();
        _target.Dispose();
        _adam.Dispose();
        _module.Dispose();
    }
}
