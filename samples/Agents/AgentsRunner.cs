using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace RnnGen.Samples.Agents;

/// <summary>What an Agents run did and measured.</summary>
public sealed record AgentsResult
{
    /// <summary>The tracker's training, or null when a checkpoint was used as is.</summary>
    public TrainingReport? Training { get; init; }

    /// <summary>One simulation per policy, in <see cref="Policy"/> order, same world seed.</summary>
    public required IReadOnlyList<SimulationResult> Simulations { get; init; }

    /// <summary>Batched against per-agent network steps on the tracker simulation's last frame.</summary>
    public required StepComparison StepComparison { get; init; }

    /// <summary>Whether the reloaded checkpoint has exactly the trained parameters.</summary>
    public required bool RoundTripExact { get; init; }

    /// <summary>The checkpoint written, or null.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>The simulation of one policy.</summary>
    public SimulationResult this[Policy policy] => Simulations.First(s => s.Policy == policy);
}

/// <summary>
/// The whole program minus argument parsing: train the tracker (or load it), save and reload it as safetensors,
/// run the game once per policy, and time the batched network step against per-agent steps.
/// </summary>
public static class AgentsRunner
{
    /// <summary>Runs everything, writing progress and figures to <paramref name="log"/>.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    /// <exception cref="IOException">A checkpoint cannot be read or written (<see cref="SafetensorsException"/> for a bad one).</exception>
    /// <exception cref="TrainingDivergedException">Training produced NaN or infinity.</exception>
    public static AgentsResult Run(AgentsOptions options, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        options.Validate();

        var trained = new TrackerGru(options.Seed);
        log.WriteLine(FormattableString.Invariant(
            $"Tracker: GRU, input {TrackerGru.InputSize} (seen, sighted dx, dy, own vx, vy, fresh), hidden {TrackerGru.HiddenSize}, head {TrackerGru.OutputSize} (target dx, dy, vx, vy); {TrackerGru.ParameterCount:N0} parameters."));
        log.WriteLine(FormattableString.Invariant(
            $"Game: {World.HalfSize * 2} m square arena, {1 / World.Dt:0} frames/s; targets walk at {World.TargetSpeed} m/s and are seen on {World.SightProbability * 100:0}% of frames (noise {World.SightNoise} m); catch within {World.CatchRadius} m."));
        if (options.LoadPath is { } load)
        {
            trained.LoadSafetensors(load);
            log.WriteLine($"Loaded {load}.");
        }
        TrainingReport? training = options.TrainSteps > 0 ? TrackerTraining.Train(trained, options, log) : null;

        // Round trip: the game runs on a fresh model loaded from the checkpoint.
        var model = new TrackerGru(unchecked(options.Seed + 1));
        string? saved = null;
        if (options.OutputPath is { } path)
        {
            string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
            if (directory is not null) Directory.CreateDirectory(directory);
            trained.SaveSafetensors(path);
            model.LoadSafetensors(path);
            saved = path;
        }
        else
        {
            using var memory = new MemoryStream();
            trained.SaveSafetensors(memory);
            memory.Position = 0;
            model.LoadSafetensors(memory);
        }
        bool exact = model.Parameters.SequenceEqual(trained.Parameters);
        log.WriteLine($"Saved {saved ?? "(in memory)"} and loaded it into a fresh model: parameters {(exact ? "identical" : "DIFFERENT")}.");

        int simulationSeed = unchecked(options.Seed * 31 + 5);
        var simulations = new List<SimulationResult>();
        Simulation? trackerSimulation = null;
        log.WriteLine(FormattableString.Invariant($"Simulating {options.Agents} agents for {options.Frames:N0} frames ({options.Frames * World.Dt:0} s of game time) per policy, same world seed:"));
        foreach (Policy policy in (Policy[])[Policy.Oracle, Policy.Tracker, Policy.DeadReckoning, Policy.Reactive, Policy.Random])
        {
            var simulation = new Simulation(model, policy, options.Agents, simulationSeed);
            using var bar = new ProgressBar(log, options.Frames, null, options.LiveProgress);
            Action<int> progress = frame =>
            {
                if (bar.IsDue || frame == options.Frames)
                    bar.Update(frame, ("policy", Name(policy)), ("catches/min", simulation.World.CatchesPerMinute.ToString("0.0", CultureInfo.InvariantCulture)));
            };
            SimulationResult result = simulation.Run(options.Frames, progress);
            bar.Finish();
            simulations.Add(result);
            if (policy == Policy.Tracker) trackerSimulation = simulation;
        }

        log.WriteLine();
        log.WriteLine("policy                          catches/agent/min   tracking error   frame time");
        foreach (SimulationResult s in simulations)
        {
            string error = double.IsNaN(s.TrackingError) ? "-" : s.TrackingError.ToString("0.00", CultureInfo.InvariantCulture) + " m";
            log.WriteLine(FormattableString.Invariant(
                $"{Describe(s.Policy),-32}{s.CatchesPerMinute,17:0.00}   {error,14}   {s.MicrosecondsPerFrame,7:0} µs"));
        }

        SimulationResult tracker = simulations.First(s => s.Policy == Policy.Tracker);
        log.WriteLine();
        log.WriteLine(FormattableString.Invariant(
            $"Frame loop (tracker): {tracker.Frames:N0} frames x {tracker.Agents} agents in {tracker.FrameTime.TotalSeconds:0.00} s: {tracker.FramesPerSecond:N0} frames/s, {tracker.MicrosecondsPerFrame:0} µs per frame, {tracker.MicrosecondsPerAgent:0.00} µs per agent; allocated {tracker.AllocatedBytes} bytes in the frame loop ({(double)tracker.AllocatedBytes / tracker.Frames:0} per frame)."));

        StepComparison comparison = StepComparison.Measure(model, trackerSimulation!.Observations, trackerSimulation.States, options.Agents, options.BenchmarkRepeats);
        log.WriteLine(FormattableString.Invariant(
            $"Network step of one frame, {comparison.Agents} agents: batched Step(x, agents, states, outputs) {comparison.BatchedMicroseconds:0} µs, {comparison.Agents} single Step(x, state, output) calls {comparison.PerAgentMicroseconds:0} µs: {comparison.Speedup:0.0}x faster batched; max |difference| outputs {comparison.MaxOutputDifference:0.0e0}, states {comparison.MaxStateDifference:0.0e0}."));

        return new AgentsResult
        {
            Training = training,
            Simulations = simulations,
            StepComparison = comparison,
            RoundTripExact = exact,
            CheckpointPath = saved,
        };
    }

    private static string Name(Policy policy) => policy switch
    {
        Policy.Oracle => "oracle",
        Policy.Tracker => "tracker",
        Policy.DeadReckoning => "dead reckoning",
        Policy.Reactive => "reactive",
        _ => "random",
    };

    private static string Describe(Policy policy) => policy switch
    {
        Policy.Oracle => "oracle (sees everything)",
        Policy.Tracker => "GRU tracker (memory)",
        Policy.DeadReckoning => "last sighting + dead reckoning",
        Policy.Reactive => "reactive (no memory)",
        _ => "random",
    };
}
