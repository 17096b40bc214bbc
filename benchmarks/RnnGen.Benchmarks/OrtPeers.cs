using System;
using Microsoft.ML.OnnxRuntime;

namespace RnnGen.Benchmarks;

/// <summary>
/// The session options every ONNX Runtime peer uses: one thread, sequential execution, full graph optimization; the
/// multi-threaded rows (next to ours with <c>Threads</c> = 2) give it the same number of intra-op threads, with its
/// default spinning.
/// </summary>
internal static class OrtSessions
{
    public static InferenceSession Open(string onnxPath, int threads = 1)
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        if (threads == 1)
        {
            // With one thread there is no pool to spin; say so anyway so no worker burns the second core.
            options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            options.AddSessionConfigEntry("session.inter_op.allow_spinning", "0");
        }
        return new InferenceSession(onnxPath, options);
    }
}

/// <summary>
/// ONNX Runtime advancing a one-step LSTM/GRU graph on its own state, for <c>batch</c> independent streams, through the
/// low-allocation path: every tensor is an <see cref="OrtValue"/> over a pinned managed array, bound once with
/// <see cref="OrtIoBinding"/>. The state feeds back without copying by ping-pong: binding 0 reads state A and writes B,
/// binding 1 reads B and writes A, and each <see cref="Step"/> runs the next one.
/// </summary>
internal sealed class OrtStepRunner : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly OrtIoBinding[] _bindings = new OrtIoBinding[2];
    private readonly OrtValue[] _values;
    private readonly bool _lstm;
    private int _next;

    /// <summary>x [1, batch, input]: write the step's input here.</summary>
    public readonly float[] X;
    /// <summary>y [1, batch, hidden]: the step's output after <see cref="Step"/>.</summary>
    public readonly float[] Y;
    private readonly float[][] _h = new float[2][], _c = new float[2][];

    public OrtStepRunner(string onnxPath, bool lstm, int inputSize, int hiddenSize, int batch)
    {
        _session = OrtSessions.Open(onnxPath);
        _lstm = lstm;
        X = new float[batch * inputSize];
        Y = new float[batch * hiddenSize];
        long[] stateShape = { 1, batch, hiddenSize };
        var x = OrtValue.CreateTensorValueFromMemory(X, new long[] { 1, batch, inputSize });
        var y = OrtValue.CreateTensorValueFromMemory(Y, new long[] { 1, batch, hiddenSize });
        var h = new OrtValue[2];
        var c = new OrtValue[2];
        for (int i = 0; i < 2; i++)
        {
            _h[i] = new float[batch * hiddenSize];
            _c[i] = new float[batch * hiddenSize];
            h[i] = OrtValue.CreateTensorValueFromMemory(_h[i], stateShape);
            c[i] = OrtValue.CreateTensorValueFromMemory(_c[i], stateShape);
        }
        _values = new[] { x, y, h[0], h[1], c[0], c[1] };
        for (int i = 0; i < 2; i++)
        {
            var binding = _session.CreateIoBinding();
            binding.BindInput("x", x);
            binding.BindInput("h0", h[i]);
            binding.BindOutput("y", y);
            binding.BindOutput("hn", h[1 - i]);
            if (lstm)
            {
                binding.BindInput("c0", c[i]);
                binding.BindOutput("cn", c[1 - i]);
            }
            _bindings[i] = binding;
        }
    }

    /// <summary>The current h [1, batch, hidden] (where the next step reads it from).</summary>
    public Span<float> H => _h[_next];

    /// <summary>The current c [1, batch, hidden] (LSTM only).</summary>
    public Span<float> C => _lstm ? _c[_next] : Span<float>.Empty;

    /// <summary>Advances every stream by one step: reads <see cref="X"/> and the state, writes <see cref="Y"/> and the new state.</summary>
    public void Step()
    {
        _session.RunWithBinding(_runOptions, _bindings[_next]);
        _next ^= 1;
    }

    public void Dispose()
    {
        foreach (var binding in _bindings) binding?.Dispose();
        foreach (var value in _values) value.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }
}

/// <summary>ONNX Runtime running a whole-sequence graph [steps, batch, input] → [steps, batch, width] over pinned buffers.</summary>
internal sealed class OrtSequenceRunner : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly OrtIoBinding _binding;
    private readonly OrtValue _input, _output;

    public readonly float[] Input;
    public readonly float[] Output;

    public OrtSequenceRunner(InferenceSession session, int steps, int batch, int inputSize, int outputWidth)
    {
        _session = session;
        Input = new float[steps * batch * inputSize];
        Output = new float[steps * batch * outputWidth];
        _input = OrtValue.CreateTensorValueFromMemory(Input, new long[] { steps, batch, inputSize });
        _output = OrtValue.CreateTensorValueFromMemory(Output, new long[] { steps, batch, outputWidth });
        _binding = session.CreateIoBinding();
        _binding.BindInput("input", _input);
        _binding.BindOutput("output", _output);
    }

    public void Run() => _session.RunWithBinding(_runOptions, _binding);

    /// <summary>Disposes the binding and buffers, not the shared session.</summary>
    public void Dispose()
    {
        _binding.Dispose();
        _input.Dispose();
        _output.Dispose();
        _runOptions.Dispose();
    }
}
