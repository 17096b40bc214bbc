using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;

namespace RnnGen.Samples.Translate;

/// <summary>What a Translate run did and reached.</summary>
public sealed record TranslateResult
{
    /// <summary>The trained (or loaded) encoder-decoder.</summary>
    public required NumberTranslator Model { get; init; }

    /// <summary>Learnable floats of both models.</summary>
    public required int ParameterCount { get; init; }

    /// <summary>Training pairs.</summary>
    public required int TrainPairs { get; init; }

    /// <summary>The held-out pairs.</summary>
    public required IReadOnlyList<NumberPair> Test { get; init; }

    /// <summary>Optimizer steps taken.</summary>
    public required long Steps { get; init; }

    /// <summary>Mean per-token cross-entropy of the first batch, before any update; NaN without training.</summary>
    public required double InitialLoss { get; init; }

    /// <summary>Mean per-token training cross-entropy over the last epoch; NaN without training.</summary>
    public required double FinalLoss { get; init; }

    /// <summary>Fraction of held-out numbers translated exactly by greedy decoding.</summary>
    public required double GreedyExactMatch { get; init; }

    /// <summary>Fraction of held-out numbers translated exactly by beam search (its best hypothesis).</summary>
    public required double BeamExactMatch { get; init; }

    /// <summary>The beam width used.</summary>
    public required int BeamWidth { get; init; }

    /// <summary>Greedy exact match of the model reloaded from the saved file (equal to <see cref="GreedyExactMatch"/>), or null when nothing was saved.</summary>
    public double? ReloadedGreedyExactMatch { get; init; }

    /// <summary>Wall-clock time of the training loop, per-epoch evaluations included.</summary>
    public required TimeSpan TrainingTime { get; init; }

    /// <summary>Training throughput: sentence pairs through both models' Forward and Backward per second.</summary>
    public required double PairsPerSecond { get; init; }

    /// <summary>The saved model file, or null.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>The beam-search translation of <see cref="TranslateOptions.Text"/> (digits separated by spaces), or null.</summary>
    public string? Translation { get; init; }
}

/// <summary>
/// Trains the number-words-to-digits encoder-decoder end to end (teacher forcing, bucketed batches of unequal lengths,
/// Adam, joint gradient clipping), evaluates greedy decoding and beam search on held-out numbers, saves, reloads and
/// re-evaluates. <see cref="Run"/> is the whole program minus argument parsing, so tests can call it.
/// </summary>
public sealed class TranslateTrainer
{
    private const float FinalLearningRateFraction = 0.1f;

    private readonly TranslateOptions _options;
    private readonly TextWriter _log;

    private TranslateTrainer(TranslateOptions options, TextWriter log)
    {
        _options = options;
        _log = log;
    }

    /// <summary>Makes the data, trains, evaluates, saves, reloads and compares, as the command line does.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    /// <exception cref="IOException">A model file cannot be read or written (<see cref="SafetensorsException"/> for a file of another model).</exception>
    /// <exception cref="TrainingDivergedException">The loss or the gradients became NaN or infinite.</exception>
    public static TranslateResult Run(TranslateOptions options, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        options.Validate();
        return new TranslateTrainer(options, log).Run();
    }

    /// <summary>Source ids of number words (lower-cased, split on spaces and hyphens; unknown words become &lt;unk&gt;).</summary>
    public static int[] EncodeSource(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] words = text.ToLowerInvariant().Split([' ', '-', ',', '\t'], StringSplitOptions.RemoveEmptyEntries);
        return NumberTranslator.SourceVocabulary.Encode(words);
    }

    /// <summary>Target ids as text: digits separated by spaces.</summary>
    public static string DecodeTarget(ReadOnlySpan<int> ids) => NumberTranslator.TargetVocabulary.Decode(ids);

    private TranslateResult Run()
    {
        // Held-out numbers come from a fixed quarter of all numbers, so no run trains on them.
        (List<NumberPair> train, List<NumberPair> test) = NumberCorpus.Generate(_options.TrainPairs, _options.TestPairs, _options.MaxDigits, DataSeed(_options.Seed));
        Log($"Data: {train.Count:N0} training and {test.Count:N0} held-out pairs of numbers with 1 to {_options.MaxDigits} digits (seed {_options.Seed}); held-out numbers are never trained on.");
        foreach (NumberPair pair in train.Take(3)) Log($"  e.g. \"{pair.Source}\" -> \"{pair.Target}\"");

        int[][] trainSources = train.Select(p => NumberTranslator.SourceVocabulary.Encode(p.Words)).ToArray();
        int[][] testSources = test.Select(p => NumberTranslator.SourceVocabulary.Encode(p.Words)).ToArray();
        int[][] testTargets = test.Select(p => NumberTranslator.TargetVocabulary.Encode(p.Digits)).ToArray();

        var model = new NumberTranslator(_options.Seed);
        if (_options.LoadPath is { } loadPath)
        {
            if (!File.Exists(loadPath)) throw new FileNotFoundException($"Model file '{loadPath}' not found (full path {Path.GetFullPath(loadPath)}).", loadPath);
            model.Load(loadPath);
            Log($"Loaded {loadPath}.");
        }
        Log($"Model: encoder embedding [{NumberEncoder.VocabularySize}, {NumberEncoder.InputSize}] -> {NumberEncoder.NumLayers} x GRU({NumberEncoder.HiddenSize}), no head; {NumberEncoder.ParameterCount:N0} parameters.");
        Log($"       its final state starts decoder embedding [{NumberDecoder.VocabularySize}, {NumberDecoder.InputSize}] -> {NumberDecoder.NumLayers} x GRU({NumberDecoder.HiddenSize}) -> linear [{NumberDecoder.OutputSize}, {NumberDecoder.HiddenSize}]; {NumberDecoder.ParameterCount:N0} parameters.");

        Outcome outcome = _options.Epochs > 0
            ? Train(model, train, trainSources, testSources, testTargets)
            : new Outcome(double.NaN, double.NaN, 0, TimeSpan.Zero, 0);

        var clock = Stopwatch.StartNew();
        int[][] greedy = model.TranslateGreedy(testSources, _options.MaxLength);
        TimeSpan greedyTime = clock.Elapsed;
        clock.Restart();
        Hypothesis[][] beams = model.TranslateBeam(testSources, _options.BeamWidth, _options.MaxLength);
        TimeSpan beamTime = clock.Elapsed;
        int[][] beamBest = beams.Select(b => b[0].Tokens).ToArray();
        double greedyMatch = ExactMatch(greedy, testTargets);
        double beamMatch = ExactMatch(beamBest, testTargets);

        string? checkpoint = null;
        double? reloadedMatch = null;
        if (_options.OutputPath is { } outputPath && _options.Epochs > 0)
        {
            model.Save(outputPath);
            checkpoint = outputPath;
            // Round trip: models with other initial weights, loaded from the file, must translate exactly the same.
            var reloaded = new NumberTranslator(_options.Seed + 100);
            reloaded.Load(outputPath);
            int[][] again = reloaded.TranslateGreedy(testSources, _options.MaxLength);
            reloadedMatch = ExactMatch(again, testTargets);
            bool identical = again.Zip(greedy).All(p => p.First.AsSpan().SequenceEqual(p.Second));
            Log($"Saved {outputPath} ({new FileInfo(outputPath).Length:N0} bytes, encoder.* and decoder.* tensors); reloaded it: greedy exact match {Percent(reloadedMatch.Value)}%, translations {(identical ? "identical" : "DIFFERENT")}.");
            if (!identical) throw new InvalidOperationException("The reloaded model translates differently from the saved one.");
        }

        _log.WriteLine();
        Log($"Held-out exact match ({test.Count:N0} numbers):");
        Log($"  greedy              {Percent(greedyMatch),7}%   ({Rate(test.Count, greedyTime)} sentences/s)");
        Log($"  beam search, width {_options.BeamWidth} {Percent(beamMatch),7}%   ({Rate(test.Count, beamTime)} sentences/s)");
        ShowByDigits(test, greedy, beamBest, testTargets);
        ShowExamples(test, greedy, beams, testTargets);

        string? translation = null;
        if (_options.Text is { } text) translation = ShowTranslation(model, text);

        return new TranslateResult
        {
            Model = model,
            ParameterCount = NumberTranslator.ParameterCount,
            TrainPairs = train.Count,
            Test = test,
            Steps = outcome.Steps,
            InitialLoss = outcome.InitialLoss,
            FinalLoss = outcome.FinalLoss,
            GreedyExactMatch = greedyMatch,
            BeamExactMatch = beamMatch,
            BeamWidth = _options.BeamWidth,
            ReloadedGreedyExactMatch = reloadedMatch,
            TrainingTime = outcome.Time,
            PairsPerSecond = outcome.PairsPerSecond,
            CheckpointPath = checkpoint,
            Translation = translation,
        };
    }

    private readonly record struct Outcome(double InitialLoss, double FinalLoss, long Steps, TimeSpan Time, double PairsPerSecond);

    /// <summary>The training loop: per epoch, batches of similar source length in shuffled order, one end-to-end step each.</summary>
    private Outcome Train(NumberTranslator model, List<NumberPair> train, int[][] sources, int[][] testSources, int[][] testTargets)
    {
        int batch = Math.Min(_options.Batch, train.Count);
        int[][] decoderInputs = train.Select(p => NumberTranslator.TargetVocabulary.Encode(p.Digits, addStart: true)).ToArray();
        int[][] decoderTargets = train.Select(p => NumberTranslator.TargetVocabulary.Encode(p.Digits, addEnd: true)).ToArray();
        int[] sourceLengths = sources.Select(s => s.Length).ToArray();
        int batchesPerEpoch = (train.Count + batch - 1) / batch;
        long totalSteps = (long)batchesPerEpoch * _options.Epochs;

        var trainer = new Seq2SeqBatchTrainer(model, sources.Max(s => s.Length), decoderInputs.Max(s => s.Length), batch);
        var encoderOptimizer = new Adam(NumberEncoder.ParameterCount, _options.LearningRate);
        var decoderOptimizer = new Adam(NumberDecoder.ParameterCount, _options.LearningRate);
        var schedule = new CosineAnnealing(_options.LearningRate, Math.Max(1, totalSteps), _options.LearningRate * FinalLearningRateFraction);
        var encoderGuard = new TrainingGuard(NumberEncoder.Tensors);
        var decoderGuard = new TrainingGuard(NumberDecoder.Tensors);
        var rng = new Rng(DataSeed(_options.Seed) + 1);
        int evaluationCount = Math.Min(_options.EpochEvaluationPairs, testSources.Length);
        int[][] evaluationSources = testSources[..evaluationCount];
        int[][] evaluationTargets = testTargets[..evaluationCount];

        Log($"Training {_options.Epochs} epochs of {batchesPerEpoch:N0} batches (up to {batch} pairs of similar length each), teacher forcing, end to end;");
        Log($"  Adam lr {Short(_options.LearningRate)} cosine to {Short(_options.LearningRate * FinalLearningRateFraction)}, clipping both models' gradients to a joint norm of {Short(_options.ClipNorm)}.");
        var clock = Stopwatch.StartNew();
        long computeTicks = 0;
        long step = 0;
        double initialLoss = double.NaN;
        double epochLoss = double.NaN;
        double lastMatch = double.NaN;
        var bar = new ProgressBar(_log, totalSteps, live: _options.LiveProgress, clock: clock);
        try
        {
            for (int epoch = 1; epoch <= _options.Epochs; epoch++)
            {
                double lossSum = 0;
                int done = 0;
                int[][] batches = Batching.BucketByLength(sourceLengths, batch, rng);
                foreach (int[] indices in batches)
                {
                    long start = Stopwatch.GetTimestamp();
                    float loss = trainer.ComputeGradients(sources, decoderInputs, decoderTargets, indices);
                    step++;
                    encoderGuard.CheckStep(step, loss, model.Encoder.Gradients);
                    decoderGuard.CheckStep(step, loss, model.Decoder.Gradients);
                    trainer.ClipGradients(_options.ClipNorm);
                    float learningRate = schedule.At(Math.Min(step - 1, schedule.TotalSteps));
                    encoderOptimizer.LearningRate = learningRate;
                    decoderOptimizer.LearningRate = learningRate;
                    encoderOptimizer.Step(model.Encoder.Parameters, model.Encoder.Gradients);
                    decoderOptimizer.Step(model.Decoder.Parameters, model.Decoder.Gradients);
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
                            ("exact", double.IsNaN(lastMatch) ? "-" : Percent(lastMatch) + "%"),
                            ("pairs/s", Rate(step * batch, Stopwatch.GetElapsedTime(0, computeTicks))));
                    }
                }
                epochLoss = lossSum / batches.Length;
                if (evaluationCount > 0)
                {
                    lastMatch = ExactMatch(model.TranslateGreedy(evaluationSources, _options.MaxLength), evaluationTargets);
                    bar.WriteLine(FormattableString.Invariant(
                        $"epoch {epoch,3}  train loss {Format(epochLoss)}  greedy exact match {Percent(lastMatch)}% (first {evaluationCount} held-out)  {ProgressBar.FormatDuration(clock.Elapsed)}"));
                }
            }
            bar.Update(step, ("loss", Format(epochLoss)), ("exact", double.IsNaN(lastMatch) ? "-" : Percent(lastMatch) + "%"), ("pairs/s", Rate((long)train.Count * _options.Epochs, Stopwatch.GetElapsedTime(0, computeTicks))));
        }
        finally
        {
            bar.Finish();
        }

        double pairsPerSecond = (double)train.Count * _options.Epochs / Stopwatch.GetElapsedTime(0, computeTicks).TotalSeconds;
        Log($"Trained {step:N0} steps in {ProgressBar.FormatDuration(clock.Elapsed)}: loss {Format(initialLoss)} -> {Format(epochLoss)} nats/token, {pairsPerSecond:N0} pairs/s.");
        return new Outcome(initialLoss, epochLoss, step, clock.Elapsed, pairsPerSecond);
    }

    /// <summary>The fraction of predictions equal to their targets.</summary>
    public static double ExactMatch(IReadOnlyList<int[]> predictions, IReadOnlyList<int[]> targets)
    {
        int correct = 0;
        for (int i = 0; i < predictions.Count; i++)
        {
            if (predictions[i].AsSpan().SequenceEqual(targets[i])) correct++;
        }
        return predictions.Count == 0 ? double.NaN : (double)correct / predictions.Count;
    }

    private void ShowByDigits(List<NumberPair> test, int[][] greedy, int[][] beam, int[][] targets)
    {
        Log($"  by digits:  {string.Join("", Enumerable.Range(1, _options.MaxDigits).Select(d => $"{d,9}"))}");
        string Row(int[][] predictions) => string.Join("", Enumerable.Range(1, _options.MaxDigits).Select(d =>
        {
            int[] members = Enumerable.Range(0, test.Count).Where(i => test[i].Digits.Length == d).ToArray();
            if (members.Length == 0) return $"{"-",9}";
            double match = ExactMatch(members.Select(i => predictions[i]).ToArray(), members.Select(i => targets[i]).ToArray());
            return $"{Percent(match) + "%",9}";
        }));
        Log($"    greedy    {Row(greedy)}");
        Log($"    beam      {Row(beam)}");
        Log($"    numbers   {string.Join("", Enumerable.Range(1, _options.MaxDigits).Select(d => $"{test.Count(p => p.Digits.Length == d),9}"))}");
    }

    private void ShowExamples(List<NumberPair> test, int[][] greedy, Hypothesis[][] beams, int[][] targets)
    {
        _log.WriteLine();
        Log($"Examples (held out):");
        for (int i = 0; i < Math.Min(5, test.Count); i++) ShowExample(test[i], greedy[i], beams[i][0], targets[i]);
        int[] differ = Enumerable.Range(0, test.Count).Where(i => !greedy[i].AsSpan().SequenceEqual(beams[i][0].Tokens)).ToArray();
        if (differ.Length > 0)
        {
            Log($"Where beam search and greedy disagree ({differ.Length} of {test.Count}; beam right in {differ.Count(i => beams[i][0].Tokens.AsSpan().SequenceEqual(targets[i]))}, greedy right in {differ.Count(i => greedy[i].AsSpan().SequenceEqual(targets[i]))}):");
            foreach (int i in differ.Take(5)) ShowExample(test[i], greedy[i], beams[i][0], targets[i]);
        }
    }

    private void ShowExample(NumberPair pair, int[] greedy, Hypothesis beam, int[] target)
    {
        static string Mark(int[] prediction, int[] target) => prediction.AsSpan().SequenceEqual(target) ? "ok" : "wrong";
        Log($"  \"{pair.Source}\"");
        Log($"      expected {pair.Target}   greedy {DecodeTarget(greedy)} ({Mark(greedy, target)})   beam {DecodeTarget(beam.Tokens)} ({Mark(beam.Tokens, target)}, score {Format(beam.Score)})");
    }

    /// <summary>Translates the user's text; prints greedy and every beam hypothesis; returns the best beam's digits.</summary>
    private string ShowTranslation(NumberTranslator model, string text)
    {
        int[] source = EncodeSource(text);
        _log.WriteLine();
        if (source.Length == 0)
        {
            Log($"\"{text}\" has no words to translate.");
            return "";
        }
        int unknown = source.Count(id => id == WordVocabulary.Unknown);
        Log($"Translating \"{text}\"{(unknown > 0 ? $" ({unknown} word(s) not in the vocabulary, read as <unk>)" : "")}:");
        int[] greedy = model.TranslateGreedy([source], _options.MaxLength)[0];
        Hypothesis[] beam = model.TranslateBeam([source], _options.BeamWidth, _options.MaxLength)[0];
        Log($"  greedy: {DecodeTarget(greedy)}");
        for (int k = 0; k < beam.Length; k++)
        {
            Hypothesis h = beam[k];
            Log($"  beam {k + 1}: {DecodeTarget(h.Tokens),-14} mean log-prob {Format(h.Score)}{(h.Finished ? "" : " (cut at --max-length)")}");
        }
        return DecodeTarget(beam[0].Tokens);
    }

    private static ulong DataSeed(int seed) => unchecked((ulong)(long)seed * 0x9E3779B97F4A7C15UL + 777);

    private void Log(FormattableString line) => _log.WriteLine(FormattableString.Invariant(line));

    private static string Format(double value) => value.ToString("0.0000", CultureInfo.InvariantCulture);

    private static string Percent(double fraction) => double.IsNaN(fraction) ? "-" : (100 * fraction).ToString("0.00", CultureInfo.InvariantCulture);

    private static string Short(float value) => value.ToString("G4", CultureInfo.InvariantCulture);

    private static string Rate(long count, TimeSpan time) => time <= TimeSpan.Zero ? "-" : (count / time.TotalSeconds).ToString("N0", CultureInfo.InvariantCulture);
}
