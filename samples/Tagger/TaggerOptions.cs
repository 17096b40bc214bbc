using System;
using System.Collections.Generic;
using System.Linq;

namespace RnnGen.Samples.Tagger;

/// <summary>Everything a Tagger run needs; the defaults are the command line's.</summary>
public sealed record TaggerOptions
{
    /// <summary>A folder with a UD treebank's <c>*-ud-train.conllu</c> and <c>*-ud-dev.conllu</c>, or null for the built-in <see cref="SyntheticTreebank"/>.</summary>
    public string? DataPath { get; init; }

    /// <summary>Training sentences of the built-in treebank (ignored with <see cref="DataPath"/>).</summary>
    public int SyntheticTrainSentences { get; init; } = SyntheticTreebank.DefaultTrainSentences;

    /// <summary>Dev sentences of the built-in treebank (ignored with <see cref="DataPath"/>).</summary>
    public int SyntheticDevSentences { get; init; } = SyntheticTreebank.DefaultDevSentences;

    /// <summary>Hidden width of each direction of the sentence BiLSTM: one of <see cref="TaggerModels.SupportedHidden"/>.</summary>
    public int Hidden { get; init; } = 128;

    /// <summary>
    /// Passes over the training sentences; 0 means no limit. Null: 5 on the built-in treebank, no limit with
    /// <see cref="DataPath"/> or when <see cref="Minutes"/> is set (the time budget decides).
    /// </summary>
    public int? Epochs { get; init; }

    /// <summary>
    /// Time budget of training in minutes; 0 means no limit. Null: none on the built-in treebank or when
    /// <see cref="Epochs"/> is set, else 12 (with <see cref="DataPath"/>).
    /// </summary>
    public double? Minutes { get; init; }

    /// <summary>Sentences per optimizer step (batches of long sentences are split so a batch holds at most Batch × 32 words).</summary>
    public int Batch { get; init; } = 32;

    /// <summary>Adam's peak learning rate; a cosine schedule takes it down to 10% by the end.</summary>
    public float LearningRate { get; init; } = 2e-3f;

    /// <summary>Global gradient norm (over all three parts) above which gradients are scaled down.</summary>
    public float ClipNorm { get; init; } = 5f;

    /// <summary>Word dropout alpha: a training word w becomes &lt;unk&gt; with probability alpha / (alpha + count(w)); 0 turns it off.</summary>
    public float WordDropout { get; init; } = 0.25f;

    /// <summary>Dropout rate on the sentence BiLSTM's input vectors during training; 0 turns it off.</summary>
    public float Dropout { get; init; } = 0.25f;

    /// <summary>Training words seen fewer times than this are left out of the vocabulary (they become &lt;unk&gt;).</summary>
    public int MinCount { get; init; } = 1;

    /// <summary>Seed of initialization, shuffling and dropout.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Where the trained model is saved (safetensors; the vocabulary goes next to it as .vocab.json); null to save nothing.</summary>
    public string? OutputPath { get; init; } = "artifacts/tagger.safetensors";

    /// <summary>Worker threads, each with its own copy of the networks; 0 means one per core.</summary>
    public int Threads { get; init; }

    /// <summary>Redraw the progress line in place (true), print plain progress lines (false), or decide from the output (null).</summary>
    public bool? LiveProgress { get; init; }

    /// <summary>A CoNLL-U file to score <see cref="ModelPath"/> on, instead of training.</summary>
    public string? EvalPath { get; init; }

    /// <summary>A saved model for <see cref="EvalPath"/> or <see cref="TagText"/>.</summary>
    public string? ModelPath { get; init; }

    /// <summary>Text to tag (split at spaces) with the trained model, or with <see cref="ModelPath"/> when not training.</summary>
    public string? TagText { get; init; }

    /// <summary>
    /// Reduced weight precisions at which the final dev accuracy (or that of <see cref="EvalPath"/>) is also measured,
    /// with float beside them (<see cref="WeightScores"/>): twins of the networks declared with that <c>Weights</c>,
    /// one sentence at a time. Empty to measure none.
    /// </summary>
    public IReadOnlyList<WeightPrecision> EvalWeights { get; init; } = [WeightPrecision.BFloat16, WeightPrecision.Int8];

    /// <summary>Whether this run trains (no <see cref="ModelPath"/>).</summary>
    public bool Trains => ModelPath is null;

    /// <summary>The epoch limit in effect (0: none).</summary>
    public int EffectiveEpochs => Epochs ?? (Minutes is not null ? 0 : DataPath is null ? 5 : 0);

    /// <summary>The time budget in effect, in minutes (0: none).</summary>
    public double EffectiveMinutes => Minutes ?? (Epochs is not null || DataPath is null ? 0 : 12);

    /// <summary>The threads actually used.</summary>
    public int EffectiveThreads => Math.Clamp(Threads > 0 ? Threads : Environment.ProcessorCount, 1, Batch);

    /// <summary>Throws if a value is out of range or the options contradict each other (the command line checks the same with friendlier messages).</summary>
    /// <exception cref="ArgumentException">The message names the value.</exception>
    public void Validate()
    {
        if (!TaggerModels.SupportedHidden.Contains(Hidden))
            throw new ArgumentException($"Hidden must be one of {string.Join(", ", TaggerModels.SupportedHidden)}.");
        Check(SyntheticTrainSentences >= 1 && SyntheticDevSentences >= 1, "SyntheticTrainSentences and SyntheticDevSentences", ">= 1");
        Check(Epochs is null or >= 0, nameof(Epochs), ">= 0");
        Check(Minutes is null || (Minutes >= 0 && double.IsFinite(Minutes.Value)), nameof(Minutes), "a finite number >= 0");
        Check(Batch is >= 1 and <= 4096, nameof(Batch), "from 1 to 4096");
        Check(float.IsFinite(LearningRate) && LearningRate > 0, nameof(LearningRate), "a finite number > 0");
        Check(float.IsFinite(ClipNorm) && ClipNorm > 0, nameof(ClipNorm), "a finite number > 0");
        Check(float.IsFinite(WordDropout) && WordDropout >= 0, nameof(WordDropout), "a finite number >= 0");
        Check(Dropout is >= 0f and < 1f, nameof(Dropout), "in [0, 1)");
        Check(MinCount >= 1, nameof(MinCount), ">= 1");
        Check(Threads >= 0, nameof(Threads), ">= 0");
        if (EvalWeights is null || EvalWeights.Any(w => w is not (WeightPrecision.BFloat16 or WeightPrecision.Int8)))
            throw new ArgumentException("EvalWeights must hold only BFloat16 and Int8 (float is always measured beside them).");
        if (EvalPath is not null && ModelPath is null) throw new ArgumentException("Scoring a CoNLL-U file (EvalPath) needs a saved model (ModelPath).");
        if (Trains && EffectiveEpochs == 0 && EffectiveMinutes == 0)
            throw new ArgumentException("Training needs a limit: Epochs > 0 or Minutes > 0.");
    }

    private static void Check(bool ok, string name, string expected)
    {
        if (!ok) throw new ArgumentException($"{name} must be {expected}.");
    }
}
