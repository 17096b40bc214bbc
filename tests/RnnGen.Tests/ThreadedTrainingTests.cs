using System;
using System.Linq;
using System.Reflection;
using RnnGen.Tests.BatchGolden;
using Xunit;

namespace RnnGen.Tests;

/// <summary>Large enough that one step is worth a hand-over (ThreadedMinSteps = 1).</summary>
[RecurrentModel(Cell = CellKind.Lstm, Input = 96, Hidden = 160, Bidirectional = true)]
public partial class OneStepBiLstm { }

/// <summary>BatchedBiLstm's one-direction twin: a token model whose trainer runs in parts of the batch.</summary>
[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = 12, Input = 5, Hidden = 9, Layers = 2, Output = 4)]
public partial class BatchedLstm { }

/// <summary>
/// A trainer with the model's <c>Threads</c> above 1 runs in parts: a bidirectional model runs each layer's two
/// directions at the same time, a unidirectional one each layer's steps in parts of the sequences and its weight
/// products in parts of their rows, in Forward and in Backward. The same bits as one thread for every output and
/// gradient, and no allocation.
/// </summary>
[Collection(nameof(ThreadedCollection))]
public class ThreadedTrainingTests
{
    public static TheoryData<string> Models() => new(ThreadedForwardTests.ModelNames);

    private static IRecurrentModel Create(string name) => ThreadedForwardTests.Create(name);

    private static int MinSteps(IRecurrentModel model) => ThreadedForwardTests.MinSteps(model);

    /// <summary>Everything one training pass produces.</summary>
    private sealed record Pass(float[] Output, float[] FinalState, float[] Gradients, float[] InputGrad, float[] InitialStateGrad);

    /// <summary>One Forward and Backward from zeroed gradients; the inputs depend only on <paramref name="seed"/>.</summary>
    private static Pass Train(IRecurrentModel model, ITrainer trainer, int steps, int batch, int[] lengths, int seed, bool inputGrad)
    {
        var random = new Random(seed);
        float Next() => (float)(random.NextDouble() * 2 - 1);
        model.ZeroGradients();
        var output = new float[steps * batch * model.OutputSize];
        var initial = Enumerable.Range(0, batch * model.StateSize).Select(_ => Next() * 0.5f).ToArray();
        var final = new float[batch * model.StateSize];
        if (trainer is ITokenTrainer tokens)
        {
            int[] ids = Enumerable.Range(0, steps * batch).Select(_ => random.Next(model.VocabularySize)).ToArray();
            tokens.Forward(ids, batch, lengths, output, initial, final);
        }
        else
        {
            float[] input = Enumerable.Range(0, steps * batch * model.InputSize).Select(_ => Next()).ToArray();
            ((IVectorTrainer)trainer).Forward(input, batch, lengths, output, initial, final);
        }
        float[] dy = Enumerable.Range(0, output.Length).Select(_ => Next()).ToArray();
        float[] dFinal = Enumerable.Range(0, final.Length).Select(_ => Next()).ToArray();
        var dx = inputGrad ? new float[steps * batch * model.InputSize] : Array.Empty<float>();
        var dInitial = new float[initial.Length];
        trainer.Backward(dy, dx, dFinal, dInitial);
        return new Pass(output, final, model.Gradients.ToArray(), dx, dInitial);
    }

    private static void AssertSameBits(Pass expected, Pass actual, string what)
    {
        void Same(float[] e, float[] a, string part)
        {
            Assert.Equal(e.Length, a.Length);
            for (int i = 0; i < e.Length; i++)
            {
                if (BitConverter.SingleToInt32Bits(e[i]) != BitConverter.SingleToInt32Bits(a[i]))
                    Assert.Fail($"{what}: {part}[{i}] is {a[i]:R} threaded, {e[i]:R} on one thread");
            }
        }
        Same(expected.Output, actual.Output, "output");
        Same(expected.FinalState, actual.FinalState, "final state");
        Same(expected.Gradients, actual.Gradients, "gradients");
        Same(expected.InputGrad, actual.InputGrad, "input gradient");
        Same(expected.InitialStateGrad, actual.InitialStateGrad, "initial state gradient");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Threaded_training_gives_the_same_bits_as_one_thread(string name)
    {
        IRecurrentModel single = Create(name), threaded = Create(name);
        single.Parameters.CopyTo(threaded.Parameters);
        int minSteps = MinSteps(threaded);
        foreach (int threads in new[] { 2, 3, 4 })
        {
            threaded.Threads = threads;
            foreach (int batch in new[] { 1, 3, 7 })
            {
                int steps = Math.Max(4, 2 * ((minSteps + batch - 1) / batch)); // enough valid steps to run apart
                var random = new Random(batch * 17 + threads);
                int[] lengths = Enumerable.Range(0, batch).Select(i => i == 0 ? steps : random.Next(steps / 2, steps + 1)).ToArray();
                ITrainer one = single.CreateTrainer(steps, batch), apart = threaded.CreateTrainer(steps, batch);
                foreach (bool inputGrad in new[] { false, true }) // token models: the aggregated embedding path, then per row
                {
                    int seed = batch * 100 + threads * 10 + (inputGrad ? 1 : 0);
                    // New weights for every pass (as an optimizer step would make): a weight copy left stale by a
                    // threaded Forward or Backward would show.
                    Span<float> weights = single.Parameters;
                    for (int i = 0; i < weights.Length; i++) weights[i] += 1e-3f * ((i * 7 + seed) % 13 - 6);
                    weights.CopyTo(threaded.Parameters);
                    Pass expected = Train(single, one, steps, batch, lengths, seed, inputGrad);
                    Pass actual = Train(threaded, apart, steps, batch, lengths, seed, inputGrad);
                    AssertSameBits(expected, actual, $"{name}, {threads} threads, batch {batch}, inputGrad {inputGrad}");
                }
                // The backward did run in parts (the runner is created by the first threaded Backward).
                if (batch > 1) Assert.NotNull(apart.GetType().GetField("_runner", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(apart));
            }
        }
        threaded.Threads = 1;
    }

    [Fact]
    public void A_single_step_runs_apart_and_gives_the_same_bits()
    {
        // One row in all: the input gradient's halves are 0 and 1 rows.
        Assert.Equal(1, OneStepBiLstm.ThreadedMinSteps);
        IRecurrentModel single = new OneStepBiLstm(), threaded = new OneStepBiLstm { Threads = 2 };
        single.Parameters.CopyTo(threaded.Parameters);
        foreach (int steps in new[] { 1, 2, 3 })
        {
            ITrainer one = single.CreateTrainer(steps), apart = threaded.CreateTrainer(steps);
            AssertSameBits(Train(single, one, steps, 1, new[] { steps }, steps, true), Train(threaded, apart, steps, 1, new[] { steps }, steps, true), $"{steps} steps");
        }
        threaded.Threads = 1;
    }

    [Fact]
    public void A_trainer_created_before_threads_were_set_allocates_the_reverse_buffers_once_and_matches_on_one_thread_or_two()
    {
        IRecurrentModel single = new BatchedBiLstm(), threaded = new BatchedBiLstm();
        single.Parameters.CopyTo(threaded.Parameters);
        int steps = Math.Max(8, BatchedBiLstm.ThreadedMinSteps);
        int[] lengths = { steps, steps - 3 };
        ITrainer one = single.CreateTrainer(steps, 2), late = threaded.CreateTrainer(steps, 2);
        FieldInfo reverse = late.GetType().GetField("_buffersReverse", BindingFlags.NonPublic | BindingFlags.Instance)!;
        Assert.Null(reverse.GetValue(late));
        threaded.Threads = 2;
        AssertSameBits(Train(single, one, steps, 2, lengths, 5, true), Train(threaded, late, steps, 2, lengths, 5, true), "late threads");
        object? buffers = reverse.GetValue(late);
        Assert.NotNull(buffers); // the directions did run apart
        Train(threaded, late, steps, 2, lengths, 6, false);
        Assert.Same(buffers, reverse.GetValue(late));
        // Back on one thread, the trainer keeps its own reverse buffers: the shared sums then run on the caller alone.
        threaded.Threads = 1;
        foreach (bool inputGrad in new[] { false, true })
        {
            AssertSameBits(Train(single, one, steps, 2, lengths, 7, inputGrad), Train(threaded, late, steps, 2, lengths, 7, inputGrad), $"one thread, own buffers, inputGrad {inputGrad}");
        }
        Assert.Same(buffers, reverse.GetValue(late));
    }

    [Fact]
    public void A_unidirectional_trainer_created_before_threads_were_set_allocates_its_part_scratch_once()
    {
        IRecurrentModel single = new BatchedLstm(), threaded = new BatchedLstm();
        single.Parameters.CopyTo(threaded.Parameters);
        int steps = Math.Max(8, BatchedLstm.ThreadedMinSteps);
        int[] lengths = { steps, steps - 3, 2 };
        ITrainer one = single.CreateTrainer(steps, 3), late = threaded.CreateTrainer(steps, 3);
        FieldInfo scratch = late.GetType().GetField("_partScratch", BindingFlags.NonPublic | BindingFlags.Instance)!;
        Assert.Empty((float[][])scratch.GetValue(late)!);
        threaded.Threads = 3;
        AssertSameBits(Train(single, one, steps, 3, lengths, 5, true), Train(threaded, late, steps, 3, lengths, 5, true), "late threads");
        var parts = (float[][])scratch.GetValue(late)!;
        Assert.Equal(2, parts.Length); // parts 1 and 2 of a three-part backward
        Train(threaded, late, steps, 3, lengths, 6, false);
        Assert.Same(parts, scratch.GetValue(late));
        threaded.Threads = 1;
        AssertSameBits(Train(single, one, steps, 3, lengths, 7, true), Train(threaded, late, steps, 3, lengths, 7, true), "back on one thread");
    }

    [Theory]
    [InlineData(false)] // in parts of the batch
    [InlineData(true)] // directions apart
    public void Threaded_training_allocates_nothing_on_the_calling_thread(bool bidirectional)
    {
        IRecurrentModel model = bidirectional ? new BatchedBiLstm() : new BatchedLstm();
        model.Threads = 2;
        const int batch = 3;
        int steps = Math.Max(40, MinSteps(model));
        var trainer = (ITokenTrainer)model.CreateTrainer(steps, batch);
        int[] tokens = Enumerable.Range(0, steps * batch).Select(i => (i * 7) % model.VocabularySize).ToArray();
        int[] lengths = { steps, steps - 5, steps / 2 };
        var output = new float[steps * batch * model.OutputSize];
        var dy = new float[output.Length];
        new Rng(8).FillUniform(dy, -1, 1);
        var state = new float[batch * model.StateSize];
        var dState = new float[state.Length];
        var dFinal = new float[state.Length];
        var dx = new float[steps * batch * model.InputSize];
        void Pass()
        {
            trainer.Forward(tokens, batch, lengths, output, state, state);
            trainer.Backward(dy, default, default, dState); // aggregated token gradients
            trainer.Forward(tokens, batch, lengths, output, state, state);
            trainer.Backward(dy, dx, dFinal, dState); // input gradients, in parts of the rows
        }
        Allocations.AssertNone(bidirectional ? "threaded bidirectional training" : "threaded unidirectional training", Pass, calls: 3);
        model.Threads = 1;
    }
}
