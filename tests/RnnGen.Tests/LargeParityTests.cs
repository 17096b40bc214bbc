using System;
using System.Linq;
using RnnGen.Tests.LargeGolden;
using Xunit;

namespace RnnGen.Tests;

/// <summary>
/// Realistic sizes against PyTorch (tests/golden/make_large_golden.py): input 300 and layer inputs of 320 (inner
/// dimensions over one 256 block), hidden 160-192, 50-60 sequences of lengths 1..T in no order (more than 48 packed
/// rows at the first steps, a different count at every later one). Forward of each sequence alone and of the batch,
/// the trainer's gradients, single and multi-agent Step, and the bfloat16 Step; the threaded paths are in
/// <see cref="LargeThreadedParityTests"/>.
/// </summary>
public class LargeParityTests
{
    // The tolerances of the small fixtures (ForwardParityTests, BatchTests, GradientParityTests): |a - e| within
    // tolerance * max(1, |e|). They hold at these sizes with room to spare although the sums are longer (up to 460
    // terms per gate, about 300 rows per weight gradient): measured with AVX2 and FMA, outputs and states differ from
    // PyTorch by at most 4.2e-7 (the outputs reach 0.23), gradients by at most 5.7e-6 (they reach 22).
    internal const float ForwardTolerance = 1e-5f;
    internal const float GradientTolerance = 1e-4f;

    // bfloat16 keeps 8 significant bits (relative rounding up to 2^-9 per weight). Measured: outputs and final states
    // within 1.8e-3 (LSTM) and 3.1e-4 (token GRU) of each tensor's largest magnitude over up to 8 steps; a float
    // Step is within 6.4e-7.
    internal const float HalfStepTolerance = 1e-2f;

    public static TheoryData<string> Cases() => LargeFixture.All();

    /// <summary>The unidirectional cases (the ones with a Step), each with a bfloat16-Step twin.</summary>
    public static TheoryData<string> StreamingCases() => new(LargeGoldenModels.HalfStepByCase.Keys);

    internal static IRecurrentModel Model(LargeFixture f) => f.CreateModel(LargeGoldenModels.ByCase[f.Name]);

    internal static void AssertBatchForward(IRecurrentModel model, LargeFixture f, string what)
    {
        var output = new float[f["test.output"].Length];
        output.AsSpan().Fill(float.NaN); // padded steps must be written (zeros) too
        var final = new float[f.Batch * model.StateSize];
        if (model is ITokenSequenceModel tokens) tokens.Forward(f.Golden.Tokens, f.Batch, f.Lengths, output, f.InitialState, final);
        else ((IVectorSequenceModel)model).Forward(f["test.input"], f.Batch, f.Lengths, output, f.InitialState, final);
        Numeric.AssertClose(f["test.output"], output, ForwardTolerance, $"{f.Name}{what} output");
        Numeric.AssertClose(f.FinalState, final, ForwardTolerance, $"{f.Name}{what} final state");
    }

    internal static void AssertSequenceForward(IRecurrentModel model, LargeFixture f, int b, string what)
    {
        var output = new float[f.Lengths[b] * model.OutputSize];
        var final = new float[model.StateSize];
        float[] initial = f.Golden.HasInitialState ? f.SequenceState(f.InitialState, b, model) : Array.Empty<float>();
        if (model is ITokenSequenceModel tokens) tokens.Forward(f.SequenceTokens(b), output, initial, final);
        else ((IVectorSequenceModel)model).Forward(f.SequenceRows(f["test.input"], b, model.InputSize), output, initial, final);
        Numeric.AssertClose(f.SequenceRows(f["test.output"], b, model.OutputSize), output, ForwardTolerance, $"{f.Name}{what} sequence {b} output");
        Numeric.AssertClose(f.SequenceState(f.FinalState, b, model), final, ForwardTolerance, $"{f.Name}{what} sequence {b} final state");
    }

    /// <summary>The trainer's batched Forward and Backward (with the final-state gradient) against PyTorch's gradients.</summary>
    internal static void AssertGradients(IRecurrentModel model, LargeFixture f, string what)
    {
        ITrainer trainer = model.CreateTrainer(maxSteps: f.Steps, maxBatch: f.Batch);
        var output = new float[f["test.output"].Length];
        if (trainer is ITokenTrainer tokens) tokens.Forward(f.Golden.Tokens, f.Batch, f.Lengths, output, f.InitialState, default);
        else ((IVectorTrainer)trainer).Forward(f["test.input"], f.Batch, f.Lengths, output, f.InitialState, default);
        Numeric.AssertClose(f["test.output"], output, ForwardTolerance, $"{f.Name}{what} trainer output");

        model.ZeroGradients();
        var inputGrad = f.Has("grad.input") ? new float[f.Steps * f.Batch * model.InputSize] : Array.Empty<float>();
        var initialGrad = f.Golden.HasInitialState ? new float[f.Batch * model.StateSize] : Array.Empty<float>();
        trainer.Backward(f["test.dy"], inputGrad, f.FinalStateGrad, initialGrad);
        foreach (TensorInfo tensor in model.TensorTable)
        {
            Numeric.AssertClose(f["grad." + tensor.Name], model.Gradient(tensor.Name), GradientTolerance, $"{f.Name}{what} d{tensor.Name}");
        }
        if (f.Has("grad.input")) Numeric.AssertClose(f["grad.input"], inputGrad, GradientTolerance, $"{f.Name}{what} dinput");
        if (f.Golden.HasInitialState) Numeric.AssertClose(f.InitialStateGrad, initialGrad, GradientTolerance, $"{f.Name}{what} dinitialState");
    }

    /// <summary>All sequences as agents of one multi-agent Step per time step, against PyTorch's per-step outputs.</summary>
    internal static void AssertMultiAgentStep(IRecurrentModel model, LargeFixture f, string what)
    {
        int agents = f.Batch, stateSize = model.StateSize, width = model.OutputSize;
        var state = new float[agents * stateSize];
        if (f.Golden.HasInitialState)
        {
            for (int b = 0; b < agents; b++) f.SequenceState(f.InitialState, b, model).CopyTo(state, b * stateSize);
        }
        var output = new float[agents * width];
        float[] expected = f["test.output"];
        for (int t = 0; t < f.Steps; t++)
        {
            // Agents past their length keep stepping on the padded inputs; their outputs and states are not compared.
            if (model is ITokenStreamingModel tokens) tokens.Step(f.Golden.Tokens.AsSpan(t * agents, agents), state, output);
            else ((IVectorStreamingModel)model).Step(f["test.input"].AsSpan(t * agents * model.InputSize, agents * model.InputSize), agents, state, output);
            for (int b = 0; b < agents; b++)
            {
                if (t >= f.Lengths[b]) continue;
                Numeric.AssertClose(expected.AsSpan((t * agents + b) * width, width), output.AsSpan(b * width, width), ForwardTolerance, $"{f.Name}{what} agent {b} step {t} output");
                if (t == f.Lengths[b] - 1)
                {
                    Numeric.AssertClose(f.SequenceState(f.FinalState, b, model), state.AsSpan(b * stateSize, stateSize), ForwardTolerance, $"{f.Name}{what} agent {b} final state");
                }
            }
        }
    }

    /// <summary>Single-stream Step over every sequence; returns (expected, actual) outputs of every valid step, then final states.</summary>
    internal static (float[] ExpectedOutputs, float[] Outputs, float[] ExpectedStates, float[] States) RunSteps(IRecurrentModel model, LargeFixture f)
    {
        int width = model.OutputSize, stateSize = model.StateSize, rows = f.Lengths.Sum();
        var expectedOutputs = new float[rows * width];
        var outputs = new float[rows * width];
        var expectedStates = new float[f.Batch * stateSize];
        var states = new float[f.Batch * stateSize];
        int row = 0;
        for (int b = 0; b < f.Batch; b++)
        {
            float[] state = f.Golden.HasInitialState ? f.SequenceState(f.InitialState, b, model) : new float[stateSize];
            float[] x = model is ITokenStreamingModel ? Array.Empty<float>() : f.SequenceRows(f["test.input"], b, model.InputSize);
            int[] ids = model is ITokenStreamingModel ? f.SequenceTokens(b) : Array.Empty<int>();
            f.SequenceRows(f["test.output"], b, width).CopyTo(expectedOutputs, row * width);
            for (int t = 0; t < f.Lengths[b]; t++, row++)
            {
                Span<float> output = outputs.AsSpan(row * width, width);
                if (model is ITokenStreamingModel tokens) tokens.Step(ids[t], state, output);
                else ((IVectorStreamingModel)model).Step(x.AsSpan(t * model.InputSize, model.InputSize), state, output);
            }
            f.SequenceState(f.FinalState, b, model).CopyTo(expectedStates, b * stateSize);
            state.CopyTo(states, b * stateSize);
        }
        return (expectedOutputs, outputs, expectedStates, states);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Batched_forward_matches_pytorch(string name)
    {
        LargeFixture f = LargeFixture.Load(name);
        AssertBatchForward(Model(f), f, "");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_of_each_sequence_alone_matches_pytorch(string name)
    {
        LargeFixture f = LargeFixture.Load(name);
        IRecurrentModel model = Model(f);
        for (int b = 0; b < f.Batch; b++) AssertSequenceForward(model, f, b, "");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Batched_gradients_match_pytorch(string name)
    {
        LargeFixture f = LargeFixture.Load(name);
        AssertGradients(Model(f), f, "");
    }

    [Theory]
    [MemberData(nameof(StreamingCases))]
    public void Step_matches_pytorch_at_every_step(string name)
    {
        LargeFixture f = LargeFixture.Load(name);
        IRecurrentModel model = Model(f);
        (float[] expectedOutputs, float[] outputs, float[] expectedStates, float[] states) = RunSteps(model, f);
        Numeric.AssertClose(expectedOutputs, outputs, ForwardTolerance, name + " Step outputs");
        Numeric.AssertClose(expectedStates, states, ForwardTolerance, name + " Step final states");
        AssertMultiAgentStep(model, f, " multi-agent");
    }

    [Theory]
    [MemberData(nameof(StreamingCases))]
    public void Bfloat16_step_matches_pytorch_to_a_percent_of_each_tensor(string name)
    {
        LargeFixture f = LargeFixture.Load(name);
        IRecurrentModel half = f.CreateModel(LargeGoldenModels.HalfStepByCase[name]);
        (float[] expectedOutputs, float[] outputs, float[] expectedStates, float[] states) = RunSteps(half, f);
        float outputError = AssertScaled(expectedOutputs, outputs, HalfStepTolerance, name + " bfloat16 Step outputs");
        AssertScaled(expectedStates, states, HalfStepTolerance, name + " bfloat16 Step final states");
        // The rounded weights were used: a float Step would match to about 1e-6.
        Assert.True(outputError > 1e-5f, $"{name}: bfloat16 Step outputs differ from PyTorch by only {outputError:R} of their scale.");
        // The multi-agent Step's products read each weight for every agent: they stay on the float copy. (Forward, whose
        // one-sequence recurrent products read the bfloat16 copy: ReducedPrecisionTests.)
        AssertMultiAgentStep(half, f, " (bfloat16 model) multi-agent");
    }

    /// <summary>Asserts |a - e| ≤ fraction · max|e| over the whole tensor; returns the largest |a - e| / max|e|.</summary>
    internal static float AssertScaled(float[] expected, float[] actual, float fraction, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = expected.Max(Math.Abs);
        Assert.True(scale > 0f, what + ": the expected tensor is all zeros.");
        float worst = 0f;
        for (int i = 0; i < expected.Length; i++)
        {
            float diff = Math.Abs(expected[i] - actual[i]);
            Assert.True(diff <= fraction * scale, $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (difference {diff:R}, tolerance {fraction * scale:R} = {fraction} of the largest magnitude {scale:R}).");
            worst = Math.Max(worst, diff / scale);
        }
        return worst;
    }
}

/// <summary>
/// The threaded paths (Threads 2 and 4) against PyTorch's numbers directly: batch Forward (a bidirectional model runs its
/// directions apart with 2 threads and splits the batch with 4), one sequence alone, the trainer's Forward and Backward,
/// and the multi-agent Step.
/// </summary>
[Collection(nameof(ThreadedCollection))]
public class LargeThreadedParityTests
{
    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (string name in GoldenCase.Names(LargeFixture.Folder))
        {
            data.Add(name, 2);
            data.Add(name, 4);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Threaded_forward_training_and_agents_match_pytorch(string name, int threads)
    {
        LargeFixture f = LargeFixture.Load(name);
        IRecurrentModel model = LargeParityTests.Model(f);
        int minSteps = ThreadedForwardTests.MinSteps(model);
        // Enough work that every path below really runs in parts.
        Assert.True(f.Lengths.Min() >= 1 && f.Lengths.Sum() >= minSteps && f.Batch >= minSteps && f.Steps >= minSteps, $"{name}: ThreadedMinSteps is {minSteps}.");
        model.Threads = threads;
        try
        {
            Assert.Equal(threads, model.Threads);
            string what = $" ({threads} threads)";
            LargeParityTests.AssertBatchForward(model, f, what);
            int longest = Array.IndexOf(f.Lengths, f.Steps);
            LargeParityTests.AssertSequenceForward(model, f, longest, what);
            LargeParityTests.AssertGradients(model, f, what); // the trainer is created after Threads is set
            if (model.NumDirections == 1) LargeParityTests.AssertMultiAgentStep(model, f, what + " multi-agent");
        }
        finally
        {
            model.Threads = 1;
        }
    }
}
