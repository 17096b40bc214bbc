using System;
using RnnGen.Tests.Golden;
using Xunit;

namespace RnnGen.Tests;

[RecurrentModel(Cell = CellKind.Lstm, Input = 32, Hidden = 64, Layers = 2)]
public partial class StreamingLstm { }

[RecurrentModel(Cell = CellKind.Gru, Vocabulary = 20, Input = 8, Hidden = 33, Output = 20)]
public partial class StreamingGruTokens { }

[RecurrentModel(Cell = CellKind.Lstm, Input = 16, Hidden = 24, Layers = 2, Bidirectional = true, Output = 5)]
public partial class BiLstmHead { }

/// <summary>Streaming Step against Forward, caller-owned state, and zero allocations on the hot paths.</summary>
public class StepAndAllocationTests
{
    private static float[] RandomInput(int length, int seed)
    {
        var rng = new Rng(seed);
        var x = new float[length];
        rng.FillUniform(x, -1f, 1f);
        return x;
    }

    [Fact]
    public void Step_over_a_sequence_equals_Forward()
    {
        const int steps = 9;
        var model = new StreamingLstm(3);
        float[] input = RandomInput(steps * StreamingLstm.InputSize, 1);
        float[] initial = RandomInput(StreamingLstm.StateSize, 2);

        var expected = new float[steps * StreamingLstm.OutputSize];
        var expectedFinal = new float[StreamingLstm.StateSize];
        model.Forward(input, expected, initial, expectedFinal);

        initial.CopyTo(model.State);
        var output = new float[StreamingLstm.OutputSize];
        for (int t = 0; t < steps; t++)
        {
            model.Step(input.AsSpan(t * StreamingLstm.InputSize, StreamingLstm.InputSize), output);
            Numeric.AssertClose(expected.AsSpan(t * StreamingLstm.OutputSize, StreamingLstm.OutputSize), output, 1e-6f, $"step {t}");
        }
        Numeric.AssertClose(expectedFinal, model.State, 1e-6f, "final state");

        model.ResetState();
        Assert.All(model.State.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Token_Step_equals_token_Forward_with_head()
    {
        int[] tokens = { 3, 19, 0, 7, 7, 12 };
        var model = new StreamingGruTokens(5);
        var expected = new float[tokens.Length * StreamingGruTokens.OutputSize];
        model.Forward(tokens, expected);
        var output = new float[StreamingGruTokens.OutputSize];
        for (int t = 0; t < tokens.Length; t++)
        {
            model.Step(tokens[t], output);
            Numeric.AssertClose(expected.AsSpan(t * StreamingGruTokens.OutputSize, StreamingGruTokens.OutputSize), output, 1e-6f, $"step {t}");
        }
    }

    [Fact]
    public void Step_sees_weights_changed_through_Parameters_and_loads()
    {
        // Single-stream Step reads a transposed copy of the weights; every way of changing them must refresh it.
        var model = new StreamingGruTokens(1);
        var other = new StreamingGruTokens(2);
        var state = new float[StreamingGruTokens.StateSize];
        var output = new float[StreamingGruTokens.OutputSize];
        var expected = new float[StreamingGruTokens.OutputSize];
        model.Step(3, state, output); // builds the copy from seed 1's weights

        void AssertStepsLike(StreamingGruTokens reference, string what)
        {
            state.AsSpan().Clear();
            model.Step(4, state, output);
            var referenceState = new float[StreamingGruTokens.StateSize];
            reference.Step(4, referenceState, expected);
            Assert.True(expected.AsSpan().SequenceEqual(output), what);
        }

        other.Parameters.CopyTo(model.Parameters);
        AssertStepsLike(other, "after writing Parameters");

        var third = new StreamingGruTokens(3);
        third.Parameter("head.bias").CopyTo(model.Parameter("head.bias"));
        other.Parameter("head.bias").Fill(0f);
        third.Parameter("head.bias").Clear();
        model.Parameter("head.bias").Clear();
        AssertStepsLike(other, "after writing Parameter(name)");

        using var stream = new System.IO.MemoryStream();
        third.SaveSafetensors(stream);
        stream.Position = 0;
        model.LoadSafetensors(stream);
        AssertStepsLike(third, "after LoadSafetensors");

        model.ResetParameters(2);
        AssertStepsLike(new StreamingGruTokens(2), "after ResetParameters");
    }

    [Fact]
    public void Step_on_caller_owned_state_equals_Step_on_internal_state()
    {
        var model = new StreamingLstm(4);
        float[] input = RandomInput(5 * StreamingLstm.InputSize, 9);
        var agentA = new float[StreamingLstm.StateSize];
        var agentB = new float[StreamingLstm.StateSize];
        var outInternal = new float[StreamingLstm.OutputSize];
        var outA = new float[StreamingLstm.OutputSize];
        var outB = new float[StreamingLstm.OutputSize];
        for (int t = 0; t < 5; t++)
        {
            ReadOnlySpan<float> x = input.AsSpan(t * StreamingLstm.InputSize, StreamingLstm.InputSize);
            model.Step(x, outInternal);
            model.Step(x, agentA, outA);
            // Agent B sees the sequence reversed: independent state, same weights.
            model.Step(input.AsSpan((4 - t) * StreamingLstm.InputSize, StreamingLstm.InputSize), agentB, outB);
            Assert.Equal(outInternal, outA);
        }
        Assert.Equal(model.State.ToArray(), agentA);
        Assert.NotEqual(agentA, agentB);
    }

    [Fact]
    public void Consecutive_Steps_read_their_weight_blocks_in_either_order_with_identical_results()
    {
        // Single-stream Step walks its column blocks last to first on every other call (the blocks read last are still
        // in cache); each output's sum runs over the same terms in the same order either way, so two consecutive calls
        // from the same state agree bit for bit. Gate widths 256 (two blocks), 160 (a block and a remainder), bfloat16.
        static void Check(IVectorStreamingModel model, int seed)
        {
            float[] x = RandomInput(model.InputSize, seed);
            float[] start = RandomInput(model.StateSize, seed + 1);
            float[] first = (float[])start.Clone(), second = (float[])start.Clone();
            var outFirst = new float[model.OutputSize];
            var outSecond = new float[model.OutputSize];
            for (int call = 0; call < 3; call++)
            {
                start.CopyTo(first, 0);
                start.CopyTo(second, 0);
                model.Step(x, first, outFirst);
                model.Step(x, second, outSecond);
                Assert.Equal(outFirst, outSecond);
                Assert.Equal(first, second);
            }
            Assert.Contains(outFirst, v => v != 0f);
        }
        Check(new StreamingLstm(5), 21);
        Check(new HalfLstmTwin(5), 23);
        Check(new HalfLstm(5), 25);
    }

    [Fact]
    public void Golden_unidirectional_cases_stream_like_pytorch()
    {
        foreach (string name in GoldenCase.Names())
        {
            GoldenCase golden = GoldenCase.Load(name);
            IRecurrentModel model = ForwardParityTests.LoadModel(golden);
            if (model.NumDirections != 1) continue;
            float[] state = golden.HasInitialState ? golden.InitialState : new float[model.StateSize];
            var output = new float[model.OutputSize];
            float[] expected = golden["test.output"];
            for (int t = 0; t < golden.Steps; t++)
            {
                if (model is ITokenStreamingModel tokens) tokens.Step(golden.Tokens[t], state, output);
                else ((IVectorStreamingModel)model).Step(golden["test.input"].AsSpan(t * model.InputSize, model.InputSize), state, output);
                Numeric.AssertClose(expected.AsSpan(t * model.OutputSize, model.OutputSize), output, 1e-5f, $"{name} step {t}");
            }
            Numeric.AssertClose(golden.FinalState, state, 1e-5f, name + " final state");
        }
    }

    [Fact]
    public void Forward_and_Step_allocate_nothing_after_the_first_call()
    {
        var lstm = new StreamingLstm(1);
        var bi = new BiLstmHead(2);
        var gru = new StreamingGruTokens(3);
        float[] input = RandomInput(20 * StreamingLstm.InputSize, 4);
        float[] biInput = RandomInput(20 * BiLstmHead.InputSize, 5);
        int[] tokens = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
        var output = new float[20 * StreamingLstm.OutputSize];
        var biOutput = new float[20 * BiLstmHead.OutputSize];
        var gruOutput = new float[tokens.Length * StreamingGruTokens.OutputSize];
        var state = new float[StreamingLstm.StateSize];
        var biState = new float[BiLstmHead.StateSize];
        var stepOut = new float[StreamingLstm.OutputSize];
        var gruStep = new float[StreamingGruTokens.OutputSize];

        void Run()
        {
            lstm.Forward(input, output, state, state);
            bi.Forward(biInput, biOutput, biState, biState);
            gru.Forward(tokens, gruOutput);
            lstm.Step(input.AsSpan(0, StreamingLstm.InputSize), stepOut);
            lstm.Step(input.AsSpan(0, StreamingLstm.InputSize), state, stepOut);
            gru.Step(5, gruStep);
        }

        Allocations.AssertNone("Forward and Step", Run, 1000); // its warm-up call sizes the per-sequence buffers
    }

    [Fact]
    public void The_allocation_helpers_fail_code_that_allocates_every_call_and_pass_code_that_does_not()
    {
        var sink = new object[1];
        var error = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Allocations.AssertNone("new float[4]", () => sink[0] = new float[4], 10));
        Assert.Contains("every window of 10 warm calls allocated", error.Message);
        error = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Allocations.AssertNoneOnce("new float[4]", () => { }, () => sink[0] = new float[4]));
        Assert.Contains("every try allocated", error.Message);
        var values = new float[4];
        Allocations.AssertNone("a loop over an array", () => values[0] += 1f, 10);
        Allocations.AssertNoneOnce("a loop over an array", () => values[1] = 0f, () => values[1] += 1f);
    }

    [Fact]
    public void Reserve_makes_even_the_first_Forward_allocation_free()
    {
        float[] input = RandomInput(32 * BiLstmHead.InputSize, 8);
        var output = new float[32 * BiLstmHead.OutputSize];
        // Process-wide one-time costs (JIT of the fully optimized kernels, static initialization in the runtime and the
        // BCL) belong to the first model of a type, not to this instance's buffers: pay them with another instance.
        new BiLstmHead(1).Forward(input, output);
        BiLstmHead model = null!;
        Allocations.AssertNoneOnce("the first Forward after Reserve", () =>
        {
            model = new BiLstmHead(7);
            model.Reserve(32);
        }, () => model.Forward(input, output));
    }

    [Fact]
    public void Seeds_are_deterministic_and_initialization_follows_pytorch_bounds()
    {
        var a = new BiLstmHead(42);
        var b = new BiLstmHead(42);
        var c = new BiLstmHead(43);
        Assert.Equal(a.Parameters.ToArray(), b.Parameters.ToArray());
        Assert.NotEqual(a.Parameters.ToArray(), c.Parameters.ToArray());
        Assert.Equal(new BiLstmHead(0).Parameters.ToArray(), new BiLstmHead().Parameters.ToArray());

        float rnnBound = 1f / MathF.Sqrt(BiLstmHead.HiddenSize);
        foreach (TensorInfo t in BiLstmHead.Tensors)
        {
            float bound = t.Name.StartsWith("head.", StringComparison.Ordinal) ? 1f / MathF.Sqrt(2 * BiLstmHead.HiddenSize) : rnnBound;
            float[] values = a.Parameter(t.Name).ToArray();
            Assert.All(values, v => Assert.InRange(v, -bound, bound));
            Assert.True(values.Length < 8 || Array.Exists(values, v => Math.Abs(v) > bound / 2), $"{t.Name} looks unfilled");
        }

        float[] embedding = new StreamingGruTokens(1).Parameter("embedding.weight").ToArray();
        double mean = 0, variance = 0;
        foreach (float v in embedding) mean += v;
        mean /= embedding.Length;
        foreach (float v in embedding) variance += (v - mean) * (v - mean);
        variance /= embedding.Length;
        Assert.InRange(mean, -0.25, 0.25); // 160 samples of N(0, 1)
        Assert.InRange(variance, 0.6, 1.5);
    }

    [Fact]
    public void Constants_describe_the_network()
    {
        Assert.Equal(16, BiLstmHead.InputSize);
        Assert.Equal(24, BiLstmHead.HiddenSize);
        Assert.Equal(2, BiLstmHead.NumLayers);
        Assert.Equal(2, BiLstmHead.NumDirections);
        Assert.Equal(5, BiLstmHead.OutputSize);
        Assert.Equal(2 * 2 * 24 * 2, BiLstmHead.StateSize);
        int expected = 0;
        foreach (TensorInfo t in BiLstmHead.Tensors)
        {
            Assert.Equal(expected, t.Offset);
            expected += t.Length;
        }
        Assert.Equal(BiLstmHead.ParameterCount, expected);
        Assert.Equal(BiLstmHead.ParameterCount, new BiLstmHead().Parameters.Length);
        Assert.Equal(
            new[] { "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0",
                    "rnn.weight_ih_l0_reverse", "rnn.weight_hh_l0_reverse", "rnn.bias_ih_l0_reverse", "rnn.bias_hh_l0_reverse",
                    "rnn.weight_ih_l1", "rnn.weight_hh_l1", "rnn.bias_ih_l1", "rnn.bias_hh_l1",
                    "rnn.weight_ih_l1_reverse", "rnn.weight_hh_l1_reverse", "rnn.bias_ih_l1_reverse", "rnn.bias_hh_l1_reverse",
                    "head.weight", "head.bias" },
            Array.ConvertAll(System.Linq.Enumerable.ToArray(BiLstmHead.Tensors), t => t.Name));
        Assert.Equal(new[] { 96, 48 }, System.Linq.Enumerable.ToArray(BiLstmHead.Tensors[12].Shape));
    }
}
