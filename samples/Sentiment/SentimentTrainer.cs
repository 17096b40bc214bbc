using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;

namespace RnnGen.Samples.Sentiment;

/// <summary>Accuracy on a set of reviews, overall and by kind of review (fractions in [0, 1]; NaN when a kind is absent).</summary>
/// <param name="Overall">All reviews of the set.</param>
/// <param name="Negated">Reviews with a negated clause ("not bad at all", "never boring", "did not enjoy").</param>
/// <param name="Contrast">Reviews whose two clauses disagree ("good but too long").</param>
/// <param name="Plain">Reviews that are neither: the words alone give the polarity.</param>
/// <param name="ByStructure">Accuracy on each held-out structure present in the set, in <see cref="ReviewCorpus.HeldOutStructures"/> order.</param>
public sealed record SentimentAccuracy(double Overall, double Negated, double Contrast, double Plain, IReadOnlyList<(HeldOutStructure Structure, double Accuracy)> ByStructure)
{
    /// <summary>Accuracy on one held-out structure (NaN when the set has none).</summary>
    public double this[HeldOutStructure structure] => ByStructure.Where(s => s.Structure == structure).Select(s => s.Accuracy).DefaultIfEmpty(double.NaN).First();
}

/// <summary>One model's accuracy on the two test sets.</summary>
/// <param name="SeenStructures">New texts of the structures trained on.</param>
/// <param name="HeldOutStructures">Structures never trained on (<see cref="HeldOutStructure"/>).</param>
public sealed record SentimentScores(SentimentAccuracy SeenStructures, SentimentAccuracy HeldOutStructures);

/// <summary>What a Sentiment run did and reached.</summary>
public sealed record SentimentResult
{
    /// <summary>Learnable floats of the GRU classifier.</summary>
    public required int ParameterCount { get; init; }

    /// <summary>Training reviews.</summary>
    public required int TrainReviews { get; init; }

    /// <summary>Validation reviews (training structures, other texts), scored after each epoch.</summary>
    public required int ValidationReviews { get; init; }

    /// <summary>Test reviews of the training structures (new texts).</summary>
    public required int SeenStructureTestReviews { get; init; }

    /// <summary>Test reviews of the held-out structures.</summary>
    public required int HeldOutStructureTestReviews { get; init; }

    /// <summary>Optimizer steps taken.</summary>
    public required long Steps { get; init; }

    /// <summary>Mean loss of the first batch, before any update; NaN without training.</summary>
    public required double InitialLoss { get; init; }

    /// <summary>Mean training loss over the last epoch; NaN without training.</summary>
    public required double FinalLoss { get; init; }

    /// <summary>The GRU's accuracy on the validation set after the last epoch (NaN without training).</summary>
    public required double ValidationAccuracy { get; init; }

    /// <summary>The GRU's test accuracy.</summary>
    public required SentimentScores Accuracy { get; init; }

    /// <summary>The bag-of-words baseline's test accuracy, or null when skipped.</summary>
    public SentimentScores? BaselineAccuracy { get; init; }

    /// <summary>Test accuracy of the model reloaded from the saved file (equal to <see cref="Accuracy"/>), or null when nothing was saved.</summary>
    public SentimentScores? ReloadedAccuracy { get; init; }

    /// <summary>Wall-clock time of the GRU's training loop, per-epoch evaluations included.</summary>
    public required TimeSpan TrainingTime { get; init; }

    /// <summary>Training throughput, reviews through Forward and Backward per second.</summary>
    public required double ReviewsPerSecond { get; init; }

    /// <summary>The saved model file, or null.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>The GRU's probability that <see cref="SentimentOptions.Review"/> is positive, or null.</summary>
    public double? ReviewProbability { get; init; }
}

/// <summary>
/// Trains the GRU review classifier on generated reviews (bucketed batches of unequal lengths, Adam, clipping), tests
/// it on new texts of the trained structures and on held-out structures, overall and by kind, saves, reloads and
/// re-tests it, and trains the bag-of-words baseline for comparison on the same sets. <see cref="Run"/> is the whole program minus argument parsing, so tests can call it.
/// </summary>
public sealed class SentimentTrainer
{
    /// <summary>Reviews per inference batch during evaluation.</summary>
    private const int EvaluationBatch = 256;

    private const float FinalLearningRateFraction = 0.1f;

    /// <summary>Shown at the end, with the probabilities both models give them: pairs where order or negation flips the label.</summary>
    private static readonly string[] Showcase =
    [
        "the movie was good",
        "the movie was not good",
        "the movie was bad",
        "the movie was not bad at all",
        "the pacing was never boring",
        "the acting was great but the film was too long",
        "the film was too long but the acting was great",
        "although the plot was predictable, i loved the music",
        "i did not enjoy the ending",
    ];

    private readonly SentimentOptions _options;
    private readonly TextWriter _log;
    private readonly WordVocabulary _vocabulary = WordVocabulary.FromWords(ReviewCorpus.AllWords, SentimentModel.Vocabulary);

    private SentimentTrainer(SentimentOptions options, TextWriter log)
    {
        _options = options;
        _log = log;
    }

    /// <summary>Generates the data, trains, evaluates, saves, reloads and compares, as the command line does.</summary>
    /// <param name="options">The run's settings.</param>
    /// <param name="log">Where progress and results go.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    /// <exception cref="IOException">A model file cannot be read or written (<see cref="SafetensorsException"/> for a file of another model).</exception>
    /// <exception cref="TrainingDivergedException">The loss or the gradients became NaN or infinite.</exception>
    public static SentimentResult Run(SentimentOptions options, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        options.Validate();
        return new SentimentTrainer(options, log).Run();
    }

    /// <summary>Lower-cases a review and splits it into the grammar's tokens (words, "," and ".").</summary>
    public static string[] Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string spaced = text.ToLowerInvariant().Replace(",", " , ", StringComparison.Ordinal).Replace(".", " . ", StringComparison.Ordinal);
        return spaced.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
    }

    private SentimentResult Run()
    {
        // Held-out structures are never generated into training; the seen-structure test and validation texts come
        // from a fixed part of the training structures' texts, so no run trains on them either.
        ReviewSplits data = ReviewCorpus.Generate(_options.TrainReviews, _options.ValidationReviews, _options.TestReviews, _options.TestReviews, DataSeed(_options.Seed));
        List<Review> train = data.Train, validation = data.Validation, seenTest = data.SeenStructures, heldOutTest = data.HeldOutStructures;
        int[][] trainTokens = Encode(train), validationTokens = Encode(validation), seenTokens = Encode(seenTest), heldOutTokens = Encode(heldOutTest);
        Log($"Data (synthetic): {train.Count:N0} training, {validation.Count:N0} validation and 2 x {_options.TestReviews:N0} test reviews generated from a grammar (seed {_options.Seed}), {_vocabulary.Count} word ids.");
        Log($"  held out of training: {string.Join("; ", ReviewCorpus.HeldOutStructures.Select(Describe))}.");
        Log($"  test, seen structures: {seenTest.Count(r => r.Negated):N0} negated, {seenTest.Count(r => r.Contrast):N0} contrast, {seenTest.Count(r => r.Plain):N0} plain; held-out structures: {heldOutTest.Count(r => r.Negated):N0} negated, {heldOutTest.Count(r => r.Contrast):N0} contrast.");
        foreach (Review example in train.Take(3)) Log($"  e.g. \"{example.Text}\" -> {(example.Positive ? "positive" : "negative")}");
        foreach (HeldOutStructure structure in ReviewCorpus.HeldOutStructures)
        {
            if (heldOutTest.FirstOrDefault(r => r.HeldOut == structure) is { } example)
                Log($"  held out, e.g. \"{example.Text}\" -> {(example.Positive ? "positive" : "negative")}");
        }

        var model = new SentimentGru(_options.Seed);
        if (_options.LoadPath is { } loadPath)
        {
            if (!File.Exists(loadPath)) throw new FileNotFoundException($"Model file '{loadPath}' not found (full path {Path.GetFullPath(loadPath)}).", loadPath);
            model.LoadSafetensors(loadPath);
            Log($"Loaded {loadPath}.");
        }
        Log($"Model: embedding [{SentimentGru.VocabularySize}, {SentimentGru.InputSize}] -> GRU({SentimentGru.HiddenSize}) -> linear [1, {SentimentGru.HiddenSize}] at each review's last word, {SentimentGru.ParameterCount:N0} parameters.");

        Outcome outcome = _options.Epochs > 0 ? Train(model, train, trainTokens, validation, validationTokens) : new Outcome(double.NaN, double.NaN, 0, TimeSpan.Zero, 0, double.NaN);

        float[] seenLogits = Score(model, seenTokens), heldOutLogits = Score(model, heldOutTokens);
        var accuracy = new SentimentScores(Measure(seenTest, seenLogits), Measure(heldOutTest, heldOutLogits));

        string? checkpoint = null;
        SentimentScores? reloadedAccuracy = null;
        if (_options.OutputPath is { } outputPath && _options.Epochs > 0)
        {
            string? directory = Path.GetDirectoryName(Path.GetFullPath(outputPath));
            if (directory is not null) Directory.CreateDirectory(directory);
            model.SaveSafetensors(outputPath);
            checkpoint = outputPath;
            // Round trip: a model with other initial weights, loaded from the file, must score exactly the same.
            var reloaded = new SentimentGru(_options.Seed + 1);
            reloaded.LoadSafetensors(outputPath);
            float[] reloadedSeen = Score(reloaded, seenTokens), reloadedHeldOut = Score(reloaded, heldOutTokens);
            reloadedAccuracy = new SentimentScores(Measure(seenTest, reloadedSeen), Measure(heldOutTest, reloadedHeldOut));
            bool identical = reloadedSeen.AsSpan().SequenceEqual(seenLogits) && reloadedHeldOut.AsSpan().SequenceEqual(heldOutLogits);
            Log($"Saved {outputPath} ({new FileInfo(outputPath).Length:N0} bytes); reloaded it: test accuracy {Percent(reloadedAccuracy.SeenStructures.Overall)}% and {Percent(reloadedAccuracy.HeldOutStructures.Overall)}%, logits {(identical ? "bit-identical" : "DIFFERENT")}.");
            if (!identical) throw new InvalidOperationException("The reloaded model scores differently from the saved one.");
        }

        SentimentScores? baseline = null;
        BagOfWords? bow = null;
        if (_options.BaselineEpochs > 0)
        {
            bow = new BagOfWords(SentimentModel.Vocabulary);
            double bowLoss = bow.Train(trainTokens, train.Select(r => r.Positive).ToArray(), _options.BaselineEpochs, batchSize: 64, learningRate: 0.05f, new Rng(DataSeed(_options.Seed) + 2));
            baseline = new SentimentScores(
                Measure(seenTest, seenTokens.Select(t => bow.Logit(t)).ToArray()),
                Measure(heldOutTest, heldOutTokens.Select(t => bow.Logit(t)).ToArray()));
            Log($"Baseline: logistic regression over word counts ({SentimentModel.Vocabulary + 1} parameters), {_options.BaselineEpochs} epochs of Adam on the same training reviews, final training loss {Format(bowLoss)}.");
        }

        _log.WriteLine();
        Log($"Test accuracy (synthetic reviews)       overall   negated  contrast     plain");
        Row($"seen structures, new texts ({seenTest.Count:N0})", null);
        Row("  GRU", accuracy.SeenStructures);
        if (baseline is not null) Row("  bag of words", baseline.SeenStructures);
        Row($"held-out structures ({heldOutTest.Count:N0})", null);
        Row("  GRU", accuracy.HeldOutStructures);
        if (baseline is not null) Row("  bag of words", baseline.HeldOutStructures);
        _log.WriteLine();
        Log($"Held-out structures, one by one                  GRU   bag of words   reviews");
        foreach (HeldOutStructure structure in ReviewCorpus.HeldOutStructures)
        {
            string bowText = baseline is null ? "-" : Percent(baseline.HeldOutStructures[structure]) + "%";
            Log($"  {Describe(structure),-44} {Percent(accuracy.HeldOutStructures[structure]),7}%  {bowText,13}   {heldOutTest.Count(r => r.HeldOut == structure),7:N0}");
        }

        _log.WriteLine();
        Log($"P(positive)    GRU   bag of words   review");
        foreach (string text in Showcase) ShowReview(model, bow, text);
        double? reviewProbability = null;
        if (_options.Review is { } review)
        {
            reviewProbability = ShowReview(model, bow, review);
        }

        return new SentimentResult
        {
            ParameterCount = SentimentGru.ParameterCount,
            TrainReviews = train.Count,
            ValidationReviews = validation.Count,
            SeenStructureTestReviews = seenTest.Count,
            HeldOutStructureTestReviews = heldOutTest.Count,
            Steps = outcome.Steps,
            InitialLoss = outcome.InitialLoss,
            FinalLoss = outcome.FinalLoss,
            ValidationAccuracy = outcome.ValidationAccuracy,
            Accuracy = accuracy,
            BaselineAccuracy = baseline,
            ReloadedAccuracy = reloadedAccuracy,
            TrainingTime = outcome.Time,
            ReviewsPerSecond = outcome.ReviewsPerSecond,
            CheckpointPath = checkpoint,
            ReviewProbability = reviewProbability,
        };
    }

    private int[][] Encode(List<Review> reviews) => reviews.Select(r => _vocabulary.Encode(r.Words)).ToArray();

    private void Row(string label, SentimentAccuracy? a)
    {
        if (a is null)
        {
            _log.WriteLine("  " + label);
            return;
        }
        Log($"  {label,-36} {Percent(a.Overall),7}%  {Percent(a.Negated),7}%  {Percent(a.Contrast),7}%  {Percent(a.Plain),7}%");
    }

    /// <summary>A held-out structure in a few words.</summary>
    public static string Describe(HeldOutStructure structure) => structure switch
    {
        HeldOutStructure.NeverVerb => "\"never\" + verb",
        HeldOutStructure.ClauseNegationDecidesContrast => "clause negation deciding a contrast",
        HeldOutStructure.PhraseNegationAfterAlthough => "\"although A, B\", B phrase-negated",
        HeldOutStructure.ClauseNegationOfExcess => "clause negation of \"too X\"",
        _ => "none",
    };

    private readonly record struct Outcome(double InitialLoss, double FinalLoss, long Steps, TimeSpan Time, double ReviewsPerSecond, double ValidationAccuracy);

    /// <summary>
    /// The training loop. Each epoch groups the reviews into batches of similar length (shuffled), runs the trainer's
    /// batched Forward over the padded batch, takes the head's output at each review's last word as its logit, and
    /// backpropagates binary cross-entropy from those outputs only.
    /// </summary>
    private Outcome Train(SentimentGru model, List<Review> train, int[][] trainTokens, List<Review> validation, int[][] validationTokens)
    {
        int batch = Math.Min(_options.Batch, train.Count);
        int maxSteps = trainTokens.Max(t => t.Length);
        int[] lengths = trainTokens.Select(t => t.Length).ToArray();
        int batchesPerEpoch = (train.Count + batch - 1) / batch;
        long totalSteps = (long)batchesPerEpoch * _options.Epochs;

        SentimentGru.Trainer trainer = model.CreateTrainer(maxSteps, batch);
        var tokens = new int[maxSteps * batch];
        var sequenceLengths = new int[batch];
        var output = new float[maxSteps * batch * SentimentGru.OutputSize];
        var outputGradient = new float[output.Length];
        var logits = new float[batch];
        var targets = new float[batch];
        var logitGradients = new float[batch];

        var optimizer = new Adam(SentimentGru.ParameterCount, _options.LearningRate);
        var schedule = new CosineAnnealing(_options.LearningRate, Math.Max(1, totalSteps), _options.LearningRate * FinalLearningRateFraction);
        var guard = new TrainingGuard(SentimentGru.Tensors);
        var rng = new Rng(DataSeed(_options.Seed) + 1);

        Log($"Training {_options.Epochs} epochs of {batchesPerEpoch:N0} batches (up to {batch} reviews of similar length each), Adam lr {Short(_options.LearningRate)} cosine to {Short(_options.LearningRate * FinalLearningRateFraction)}, clip {Short(_options.ClipNorm)}.");
        var clock = Stopwatch.StartNew();
        long computeTicks = 0;
        long step = 0;
        double initialLoss = double.NaN;
        double epochLoss = double.NaN;
        double lastAccuracy = double.NaN;
        var bar = new ProgressBar(_log, totalSteps, live: _options.LiveProgress, clock: clock);
        try
        {
            for (int epoch = 1; epoch <= _options.Epochs; epoch++)
            {
                double lossSum = 0;
                int done = 0;
                int[][] batches = Batching.BucketByLength(lengths, batch, rng);
                foreach (int[] indices in batches)
                {
                    long start = Stopwatch.GetTimestamp();
                    int n = indices.Length;
                    int steps = Batching.PadTokens(trainTokens, indices, tokens, sequenceLengths, WordVocabulary.Padding);
                    Span<float> batchOutput = output.AsSpan(0, steps * n);
                    Span<float> batchGradient = outputGradient.AsSpan(0, steps * n);
                    ReadOnlySpan<int> batchLengths = sequenceLengths.AsSpan(0, n);

                    model.ZeroGradients();
                    trainer.Forward(tokens.AsSpan(0, steps * n), n, batchLengths, batchOutput);
                    for (int k = 0; k < n; k++)
                    {
                        logits[k] = batchOutput[LastStep(batchLengths[k], k, n)];
                        targets[k] = train[indices[k]].Positive ? 1f : 0f;
                    }
                    float loss = Losses.BinaryCrossEntropyWithLogits(logits.AsSpan(0, n), targets.AsSpan(0, n), logitGradients.AsSpan(0, n));
                    // The gradient is the loss's at each review's last word and zero everywhere else.
                    batchGradient.Clear();
                    for (int k = 0; k < n; k++) batchGradient[LastStep(batchLengths[k], k, n)] = logitGradients[k];
                    trainer.Backward(batchGradient, default);

                    step++;
                    guard.CheckStep(step, loss, model.Gradients);
                    GradientClipping.ClipByGlobalNorm(model.Gradients, _options.ClipNorm);
                    optimizer.LearningRate = schedule.At(Math.Min(step - 1, schedule.TotalSteps));
                    optimizer.Step(model.Parameters, model.Gradients);
                    computeTicks += Stopwatch.GetTimestamp() - start;

                    if (step == 1) initialLoss = loss;
                    lossSum += loss;
                    done++;
                    if (bar.IsDue)
                    {
                        bar.Update(
                            step,
                            ("epoch", $"{epoch}/{_options.Epochs}"),
                            ("loss", Format(lossSum / done)),
                            ("validation acc", double.IsNaN(lastAccuracy) ? "-" : Percent(lastAccuracy) + "%"),
                            ("reviews/s", Rate(step * batch, computeTicks)));
                    }
                }
                epochLoss = lossSum / batches.Length;
                lastAccuracy = Measure(validation, Score(model, validationTokens)).Overall;
                bar.WriteLine(FormattableString.Invariant($"epoch {epoch,3}  train loss {Format(epochLoss)}  validation accuracy {Percent(lastAccuracy)}%  {ProgressBar.FormatDuration(clock.Elapsed)}"));
            }
            bar.Update(step, ("loss", Format(epochLoss)), ("validation acc", Percent(lastAccuracy) + "%"), ("reviews/s", Rate((long)train.Count * _options.Epochs, computeTicks)));
        }
        finally
        {
            bar.Finish();
        }

        double reviewsPerSecond = (double)train.Count * _options.Epochs / Stopwatch.GetElapsedTime(0, computeTicks).TotalSeconds;
        Log($"Trained {step:N0} steps in {ProgressBar.FormatDuration(clock.Elapsed)}: loss {Format(initialLoss)} -> {Format(epochLoss)}, {reviewsPerSecond:N0} reviews/s.");
        return new Outcome(initialLoss, epochLoss, step, clock.Elapsed, reviewsPerSecond, lastAccuracy);
    }

    /// <summary>The index of review <paramref name="k"/>'s output at its last word in a [steps, batch, 1] output.</summary>
    private static int LastStep(int length, int k, int batch) => (length - 1) * batch + k;

    /// <summary>Each review's logit from the model's inference Forward, over batches of similar length.</summary>
    private static float[] Score(SentimentGru model, int[][] reviews)
    {
        var logits = new float[reviews.Length];
        int[] lengths = reviews.Select(t => t.Length).ToArray();
        int maxSteps = lengths.Max();
        var tokens = new int[maxSteps * EvaluationBatch];
        var sequenceLengths = new int[EvaluationBatch];
        var output = new float[maxSteps * EvaluationBatch];
        foreach (int[] indices in Batching.BucketByLength(lengths, EvaluationBatch))
        {
            int n = indices.Length;
            int steps = Batching.PadTokens(reviews, indices, tokens, sequenceLengths, WordVocabulary.Padding);
            model.Forward(tokens.AsSpan(0, steps * n), n, sequenceLengths.AsSpan(0, n), output.AsSpan(0, steps * n));
            for (int k = 0; k < n; k++) logits[indices[k]] = output[LastStep(sequenceLengths[k], k, n)];
        }
        return logits;
    }

    private static SentimentAccuracy Measure(List<Review> reviews, float[] logits)
    {
        double Accuracy(Func<Review, bool> include)
        {
            int total = 0, correct = 0;
            for (int i = 0; i < reviews.Count; i++)
            {
                if (!include(reviews[i])) continue;
                total++;
                if (logits[i] > 0 == reviews[i].Positive) correct++;
            }
            return total == 0 ? double.NaN : (double)correct / total;
        }
        var byStructure = ReviewCorpus.HeldOutStructures
            .Where(structure => reviews.Exists(r => r.HeldOut == structure))
            .Select(structure => (structure, Accuracy(r => r.HeldOut == structure)))
            .ToArray();
        return new SentimentAccuracy(Accuracy(_ => true), Accuracy(r => r.Negated), Accuracy(r => r.Contrast), Accuracy(r => r.Plain), byStructure);
    }

    /// <summary>Prints both models' P(positive) for a review; returns the GRU's.</summary>
    private double ShowReview(SentimentGru model, BagOfWords? bow, string text)
    {
        string[] words = Tokenize(text);
        if (words.Length == 0)
        {
            Log($"(the review \"{text}\" has no words)");
            return double.NaN;
        }
        int[] tokens = _vocabulary.Encode(words);
        var output = new float[tokens.Length * SentimentGru.OutputSize];
        model.Forward(tokens, output);
        double probability = Sigmoid(output[^1]);
        string baseline = bow is null ? "-" : Format(Sigmoid(bow.Logit(tokens)), "0.00");
        string[] unknown = words.Where(w => !_vocabulary.Contains(w)).Distinct().ToArray();
        string note = unknown.Length == 0 ? "" : $"   (not in the vocabulary, read as <unk>: {string.Join(", ", unknown)})";
        Log($"               {Format(probability, "0.00")}   {baseline,12}   \"{text}\"{note}");
        return probability;
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    /// <summary>The data's seed, apart from the model's so changing one does not silently change the other's stream.</summary>
    private static ulong DataSeed(int seed) => unchecked((ulong)(long)seed * 0x9E3779B97F4A7C15UL + 12345);

    private void Log(FormattableString line) => _log.WriteLine(FormattableString.Invariant(line));

    private static string Format(double value, string format = "0.0000") => value.ToString(format, CultureInfo.InvariantCulture);

    private static string Percent(double fraction) => double.IsNaN(fraction) ? "-" : (100 * fraction).ToString("0.00", CultureInfo.InvariantCulture);

    private static string Short(float value) => value.ToString("G4", CultureInfo.InvariantCulture);

    private static string Rate(long reviews, long ticks)
    {
        double seconds = Stopwatch.GetElapsedTime(0, ticks).TotalSeconds;
        return seconds <= 0 ? "-" : (reviews / seconds).ToString("N0", CultureInfo.InvariantCulture);
    }
}
