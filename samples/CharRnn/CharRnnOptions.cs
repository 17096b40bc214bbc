using System;
using System.Collections.Generic;
using System.Linq;

namespace RnnGen.Samples.CharRnn;

/// <summary>Everything a CharRnn run needs; the defaults are the command line's.</summary>
public sealed record CharRnnOptions
{
    /// <summary>Training text, or null for the built-in <see cref="SyntheticCorpus"/>.</summary>
    public string? CorpusPath { get; init; }

    /// <summary>Hidden width; null means 128, or the checkpoint's when <see cref="LoadPath"/> is set.</summary>
    public int? Hidden { get; init; }

    /// <summary>LSTM layers; null means 2, or the checkpoint's when <see cref="LoadPath"/> is set.</summary>
    public int? Layers { get; init; }

    /// <summary>Truncated-BPTT window: characters per stream per optimizer step.</summary>
    public int SequenceLength { get; init; } = 64;

    /// <summary>Independent streams per optimizer step.</summary>
    public int Batch { get; init; } = 16;

    /// <summary>Optimizer steps; 0 means no step limit (train for <see cref="Minutes"/>).</summary>
    public long Steps { get; init; }

    /// <summary>Time budget of the training loop in minutes; 0 means no time limit. With both limits 0 there is no training.</summary>
    public double Minutes { get; init; } = 1;

    /// <summary>Seed of the initialization, and of the sampling.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Checkpoint written at each validation and at the end; null to save nothing.</summary>
    public string? OutputPath { get; init; } = "artifacts/charrnn.safetensors";

    /// <summary>A checkpoint to start from (and, with no training, only to sample from).</summary>
    public string? LoadPath { get; init; }

    /// <summary>Text fed to the model before sampling; it is part of the printed sample.</summary>
    public string Prompt { get; init; } = "The ";

    /// <summary>Sampling temperature; lower is more conservative.</summary>
    public float Temperature { get; init; } = 0.8f;

    /// <summary>Characters to sample after the prompt.</summary>
    public int SampleLength { get; init; } = 400;

    /// <summary>Adam's peak learning rate; a cosine schedule takes it down to 10% by the end.</summary>
    public float LearningRate { get; init; } = 2e-3f;

    /// <summary>Global gradient norm above which gradients are scaled down.</summary>
    public float ClipNorm { get; init; } = 5f;

    /// <summary>Validation characters scored at each periodic evaluation (the final one scores the whole split).</summary>
    public int EvalChars { get; init; } = 10_000;

    /// <summary>Periodic evaluations (and checkpoints) during training, evenly spread over the run.</summary>
    public int Evaluations { get; init; } = 10;

    /// <summary>
    /// Reduced weight precisions at which the final model's validation loss is also measured (with float beside them),
    /// each by a twin model declared with that <c>Weights</c> and the same parameters, reading the split one character
    /// at a time through <c>Step</c> so every product reads the reduced copy. Empty to measure none.
    /// </summary>
    public IReadOnlyList<WeightPrecision> EvalWeights { get; init; } = [WeightPrecision.BFloat16, WeightPrecision.Int8];

    /// <summary>Redraw the progress line in place (true), print plain progress lines (false), or decide from the output (null).</summary>
    public bool? LiveProgress { get; init; }

    /// <summary>The hidden width when none is given.</summary>
    public const int DefaultHidden = 128;

    /// <summary>The layer count when none is given.</summary>
    public const int DefaultLayers = 2;

    /// <summary>Whether this run trains at all.</summary>
    public bool Trains => Steps > 0 || Minutes > 0;

    /// <summary>Throws if a value is out of range (the command line checks the same ranges with friendlier messages).</summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names it.</exception>
    public void Validate()
    {
        if ((Hidden is { } hidden && !CharModels.SupportedHidden.Contains(hidden)) || (Layers is { } layers && !CharModels.SupportedLayers.Contains(layers)))
            throw new ArgumentException(CharModels.UnsupportedMessage(Hidden ?? DefaultHidden, Layers ?? DefaultLayers));
        Check(SequenceLength is >= 1 and <= Limits.MaxSequence, nameof(SequenceLength), $"from 1 to {Limits.MaxSequence}");
        Check(Batch is >= 1 and <= Limits.MaxBatch, nameof(Batch), $"from 1 to {Limits.MaxBatch}");
        Check(Steps >= 0, nameof(Steps), ">= 0");
        Check(Minutes >= 0 && double.IsFinite(Minutes), nameof(Minutes), "a finite number >= 0");
        Check(float.IsFinite(Temperature) && Temperature > 0, nameof(Temperature), "a finite number > 0");
        Check(SampleLength >= 0, nameof(SampleLength), ">= 0");
        Check(float.IsFinite(LearningRate) && LearningRate > 0, nameof(LearningRate), "a finite number > 0");
        Check(float.IsFinite(ClipNorm) && ClipNorm > 0, nameof(ClipNorm), "a finite number > 0");
        Check(EvalChars >= 1, nameof(EvalChars), ">= 1");
        Check(Evaluations >= 0, nameof(Evaluations), ">= 0");
        if (EvalWeights is null || EvalWeights.Any(w => w is not (WeightPrecision.BFloat16 or WeightPrecision.Int8)))
            throw new ArgumentException("EvalWeights must hold only BFloat16 and Int8 (float is always measured beside them).");
        if (Prompt is null) throw new ArgumentException("Prompt must not be null (use \"\" for none).");
    }

    private static void Check(bool ok, string name, string expected)
    {
        if (!ok) throw new ArgumentException($"{name} must be {expected}.");
    }

    internal static class Limits
    {
        public const int MaxSequence = 4096;
        public const int MaxBatch = 1024;
    }
}
