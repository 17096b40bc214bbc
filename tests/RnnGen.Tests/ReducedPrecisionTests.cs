using System;
using System.Linq;
using RnnGen.Tests.LargeGolden;
using Xunit;

namespace RnnGen.Tests;

/// <summary>
/// <c>Weights = WeightPrecision.Int8</c> and <c>BFloat16</c> against PyTorch's float outputs on the realistic-size
/// fixtures (tests/golden/fixtures/large): every inference path — batched Forward, Forward of one sequence, single-stream
/// and multi-agent Step — within 5e-2 (int8) and 1e-2 (bfloat16) of each tensor's largest magnitude, the bound the
/// documentation states. The reduced copies are read by the products of one row (a step of one stream, or of one
/// sequence); the tests check they were (the outputs are not float's bits) where that is the whole computation.
/// </summary>
public class ReducedPrecisionTests
{
    private const float Int8Tolerance = 5e-2f, HalfTolerance = 1e-2f;

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string name in LargeGoldenModels.Int8ByCase.Keys) { data.Add(name, "int8"); data.Add(name, "bfloat16"); }
        return data;
    }

    private static (IRecurrentModel Model, float Tolerance) Create(LargeFixture f, string precision) => precision == "int8"
        ? (f.CreateModel(LargeGoldenModels.Int8ByCase[f.Name]), Int8Tolerance)
        : (f.CreateModel(LargeGoldenModels.HalfByCase[f.Name]), HalfTolerance);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Batched_forward_is_within_the_bound(string name, string precision)
    {
        LargeFixture f = LargeFixture.Load(name);
        (IRecurrentModel model, float tolerance) = Create(f, precision);
        var output = new float[f["test.output"].Length];
        output.AsSpan().Fill(float.NaN);
        var final = new float[f.Batch * model.StateSize];
        if (model is ITokenSequenceModel tokens) tokens.Forward(f.Golden.Tokens, f.Batch, f.Lengths, output, f.InitialState, final);
        else ((IVectorSequenceModel)model).Forward(f["test.input"], f.Batch, f.Lengths, output, f.InitialState, final);
        LargeParityTests.AssertScaled(f["test.output"], output, tolerance, $"{name} {precision} batched output");
        LargeParityTests.AssertScaled(f.FinalState, final, tolerance, $"{name} {precision} batched final state");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_of_each_sequence_is_within_the_bound(string name, string precision)
    {
        LargeFixture f = LargeFixture.Load(name);
        (IRecurrentModel model, float tolerance) = Create(f, precision);
        int rows = f.Lengths.Sum(), width = model.OutputSize, stateSize = model.StateSize;
        var expected = new float[rows * width];
        var actual = new float[rows * width];
        var expectedStates = new float[f.Batch * stateSize];
        var states = new float[f.Batch * stateSize];
        int row = 0;
        float largestError = 0f;
        for (int b = 0; b < f.Batch; b++)
        {
            var output = new float[f.Lengths[b] * width];
            var final = new float[stateSize];
            float[] initial = f.Golden.HasInitialState ? f.SequenceState(f.InitialState, b, model) : Array.Empty<float>();
            if (model is ITokenSequenceModel tokens) tokens.Forward(f.SequenceTokens(b), output, initial, final);
            else ((IVectorSequenceModel)model).Forward(f.SequenceRows(f["test.input"], b, model.InputSize), output, initial, final);
            f.SequenceRows(f["test.output"], b, width).CopyTo(expected, row * width);
            output.CopyTo(actual, row * width);
            f.SequenceState(f.FinalState, b, model).CopyTo(expectedStates, b * stateSize);
            final.CopyTo(states, b * stateSize);
            row += f.Lengths[b];
        }
        largestError = LargeParityTests.AssertScaled(expected, actual, tolerance, $"{name} {precision} one-sequence outputs");
        LargeParityTests.AssertScaled(expectedStates, states, tolerance, $"{name} {precision} one-sequence final states");
        // One sequence reads the reduced copy in its recurrent products too (bfloat16 there only): not float's bits.
        Assert.True(largestError > 1e-5f, $"{name}: {precision} one-sequence outputs differ from PyTorch by only {largestError:R} of their scale");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Steps_are_within_the_bound(string name, string precision)
    {
        LargeFixture f = LargeFixture.Load(name);
        (IRecurrentModel model, float tolerance) = Create(f, precision);
        if (model.NumDirections == 2) return; // bidirectional models have no Step (Forward is checked above)
        (float[] expectedOutputs, float[] outputs, float[] expectedStates, float[] states) = LargeParityTests.RunSteps(model, f);
        float error = LargeParityTests.AssertScaled(expectedOutputs, outputs, tolerance, $"{name} {precision} Step outputs");
        LargeParityTests.AssertScaled(expectedStates, states, tolerance, $"{name} {precision} Step final states");
        Assert.True(error > 1e-5f, $"{name}: {precision} Step outputs differ from PyTorch by only {error:R} of their scale");

        // Multi-agent Step: every valid step of every agent, gathered, against the same bound.
        int agents = f.Batch, stateSize = model.StateSize, width = model.OutputSize;
        var state = new float[agents * stateSize];
        if (f.Golden.HasInitialState) for (int b = 0; b < agents; b++) f.SequenceState(f.InitialState, b, model).CopyTo(state, b * stateSize);
        var output = new float[agents * width];
        float[] all = f["test.output"];
        var expected = new float[all.Length];
        var actual = new float[all.Length];
        for (int t = 0; t < f.Steps; t++)
        {
            if (model is ITokenStreamingModel tokens) tokens.Step(f.Golden.Tokens.AsSpan(t * agents, agents), state, output);
            else ((IVectorStreamingModel)model).Step(f["test.input"].AsSpan(t * agents * model.InputSize, agents * model.InputSize), agents, state, output);
            for (int b = 0; b < agents; b++)
            {
                if (t >= f.Lengths[b]) continue;
                all.AsSpan((t * agents + b) * width, width).CopyTo(expected.AsSpan((t * agents + b) * width));
                output.AsSpan(b * width, width).CopyTo(actual.AsSpan((t * agents + b) * width));
            }
        }
        LargeParityTests.AssertScaled(expected, actual, tolerance, $"{name} {precision} multi-agent Step outputs");
    }

    /// <summary>The reduced paths allocate nothing once warm (the int8 products' scratch is the thread's, made on its first use).</summary>
    [Fact]
    public void Reduced_paths_allocate_nothing()
    {
        foreach (IRecurrentModel model in new IRecurrentModel[] { new LstmI300H160HeadInt8(1), new LstmI300H160HeadHalf(2) })
        {
            var sequence = (IVectorSequenceModel)model;
            var streaming = (IVectorStreamingModel)model;
            int steps = 5, batch = 3;
            var x = new float[steps * batch * model.InputSize];
            for (int i = 0; i < x.Length; i++) x[i] = (i % 17 - 8) * 0.05f;
            var lengths = new[] { 5, 3, 1 };
            var output = new float[steps * batch * model.OutputSize];
            var state = new float[batch * model.StateSize];
            void Run()
            {
                sequence.Forward(x, batch, lengths, output, default, default);
                sequence.Forward(x.AsSpan(0, steps * model.InputSize), output.AsSpan(0, steps * model.OutputSize), default, default);
                streaming.Step(x.AsSpan(0, model.InputSize), state.AsSpan(0, model.StateSize), output.AsSpan(0, model.OutputSize));
                streaming.Step(x.AsSpan(0, batch * model.InputSize), batch, state, output.AsSpan(0, batch * model.OutputSize));
            }
            Run();
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 3; i++) Run();
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }

    /// <summary>Int8 quantizes each row of a product on its own, so a threaded Forward's parts give one thread's bits.</summary>
    [Fact]
    public void Int8_forward_with_two_threads_gives_the_same_bits()
    {
        LargeFixture f = LargeFixture.Load("gru_bi_l2_h160");
        var one = (IVectorSequenceModel)f.CreateModel(LargeGoldenModels.Int8ByCase[f.Name]);
        var two = (IVectorSequenceModel)f.CreateModel(LargeGoldenModels.Int8ByCase[f.Name]);
        two.Threads = 2;
        try
        {
            var a = new float[f["test.output"].Length];
            var b = new float[a.Length];
            one.Forward(f["test.input"], f.Batch, f.Lengths, a, f.InitialState, default);
            two.Forward(f["test.input"], f.Batch, f.Lengths, b, f.InitialState, default);
            Assert.Equal(a, b);
        }
        finally { two.Threads = 1; }
    }
}
