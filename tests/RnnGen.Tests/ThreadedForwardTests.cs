using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Threading;
using RnnGen.CompilerServices;
using RnnGen.Tests.BatchGolden;
using Xunit;

namespace RnnGen.Tests;

/// <summary>
/// Run on their own, after the other tests: these keep both cores busy with worker threads, and the allocation tests of
/// other classes measure short windows on their own threads.
/// </summary>
[CollectionDefinition(nameof(ThreadedCollection), DisableParallelization = true)]
public sealed class ThreadedCollection { }

/// <summary>
/// Threaded batch Forward and multi-agent Step (<c>Threads</c> above 1): the same bits as one thread for every kind of
/// model, batch and length mix, with states aliased; no allocation; bad input; and the worker threads themselves.
/// </summary>
[Collection(nameof(ThreadedCollection))]
public class ThreadedForwardTests
{
    internal static readonly string[] ModelNames = BatchGoldenModels.ByCase.Keys.Concat(new[] { "wide", "agent_gru", "batched_bi_lstm" }).ToArray();

    public static TheoryData<string> Models() => new(ModelNames);

    internal static IRecurrentModel Create(string name) => name switch
    {
        "wide" => new WideLstm(),
        "agent_gru" => new AgentGru(),
        "batched_bi_lstm" => new BatchedBiLstm(),
        _ => BatchGoldenModels.ByCase[name](),
    };

    internal static int MinSteps(IRecurrentModel model) =>
        (int)model.GetType().GetField("ThreadedMinSteps", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;

    /// <summary>Runs a batch Forward with states in and out (the same array when <paramref name="aliased"/>).</summary>
    private static (float[] Output, float[] State) Run(IRecurrentModel model, int steps, int batch, int[] lengths, Random random, bool aliased)
    {
        var output = new float[steps * batch * model.OutputSize];
        output.AsSpan().Fill(float.NaN); // padded positions must be written (zeros) too
        var initial = new float[batch * model.StateSize];
        for (int i = 0; i < initial.Length; i++) initial[i] = (float)(random.NextDouble() - 0.5);
        float[] final = aliased ? initial : new float[batch * model.StateSize];
        if (model is ITokenSequenceModel tokens)
        {
            int[] ids = Enumerable.Range(0, steps * batch).Select(_ => random.Next(model.VocabularySize)).ToArray();
            tokens.Forward(ids, batch, lengths, output, initial, final);
        }
        else
        {
            var input = new float[steps * batch * model.InputSize];
            for (int i = 0; i < input.Length; i++) input[i] = (float)(random.NextDouble() * 2 - 1);
            ((IVectorSequenceModel)model).Forward(input, batch, lengths, output, initial, final);
        }
        return (output, final);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Threaded_forward_gives_the_same_bits_as_one_thread(string name)
    {
        IRecurrentModel single = Create(name), threaded = Create(name);
        Assert.Equal(1, threaded.Threads);
        single.Parameters.CopyTo(threaded.Parameters);
        int minSteps = MinSteps(threaded);
        foreach (int threads in new[] { 2, 3, 5 })
        {
            threaded.Threads = threads;
            Assert.Equal(threads, threaded.Threads);
            foreach (int batch in new[] { 1, 2, 3, 7, 23 }) // batch 1: a bidirectional model still runs its directions apart
            {
                foreach (bool aliased in new[] { false, true })
                {
                    // Enough steps that the batch is split even when every sequence is short.
                    int steps = Math.Max(4, 2 * ((minSteps + batch - 1) / batch));
                    var random = new Random(batch * 31 + threads);
                    int[] lengths = Enumerable.Range(0, batch).Select(b => b == 1 ? steps : random.Next(steps / 2, steps + 1)).ToArray();
                    if (batch == 1) lengths = new[] { steps };
                    if (batch == 7) lengths = Array.Empty<int>(); // every sequence complete
                    (float[] expectedOutput, float[] expectedState) = Run(single, steps, batch, lengths, new Random(5), aliased);
                    (float[] output, float[] state) = Run(threaded, steps, batch, lengths, new Random(5), aliased);
                    string what = $"{name}, {threads} threads, batch {batch}, {steps} steps{(aliased ? ", states aliased" : "")}";
                    Assert.True(expectedOutput.AsSpan().SequenceEqual(output), what + ": outputs differ from one thread's");
                    Assert.True(expectedState.AsSpan().SequenceEqual(state), what + ": final states differ from one thread's");
                    Assert.DoesNotContain(float.NaN, output);
                }
            }
        }
        threaded.Threads = 1;
        Assert.Equal(1, threaded.Threads);
        (float[] afterOutput, _) = Run(threaded, 40, 3, Array.Empty<int>(), new Random(9), false);
        (float[] singleOutput, _) = Run(single, 40, 3, Array.Empty<int>(), new Random(9), false);
        Assert.True(singleOutput.AsSpan().SequenceEqual(afterOutput), name + ": back to one thread");
    }

    public static TheoryData<string> UnidirectionalModels() =>
        new(ModelNames.Where(name => Create(name).NumDirections == 1));

    [Theory]
    [MemberData(nameof(UnidirectionalModels))]
    public void Threaded_multi_agent_step_gives_the_same_bits_as_one_thread(string name)
    {
        IRecurrentModel single = Create(name), threaded = Create(name);
        single.Parameters.CopyTo(threaded.Parameters);
        int minSteps = MinSteps(threaded);
        foreach (int threads in new[] { 2, 3 })
        {
            threaded.Threads = threads;
            foreach (int agents in new[] { Math.Max(2, minSteps), minSteps + 7 })
            {
                var random = new Random(agents + threads);
                var state = new float[agents * single.StateSize];
                for (int i = 0; i < state.Length; i++) state[i] = (float)(random.NextDouble() - 0.5);
                float[] threadedState = (float[])state.Clone();
                var output = new float[agents * single.OutputSize];
                var threadedOutput = new float[agents * single.OutputSize];
                for (int step = 0; step < 3; step++)
                {
                    if (single is ITokenSequenceModel)
                    {
                        int[] tokens = Enumerable.Range(0, agents).Select(_ => random.Next(single.VocabularySize)).ToArray();
                        Step(single, tokens, state, output);
                        Step(threaded, tokens, threadedState, threadedOutput);
                    }
                    else
                    {
                        var x = new float[agents * single.InputSize];
                        for (int i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
                        Step(single, x, agents, state, output);
                        Step(threaded, x, agents, threadedState, threadedOutput);
                    }
                    string what = $"{name}, {threads} threads, {agents} agents, step {step}";
                    Assert.True(output.AsSpan().SequenceEqual(threadedOutput), what + ": outputs differ from one thread's");
                    Assert.True(state.AsSpan().SequenceEqual(threadedState), what + ": states differ from one thread's");
                }
            }
        }
        threaded.Threads = 1;
    }

    /// <summary>The generated multi-agent Step (not on the interfaces), called through the concrete type.</summary>
    private static void Step(IRecurrentModel model, float[] x, int agents, float[] state, float[] output)
    {
        switch (model)
        {
            case RnnUni m: m.Step(x, agents, state, output); break;
            case RnnFull m: m.Step(x, agents, state, output); break;
            case LstmUni m: m.Step(x, agents, state, output); break;
            case LstmFull m: m.Step(x, agents, state, output); break;
            case GruUni m: m.Step(x, agents, state, output); break;
            case GruFull m: m.Step(x, agents, state, output); break;
            case WideLstm m: m.Step(x, agents, state, output); break;
            case AgentGru m: m.Step(x, agents, state, output); break;
            default: throw new InvalidOperationException(model.GetType().Name + ": add it to the multi-agent Step switch.");
        }
    }

    private static void Step(IRecurrentModel model, int[] tokens, float[] state, float[] output)
    {
        switch (model)
        {
            case RnnTokensHead m: m.Step(tokens, state, output); break;
            case LstmTokensHead m: m.Step(tokens, state, output); break;
            case GruTokensHead m: m.Step(tokens, state, output); break;
            default: throw new InvalidOperationException(model.GetType().Name + ": add it to the token Step switch.");
        }
    }

    [Fact]
    public void Threaded_multi_agent_step_allocates_nothing_on_the_calling_thread()
    {
        var model = new AgentGru { Threads = 2 };
        int agents = Math.Max(64, AgentGru.ThreadedMinSteps);
        model.Reserve(1, agents);
        var x = new float[agents * AgentGru.InputSize];
        new Rng(4).FillUniform(x, -1, 1);
        var state = new float[agents * AgentGru.StateSize];
        var output = new float[agents * AgentGru.OutputSize];
        Allocations.AssertNone("threaded multi-agent Step", () => model.Step(x, agents, state, output), 5);
    }

    [Fact]
    public void Threaded_forward_matches_pytorch_packed_sequences()
    {
        // A golden case run threaded: the batch is below ThreadedMinSteps, so it runs on one thread and must
        // still match; then the same weights on a split batch match the one-thread path (above), which PyTorch checks.
        GoldenCase golden = GoldenCase.Load("lstm_bi_init", "batch");
        var model = new LstmBiInit { Threads = 2 };
        model.LoadSafetensors(System.IO.File.OpenRead(golden.FixturePath), new SafetensorsOptions { Prefix = "model." });
        var output = new float[golden["test.output"].Length];
        var final = new float[golden.Batch * LstmBiInit.StateSize];
        model.Forward(golden["test.input"], golden.Batch, golden.Lengths, output, golden.InitialState, final);
        Numeric.AssertClose(golden["test.output"], output, 1e-5f, "threaded output");
        Numeric.AssertClose(golden.FinalState, final, 1e-5f, "threaded final state");
    }

    [Fact]
    public void Threaded_forward_allocates_nothing_on_the_calling_thread()
    {
        var model = new WideLstm { Threads = 2 };
        const int steps = 30, batch = 9;
        Assert.True(steps * batch >= WideLstm.ThreadedMinSteps);
        model.Reserve(steps, batch);
        var input = new float[steps * batch * WideLstm.InputSize];
        new Rng(3).FillUniform(input, -1, 1);
        var output = new float[steps * batch * WideLstm.OutputSize];
        var state = new float[batch * WideLstm.StateSize];
        int[] lengths = { 30, 12, 30, 7, 29, 1, 30, 18, 25 };
        Allocations.AssertNone("threaded Forward", () => model.Forward(input, batch, lengths, output, state, state), 5);
    }

    [Fact]
    public void Threaded_bidirectional_forward_allocates_nothing_on_the_calling_thread()
    {
        // Threads 2: the two directions of each layer run at the same time, at batch 1 too.
        var model = new BatchedBiLstm { Threads = 2 };
        int steps = Math.Max(40, BatchedBiLstm.ThreadedMinSteps);
        model.Reserve(steps, 3);
        int[] tokens = Enumerable.Range(0, steps * 3).Select(i => i % BatchedBiLstm.VocabularySize).ToArray();
        var output = new float[steps * 3 * BatchedBiLstm.OutputSize];
        var state = new float[3 * BatchedBiLstm.StateSize];
        void Run()
        {
            model.Forward(tokens.AsSpan(0, steps), output.AsSpan(0, steps * BatchedBiLstm.OutputSize), state.AsSpan(0, BatchedBiLstm.StateSize), state.AsSpan(0, BatchedBiLstm.StateSize));
            model.Forward(tokens, 3, default, output, state, state);
        }
        Allocations.AssertNone("threaded bidirectional Forward", Run, 3);
        model.Threads = 1;
    }

    [Fact]
    public void A_threaded_model_left_behind_is_collected()
    {
        // The worker threads must not keep the model (or its WorkerThreads) alive: its finalizer stops them.
        WeakReference model = CreateAndUseThreadedModel();
        for (int i = 0; i < 3 && model.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.False(model.IsAlive, "a model with Threads = 2 was still alive after it was dropped");
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference CreateAndUseThreadedModel()
    {
        var model = new WideLstm { Threads = 2 };
        var input = new float[8 * 4 * WideLstm.InputSize];
        model.Forward(input, 4, default, new float[8 * 4 * WideLstm.OutputSize]);
        model.Step(new float[64 * WideLstm.InputSize], 64, new float[64 * WideLstm.StateSize], new float[64 * WideLstm.OutputSize]);
        return new WeakReference(model);
    }

    [Fact]
    public void Threads_out_of_range_throws_and_keeps_the_setting()
    {
        var model = new LstmUni { Threads = 3 };
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Threads = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Threads = 65);
        Assert.Equal(3, model.Threads);
        model.Threads = 1;
    }

    [Fact]
    public void A_bad_token_throws_before_any_output_is_written()
    {
        var model = new LstmTokensHead { Threads = 2 };
        int steps = Math.Max(8, LstmTokensHead.ThreadedMinSteps);
        const int batch = 4;
        int[] tokens = Enumerable.Range(0, steps * batch).Select(i => i % LstmTokensHead.VocabularySize).ToArray();
        tokens[(steps - 1) * batch + 3] = LstmTokensHead.VocabularySize; // last step of the last sequence
        var output = new float[steps * batch * LstmTokensHead.OutputSize];
        output.AsSpan().Fill(42f);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward(tokens, batch, default, output));
        Assert.Contains($"step {steps - 1} of sequence 3", e.Message);
        Assert.All(output, v => Assert.Equal(42f, v));
        model.Threads = 1;
    }

    private sealed class Recorder : IPartitionedForward<float>
    {
        public readonly int[] ThreadOfPart = new int[4];
        public readonly long[] AllocatedAtStart = new long[4];
        public readonly Thread?[] ThreadObjects = new Thread?[4];
        public int ThrowInPart = -1;
        public int GatedPart = -1;
        public volatile bool Open;

        public void RunPart(int part, ReadOnlySpan<float> input, Span<float> output, ReadOnlySpan<float> initialState, Span<float> finalState)
        {
            // Thread.CurrentThread allocates on its first use on a thread (152 B): before the counter is read, so the
            // warm-up call pays it.
            ThreadObjects[part] = Thread.CurrentThread;
            ThreadOfPart[part] = Environment.CurrentManagedThreadId;
            AllocatedAtStart[part] = GC.GetAllocatedBytesForCurrentThread();
            if (part == ThrowInPart) throw new InvalidOperationException("part " + part + " failed");
            while (part == GatedPart && !Open) Thread.SpinWait(20); // held until the test opens the gate
            // Each part writes its own quarter: input + part into output, the states' lengths into finalState.
            int n = output.Length / 4;
            for (int i = part * n; i < (part + 1) * n; i++) output[i] = input[i] + part;
            finalState[part] = initialState.Length;
        }
    }

    [Fact]
    public void Worker_threads_run_every_part_once_on_different_threads_and_allocate_nothing()
    {
        using var workers = new WorkerThreads(4);
        Assert.Equal(4, workers.Count);
        var work = new Recorder();
        var input = Enumerable.Range(0, 64).Select(i => (float)i).ToArray();
        var output = new float[64];
        var state = new float[4];
        workers.Run(work, 4, input, output, new float[7], state);
        for (int i = 0; i < 64; i++) Assert.Equal(i + i / 16, output[i]);
        Assert.Equal(new float[] { 7, 7, 7, 7 }, state);
        Assert.Equal(Environment.CurrentManagedThreadId, work.ThreadOfPart[0]);
        Assert.Equal(4, work.ThreadOfPart.Distinct().Count());

        // Each worker thread's allocation counter is the same at the start of the next call's part: the wait, hand-over
        // and countdown between the two allocate nothing (nor does the caller's side of a call).
        // Both waits are made to block (not only spin), by conditions, not by time: part 2 is held until the calling
        // thread is blocked in its wait for it (a helper thread watches), and before the next call every worker is
        // blocked in its wait for work.
        // A try allocates nothing when neither the caller nor any worker does; up to three tries, as in
        // Allocations.AssertNone (a one-off runtime allocation charged to a thread shows in one try only).
        Thread caller = Thread.CurrentThread;
        string GatedTry()
        {
            var armed = new ManualResetEventSlim(false);
            var helper = new Thread(() =>
            {
                armed.Wait();
                while ((caller.ThreadState & ThreadState.WaitSleepJoin) == 0) Thread.Yield();
                work.Open = true;
            });
            helper.Start();
            work.Open = false;
            work.GatedPart = 2;
            long[] first = (long[])work.AllocatedAtStart.Clone();
            armed.Set(); // outside the window: waking the helper is the test's own cost
            long before = GC.GetAllocatedBytesForCurrentThread();
            workers.Run(work, 4, input, output, default, state);
            for (int part = 1; part < 4; part++)
            {
                while ((work.ThreadObjects[part]!.ThreadState & ThreadState.WaitSleepJoin) == 0) Thread.Yield();
            }
            work.GatedPart = -1;
            workers.Run(work, 4, input, output, default, state);
            long callerBytes = GC.GetAllocatedBytesForCurrentThread() - before;
            helper.Join();
            Assert.True(work.Open, "the gated part ran only after the caller blocked");
            var workerBytes = Enumerable.Range(1, 3).Select(part => work.AllocatedAtStart[part] - first[part]).ToArray();
            return callerBytes == 0 && workerBytes.All(b => b == 0) ? "" : $"caller {callerBytes} B, workers {string.Join("/", workerBytes)} B; ";
        }
        string tries = "";
        for (int attempt = 0; attempt < 3; attempt++)
        {
            string result = GatedTry();
            if (result.Length == 0) break;
            tries += result;
            Assert.True(attempt < 2, "every try allocated: " + tries);
        }

        // A second input type (a bidirectional token model runs int batches and float directions): allocated once (by
        // the helper's warm-up call), then calls of either type allocate nothing.
        var tokenWork = new TokenRecorder();
        Allocations.AssertNone("calls of two input types", () =>
        {
            workers.Run(work, 4, input, output, default, state);
            workers.Run(tokenWork, 2, new ReadOnlySpan<int>(Array.Empty<int>()), output, default, state);
        }, 2);

        // Fewer parts than threads.
        Array.Clear(work.ThreadOfPart);
        workers.Run(work, 2, input, output, default, state);
        Assert.Equal(2, work.ThreadOfPart.Count(id => id != 0));
    }

    private sealed class TokenRecorder : IPartitionedForward<int>
    {
        public void RunPart(int part, ReadOnlySpan<int> input, Span<float> output, ReadOnlySpan<float> initialState, Span<float> finalState) => finalState[part] = input.Length;
    }

    [Fact]
    public void Worker_threads_rethrow_a_part_failure_after_every_part_finished_and_stay_usable()
    {
        using var workers = new WorkerThreads(3);
        var work = new Recorder { ThrowInPart = 2 };
        var output = new float[12];
        var e = Assert.Throws<InvalidOperationException>(() => workers.Run(work, 3, new float[12], output, default, new float[4]));
        Assert.Equal("part 2 failed", e.Message);
        work.ThrowInPart = -1;
        workers.Run(work, 3, Enumerable.Repeat(1f, 12).ToArray(), output, default, new float[4]);
        Assert.Equal(new float[] { 1, 1, 1, 2, 2, 2, 3, 3, 3, 0, 0, 0 }, output);
    }

    [Fact]
    public void Worker_threads_check_their_arguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerThreads(0));
        // The half-built instance is finalized too: its finalizer must not fail (it would take the process down).
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var workers = new WorkerThreads(2);
        var work = new Recorder();
        Assert.Throws<ArgumentOutOfRangeException>(() => workers.Run(work, 3, new float[4], new float[4], default, new float[4]));
        Assert.Throws<ArgumentOutOfRangeException>(() => workers.Run(work, 0, new float[4], new float[4], default, new float[4]));
        Assert.Throws<ArgumentNullException>(() => workers.Run<float>(null!, 1, new float[4], new float[4], default, new float[4]));
        workers.Dispose();
        Assert.Throws<ObjectDisposedException>(() => workers.Run(work, 2, new float[4], new float[4], default, new float[4]));
    }

    [Fact]
    public void Packed_sequence_parts_deal_the_sorted_sequences_out_and_keep_the_whole_batch_stride()
    {
        var whole = new PackedSequences();
        whole.Set(5, 5, new[] { 2, 5, 3, 5, 1 });
        Assert.Equal(new[] { 1, 3, 2, 0, 4 }, whole.Order.ToArray());
        var part = new PackedSequences();
        part.SetPart(whole, 1, 2);
        Assert.Equal(new[] { 3, 0 }, part.Order.ToArray()); // sorted positions 1 and 3
        Assert.Equal(2, part.Batch);
        Assert.Equal(5, part.PaddedBatch);
        Assert.False(part.IsDense);
        Assert.Equal(5 + 2, part.Rows);
        Assert.Equal(2, part.BatchSize(1));
        Assert.Equal(1, part.BatchSize(2));

        // Scatter writes only the part's own sequences (values at their steps, zeros after their end).
        var padded = new float[5 * 5];
        padded.AsSpan().Fill(-1f);
        var packed = Enumerable.Range(1, part.Rows).Select(i => (float)i).ToArray();
        part.Scatter(packed, 1, false, padded);
        for (int t = 0; t < 5; t++)
        {
            for (int b = 0; b < 5; b++)
            {
                float value = padded[t * 5 + b];
                if (b == 3) Assert.Equal(part.Offset(t) + 1, value);
                else if (b == 0) Assert.Equal(t < 2 ? part.Offset(t) + 2 : 0f, value);
                else Assert.Equal(-1f, value);
            }
        }
        var state = new float[2 * 5];
        part.ScatterState(new float[] { 10, 20 }, 1, 1, state);
        Assert.Equal(new float[] { 0, 0, 0, 0, 0, 20, 0, 0, 10, 0 }, state);
        Assert.Throws<ArgumentOutOfRangeException>(() => part.SetPart(whole, 2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => part.SetPart(whole, 0, 6));
    }

    [Fact]
    public void Part_starts_cut_a_length_into_nearly_equal_runs_at_multiples()
    {
        int[] Starts(int length, int parts, int multiple) => Enumerable.Range(0, parts + 1).Select(p => WorkerThreads.PartStart(length, p, parts, multiple)).ToArray();
        Assert.Equal(new[] { 0, 3, 7 }, Starts(7, 2, 1));
        Assert.Equal(new[] { 0, 2, 4, 7 }, Starts(7, 3, 1));
        Assert.Equal(new[] { 0, 1024, 2048 }, Starts(2048, 2, 1));
        Assert.Equal(new[] { 0, 32, 65 }, Starts(65, 2, 4)); // dW_head's 65 rows: whole quads, the rest to the last part
        Assert.Equal(new[] { 0, 340, 680, 1024 }, Starts(1024, 3, 4));
        Assert.Equal(new[] { 0, 0, 7 }, Starts(7, 2, 4)); // fewer rows than two quads: the first run is empty
        Assert.Equal(new[] { 0, 0, 1, 1, 2 }, Starts(2, 4, 1));
        Assert.Equal(0, WorkerThreads.PartStart(int.MaxValue, 0, 3));
        Assert.Equal(715827882, WorkerThreads.PartStart(int.MaxValue, 1, 3)); // no overflow
        Assert.Throws<ArgumentOutOfRangeException>(() => WorkerThreads.PartStart(-1, 0, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => WorkerThreads.PartStart(4, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => WorkerThreads.PartStart(4, 0, 2, 0));
    }

    [Fact]
    public void Sequence_runs_cut_the_length_order_where_the_rows_split_most_evenly()
    {
        var layout = new PackedSequences();
        layout.Set(5, 5, new[] { 2, 5, 3, 5, 1 }); // sorted lengths 5, 5, 3, 2, 1: 16 rows
        int[] Cuts(int parts) => Enumerable.Range(0, parts + 1).Select(p => layout.SequencePartStart(p, parts)).ToArray();
        Assert.Equal(new[] { 0, 5 }, Cuts(1));
        Assert.Equal(new[] { 0, 2, 5 }, Cuts(2)); // 10 | 6 rows (the cut after one sequence, 5 | 11, is further from 8)
        Assert.Equal(new[] { 0, 1, 2, 5 }, Cuts(3)); // 5 | 5 | 6
        Assert.Equal(new[] { 0, 1, 2, 3, 5 }, Cuts(4)); // 5 | 5 | 3 | 3
        Assert.Equal(new[] { 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 5 }, Cuts(10)); // more parts than sequences: some runs are empty
        layout.Set(4, 6, default); // equal lengths: equal counts
        Assert.Equal(new[] { 0, 3, 6 }, Enumerable.Range(0, 3).Select(p => layout.SequencePartStart(p, 2)).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => layout.SequencePartStart(3, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => layout.SequencePartStart(-1, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => layout.SequencePartStart(0, 0));
    }
}
