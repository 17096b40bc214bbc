using System;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace RnnGen;

/// <summary>
/// A Forward over a batch that can run in parts at the same time: generated models implement it (each part a slice of
/// the batch's sequences, see <see cref="PackedSequences.SetPart"/>) and <see cref="WorkerThreads"/> runs the parts.
/// </summary>
/// <typeparam name="TInput">float for vector inputs, int for token ids.</typeparam>
public interface IPartitionedForward<TInput> where TInput : unmanaged
{
    /// <summary>
    /// Runs part <paramref name="part"/> on the spans of the whole call. Called once per part, on different threads at
    /// the same time; a part reads and writes only its own sequences' positions.
    /// </summary>
    void RunPart(int part, ReadOnlySpan<TInput> input, Span<float> output, ReadOnlySpan<float> initialState, Span<float> finalState);
}

/// <summary>
/// A fixed group of threads that runs the parts of one call at the same time: part 0 on the calling thread, the others
/// on dedicated background threads that wait between calls. A call allocates nothing (after the first call for an input
/// type) and blocks until every part has finished, so the caller's spans stay valid while the parts use them. Not for
/// concurrent calls: one call at a time per instance. Created by a generated model when its <c>Threads</c> is set above
/// 1; the threads end when it is disposed, or when it is collected.
/// </summary>
public sealed class WorkerThreads : IDisposable
{
    private readonly Shared _shared;
    private object? _job, _otherJob; // one Job<TInput> per input type used (a bidirectional token model uses int and float)
    private int _busy;

    /// <summary>Starts <paramref name="threads"/> - 1 background threads (the caller is the other one).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is less than 1.</exception>
    public WorkerThreads(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "Expected at least 1 thread.");
        Count = threads;
        _shared = new Shared(threads - 1);
        for (int i = 0; i < threads - 1; i++)
        {
            var thread = new Thread(Worker.Loop) { IsBackground = true, Name = "RnnGen worker " + (i + 1) };
            thread.Start(new Worker(_shared, i));
        }
    }

    /// <summary>Parts a call can run at the same time, counting the calling thread.</summary>
    public int Count { get; }

    /// <summary>
    /// Where part <paramref name="part"/> starts when <paramref name="length"/> items (rows of a product, rows of a
    /// weight gradient) are cut into <paramref name="parts"/> nearly equal runs, each cut at a multiple of
    /// <paramref name="multiple"/>: 0 for part 0, <paramref name="length"/> for part = <paramref name="parts"/>.
    /// Part p covers [PartStart(p), PartStart(p + 1)); a run may be empty.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative, or <paramref name="parts"/> or <paramref name="multiple"/> is less than 1.</exception>
    public static int PartStart(int length, int part, int parts, int multiple = 1)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), length, "Expected a length of at least 0.");
        if (parts < 1) throw new ArgumentOutOfRangeException(nameof(parts), parts, "Expected at least 1 part.");
        if (multiple < 1) throw new ArgumentOutOfRangeException(nameof(multiple), multiple, "Expected a multiple of at least 1.");
        if (part <= 0) return 0;
        if (part >= parts) return length;
        int start = (int)((long)length * part / parts);
        return start - start % multiple;
    }

    /// <summary>
    /// Runs parts 0 to <paramref name="parts"/> - 1 of <paramref name="work"/> on these spans at the same time and
    /// returns when all have finished. If parts throw, the first exception is rethrown here after all have finished.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="parts"/> is not in [1, <see cref="Count"/>].</exception>
    /// <exception cref="ObjectDisposedException">The threads were stopped.</exception>
    /// <exception cref="InvalidOperationException">Another call is running on this instance.</exception>
    public unsafe void Run<TInput>(IPartitionedForward<TInput> work, int parts, ReadOnlySpan<TInput> input, Span<float> output, ReadOnlySpan<float> initialState, Span<float> finalState)
        where TInput : unmanaged
    {
        if (work is null) throw new ArgumentNullException(nameof(work));
        if (parts < 1 || parts > Count) throw new ArgumentOutOfRangeException(nameof(parts), parts, $"Expected 1 to {Count} parts (the threads).");
        if (_shared.Stopping) throw new ObjectDisposedException(nameof(WorkerThreads));
        if (Interlocked.Exchange(ref _busy, 1) != 0) throw new InvalidOperationException("WorkerThreads runs one call at a time; another call is running.");
        try
        {
            if (parts == 1)
            {
                work.RunPart(0, input, output, initialState, finalState);
                return;
            }
            var job = _job as Job<TInput> ?? _otherJob as Job<TInput>;
            if (job is null)
            {
                _otherJob = _job;
                _job = job = new Job<TInput>();
            }
            fixed (TInput* x = input)
            fixed (float* y = output, h0 = initialState, h1 = finalState)
            {
                job.Set(work, x, input.Length, y, output.Length, h0, initialState.Length, h1, finalState.Length);
                try
                {
                    _shared.Dispatch(job, parts);
                }
                finally
                {
                    job.Clear();
                }
            }
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>Stops the background threads (each finishes the part it is running first). Later calls throw.</summary>
    public void Dispose()
    {
        _shared.Stop();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// The threads reference only <see cref="Shared"/>, so an abandoned instance is collected and stops them here.
    /// (<see cref="_shared"/> is null when the constructor threw before setting it.)
    /// </summary>
    ~WorkerThreads() => _shared?.Stop();

    /// <summary>One call's work, type-erased for the worker threads.</summary>
    private abstract class Job
    {
        public abstract void Run(int part);
    }

    /// <summary>The spans of a call as pointers, valid while <see cref="Run{TInput}"/> keeps them pinned.</summary>
    private sealed unsafe class Job<TInput> : Job where TInput : unmanaged
    {
        private IPartitionedForward<TInput>? _work;
        private TInput* _input;
        private float* _output, _initial, _final;
        private int _inputLength, _outputLength, _initialLength, _finalLength;

        public void Set(IPartitionedForward<TInput> work, TInput* input, int inputLength, float* output, int outputLength, float* initial, int initialLength, float* final, int finalLength)
        {
            _work = work;
            _input = input;
            _inputLength = inputLength;
            _output = output;
            _outputLength = outputLength;
            _initial = initial;
            _initialLength = initialLength;
            _final = final;
            _finalLength = finalLength;
        }

        public void Clear()
        {
            _work = null;
            _input = null;
            _output = _initial = _final = null;
        }

        public override void Run(int part) => _work!.RunPart(part,
            new ReadOnlySpan<TInput>(_input, _inputLength), new Span<float>(_output, _outputLength),
            new ReadOnlySpan<float>(_initial, _initialLength), new Span<float>(_final, _finalLength));
    }

    /// <summary>
    /// An auto-reset event for one waiter: spins up to <see cref="SpinTicks"/> (a part takes about as long as the others,
    /// and calls often come back to back), then blocks on a monitor of its own. Waking a blocked thread took long enough
    /// that 256 agents (≈ 130 µs on one thread) ran at 0.65× the one-thread time on two threads with
    /// <see cref="SpinWait"/>'s short spin, and at 0.54× with this one (wall clock, 5 runs of 15 rounds each, the 2-core
    /// benchmark machine; 200 µs measured the same). Not <see cref="ManualResetEventSlim"/>: that allocates its lock
    /// object the first time a wait has to block, which can be any call, long after warm-up.
    /// </summary>
    private sealed class Signal
    {
        private readonly object _lock = new object();
        private bool _set;

        public void Set()
        {
            lock (_lock)
            {
                Volatile.Write(ref _set, true);
                Monitor.Pulse(_lock);
            }
        }

        public void Wait()
        {
            if (!Volatile.Read(ref _set))
            {
                long deadline = Stopwatch.GetTimestamp() + SpinTicks;
                while (!Volatile.Read(ref _set) && Stopwatch.GetTimestamp() < deadline) Thread.SpinWait(20);
                if (!Volatile.Read(ref _set))
                {
                    lock (_lock)
                    {
                        while (!_set) Monitor.Wait(_lock);
                    }
                }
            }
            Volatile.Write(ref _set, false);
        }

        /// <summary>100 µs: the longest a waiting thread burns its core before it blocks.</summary>
        private static readonly long SpinTicks = Stopwatch.Frequency * 100 / 1_000_000;
    }

    /// <summary>What the caller and the workers share: one start signal per worker, a countdown and the first error.</summary>
    private sealed class Shared
    {
        public readonly Signal[] Start;
        public readonly Signal Done = new Signal();
        public Job? Current;
        public int Pending;
        public Exception? Error;
        public volatile bool Stopping;

        public Shared(int workers)
        {
            Start = new Signal[workers];
            for (int i = 0; i < workers; i++) Start[i] = new Signal();
        }

        public void Dispatch(Job job, int parts)
        {
            Error = null;
            Current = job;
            Volatile.Write(ref Pending, parts - 1);
            for (int i = 0; i < parts - 1; i++) Start[i].Set();
            try
            {
                job.Run(0);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref Error, e, null);
            }
            Done.Wait();
            Current = null;
            Exception? error = Error;
            Error = null;
            if (error is not null) ExceptionDispatchInfo.Capture(error).Throw();
        }

        public void Stop()
        {
            Stopping = true;
            foreach (Signal start in Start) start.Set();
        }
    }

    private sealed class Worker
    {
        private readonly Shared _shared;
        private readonly int _index;

        public Worker(Shared shared, int index)
        {
            _shared = shared;
            _index = index;
        }

        public static void Loop(object? state)
        {
            var worker = (Worker)state!;
            Shared shared = worker._shared;
            Signal start = shared.Start[worker._index];
            while (true)
            {
                start.Wait();
                if (shared.Stopping) return;
                try
                {
                    shared.Current!.Run(worker._index + 1);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref shared.Error, e, null);
                }
                if (Interlocked.Decrement(ref shared.Pending) == 0) shared.Done.Set();
            }
        }
    }
}
