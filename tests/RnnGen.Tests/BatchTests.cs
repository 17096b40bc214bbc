using System;
using System.Linq;
using RnnGen.Tests.BatchGolden;
using Xunit;

namespace RnnGen.Tests;

[RecurrentModel(Cell = CellKind.Gru, Input = 6, Hidden = 20, Layers = 2, Output = 3)]
public partial class AgentGru { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = 12, Input = 5, Hidden = 9, Layers = 2, Bidirectional = true, Output = 4)]
public partial class BatchedBiLstm { }

/// <summary>Wide enough that the generated matrix products block the inner dimension (300 and 288 &gt; 256) and rows (&gt; 48).</summary>
[RecurrentModel(Cell = CellKind.Lstm, Input = 300, Hidden = 72, Output = 21)]
public partial class WideLstm { }

/// <summary>Batches of unequal lengths against PyTorch's packed sequences, against batch-1 calls, multi-agent Step, bad input, allocations.</summary>
public class BatchTests
{
    private const string Folder = "batch";

    public static TheoryData<string> Cases() => GoldenCase.All(Folder);

    private static IRecurrentModel LoadModel(GoldenCase golden)
    {
        IRecurrentModel model = BatchGoldenModels.ByCase[golden.Name]();
        model.LoadSafetensors(System.IO.File.OpenRead(golden.FixturePath), new SafetensorsOptions { Prefix = "model." });
        return model;
    }

    private static float[] Concat(GoldenCase golden, string h, string c) => golden.IsLstm ? golden[h].Concat(golden[c]).ToArray() : golden[h];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Batched_forward_matches_pytorch_packed_sequences(string name)
    {
        GoldenCase golden = GoldenCase.Load(name, Folder);
        IRecurrentModel model = LoadModel(golden);
        var output = new float[golden["test.output"].Length];
        var finalState = new float[golden.Batch * model.StateSize];
        float[] initial = golden.HasInitialState ? Concat(golden, "test.h0", "test.c0") : Array.Empty<float>();
        if (model is ITokenSequenceModel tokens) tokens.Forward(golden.Tokens, golden.Batch, golden.Lengths, output, initial, finalState);
        else ((IVectorSequenceModel)model).Forward(golden["test.input"], golden.Batch, golden.Lengths, output, initial, finalState);
        Numeric.AssertClose(golden["test.output"], output, 1e-5f, name + " output");
        Numeric.AssertClose(Concat(golden, "test.hn", "test.cn"), finalState, 1e-5f, name + " final state");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Batched_backward_matches_pytorch_gradients(string name)
    {
        // Without inputGrad a token model sums its layer-0 gate gradients per distinct token first: same gradients.
        foreach ((bool withFinal, bool withInput) in new[] { (false, true), (true, true), (false, false) })
        {
            GoldenCase golden = GoldenCase.Load(name, Folder);
            IRecurrentModel model = LoadModel(golden);
            ITrainer trainer = model.CreateTrainer(maxSteps: golden.Steps, maxBatch: golden.Batch);
            var output = new float[golden["test.output"].Length];
            float[] initial = golden.HasInitialState ? Concat(golden, "test.h0", "test.c0") : Array.Empty<float>();
            if (trainer is ITokenTrainer tokens) tokens.Forward(golden.Tokens, golden.Batch, golden.Lengths, output, initial, default);
            else ((IVectorTrainer)trainer).Forward(golden["test.input"], golden.Batch, golden.Lengths, output, initial, default);
            Numeric.AssertClose(golden["test.output"], output, 1e-5f, name + " trainer output");

            var inputGrad = withInput ? new float[golden.Steps * golden.Batch * model.InputSize] : Array.Empty<float>();
            var initialGrad = new float[golden.Batch * model.StateSize];
            float[] finalGrad = withFinal ? Concat(golden, "test.dhn", "test.dcn") : Array.Empty<float>();
            trainer.Backward(golden["test.dy"], inputGrad, finalGrad, initialGrad);

            string prefix = withFinal ? "grad2." : "grad.";
            string variant = withInput ? prefix : prefix + " (no inputGrad) ";
            foreach (TensorInfo tensor in model.TensorTable)
            {
                Numeric.AssertClose(golden[prefix + tensor.Name], model.Gradient(tensor.Name), 1e-4f, $"{name} {variant}{tensor.Name}");
            }
            if (withInput && golden.Has(prefix + "input")) Numeric.AssertClose(golden[prefix + "input"], inputGrad, 1e-4f, $"{name} {prefix}input");
            if (golden.HasInitialState) Numeric.AssertClose(Concat(golden, prefix + "h0", prefix + "c0"), initialGrad, 1e-4f, $"{name} {prefix}initial state");
        }
    }

    /// <summary>The batch cases a unidirectional model can stream (Step exists only for those).</summary>
    public static TheoryData<string> UnidirectionalCases()
    {
        var data = new TheoryData<string>();
        foreach (string name in GoldenCase.Names(Folder))
        {
            if (BatchGoldenModels.ByCase[name]().NumDirections == 1) data.Add(name);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(UnidirectionalCases))]
    public void Multi_agent_step_matches_pytorch_packed_sequences(string name)
    {
        // One agent per sequence. At step t the agents whose sequence is longer than t step together, gathered into one
        // multi-agent Step call, so every agent's outputs and final state are PyTorch's for its own sequence.
        GoldenCase golden = GoldenCase.Load(name, Folder);
        IRecurrentModel model = LoadModel(golden);
        int batch = golden.Batch, h = model.HiddenSize, stateSize = model.StateSize, inSize = model.InputSize, outSize = model.OutputSize;
        int rows = stateSize / h;

        // Batch state layout: row r of sequence b at (r * batch + b) * h. Agent layout: agent b's StateSize floats in turn.
        float[] batchInitial = golden.HasInitialState ? Concat(golden, "test.h0", "test.c0") : new float[batch * stateSize];
        var states = new float[batch * stateSize];
        for (int b = 0; b < batch; b++)
        {
            for (int r = 0; r < rows; r++) Array.Copy(batchInitial, (r * batch + b) * h, states, b * stateSize + r * h, h);
        }

        float[] expected = golden["test.output"];
        for (int t = 0; t < golden.Steps; t++)
        {
            int[] running = Enumerable.Range(0, batch).Where(b => golden.Lengths[b] > t).ToArray();
            int n = running.Length;
            var state = new float[n * stateSize];
            var output = new float[n * outSize];
            for (int i = 0; i < n; i++) Array.Copy(states, running[i] * stateSize, state, i * stateSize, stateSize);
            if (model is ITokenStreamingModel tokens)
            {
                int[] all = golden.Tokens;
                tokens.Step(running.Select(b => all[t * batch + b]).ToArray(), state, output);
            }
            else
            {
                float[] input = golden["test.input"];
                var x = new float[n * inSize];
                for (int i = 0; i < n; i++) Array.Copy(input, (t * batch + running[i]) * inSize, x, i * inSize, inSize);
                ((IVectorStreamingModel)model).Step(x, n, state, output);
            }
            for (int i = 0; i < n; i++)
            {
                int b = running[i];
                Numeric.AssertClose(expected.AsSpan((t * batch + b) * outSize, outSize), output.AsSpan(i * outSize, outSize), 1e-5f, $"{name} sequence {b} step {t}");
                Array.Copy(state, i * stateSize, states, b * stateSize, stateSize);
            }
        }

        float[] expectedFinal = Concat(golden, "test.hn", "test.cn");
        for (int b = 0; b < batch; b++)
        {
            for (int r = 0; r < rows; r++)
            {
                Numeric.AssertClose(expectedFinal.AsSpan((r * batch + b) * h, h), states.AsSpan(b * stateSize + r * h, h), 1e-5f, $"{name} sequence {b} final state row {r}");
            }
        }
    }

    [Fact]
    public void A_batch_equals_one_call_per_sequence()
    {
        // Outputs, final states and summed gradients of a batch of B equal B batch-1 calls on the same sequences.
        var model = new BatchedBiLstm(5);
        const int steps = 7, batch = 4;
        int[] lengths = { 2, 7, 5, 1 };
        var rng = new Rng(9);
        var tokens = new int[steps * batch];
        for (int i = 0; i < tokens.Length; i++) tokens[i] = rng.NextInt(BatchedBiLstm.VocabularySize);
        var initial = new float[batch * BatchedBiLstm.StateSize];
        rng.FillUniform(initial, -0.5f, 0.5f);
        var dy = new float[steps * batch * BatchedBiLstm.OutputSize];
        rng.FillUniform(dy, -1f, 1f);
        int stateRows = BatchedBiLstm.NumLayers * BatchedBiLstm.NumDirections * (BatchedBiLstm.StateSize / (BatchedBiLstm.NumLayers * BatchedBiLstm.NumDirections * BatchedBiLstm.HiddenSize));
        const int h = BatchedBiLstm.HiddenSize;

        var batched = model.CreateTrainer(steps, batch);
        var output = new float[dy.Length];
        var final = new float[initial.Length];
        batched.Forward(tokens, batch, lengths, output, initial, final);
        model.ZeroGradients();
        var initialGrad = new float[initial.Length];
        batched.Backward(dy, default, default, initialGrad);
        float[] batchGradients = model.Gradients.ToArray();

        var single = model.CreateTrainer(steps);
        model.ZeroGradients();
        for (int b = 0; b < batch; b++)
        {
            int length = lengths[b];
            var seq = new int[length];
            var seqDy = new float[length * BatchedBiLstm.OutputSize];
            for (int t = 0; t < length; t++)
            {
                seq[t] = tokens[t * batch + b];
                Array.Copy(dy, (t * batch + b) * BatchedBiLstm.OutputSize, seqDy, t * BatchedBiLstm.OutputSize, BatchedBiLstm.OutputSize);
            }
            // State rows of sequence b: h rows then c rows, each [stateRows, batch, hidden].
            var seqInitial = new float[BatchedBiLstm.StateSize];
            for (int r = 0; r < stateRows; r++) Array.Copy(initial, (r * batch + b) * h, seqInitial, r * h, h);
            var seqOutput = new float[seqDy.Length];
            var seqFinal = new float[BatchedBiLstm.StateSize];
            single.Forward(seq, seqOutput, seqInitial, seqFinal);
            var seqInitialGrad = new float[BatchedBiLstm.StateSize];
            single.Backward(seqDy, default, default, seqInitialGrad);
            for (int t = 0; t < steps; t++)
            {
                ReadOnlySpan<float> got = output.AsSpan((t * batch + b) * BatchedBiLstm.OutputSize, BatchedBiLstm.OutputSize);
                if (t < length) Numeric.AssertClose(seqOutput.AsSpan(t * BatchedBiLstm.OutputSize, BatchedBiLstm.OutputSize), got, 1e-5f, $"sequence {b} step {t}");
                else Assert.All(got.ToArray(), v => Assert.Equal(0f, v));
            }
            for (int r = 0; r < stateRows; r++)
            {
                Numeric.AssertClose(seqFinal.AsSpan(r * h, h), final.AsSpan((r * batch + b) * h, h), 1e-5f, $"sequence {b} final state row {r}");
                Numeric.AssertClose(seqInitialGrad.AsSpan(r * h, h), initialGrad.AsSpan((r * batch + b) * h, h), 1e-5f, $"sequence {b} initial state gradient row {r}");
            }
        }
        Numeric.AssertClose(model.Gradients.ToArray(), batchGradients, 1e-5f, "summed gradients");
    }

    [Fact]
    public void Blocked_matrix_products_match_step_by_step_for_every_row_remainder()
    {
        // 61 sequences of lengths 1..9: the running rows per step take many values (every remainder of the 6-row register
        // tile), the input projection has more rows than one row block, and the inner dimensions exceed one inner block.
        // Step runs the separate matrix-vector kernel, so this checks every path of the blocked products against it, and
        // the batch's gradients against one trainer call per sequence (single rows).
        var model = new WideLstm(11);
        const int steps = 9, batch = 61, input = WideLstm.InputSize, outSize = WideLstm.OutputSize;
        var lengths = new int[batch];
        for (int b = 0; b < batch; b++) lengths[b] = 1 + (b * 7 + b / 9) % steps;
        var rng = new Rng(17);
        var x = new float[steps * batch * input];
        rng.FillUniform(x, -1f, 1f);
        var output = new float[steps * batch * outSize];
        model.Forward(x, batch, lengths, output);

        var dy = new float[output.Length];
        rng.FillUniform(dy, -1f, 1f);
        var trainer = model.CreateTrainer(steps, batch);
        var trained = new float[output.Length];
        trainer.Forward(x, batch, lengths, trained);
        Numeric.AssertClose(output, trained, 1e-6f, "trainer forward");
        model.ZeroGradients();
        var inputGrad = new float[x.Length];
        trainer.Backward(dy, inputGrad);
        float[] batchGradients = model.Gradients.ToArray();

        var single = model.CreateTrainer(steps);
        model.ZeroGradients();
        var state = new float[WideLstm.StateSize];
        var stepOut = new float[outSize];
        for (int b = 0; b < batch; b++)
        {
            int length = lengths[b];
            var seq = new float[length * input];
            var seqDy = new float[length * outSize];
            Array.Clear(state);
            for (int t = 0; t < length; t++)
            {
                Array.Copy(x, (t * batch + b) * input, seq, t * input, input);
                Array.Copy(dy, (t * batch + b) * outSize, seqDy, t * outSize, outSize);
                model.Step(seq.AsSpan(t * input, input), state, stepOut);
                Numeric.AssertClose(stepOut, output.AsSpan((t * batch + b) * outSize, outSize), 1e-5f, $"sequence {b} step {t}");
            }
            var seqOut = new float[seqDy.Length];
            single.Forward(seq, seqOut);
            var seqInputGrad = new float[seq.Length];
            single.Backward(seqDy, seqInputGrad);
            for (int t = 0; t < length; t++)
            {
                Numeric.AssertClose(seqInputGrad.AsSpan(t * input, input), inputGrad.AsSpan((t * batch + b) * input, input), 1e-5f, $"sequence {b} input gradient step {t}");
            }
        }
        Numeric.AssertClose(model.Gradients.ToArray(), batchGradients, 2e-4f, "summed gradients");
    }

    [Fact]
    public void Multi_agent_step_equals_per_agent_step()
    {
        var model = new AgentGru(3);
        const int agents = 37;
        var rng = new Rng(4);
        var together = new float[agents * AgentGru.StateSize];
        rng.FillUniform(together, -0.5f, 0.5f);
        float[] separate = (float[])together.Clone();
        var x = new float[agents * AgentGru.InputSize];
        var outTogether = new float[agents * AgentGru.OutputSize];
        var outSeparate = new float[agents * AgentGru.OutputSize];
        for (int frame = 0; frame < 5; frame++)
        {
            rng.FillUniform(x, -1f, 1f);
            model.Step(x, agents, together, outTogether);
            for (int i = 0; i < agents; i++)
            {
                model.Step(x.AsSpan(i * AgentGru.InputSize, AgentGru.InputSize), separate.AsSpan(i * AgentGru.StateSize, AgentGru.StateSize), outSeparate.AsSpan(i * AgentGru.OutputSize, AgentGru.OutputSize));
            }
            Numeric.AssertClose(outSeparate, outTogether, 1e-6f, $"frame {frame} outputs");
            Numeric.AssertClose(separate, together, 1e-6f, $"frame {frame} states");
        }
    }

    [Fact]
    public void Token_multi_agent_step_equals_per_agent_step()
    {
        var model = new Golden.LstmTokensHead();
        int[] tokens = { 3, 0, 10, 7, 7 };
        var together = new float[tokens.Length * Golden.LstmTokensHead.StateSize];
        var separate = new float[together.Length];
        var outTogether = new float[tokens.Length * Golden.LstmTokensHead.OutputSize];
        var outSeparate = new float[outTogether.Length];
        for (int frame = 0; frame < 3; frame++)
        {
            model.Step(tokens, together, outTogether);
            for (int i = 0; i < tokens.Length; i++)
            {
                model.Step(tokens[i], separate.AsSpan(i * Golden.LstmTokensHead.StateSize, Golden.LstmTokensHead.StateSize), outSeparate.AsSpan(i * Golden.LstmTokensHead.OutputSize, Golden.LstmTokensHead.OutputSize));
            }
            Numeric.AssertClose(outSeparate, outTogether, 1e-6f, $"frame {frame}");
        }
    }

    [Fact]
    public void Bad_batches_are_rejected_clearly()
    {
        var model = new BatchedBiLstm();
        var tokens = new int[3 * 2];
        var output = new float[3 * 2 * BatchedBiLstm.OutputSize];
        void Rejects(string parameter, string fragment, Action action)
        {
            ArgumentException ex = Assert.ThrowsAny<ArgumentException>(action);
            Assert.Equal(parameter, ex.ParamName);
            Assert.Contains(fragment, ex.Message);
        }
        Rejects("lengths", "lengths[1] is 4; expected 1 to 3", () => model.Forward(tokens, 2, new[] { 3, 4 }, output));
        Rejects("lengths", "lengths[0] is 0", () => model.Forward(tokens, 2, new[] { 0, 3 }, output));
        Rejects("lengths", "lengths[1] is -2", () => model.Forward(tokens, 2, new[] { 3, -2 }, output));
        Rejects("lengths", "lengths has 3 entries; expected 2", () => model.Forward(tokens, 2, new[] { 3, 3, 3 }, output));
        Rejects("output", "expected 24", () => model.Forward(tokens, 2, new[] { 3, 1 }, new float[47]));
        Rejects("tokens", "multiple of batch (4)", () => model.Forward(tokens, 4, default, new float[24]));
        Rejects("initialState", "expected " + (2 * BatchedBiLstm.StateSize), () => model.Forward(tokens, 2, default, output, new float[BatchedBiLstm.StateSize], default));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward(tokens, 0, default, output));
        var badToken = Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward(new[] { 1, 2, 12, 3, 4, 5 }, 2, default, output));
        Assert.Contains("step 1 of sequence 0", badToken.Message);
        // A bad id at a padded position is never read.
        model.Forward(new[] { 1, 2, 3, -1, 4, -1 }, 2, new[] { 3, 1 }, output);

        var trainer = model.CreateTrainer(maxSteps: 3, maxBatch: 2);
        Rejects("batch", "batch is 3; this trainer was created for at most 2", () => trainer.Forward(new int[9], 3, default, new float[9 * BatchedBiLstm.OutputSize]));
        Rejects("tokens", "at most 3", () => trainer.Forward(new int[8], 2, default, new float[8 * BatchedBiLstm.OutputSize]));
        trainer.Forward(tokens, 2, new[] { 2, 3 }, output);
        Rejects("outputGrad", "expected 24", () => trainer.Backward(new float[12], default));
        Rejects("initialStateGrad", "expected " + (2 * BatchedBiLstm.StateSize), () => trainer.Backward(new float[24], default, default, new float[BatchedBiLstm.StateSize]));

        var agents = new AgentGru();
        Rejects("state", "expected " + (3 * AgentGru.StateSize), () => agents.Step(new float[3 * AgentGru.InputSize], 3, new float[AgentGru.StateSize], new float[3 * AgentGru.OutputSize]));
        Rejects("x", "expected " + (3 * AgentGru.InputSize), () => agents.Step(new float[AgentGru.InputSize], 3, new float[3 * AgentGru.StateSize], new float[3 * AgentGru.OutputSize]));
    }

    [Fact]
    public void Batched_forward_backward_and_agent_step_allocate_nothing()
    {
        var model = new BatchedBiLstm(1);
        var agents = new AgentGru(2);
        const int steps = 9, batch = 6;
        int[] lengths = { 9, 3, 7, 1, 9, 5 };
        var tokens = new int[steps * batch];
        var output = new float[steps * batch * BatchedBiLstm.OutputSize];
        var dy = new float[output.Length];
        new Rng(1).FillUniform(dy, -1f, 1f);
        var state = new float[batch * BatchedBiLstm.StateSize];
        var stateGrad = new float[state.Length];
        var trainer = model.CreateTrainer(steps, batch);
        var adam = new Adam(BatchedBiLstm.ParameterCount);
        var agentX = new float[64 * AgentGru.InputSize];
        var agentState = new float[64 * AgentGru.StateSize];
        var agentOut = new float[64 * AgentGru.OutputSize];

        void Run()
        {
            model.Forward(tokens, batch, lengths, output, state, state);
            trainer.Forward(tokens, batch, lengths, output, state, default);
            trainer.Backward(dy, default, default, stateGrad);
            adam.Step(model.Parameters, model.Gradients);
            model.ZeroGradients();
            agents.Step(agentX, 64, agentState, agentOut);
        }

        Allocations.AssertNone("batched Forward, Backward and agent Step", Run, 200);
    }
}
