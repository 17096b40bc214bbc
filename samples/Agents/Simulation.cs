using System;
using System.Diagnostics;

namespace RnnGen.Samples.Agents;

/// <summary>How the agents choose their acceleration.</summary>
public enum Policy
{
    /// <summary>The scripted controller with perfect information (the target's true position and velocity): an upper bound.</summary>
    Oracle,

    /// <summary>The GRU tracker's estimate, advanced for all agents at once with multi-agent Step, through the steering law.</summary>
    Tracker,

    /// <summary>
    /// Memory without learning (<see cref="Agents.DeadReckoning"/>): the last sighting, extrapolated with the velocity
    /// estimated from consecutive sightings, through the steering law. The fair baseline for the tracker.
    /// </summary>
    DeadReckoning,

    /// <summary>No memory: steer at the target on frames it is seen, coast otherwise.</summary>
    Reactive,

    /// <summary>Uniformly random accelerations.</summary>
    Random,
}

/// <summary>What a simulation run measured.</summary>
/// <param name="Policy">The policy.</param>
/// <param name="Agents">Agents.</param>
/// <param name="Frames">Frames simulated.</param>
/// <param name="CatchesPerMinute">Targets caught per agent per minute of game time (higher is better).</param>
/// <param name="TrackingError">For the tracker and dead reckoning: mean distance between the estimate of the target and the target, metres; NaN for the other policies.</param>
/// <param name="FrameTime">Time spent in the frames themselves (observe, network step, steer, physics), progress display excluded.</param>
/// <param name="AllocatedBytes">Bytes allocated by this thread inside the frames, summed over all frames.</param>
/// <param name="AllocatingFrames">Frames in which this thread's allocation counter moved at all.</param>
public sealed record SimulationResult(Policy Policy, int Agents, int Frames, double CatchesPerMinute, double TrackingError, TimeSpan FrameTime, long AllocatedBytes, int AllocatingFrames)
{
    /// <summary>Frames per second of wall-clock frame time.</summary>
    public double FramesPerSecond => Frames / FrameTime.TotalSeconds;

    /// <summary>Microseconds per frame.</summary>
    public double MicrosecondsPerFrame => FrameTime.TotalMilliseconds * 1000 / Frames;

    /// <summary>Microseconds per agent per frame.</summary>
    public double MicrosecondsPerAgent => MicrosecondsPerFrame / Agents;
}

/// <summary>
/// The game loop: a <see cref="World"/> of agents and, for the tracker policy, one GRU state per agent in one
/// [agents, StateSize] array. <see cref="Frame"/> observes every agent, advances all recurrent states with one
/// multi-agent <c>Step(x, agents, states, outputs)</c>, steers and moves everything, and allocates nothing.
/// </summary>
public sealed class Simulation
{
    private const int I = TrackerGru.InputSize, O = TrackerGru.OutputSize, S = TrackerGru.StateSize;

    private readonly TrackerGru _model;
    private readonly float[] _observations, _states, _estimates;
    private readonly DeadReckoning? _deadReckoning;
    private double _errorSum;

    /// <summary>Creates the world and the per-agent buffers, and sizes the model's buffers for this many agents.</summary>
    public Simulation(TrackerGru model, Policy policy, int agents, int seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        Policy = policy;
        World = new World(agents, seed);
        _observations = new float[agents * I];
        _states = new float[agents * S];
        _estimates = new float[agents * O];
        if (policy == Policy.DeadReckoning) _deadReckoning = new DeadReckoning(agents);
        // Size the model's multi-agent buffers, and have it build its inference copy of the weights (its first Step
        // does that) on scratch states now, so that no frame allocates, not even the first.
        model.Reserve(1, agents);
        model.Step(new float[agents * I], agents, new float[agents * S], new float[agents * O]);
    }

    /// <summary>The policy every agent follows.</summary>
    public Policy Policy { get; }

    /// <summary>The game state.</summary>
    public World World { get; }

    /// <summary>The observations of the last frame, [agents, InputSize].</summary>
    public ReadOnlySpan<float> Observations => _observations;

    /// <summary>The agents' GRU states, [agents, StateSize] (agent i's StateSize floats contiguous).</summary>
    public Span<float> States => _states;

    /// <summary>One frame for every agent. Allocates nothing.</summary>
    public void Frame()
    {
        World world = World;
        int agents = world.Agents;
        for (int i = 0; i < agents; i++) world.Observe(i, _observations.AsSpan(i * I, I));
        if (Policy == Policy.Tracker) _model.Step(_observations, agents, _states, _estimates);
        if (_deadReckoning is { } memory)
        {
            for (int i = 0; i < agents; i++)
            {
                (float dx, float dy, float vx, float vy) = memory.Update(i, _observations.AsSpan(i * I, I));
                Span<float> estimate = _estimates.AsSpan(i * O, O);
                estimate[0] = dx;
                estimate[1] = dy;
                estimate[2] = vx;
                estimate[3] = vy;
            }
            memory.EndFrame();
        }
        for (int i = 0; i < agents; i++)
        {
            (float ax, float ay) = Policy switch
            {
                Policy.Oracle => world.OracleAction(i),
                Policy.Tracker or Policy.DeadReckoning => Track(world, i),
                Policy.Reactive => world.ReactiveAction(i, _observations.AsSpan(i * I, I)),
                _ => world.RandomAction(),
            };
            world.Advance(i, ax, ay);
        }
        world.EndFrame();
    }

    /// <summary>The tracker and dead-reckoning policies for agent <paramref name="i"/>: steer on the estimate, and keep score of its error.</summary>
    private (float, float) Track(World world, int i)
    {
        ReadOnlySpan<float> estimate = _estimates.AsSpan(i * O, O);
        _errorSum += world.PositionError(i, estimate);
        return world.EstimateAction(i, estimate);
    }

    /// <summary>Mean distance between the tracker's (or dead reckoning's) estimate of the target and the target, metres (NaN for other policies).</summary>
    public double MeanTrackingError => Policy is Policy.Tracker or Policy.DeadReckoning && World.Frames > 0 ? _errorSum / (World.Frames * (double)World.Agents) : double.NaN;

    /// <summary>
    /// Runs <paramref name="frames"/> frames, timing each and reading this thread's allocation counter around each
    /// (<see cref="GC.GetAllocatedBytesForCurrentThread"/>); <paramref name="afterFrame"/> (progress display) runs
    /// outside the measured part.
    /// </summary>
    public SimulationResult Run(int frames, Action<int>? afterFrame = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(frames);
        long ticks = 0, allocated = 0;
        int allocatingFrames = 0;
        for (int f = 0; f < frames; f++)
        {
            long bytesBefore = GC.GetAllocatedBytesForCurrentThread();
            long start = Stopwatch.GetTimestamp();
            Frame();
            ticks += Stopwatch.GetTimestamp() - start;
            long frameBytes = GC.GetAllocatedBytesForCurrentThread() - bytesBefore;
            allocated += frameBytes;
            if (frameBytes != 0) allocatingFrames++;
            afterFrame?.Invoke(f + 1);
        }
        return new SimulationResult(Policy, World.Agents, frames, World.CatchesPerMinute, MeanTrackingError, Stopwatch.GetElapsedTime(0, ticks), allocated, allocatingFrames);
    }
}

/// <summary>The network step of one frame, batched against a loop of per-agent Steps: same inputs and states, timed and compared.</summary>
/// <param name="Agents">Agents stepped.</param>
/// <param name="BatchedMicroseconds">One multi-agent <c>Step(x, agents, states, outputs)</c>, microseconds (best round).</param>
/// <param name="PerAgentMicroseconds">A loop of single <c>Step(x, state, output)</c> calls, one per agent, microseconds (best round).</param>
/// <param name="MaxOutputDifference">Largest |batched - per-agent| over every output of the compared frame.</param>
/// <param name="MaxStateDifference">Largest |batched - per-agent| over every new state value of the compared frame.</param>
public sealed record StepComparison(int Agents, double BatchedMicroseconds, double PerAgentMicroseconds, double MaxOutputDifference, double MaxStateDifference)
{
    /// <summary>How many times faster the batched step is.</summary>
    public double Speedup => PerAgentMicroseconds / BatchedMicroseconds;

    /// <summary>
    /// Steps the same frame both ways from copies of <paramref name="states"/> and compares the results, then times
    /// <paramref name="repeats"/> frames of each (after a warm-up) in ten interleaved rounds and keeps each one's
    /// fastest round. <paramref name="states"/> is not changed.
    /// </summary>
    public static StepComparison Measure(TrackerGru model, ReadOnlySpan<float> observations, ReadOnlySpan<float> states, int agents, int repeats)
    {
        ArgumentNullException.ThrowIfNull(model);
        const int I = TrackerGru.InputSize, O = TrackerGru.OutputSize, S = TrackerGru.StateSize;
        float[] batchedStates = states.ToArray(), singleStates = states.ToArray();
        var batchedOut = new float[agents * O];
        var singleOut = new float[agents * O];
        model.Step(observations, agents, batchedStates, batchedOut);
        StepEach(model, observations, singleStates, singleOut, agents);
        double outputDifference = MaxDifference(batchedOut, singleOut);
        double stateDifference = MaxDifference(batchedStates, singleStates);

        int warmup = Math.Max(1, repeats / 10);
        for (int r = 0; r < warmup; r++)
        {
            model.Step(observations, agents, batchedStates, batchedOut);
            StepEach(model, observations, singleStates, singleOut, agents);
        }
        // Interleaved rounds, best round kept: on a shared machine the minimum is the figure least disturbed by
        // other processes.
        const int Rounds = 10;
        int perRound = Math.Max(1, repeats / Rounds);
        double batched = double.PositiveInfinity, single = double.PositiveInfinity;
        for (int round = 0; round < Rounds; round++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int r = 0; r < perRound; r++) model.Step(observations, agents, batchedStates, batchedOut);
            batched = Math.Min(batched, Stopwatch.GetElapsedTime(start).TotalMilliseconds * 1000 / perRound);
            start = Stopwatch.GetTimestamp();
            for (int r = 0; r < perRound; r++) StepEach(model, observations, singleStates, singleOut, agents);
            single = Math.Min(single, Stopwatch.GetElapsedTime(start).TotalMilliseconds * 1000 / perRound);
        }
        return new StepComparison(agents, batched, single, outputDifference, stateDifference);

        static void StepEach(TrackerGru model, ReadOnlySpan<float> x, Span<float> state, Span<float> output, int agents)
        {
            for (int i = 0; i < agents; i++) model.Step(x.Slice(i * I, I), state.Slice(i * S, S), output.Slice(i * O, O));
        }
    }

    private static double MaxDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }
}
