using System;

namespace RnnGen.Samples.Caption;

/// <summary>Everything a Caption run needs; the defaults are the command line's.</summary>
public sealed record CaptionOptions
{
    /// <summary>Decoder cell: "gru" or "lstm".</summary>
    public string Cell { get; init; } = "lstm";

    /// <summary>Optimizer steps; 0 trains nothing (useful with <see cref="LoadPath"/>).</summary>
    public int Steps { get; init; } = 2000;

    /// <summary>Captions per step.</summary>
    public int Batch { get; init; } = 32;

    /// <summary>Adam's peak learning rate, for the decoder and the projection alike; cosine-annealed to 10%.</summary>
    public float LearningRate { get; init; } = 5e-3f;

    /// <summary>Largest global gradient norm of decoder and projection together.</summary>
    public float ClipNorm { get; init; } = 5f;

    /// <summary>Generated training scenes.</summary>
    public int TrainScenes { get; init; } = 4000;

    /// <summary>Generated held-out scenes (another seed than the training scenes).</summary>
    public int TestScenes { get; init; } = 500;

    /// <summary>Seed of the initialization, the batch order and the sampling (the scenes have fixed seeds).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Checkpoint of decoder and projection; null to save nothing.</summary>
    public string? OutputPath { get; init; } = "artifacts/caption.safetensors";

    /// <summary>A checkpoint to start from; its cell wins over <see cref="Cell"/>.</summary>
    public string? LoadPath { get; init; }

    /// <summary>Temperature of the sampled captions shown next to the greedy ones.</summary>
    public float Temperature { get; init; } = 0.7f;

    /// <summary>Held-out scenes shown with their greedy and sampled captions.</summary>
    public int Examples { get; init; } = 6;

    /// <summary>Run the finite-difference check of the projection gradient before training.</summary>
    public bool GradientCheck { get; init; } = true;

    /// <summary>Redraw the progress line in place (true), print plain lines (false), or decide from the output (null).</summary>
    public bool? LiveProgress { get; init; }

    /// <summary>Throws if a value is out of range (the command line checks the same ranges with friendlier messages).</summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names it.</exception>
    public void Validate()
    {
        Check(Cell is "gru" or "lstm", nameof(Cell), "\"gru\" or \"lstm\"");
        Check(Steps >= 0, nameof(Steps), ">= 0");
        Check(Batch is >= 1 and <= Limits.MaxBatch, nameof(Batch), $"from 1 to {Limits.MaxBatch}");
        Check(float.IsFinite(LearningRate) && LearningRate > 0, nameof(LearningRate), "a finite number > 0");
        Check(float.IsFinite(ClipNorm) && ClipNorm > 0, nameof(ClipNorm), "a finite number > 0");
        Check(TrainScenes >= 1, nameof(TrainScenes), ">= 1");
        Check(TestScenes >= 1, nameof(TestScenes), ">= 1");
        Check(float.IsFinite(Temperature) && Temperature > 0, nameof(Temperature), "a finite number > 0");
        Check(Examples >= 0, nameof(Examples), ">= 0");
    }

    private static void Check(bool ok, string name, string expected)
    {
        if (!ok) throw new ArgumentException($"{name} must be {expected}.");
    }

    internal static class Limits
    {
        public const int MaxBatch = 4096;
    }
}
