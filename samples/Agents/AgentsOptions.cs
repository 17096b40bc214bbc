using System;

namespace RnnGen.Samples.Agents;

/// <summary>Everything an Agents run needs; the defaults are the command line's.</summary>
public sealed record AgentsOptions
{
    /// <summary>Agents in the simulation, each with its own GRU state.</summary>
    public int Agents { get; init; } = 512;

    /// <summary>Frames simulated per policy (30 frames per second of game time).</summary>
    public int Frames { get; init; } = 1800;

    /// <summary>Optimizer steps of the tracker's training; 0 trains nothing (use with <see cref="LoadPath"/>).</summary>
    public int TrainSteps { get; init; } = 3000;

    /// <summary>Independent training trajectories, advanced together (the batch).</summary>
    public int Streams { get; init; } = 64;

    /// <summary>Frames per truncated-BPTT window; the state is carried from one window to the next.</summary>
    public int Window { get; init; } = 60;

    /// <summary>Adam's peak learning rate, cosine-annealed to 10%.</summary>
    public float LearningRate { get; init; } = 1e-2f;

    /// <summary>Largest global gradient norm.</summary>
    public float ClipNorm { get; init; } = 1f;

    /// <summary>Seed of the initialization, the training trajectories and the simulation.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Checkpoint of the trained tracker; null to save nothing (the round trip then runs in memory).</summary>
    public string? OutputPath { get; init; } = "artifacts/agents.safetensors";

    /// <summary>A tracker checkpoint to use instead of (or to start) training.</summary>
    public string? LoadPath { get; init; }

    /// <summary>Repetitions of one frame's network step when timing batched against per-agent Step.</summary>
    public int BenchmarkRepeats { get; init; } = 200;

    /// <summary>Redraw the progress line in place (true), print plain lines (false), or decide from the output (null).</summary>
    public bool? LiveProgress { get; init; }

    /// <summary>Throws if a value is out of range (the command line checks the same ranges with friendlier messages).</summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names it.</exception>
    public void Validate()
    {
        Check(Agents is >= 1 and <= Limits.MaxAgents, nameof(Agents), $"from 1 to {Limits.MaxAgents}");
        Check(Frames >= 1, nameof(Frames), ">= 1");
        Check(TrainSteps >= 0, nameof(TrainSteps), ">= 0");
        Check(TrainSteps > 0 || LoadPath is not null, nameof(TrainSteps), "> 0 unless a checkpoint is loaded");
        Check(Streams is >= 1 and <= Limits.MaxStreams, nameof(Streams), $"from 1 to {Limits.MaxStreams}");
        Check(Window is >= 1 and <= Limits.MaxWindow, nameof(Window), $"from 1 to {Limits.MaxWindow}");
        Check(float.IsFinite(LearningRate) && LearningRate > 0, nameof(LearningRate), "a finite number > 0");
        Check(float.IsFinite(ClipNorm) && ClipNorm > 0, nameof(ClipNorm), "a finite number > 0");
        Check(BenchmarkRepeats >= 1, nameof(BenchmarkRepeats), ">= 1");
    }

    private static void Check(bool ok, string name, string expected)
    {
        if (!ok) throw new ArgumentException($"{name} must be {expected}.");
    }

    internal static class Limits
    {
        public const int MaxAgents = 1 << 20;
        public const int MaxStreams = 4096;
        public const int MaxWindow = 4096;
    }
}
