using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using RnnGen.CompilerServices;
using Xunit;

namespace RnnGen.Tests;

[RecurrentModel(Cell = CellKind.Lstm, Input = 5, Hidden = 7, Layers = 3, Dropout = 0.3f)]
public partial class DropoutLstm3 { }

[RecurrentModel(Cell = CellKind.Lstm, Input = 5, Hidden = 7, Layers = 3)]
public partial class PlainLstm3 { }

[RecurrentModel(Cell = CellKind.Gru, Input = 4, Hidden = 5, Layers = 2, Bidirectional = true, Dropout = 0.4f)]
public partial class DropoutGru2Bi { }

[RecurrentModel(Cell = CellKind.Gru, Input = 4, Hidden = 5, Layers = 2, Bidirectional = true)]
public partial class PlainGru2Bi { }

[RecurrentModel(Cell = CellKind.Rnn, Input = 2, Hidden = 64, Layers = 2, Dropout = 0.3f)]
public partial class WideDropoutRnn { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = 11, Input = 4, Hidden = 6, Layers = 3, Bidirectional = true, Dropout = 0.5f, Output = 5, BatchFirst = true)]
public partial class DropoutTokenTagger { }

/// <summary>
/// Dropout between layers (RecurrentModel.Dropout, PyTorch's nn.LSTM(dropout=p)): inference ignores it; a trainer's
/// Forward and Backward with a given mask match PyTorch (tests/golden/make_dropout_golden.py); the masks it draws keep
/// 1 − p of the elements, scaled by 1/(1 − p), reproducibly from the seed; no allocation per step; Threads 2 gives the
/// same bits as Threads 1.
/// </summary>
public class DropoutTests
{
    private const float Tolerance = 1e-4f;

    private static float[] Random(int count, int seed, float scale = 1f)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale).ToArray();
    }

    [Fact]
    public void Inference_equals_the_same_weights_without_dropout()
    {
        var dropout = new DropoutLstm3();
        var plain = new PlainLstm3();
        dropout.Parameters.CopyTo(plain.Parameters);
        int steps = 6, batch = 3;
        int[] lengths = { 6, 2, 4 };
        float[] input = Random(steps * batch * DropoutLstm3.InputSize, 1);
        float[] initial = Random(batch * DropoutLstm3.StateSize, 2, 0.5f);
        var expected = new float[steps * batch * PlainLstm3.OutputSize];
        var actual = new float[expected.Length];
        var expectedFinal = new float[batch * PlainLstm3.StateSize];
        var actualFinal = new float[expectedFinal.Length];
        plain.Forward(input, batch, lengths, expected, initial, expectedFinal);
        dropout.Forward(input, batch, lengths, actual, initial, actualFinal);
        Assert.Equal(expected, actual);
        Assert.Equal(expectedFinal, actualFinal);

        // Step (single stream) too.
        float[] stateA = Random(PlainLstm3.StateSize, 3), stateB = (float[])stateA.Clone();
        var outA = new float[PlainLstm3.OutputSize];
        var outB = new float[PlainLstm3.OutputSize];
        for (int t = 0; t < 4; t++)
        {
            float[] x = Random(PlainLstm3.InputSize, 10 + t);
            plain.Step(x, stateA, outA);
            dropout.Step(x, stateB, outB);
            Assert.Equal(outA, outB);
        }
        Assert.Equal(stateA, stateB);

        // Bidirectional GRU.
        var gru = new DropoutGru2Bi();
        var gruPlain = new PlainGru2Bi();
        gru.Parameters.CopyTo(gruPlain.Parameters);
        float[] gruInput = Random(steps * batch * DropoutGru2Bi.InputSize, 4);
        var gruExpected = new float[steps * batch * DropoutGru2Bi.OutputSize];
        var gruActual = new float[gruExpected.Length];
        gruPlain.Forward(gruInput, batch, lengths, gruExpected, default, default);
        gru.Forward(gruInput, batch, lengths, gruActual, default, default);
        Assert.Equal(gruExpected, gruActual);
    }

    [Fact]
    public void The_trainer_drops_and_with_every_element_kept_computes_inference()
    {
        var model = new DropoutLstm3();
        int steps = 6, batch = 3;
        int[] lengths = { 6, 2, 4 };
        float[] input = Random(steps * batch * DropoutLstm3.InputSize, 5);
        var inference = new float[steps * batch * DropoutLstm3.OutputSize];
        model.Forward(input, batch, lengths, inference, default, default);

        DropoutLstm3.Trainer trainer = model.CreateTrainer(steps, batch);
        var trained = new float[inference.Length];
        trainer.Forward(input, batch, lengths, trained, default, default);
        Assert.NotEqual(inference, trained); // the masks changed layers 1 and 2's inputs

        // All kept: every mask element is 1/(1 - p), so the layers see their inputs scaled, not inference's ...
        trainer.SetDropoutMasks(Enumerable.Repeat(1f, 2 * steps * batch * 7).ToArray());
        trainer.Forward(input, batch, lengths, trained, default, default);
        float scale = Kernels.DropoutScale(DropoutLstm3.DropoutProbability);
        Assert.All(trainer.DropoutMask(0).ToArray().Concat(trainer.DropoutMask(1).ToArray()), m => Assert.Equal(scale, m));
        Assert.Equal(12 * 7, trainer.DropoutMask(0).Length); // the valid steps only (6 + 2 + 4 rows)
        Assert.NotEqual(inference, trained);
    }

    // ---- PyTorch fixtures ---------------------------------------------------------------------------------------

    public static TheoryData<string> Cases() => GoldenCase.All("dropout");

    private static IRecurrentModel Create(string cell) => cell == "lstm" ? new DropoutLstm3() : new DropoutGru2Bi();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_and_gradients_match_pytorch_with_the_same_mask(string name)
    {
        GoldenCase golden = GoldenCase.Load(name, "dropout");
        bool lstm = golden.IsLstm;
        IRecurrentModel model = Create(lstm ? "lstm" : "gru");
        using (FileStream stream = File.OpenRead(golden.FixturePath)) model.LoadSafetensors(stream, new SafetensorsOptions { Prefix = "model." });
        int steps = golden.Steps, batch = golden.Batch;
        ITrainer trainer = model.CreateTrainer(steps, batch);
        switch (trainer)
        {
            case DropoutLstm3.Trainer t: t.SetDropoutMasks(golden["test.keep"]); break;
            case DropoutGru2Bi.Trainer t: t.SetDropoutMasks(golden["test.keep"]); break;
        }
        float[] initial = Interleave(golden, lstm ? new[] { "test.h0", "test.c0" } : new[] { "test.h0" });
        var output = new float[steps * batch * model.OutputSize];
        var final = new float[batch * model.StateSize];
        ((IVectorTrainer)trainer).Forward(golden["test.input"], batch, golden.Lengths, output, initial, final);
        Numeric.AssertClose(golden["test.output"], output, Tolerance, name + " output");
        Numeric.AssertClose(Interleave(golden, lstm ? new[] { "test.hn", "test.cn" } : new[] { "test.hn" }), final, Tolerance, name + " final state");

        model.ZeroGradients();
        var inputGrad = new float[steps * batch * model.InputSize];
        var initialGrad = new float[initial.Length];
        trainer.Backward(golden["test.dy"], inputGrad, Interleave(golden, lstm ? new[] { "test.dhn", "test.dcn" } : new[] { "test.dhn" }), initialGrad);
        foreach (TensorInfo tensor in model.TensorTable)
        {
            Numeric.AssertClose(golden["grad." + tensor.Name], model.Gradient(tensor.Name), Tolerance, $"{name} d{tensor.Name}");
        }
        Numeric.AssertClose(golden["grad.input"], inputGrad, Tolerance, name + " dinput");
        Numeric.AssertClose(Interleave(golden, lstm ? new[] { "grad.h0", "grad.c0" } : new[] { "grad.h0" }), initialGrad, Tolerance, name + " dinitialState");
    }

    /// <summary>h then c, each [L·D, batch, H] as PyTorch's: the batched state layout (StateSize per sequence, h block then c block).</summary>
    private static float[] Interleave(GoldenCase golden, string[] names) => names.SelectMany(n => golden[n]).ToArray();

    /// <summary>
    /// A token model with a head, batch-first and bidirectional (masks given in [batch, steps, LayerWidth]): with a fixed
    /// mask, Backward's gradients are the loss's central differences.
    /// </summary>
    [Fact]
    public void Token_batch_first_gradients_match_finite_differences_with_a_fixed_mask()
    {
        var model = new DropoutTokenTagger(seed: 3);
        int steps = 5, batch = 2;
        int[] lengths = { 3, 5 };
        var random = new Random(9);
        int[] tokens = Enumerable.Range(0, steps * batch).Select(_ => random.Next(11)).ToArray();
        float[] keep = Enumerable.Range(0, 2 * batch * steps * 12).Select(_ => random.NextDouble() < 0.5 ? 0f : 1f).ToArray();
        float[] dy = Random(steps * batch * DropoutTokenTagger.OutputSize, 10);
        DropoutTokenTagger.Trainer trainer = model.CreateTrainer(steps, batch);
        var output = new float[dy.Length];
        double Loss()
        {
            trainer.SetDropoutMasks(keep);
            trainer.Forward(tokens, batch, lengths, output, default, default);
            return output.Zip(dy, (o, d) => (double)o * d).Sum();
        }
        Loss();
        // The flags were read batch-first and packed: step by step, sequences by decreasing length (1 then 0), valid steps only.
        float scale = Kernels.DropoutScale(DropoutTokenTagger.DropoutProbability);
        for (int layer = 0; layer < 2; layer++)
        {
            var expected = new System.Collections.Generic.List<float>();
            for (int t = 0; t < steps; t++)
            {
                foreach (int b in new[] { 1, 0 })
                {
                    if (t < lengths[b]) expected.AddRange(keep.Skip(((layer * batch + b) * steps + t) * 12).Take(12).Select(f => f * scale));
                }
            }
            Assert.Equal(expected.ToArray(), trainer.DropoutMask(layer).ToArray());
        }
        model.ZeroGradients();
        trainer.Backward(dy, default);
        float[] analytic = model.Gradients.ToArray();
        int checkedCount = 0;
        foreach (string name in new[] { "embedding.weight", "rnn.weight_ih_l0", "rnn.weight_hh_l0_reverse", "rnn.weight_ih_l1", "rnn.bias_hh_l1_reverse", "rnn.weight_ih_l2" })
        {
            TensorInfo tensor = ((IRecurrentModel)model).TensorTable.Single(t => t.Name == name);
            for (int k = 0; k < tensor.Length; k += Math.Max(1, tensor.Length / 7))
            {
                int i = tensor.Offset + k;
                float saved = model.Parameters[i];
                const float h = 1e-2f;
                model.Parameters[i] = saved + h;
                double up = Loss();
                model.Parameters[i] = saved - h;
                double down = Loss();
                model.Parameters[i] = saved;
                double numeric = (up - down) / (2 * h);
                Assert.True(Math.Abs(numeric - analytic[i]) <= 2e-2 * Math.Max(1, Math.Abs(numeric)), $"{name}[{k}]: Backward {analytic[i]:R}, finite differences {numeric:R}");
                checkedCount++;
            }
        }
        Assert.True(checkedCount > 30);
    }

    // ---- the masks ----------------------------------------------------------------------------------------------

    /// <summary>One Forward of the wide model (50 steps × 32 sequences × 64 = 102400 mask elements); returns layer 0's mask.</summary>
    private static float[] Masks(WideDropoutRnn.Trainer trainer, int seedOfInput)
    {
        const int steps = 50, batch = 32;
        float[] input = Random(steps * batch * WideDropoutRnn.InputSize, seedOfInput);
        var output = new float[steps * batch * WideDropoutRnn.OutputSize];
        trainer.Forward(input, batch, default, output, default, default);
        return trainer.DropoutMask(0).ToArray();
    }

    [Fact]
    public void Masks_keep_one_minus_p_scaled_by_its_inverse()
    {
        var model = new WideDropoutRnn();
        WideDropoutRnn.Trainer trainer = model.CreateTrainer(50, 32);
        float[] mask = Masks(trainer, 1);
        Assert.Equal(50 * 32 * 64, mask.Length);
        float scale = (float)(1.0 / (1.0 - 0.3f));
        Assert.All(mask, m => Assert.True(m == 0f || m == scale, $"mask element {m:R}"));
        double kept = mask.Count(m => m != 0f) / (double)mask.Length;
        double sigma = Math.Sqrt(0.7 * 0.3 / mask.Length);
        Assert.InRange(kept, 0.7 - 5 * sigma, 0.7 + 5 * sigma);
        Assert.InRange(mask.Average(m => (double)m), 1 - 5 * sigma * scale, 1 + 5 * sigma * scale); // E[mask] = 1

        // The kernel alone, with another p.
        var direct = new float[100_000];
        Kernels.DropoutMask(new Rng(7), 0.5f, direct);
        double half = direct.Count(m => m != 0f) / (double)direct.Length, sigmaHalf = Math.Sqrt(0.25 / direct.Length);
        Assert.InRange(half, 0.5 - 5 * sigmaHalf, 0.5 + 5 * sigmaHalf);
        Assert.All(direct, m => Assert.True(m == 0f || m == 2f));
        Kernels.DropoutMask(new Rng(7), 0f, direct);
        Assert.All(direct, m => Assert.Equal(1f, m));
    }

    [Fact]
    public void Masks_follow_the_seed_and_change_every_step()
    {
        var model = new WideDropoutRnn();
        WideDropoutRnn.Trainer a = model.CreateTrainer(50, 32), b = model.CreateTrainer(50, 32);
        a.Seed = 42;
        b.Seed = 42;
        Assert.Equal(42, a.Seed);
        float[] a1 = Masks(a, 1), b1 = Masks(b, 2); // the input does not matter
        Assert.Equal(a1, b1);
        float[] a2 = Masks(a, 1);
        Assert.True(a1.Zip(a2, (x, y) => x != y).Count(d => d) > a1.Length / 4, "the next Forward draws new masks"); // ~42% differ

        b.Seed = 43;
        float[] other = Masks(b, 1);
        Assert.True(a1.Zip(other, (x, y) => x != y).Count(d => d) > a1.Length / 4, "another seed, other masks");

        b.Seed = 42; // restarts the generator
        Assert.Equal(a1, Masks(b, 3));
        Assert.Equal(a2, Masks(b, 3));

        // Layer-to-layer and default seed: a fresh trainer draws as Seed = 0.
        WideDropoutRnn.Trainer c = model.CreateTrainer(50, 32), d = model.CreateTrainer(50, 32);
        d.Seed = 0;
        Assert.Equal(Masks(c, 1), Masks(d, 1));
    }

    [Fact]
    public void Kernels_check_their_arguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.DropoutMask(new Rng(1), 1f, new float[4]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.DropoutMask(new Rng(1), -0.1f, new float[4]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.DropoutMask(new Rng(1), float.NaN, new float[4]));
        Assert.Throws<ArgumentException>(() => Kernels.ApplyDropout(new float[4], new float[3], new float[4]));
        Assert.Throws<ArgumentException>(() => Kernels.ApplyDropout(new float[4], new float[4], new float[5]));
        var y = new float[3];
        Kernels.ApplyDropout(new[] { 1f, 2f, 3f }, new[] { 0f, 2f, 0.5f }, y);
        Assert.Equal(new[] { 0f, 4f, 1.5f }, y);
    }

    [Fact]
    public void A_training_step_allocates_nothing()
    {
        var model = new DropoutGru2Bi();
        int steps = 6, batch = 3;
        int[] lengths = { 6, 2, 4 };
        DropoutGru2Bi.Trainer trainer = model.CreateTrainer(steps, batch);
        float[] input = Random(steps * batch * DropoutGru2Bi.InputSize, 1);
        var output = new float[steps * batch * DropoutGru2Bi.OutputSize];
        float[] dy = Random(output.Length, 2);
        var dx = new float[input.Length];
        Allocations.AssertNone("dropout training step (bidirectional GRU)", () =>
        {
            trainer.Forward(input, batch, lengths, output, default, default);
            trainer.Backward(dy, dx);
        }, calls: 3);

        var lstm = new DropoutLstm3();
        DropoutLstm3.Trainer lstmTrainer = lstm.CreateTrainer(steps, batch);
        float[] lstmInput = Random(steps * batch * DropoutLstm3.InputSize, 3);
        var lstmOutput = new float[steps * batch * DropoutLstm3.OutputSize];
        float[] lstmDy = Random(lstmOutput.Length, 4);
        Allocations.AssertNone("dropout training step (LSTM)", () =>
        {
            lstmTrainer.Forward(lstmInput, batch, lengths, lstmOutput, default, default);
            lstmTrainer.Backward(lstmDy, default);
        }, calls: 3);
    }
}

/// <summary>The trainer's Threads = 2 paths with dropout: the masks are drawn before any work is split, so the same bits as Threads = 1.</summary>
[Collection(nameof(ThreadedCollection))]
public class DropoutThreadedTests
{
    private static float[] Random(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    private static (float[] Output, float[] Gradients, float[] InputGrad) Pass(IRecurrentModel model, ITrainer trainer, int steps, int batch, int[] lengths)
    {
        model.ZeroGradients();
        float[] input = Random(steps * batch * model.InputSize, 1);
        var output = new float[steps * batch * model.OutputSize];
        ((IVectorTrainer)trainer).Forward(input, batch, lengths, output, default, default);
        var dx = new float[input.Length];
        trainer.Backward(Random(output.Length, 2), dx);
        return (output, model.Gradients.ToArray(), dx);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Two_threads_give_the_same_bits_as_one(bool bidirectional)
    {
        IRecurrentModel single = bidirectional ? new DropoutGru2Bi() : new DropoutLstm3();
        IRecurrentModel threaded = bidirectional ? new DropoutGru2Bi() : new DropoutLstm3();
        threaded.Threads = 2;
        single.Parameters.CopyTo(threaded.Parameters);
        int minSteps = bidirectional ? DropoutGru2Bi.ThreadedMinSteps : DropoutLstm3.ThreadedMinSteps;
        int batch = 4, steps = Math.Max(4, 2 * ((minSteps + batch - 1) / batch)); // enough rows to run in parts
        int[] lengths = { steps, steps - 1, steps / 2, steps };
        ITrainer one = single.CreateTrainer(steps, batch), two = threaded.CreateTrainer(steps, batch);
        for (int pass = 0; pass < 2; pass++) // the second pass draws new masks on both
        {
            var expected = Pass(single, one, steps, batch, lengths);
            var actual = Pass(threaded, two, steps, batch, lengths);
            Assert.Equal(expected.Output, actual.Output);
            Assert.Equal(expected.Gradients, actual.Gradients);
            Assert.Equal(expected.InputGrad, actual.InputGrad);
        }
        threaded.Threads = 1;
    }
}
