using System;

namespace RnnGen.Samples.Translate;

/// <summary>Everything a Translate run needs; the defaults are the command line's.</summary>
public sealed record TranslateOptions
{
    /// <summary>Numbers have 1 to this many digits (6: up to 999,999).</summary>
    public int MaxDigits { get; init; } = NumberCorpus.MaxDigits;

    /// <summary>Sentence pairs to train on.</summary>
    public int TrainPairs { get; init; } = 20_000;

    /// <summary>Held-out sentence pairs (numbers not in the training set).</summary>
    public int TestPairs { get; init; } = 2_000;

    /// <summary>Passes over the training pairs; 0 evaluates the model as it is (untrained, or from <see cref="LoadPath"/>).</summary>
    public int Epochs { get; init; } = 3;

    /// <summary>Sentence pairs per batch (bucketed by source length).</summary>
    public int Batch { get; init; } = 64;

    /// <summary>Adam's peak learning rate; a cosine schedule takes it down to 10% by the end.</summary>
    public float LearningRate { get; init; } = 3e-3f;

    /// <summary>Joint global gradient norm of both models above which gradients are scaled down.</summary>
    public float ClipNorm { get; init; } = 5f;

    /// <summary>Seed of the data, the initialization and the batch order.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Hypotheses kept per sentence by beam search.</summary>
    public int BeamWidth { get; init; } = 4;

    /// <summary>Most target tokens a translation may have (&lt;end&gt; not counted).</summary>
    public int MaxLength { get; init; } = 10;

    /// <summary>Held-out pairs translated greedily after each epoch (the final evaluation uses all of them).</summary>
    public int EpochEvaluationPairs { get; init; } = 500;

    /// <summary>Where the trained encoder and decoder are saved (one file), then reloaded and re-evaluated; null to save nothing.</summary>
    public string? OutputPath { get; init; } = "artifacts/translate.safetensors";

    /// <summary>A model file to start from (with <see cref="Epochs"/> 0: only evaluate it).</summary>
    public string? LoadPath { get; init; }

    /// <summary>Number words of the user's to translate at the end, or null.</summary>
    public string? Text { get; init; }

    /// <summary>Redraw the progress line in place (true), print plain progress lines (false), or decide from the output (null).</summary>
    public bool? LiveProgress { get; init; }

    /// <summary>Throws if a value is out of range (the command line checks the same ranges with friendlier messages).</summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names it.</exception>
    public void Validate()
    {
        Check(MaxDigits is >= 1 and <= NumberCorpus.MaxDigits, nameof(MaxDigits), $"from 1 to {NumberCorpus.MaxDigits}");
        (int trainAvailable, int testAvailable) = NumberCorpus.Available(MaxDigits);
        Check(TrainPairs >= 1 && TrainPairs <= trainAvailable, nameof(TrainPairs), $"from 1 to {trainAvailable:N0} (the training share of the numbers with at most {MaxDigits} digit(s))");
        Check(TestPairs >= 1 && TestPairs <= testAvailable, nameof(TestPairs), $"from 1 to {testAvailable:N0} (the held-out share of the numbers with at most {MaxDigits} digit(s))");
        Check(Epochs is >= 0 and <= 1000, nameof(Epochs), "from 0 to 1000");
        Check(Batch is >= 1 and <= Limits.MaxBatch, nameof(Batch), $"from 1 to {Limits.MaxBatch}");
        Check(float.IsFinite(LearningRate) && LearningRate > 0, nameof(LearningRate), "a finite number > 0");
        Check(float.IsFinite(ClipNorm) && ClipNorm > 0, nameof(ClipNorm), "a finite number > 0");
        Check(BeamWidth is >= 1 and <= Limits.MaxBeam, nameof(BeamWidth), $"from 1 to {Limits.MaxBeam}");
        Check(MaxLength is >= 1 and <= Limits.MaxLength, nameof(MaxLength), $"from 1 to {Limits.MaxLength}");
        Check(EpochEvaluationPairs >= 0, nameof(EpochEvaluationPairs), ">= 0");
    }

    private static void Check(bool ok, string name, string expected)
    {
        if (!ok) throw new ArgumentException($"{name} must be {expected}.");
    }

    internal static class Limits
    {
        public const int MaxBatch = 1024;
        public const int MaxBeam = 64;
        public const int MaxLength = 100;
    }
}
