using System;

namespace RnnGen.Samples.Sentiment;

/// <summary>Everything a Sentiment run needs; the defaults are the command line's.</summary>
public sealed record SentimentOptions
{
    /// <summary>Generated reviews to train on.</summary>
    public int TrainReviews { get; init; } = 16_000;

    /// <summary>
    /// Generated test reviews in each of the two test sets: new texts of the training structures, and reviews of the
    /// structures held out of training (distinct from the training ones).
    /// </summary>
    public int TestReviews { get; init; } = 4_000;

    /// <summary>Generated validation reviews (training structures, texts no other set has), scored after each epoch.</summary>
    public int ValidationReviews { get; init; } = 2_000;

    /// <summary>Passes over the training reviews; 0 evaluates the model as it is (untrained, or from <see cref="LoadPath"/>).</summary>
    public int Epochs { get; init; } = 3;

    /// <summary>Reviews per batch (bucketed by length, so a batch's reviews have similar lengths).</summary>
    public int Batch { get; init; } = 32;

    /// <summary>Adam's peak learning rate; a cosine schedule takes it down to 10% by the end.</summary>
    public float LearningRate { get; init; } = 1e-2f;

    /// <summary>Global gradient norm above which gradients are scaled down.</summary>
    public float ClipNorm { get; init; } = 5f;

    /// <summary>Seed of the data, the initialization and the batch order.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Passes of the bag-of-words baseline over the training reviews; 0 skips it.</summary>
    public int BaselineEpochs { get; init; } = 20;

    /// <summary>Where the trained model is saved (then reloaded and re-evaluated); null to save nothing.</summary>
    public string? OutputPath { get; init; } = "artifacts/sentiment.safetensors";

    /// <summary>A model to start from (with <see cref="Epochs"/> 0: only evaluate it).</summary>
    public string? LoadPath { get; init; }

    /// <summary>A review of the user's to score at the end, or null.</summary>
    public string? Review { get; init; }

    /// <summary>Redraw the progress line in place (true), print plain progress lines (false), or decide from the output (null).</summary>
    public bool? LiveProgress { get; init; }

    /// <summary>Throws if a value is out of range (the command line checks the same ranges with friendlier messages).</summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names it.</exception>
    public void Validate()
    {
        Check(TrainReviews is >= 1 and <= Limits.MaxReviews, nameof(TrainReviews), $"from 1 to {Limits.MaxReviews}");
        Check(TestReviews is >= 1 and <= Limits.MaxReviews, nameof(TestReviews), $"from 1 to {Limits.MaxReviews}");
        Check(ValidationReviews is >= 1 and <= Limits.MaxReviews, nameof(ValidationReviews), $"from 1 to {Limits.MaxReviews}");
        Check(Epochs is >= 0 and <= 1000, nameof(Epochs), "from 0 to 1000");
        Check(Batch is >= 1 and <= Limits.MaxBatch, nameof(Batch), $"from 1 to {Limits.MaxBatch}");
        Check(float.IsFinite(LearningRate) && LearningRate > 0, nameof(LearningRate), "a finite number > 0");
        Check(float.IsFinite(ClipNorm) && ClipNorm > 0, nameof(ClipNorm), "a finite number > 0");
        Check(BaselineEpochs is >= 0 and <= 1000, nameof(BaselineEpochs), "from 0 to 1000");
    }

    private static void Check(bool ok, string name, string expected)
    {
        if (!ok) throw new ArgumentException($"{name} must be {expected}.");
    }

    internal static class Limits
    {
        public const int MaxReviews = 200_000;
        public const int MaxBatch = 1024;
    }
}
