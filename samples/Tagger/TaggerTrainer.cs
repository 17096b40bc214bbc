using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Numerics.Tensors;
using System.Threading.Tasks;

namespace RnnGen.Samples.Tagger;

/// <summary>What a Tagger training run did and reached.</summary>
public sealed record TaggerResult
{
    /// <summary>Where the data came from: a treebank folder, or "synthetic".</summary>
    public required string Corpus { get; init; }

    /// <summary>Sentences of the training split.</summary>
    public required int TrainSentences { get; init; }

    /// <summary>Words of the training split.</summary>
    public required int TrainTokens { get; init; }

    /// <summary>Words of the dev split.</summary>
    public required int DevTokens { get; init; }

    /// <summary>Dev words outside the vocabulary.</summary>
    public required int DevUnknownTokens { get; init; }

    /// <summary>Words in the vocabulary, reserved ids included.</summary>
    public required int VocabularySize { get; init; }

    /// <summary>Hidden width of the sentence BiLSTM.</summary>
    public required int Hidden { get; init; }

    /// <summary>Learnable floats: word embedding, character model, sentence model.</summary>
    public required long ParameterCount { get; init; }

    /// <summary>Optimizer steps taken.</summary>
    public required long Steps { get; init; }

    /// <summary>Passes over the training data (fractional when the time budget ended one).</summary>
    public required double Epochs { get; init; }

    /// <summary>Mean cross-entropy per word of the first batch, before any update.</summary>
    public required double InitialLoss { get; init; }

    /// <summary>Mean cross-entropy per word over the last epoch (or the part of it trained).</summary>
    public required double FinalTrainLoss { get; init; }

    /// <summary>Dev accuracy of always answering the most frequent training tag.</summary>
    public required double MajorityBaseline { get; init; }

    /// <summary>Dev accuracy of answering each word's most frequent training tag (the majority tag for unknown words).</summary>
    public required double WordBaseline { get; init; }

    /// <summary>Dev scores of the trained tagger.</summary>
    public required TaggingScore Dev { get; init; }

    /// <summary>Dev scores of the tagger saved and loaded back (equal to <see cref="Dev"/>); null when nothing was saved.</summary>
    public TaggingScore? Reloaded { get; init; }

    /// <summary>Dev scores of the trained weights read as float, bfloat16 and int8, one sentence at a time; null with <see cref="TaggerOptions.EvalWeights"/> empty.</summary>
    public WeightScores? ByWeights { get; init; }

    /// <summary>Wall-clock time of the training loop, per-epoch evaluations included.</summary>
    public required TimeSpan TrainingTime { get; init; }

    /// <summary>Training words through forward and backward per second.</summary>
    public required double WordsPerSecond { get; init; }

    /// <summary>The model file written, or null.</summary>
    public string? ModelPath { get; init; }

    /// <summary>The tagged example sentences printed at the end, "word/TAG" each.</summary>
    public required IReadOnlyList<string> Examples { get; init; }
}

/// <summary>
/// Trains the tagger end to end: for each batch the character BiLSTM reads every distinct spelling of the batch
/// (batched, unequal lengths), its final states and the word embeddings make the sentence BiLSTM's input vectors,
/// cross-entropy on the tag logits (padding ignored) is backpropagated through the sentence BiLSTM to those vectors,
/// whose gradient is split into a scatter-add on the embedding rows and the final-state gradient of the character
/// BiLSTM, which backpropagates it through the characters. Adam on the two networks and row-sparse Adam
/// (<see cref="SparseRowAdam"/>) on the embedding, one global clipping norm over all three, a cosine schedule, word
/// dropout and input dropout. <see cref="Run"/> is the whole program minus argument parsing.
/// </summary>
/// <remarks>
/// With several threads each worker holds copies of the two networks (parameters copied in before every step) and
/// trains on its share of the batch's sentences; the gradients are summed in worker order, so a run is reproducible
/// for a given seed and thread count.
/// </remarks>
public sealed class TaggerTrainer
{
    private const long ScheduleResolution = 1_000_000;
    private const float FinalLearningRateFraction = 0.1f;

    /// <summary>A batch holds at most this many words per sentence of --batch (longer sentences come in smaller batches).</summary>
    private const int WordsPerSentenceBudget = 32;

    private const int E = TaggerModels.WordEmbedding;
    private const int In = TaggerModels.TaggerInput;
    private const int Tags = TaggerModels.Tags;

    /// <summary>Sentences tagged at the end of a run on the built-in treebank: ambiguous words and invented ones.</summary>
    private static readonly string[] SyntheticExamples =
    [
        "My dog ate the assignment .",
        "They run to the park after the run .",
        "She books a table but the books were old .",
        "We can swim but a can of beans is heavy .",
        "The frimp was glonking the snarfness zorbly .",
        "Blargo said that the plinkous teacher trumbled .",
    ];

    /// <summary>Sentences tagged at the end of a run on real data.</summary>
    private static readonly string[] RealExamples =
    [
        "My dog ate the assignment .",
        "They run to the park after the morning run .",
        "I will book a flight to Zanzibar and read a book on the way .",
        "The grumpiest flibbertigibbets were snorkeling blissfully in 1987 .",
    ];

    private readonly TaggerOptions _options;
    private readonly TextWriter _log;

    /// <summary>1 / words of the current step: each worker scales its summed loss gradient by it, for a per-word mean over the whole batch.</summary>
    private float _lossScale;

    private TaggerTrainer(TaggerOptions options, TextWriter log)
    {
        _options = options;
        _log = log;
    }

    /// <summary>Loads the data, trains, evaluates, saves and reloads the model, and tags example sentences.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    /// <exception cref="IOException">The data cannot be read (<see cref="InvalidDataException"/> for a malformed CoNLL-U line).</exception>
    /// <exception cref="TrainingDivergedException">The loss or the gradients became NaN or infinite.</exception>
    public static TaggerResult Run(TaggerOptions options, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        options.Validate();
        if (!options.Trains) throw new ArgumentException("These options load a model (ModelPath); use TaggerEvaluator for them.");
        return new TaggerTrainer(options, log).Execute();
    }

    private TaggerResult Execute()
    {
        (string corpusName, List<TaggedSentence> trainSentences, List<TaggedSentence> devSentences) = LoadData();
        var vocabulary = TaggerVocabulary.Build(trainSentences, _options.MinCount);
        var forms = new FormTable();
        var train = new EncodedCorpus(trainSentences, vocabulary, forms);
        var dev = new EncodedCorpus(devSentences, vocabulary, forms);
        Log($"Data: {corpusName}: train {train.Count:N0} sentences, {train.Tokens:N0} words; dev {dev.Count:N0} sentences, {dev.Tokens:N0} words, "
            + $"{dev.UnknownTokens:N0} ({EncodedCorpus.Percent((double)dev.UnknownTokens / dev.Tokens)}%) not in the training vocabulary.");
        (double majority, double wordBaseline) = Baselines(trainSentences, devSentences);
        Log($"Baselines on dev: most frequent tag {EncodedCorpus.Percent(majority)}%, most frequent tag per word {EncodedCorpus.Percent(wordBaseline)}%.");

        var network = new TaggerNetwork(vocabulary, _options.Hidden, _options.Seed);
        Log($"Model: words [{vocabulary.Count:N0}, {E}] + char BiLSTM (embedding [{CharBiLstm.VocabularySize}, {CharBiLstm.InputSize}], hidden {CharBiLstm.HiddenSize} x 2) "
            + $"-> sentence BiLSTM (input {In}, hidden {network.Hidden} x 2) -> linear [{Tags}, {2 * network.Hidden}]; {network.ParameterCount:N0} parameters.");

        TrainingOutcome outcome = Train(network, train, dev);

        TaggingScore score = network.Evaluate(dev);
        Log($"Dev UPOS accuracy: {Describe(score)}.");
        WeightScores? byWeights = WeightScores.Measure(network, dev, _options.EvalWeights, _log);

        string? modelPath = null;
        TaggingScore? reloaded = null;
        if (_options.OutputPath is { } path)
        {
            string vocabularyPath = network.Save(path);
            TaggerNetwork loaded = TaggerNetwork.Load(path);
            reloaded = loaded.Evaluate(new EncodedCorpus(devSentences, loaded.Vocabulary, new FormTable()));
            modelPath = path;
            Log($"Saved {path} and {vocabularyPath}; loaded back: dev accuracy {EncodedCorpus.Percent(reloaded.Value.Accuracy)}% "
                + (reloaded.Value == score ? "(identical)." : $"(DIFFERENT from {EncodedCorpus.Percent(score.Accuracy)}%)."));
        }

        var examples = new List<string>();
        IEnumerable<string> texts = _options.DataPath is null ? SyntheticExamples : RealExamples;
        if (_options.TagText is { } text) texts = texts.Prepend(text);
        _log.WriteLine();
        foreach (string sentence in texts)
        {
            string tagged = TagText(network, sentence);
            examples.Add(tagged);
            _log.WriteLine("  " + tagged);
        }
        _log.WriteLine();

        return new TaggerResult
        {
            Corpus = corpusName,
            TrainSentences = train.Count,
            TrainTokens = train.Tokens,
            DevTokens = dev.Tokens,
            DevUnknownTokens = dev.UnknownTokens,
            VocabularySize = vocabulary.Count,
            Hidden = network.Hidden,
            ParameterCount = network.ParameterCount,
            Steps = outcome.Steps,
            Epochs = outcome.Epochs,
            InitialLoss = outcome.InitialLoss,
            FinalTrainLoss = outcome.FinalLoss,
            MajorityBaseline = majority,
            WordBaseline = wordBaseline,
            Dev = score,
            Reloaded = reloaded,
            ByWeights = byWeights,
            TrainingTime = outcome.Time,
            WordsPerSecond = outcome.WordsPerSecond,
            ModelPath = modelPath,
            Examples = examples,
        };
    }

    /// <summary>"word/TAG word/TAG ..." for whitespace-separated text.</summary>
    internal static string TagText(TaggerNetwork network, string text)
    {
        string[] words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string[] tags = network.Tag(words);
        return string.Join(' ', words.Select((w, i) => w + "/" + tags[i]));
    }

    internal static string Describe(TaggingScore score) =>
        $"{EncodedCorpus.Percent(score.Accuracy)}% of {score.Total:N0} words; unknown words {(score.UnknownTotal == 0 ? "-" : EncodedCorpus.Percent(score.UnknownAccuracy))}% "
        + $"of {score.UnknownTotal:N0}, known words {(score.UnknownTotal == score.Total ? "-" : EncodedCorpus.Percent(score.KnownAccuracy))}%";

    private (string Name, List<TaggedSentence> Train, List<TaggedSentence> Dev) LoadData()
    {
        if (_options.DataPath is not { } folder)
        {
            (List<TaggedSentence> train, List<TaggedSentence> dev) = SyntheticTreebank.Generate(_options.SyntheticTrainSentences, _options.SyntheticDevSentences);
            Log("No --data given: generated a synthetic treebank (the same sentences every run); its dev split has invented words the training split never shows.");
            return ("synthetic", train, dev);
        }
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Data folder '{folder}' not found (full path {Path.GetFullPath(folder)}).");
        string trainPath = FindSplit(folder, "train");
        string devPath = FindSplit(folder, "dev");
        List<TaggedSentence> trainSentences = Conllu.Read(trainPath);
        List<TaggedSentence> devSentences = Conllu.Read(devPath);
        if (trainSentences.Count == 0 || devSentences.Count == 0) throw new InvalidDataException($"'{trainPath}' or '{devPath}' holds no sentences.");
        return (folder, trainSentences, devSentences);
    }

    private static string FindSplit(string folder, string split)
    {
        string[] matches = Directory.GetFiles(folder, $"*-ud-{split}.conllu");
        Array.Sort(matches, StringComparer.Ordinal);
        return matches.Length switch
        {
            1 => matches[0],
            0 => throw new FileNotFoundException($"No *-ud-{split}.conllu in '{folder}' (a UD treebank folder has e.g. en_ewt-ud-{split}.conllu)."),
            _ => throw new IOException($"More than one *-ud-{split}.conllu in '{folder}': {string.Join(", ", matches.Select(Path.GetFileName))}."),
        };
    }

    /// <summary>Dev accuracy of the most frequent tag, and of each word's most frequent tag (lower-cased; the most frequent tag for unseen words).</summary>
    private static (double Majority, double PerWord) Baselines(List<TaggedSentence> train, List<TaggedSentence> dev)
    {
        var tagCounts = new int[Tags];
        var wordTagCounts = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (TaggedSentence sentence in train)
        {
            for (int i = 0; i < sentence.Words.Length; i++)
            {
                tagCounts[sentence.Tags[i]]++;
                string key = TaggerVocabulary.Key(sentence.Words[i]);
                if (!wordTagCounts.TryGetValue(key, out int[]? counts)) wordTagCounts[key] = counts = new int[Tags];
                counts[sentence.Tags[i]]++;
            }
        }
        int majorityTag = Array.IndexOf(tagCounts, tagCounts.Max());
        int total = 0, majorityRight = 0, wordRight = 0;
        foreach (TaggedSentence sentence in dev)
        {
            for (int i = 0; i < sentence.Words.Length; i++)
            {
                total++;
                if (sentence.Tags[i] == majorityTag) majorityRight++;
                int guess = wordTagCounts.TryGetValue(TaggerVocabulary.Key(sentence.Words[i]), out int[]? counts) ? Array.IndexOf(counts, counts.Max()) : majorityTag;
                if (sentence.Tags[i] == guess) wordRight++;
            }
        }
        return ((double)majorityRight / total, (double)wordRight / total);
    }

    /// <summary>One worker's copies of the networks, trainers and buffers, allocated once.</summary>
    private sealed class Worker
    {
        public required CharBiLstm Chars { get; init; }
        public required CharBiLstm.Trainer CharTrainer { get; init; }
        public required IVectorSequenceModel Sentence { get; init; }
        public required IVectorTrainer SentenceTrainer { get; init; }
        public required WordDropout WordDropout { get; init; }
        public required Rng Rng { get; init; }
        public TaggerBatch Batch { get; } = new();
        public int[] Share = [];
        public int ShareCount;
        public float[] CharOutput = [];
        public float[] CharOutputGradient = [];
        public float[] CharFinal = [];
        public float[] CharFinalGradient = [];
        public float[] Input = [];
        public float[] DropoutMask = [];
        public float[] Logits = [];
        public float[] LogitGradient = [];
        public float[] InputGradient = [];
        public double LossSum;
        public int Correct;
    }

    private readonly record struct TrainingOutcome(double InitialLoss, double FinalLoss, long Steps, double Epochs, double WordsPerSecond, TimeSpan Time);

    private TrainingOutcome Train(TaggerNetwork network, EncodedCorpus train, EncodedCorpus dev)
    {
        int threads = _options.EffectiveThreads;
        int maxBatchWords = Math.Max(_options.Batch * WordsPerSentenceBudget, train.MaxLength);
        int epochLimit = _options.EffectiveEpochs;
        TimeSpan? budget = _options.EffectiveMinutes > 0 ? TimeSpan.FromMinutes(_options.EffectiveMinutes) : null;
        var rng = new Rng(_options.Seed);

        var workers = new Worker[threads];
        for (int w = 0; w < threads; w++)
        {
            // Worker 0 trains the network's own models; the others train copies refreshed before every step.
            CharBiLstm chars = w == 0 ? network.Chars : new CharBiLstm();
            IVectorSequenceModel sentence = w == 0 ? network.Sentence : TaggerModels.CreateSentenceTagger(network.Hidden, 0);
            workers[w] = new Worker
            {
                Chars = chars,
                CharTrainer = chars.CreateTrainer(TaggerModels.MaxWordChars, maxBatchWords),
                Sentence = sentence,
                SentenceTrainer = (IVectorTrainer)sentence.CreateTrainer(train.MaxLength, _options.Batch),
                WordDropout = new WordDropout(network.Vocabulary, _options.WordDropout, new Rng(_options.Seed * 1000 + 17 + w)),
                Rng = new Rng(_options.Seed * 1000 + 501 + w),
                Share = new int[_options.Batch],
            };
        }

        int stepsPerEpoch = SplitLongBatches(Batching.BucketByLength(train.Lengths, _options.Batch), train.Lengths, maxBatchWords).Count;
        long totalSteps = epochLimit > 0 ? (long)epochLimit * stepsPerEpoch : 0;
        var embeddingGradient = new SparseEmbeddingGradient(network.Vocabulary.Count, E);
        var charAdam = new Adam(CharBiLstm.ParameterCount, _options.LearningRate);
        var sentenceAdam = new Adam(network.Sentence.ParameterCount, _options.LearningRate);
        var embeddingAdam = new SparseRowAdam(network.Vocabulary.Count, E, _options.LearningRate);
        var schedule = new CosineAnnealing(_options.LearningRate, ScheduleResolution, _options.LearningRate * FinalLearningRateFraction);
        var charGuard = new TrainingGuard(CharBiLstm.Tensors);
        var sentenceGuard = new TrainingGuard(network.Sentence.TensorTable);
        var embeddingGuard = new TrainingGuard(); // sees only the rows of the batch's words, so it reports flat indices

        string limit = (epochLimit > 0 ? $"{epochLimit} epochs ({totalSteps:N0} steps)" : "")
                       + (epochLimit > 0 && budget is not null ? " or " : "")
                       + (budget is { } b ? ProgressBar.FormatDuration(b) : "");
        _log.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"Training for {limit}: batches of {_options.Batch} sentences bucketed by length ({stepsPerEpoch:N0} steps an epoch), Adam lr {Short(_options.LearningRate)} "
            + $"cosine to {Short(_options.LearningRate * FinalLearningRateFraction)}, clip {Short(_options.ClipNorm)}, word dropout {Short(_options.WordDropout)}, "
            + $"input dropout {Short(_options.Dropout)}, {threads} thread(s) of {Environment.ProcessorCount} core(s)."));

        var clock = Stopwatch.StartNew();
        var bar = new ProgressBar(_log, totalSteps, budget, _options.LiveProgress, clock);
        long step = 0;
        int epoch = 0;
        double initialLoss = double.NaN, epochLoss = 0, lastEpochLoss = double.NaN;
        long epochWords = 0, epochCorrect = 0, computeTicks = 0, wordsTrained = 0;
        double progress = 0;
        string devText = "-";
        Action<int> runWorker = w => TrainShare(workers[w], w, network, train);
        try
        {
            while (progress < 1)
            {
                epoch++;
                epochLoss = 0;
                epochWords = 0;
                epochCorrect = 0;
                List<int[]> batches = SplitLongBatches(Batching.BucketByLength(train.Lengths, _options.Batch, rng), train.Lengths, maxBatchWords);
                foreach (int[] batch in batches)
                {
                    progress = Progress(step, totalSteps, clock.Elapsed, budget);
                    if (progress >= 1) break;
                    long start = Stopwatch.GetTimestamp();

                    int words = 0;
                    foreach (Worker worker in workers) worker.ShareCount = 0;
                    for (int i = 0; i < batch.Length; i++)
                    {
                        Worker worker = workers[i % threads];
                        worker.Share[worker.ShareCount++] = batch[i];
                        words += train.Lengths[batch[i]];
                    }
                    _lossScale = 1f / words;
                    if (threads == 1) runWorker(0);
                    else Parallel.For(0, threads, runWorker);

                    // Sum the workers' gradients in a fixed order; the embedding gradient is scattered from their input gradients.
                    Span<float> charGradients = network.Chars.Gradients, sentenceGradients = network.Sentence.Gradients;
                    embeddingGradient.Clear();
                    double loss = 0;
                    for (int w = 0; w < threads; w++)
                    {
                        Worker worker = workers[w];
                        if (worker.ShareCount == 0) continue;
                        if (w > 0)
                        {
                            TensorPrimitives.Add(charGradients, worker.Chars.Gradients, charGradients);
                            TensorPrimitives.Add(sentenceGradients, worker.Sentence.Gradients, sentenceGradients);
                        }
                        worker.Batch.AddWordEmbeddingGradient(worker.InputGradient, embeddingGradient);
                        loss += worker.LossSum;
                        epochCorrect += worker.Correct;
                    }
                    double meanLoss = loss / words;
                    charGuard.CheckStep(step + 1, meanLoss, charGradients);
                    sentenceGuard.CheckStep(step + 1, meanLoss, sentenceGradients);
                    embeddingGuard.CheckStep(step + 1, meanLoss, embeddingGradient.Values);
                    ClipTogether(_options.ClipNorm, charGradients, sentenceGradients, embeddingGradient.Values);
                    float lr = schedule.At((long)Math.Round(progress * ScheduleResolution));
                    charAdam.LearningRate = sentenceAdam.LearningRate = embeddingAdam.LearningRate = lr;
                    charAdam.Step(network.Chars.Parameters, charGradients);
                    sentenceAdam.Step(network.Sentence.Parameters, sentenceGradients);
                    embeddingAdam.Step(network.WordEmbedding, embeddingGradient);
                    computeTicks += Stopwatch.GetTimestamp() - start;

                    step++;
                    if (step == 1) initialLoss = meanLoss;
                    epochLoss += loss;
                    epochWords += words;
                    wordsTrained += words;
                    progress = Progress(step, totalSteps, clock.Elapsed, budget);
                    if (bar.IsDue || progress >= 1)
                    {
                        bar.Update(
                            step,
                            ("epoch", epoch.ToString(CultureInfo.InvariantCulture)),
                            ("loss", Format(epochLoss / epochWords)),
                            ("acc", EncodedCorpus.Percent((double)epochCorrect / epochWords) + "%"),
                            ("dev", devText),
                            ("words/s", Rate(wordsTrained, computeTicks)),
                            ("lr", lr.ToString("0.0e0", CultureInfo.InvariantCulture)));
                    }
                }
                if (epochWords > 0) lastEpochLoss = epochLoss / epochWords;
                if (epochWords == train.Tokens)
                {
                    TaggingScore score = network.Evaluate(dev);
                    devText = EncodedCorpus.Percent(score.Accuracy) + "%";
                    bar.WriteLine(string.Create(
                        CultureInfo.InvariantCulture,
                        $"epoch {epoch,3}  train loss {Format(lastEpochLoss)}  acc {EncodedCorpus.Percent((double)epochCorrect / epochWords)}%  "
                        + $"dev {EncodedCorpus.Percent(score.Accuracy)}% (unknown {(score.UnknownTotal == 0 ? "-" : EncodedCorpus.Percent(score.UnknownAccuracy))}%)  "
                        + $"{Rate(wordsTrained, computeTicks)} words/s  {ProgressBar.FormatDuration(clock.Elapsed)}"));
                }
                progress = Progress(step, totalSteps, clock.Elapsed, budget);
            }
        }
        finally
        {
            bar.Finish();
        }

        TimeSpan time = clock.Elapsed;
        double epochs = (double)wordsTrained / train.Tokens;
        double rate = computeTicks == 0 ? 0 : wordsTrained / Stopwatch.GetElapsedTime(0, computeTicks).TotalSeconds;
        _log.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"Trained {step:N0} steps ({epochs:0.00} epochs, {wordsTrained:N0} words) in {ProgressBar.FormatDuration(time)}: "
            + $"loss {Format(initialLoss)} -> {Format(lastEpochLoss)} per word, {rate:N0} words/s."));
        return new TrainingOutcome(initialLoss, lastEpochLoss, step, epochs, rate, time);
    }

    /// <summary>
    /// One worker's share of a step: character BiLSTM over the share's distinct spellings, input vectors (with input
    /// dropout), sentence BiLSTM, summed cross-entropy scaled to a per-word mean over the whole batch, then backward
    /// through the sentence BiLSTM and, via the final-state gradient, the character BiLSTM.
    /// </summary>
    private void TrainShare(Worker worker, int w, TaggerNetwork network, EncodedCorpus train)
    {
        worker.LossSum = 0;
        worker.Correct = 0;
        if (worker.ShareCount == 0) return;
        if (w > 0)
        {
            network.Chars.Parameters.CopyTo(worker.Chars.Parameters);
            network.Sentence.Parameters.CopyTo(worker.Sentence.Parameters);
        }
        worker.Chars.ZeroGradients();
        worker.Sentence.ZeroGradients();

        TaggerBatch batch = worker.Batch;
        batch.Prepare(train, worker.Share.AsSpan(0, worker.ShareCount), worker.WordDropout);
        int unique = batch.Unique, rows = batch.Rows, charRows = batch.CharSteps * unique;
        Span<float> charOutput = Slice(ref worker.CharOutput, charRows * CharBiLstm.OutputSize);
        Span<float> charOutputGradient = Slice(ref worker.CharOutputGradient, charRows * CharBiLstm.OutputSize);
        Span<float> charFinal = Slice(ref worker.CharFinal, unique * CharBiLstm.StateSize);
        Span<float> charFinalGradient = Slice(ref worker.CharFinalGradient, unique * CharBiLstm.StateSize);
        Span<float> input = Slice(ref worker.Input, rows * In);
        Span<float> mask = Slice(ref worker.DropoutMask, rows * In);
        Span<float> logits = Slice(ref worker.Logits, rows * Tags);
        Span<float> logitGradient = Slice(ref worker.LogitGradient, rows * Tags);
        Span<float> inputGradient = Slice(ref worker.InputGradient, rows * In);

        worker.CharTrainer.Forward(batch.CharTokens.AsSpan(0, charRows), unique, batch.CharLengths.AsSpan(0, unique), charOutput, default, charFinal);
        batch.BuildInput(network.WordEmbedding, charFinal, input);
        float dropout = _options.Dropout;
        if (dropout > 0)
        {
            float keep = 1f / (1f - dropout);
            for (int i = 0; i < mask.Length; i++) mask[i] = worker.Rng.NextSingle() < dropout ? 0f : keep;
            TensorPrimitives.Multiply(input, mask, input);
        }
        worker.SentenceTrainer.Forward(input, batch.Batch, batch.Lengths.AsSpan(0, batch.Batch), logits, default, default);
        ReadOnlySpan<int> targets = batch.Targets.AsSpan(0, rows);
        for (int row = 0; row < rows; row++)
        {
            if (targets[row] >= 0 && TaggerNetwork.ArgMax(logits.Slice(row * Tags, Tags)) == targets[row]) worker.Correct++;
        }
        worker.LossSum = Losses.SoftmaxCrossEntropy(logits, targets, logitGradient, Reduction.Sum, TaggerBatch.IgnoredTarget);
        TensorPrimitives.Multiply(logitGradient, _lossScale, logitGradient);
        worker.SentenceTrainer.Backward(logitGradient, inputGradient);
        if (dropout > 0) TensorPrimitives.Multiply(inputGradient, mask, inputGradient);
        batch.CharStateGradient(inputGradient, charFinalGradient);
        worker.CharTrainer.Backward(charOutputGradient, default, charFinalGradient, default);
    }

    /// <summary>The first <paramref name="length"/> floats of <paramref name="buffer"/>, grown when needed (zeros when new).</summary>
    private static Span<float> Slice(ref float[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new float[Math.Max(length, buffer.Length * 3 / 2)];
        return buffer.AsSpan(0, length);
    }

    /// <summary>Splits the batches whose padded size exceeds <paramref name="maxWords"/> into smaller ones (they hold sentences of similar length).</summary>
    private static List<int[]> SplitLongBatches(int[][] batches, int[] lengths, int maxWords)
    {
        var result = new List<int[]>(batches.Length);
        foreach (int[] batch in batches)
        {
            int longest = batch.Max(s => lengths[s]);
            int size = Math.Max(1, maxWords / longest);
            for (int start = 0; start < batch.Length; start += size) result.Add(batch[start..Math.Min(batch.Length, start + size)]);
        }
        return result;
    }

    /// <summary>Scales all gradients by one factor so their joint L2 norm is at most <paramref name="maxNorm"/>.</summary>
    private static void ClipTogether(float maxNorm, Span<float> a, Span<float> b, Span<float> c)
    {
        double na = GradientClipping.GlobalNorm(a), nb = GradientClipping.GlobalNorm(b), nc = GradientClipping.GlobalNorm(c);
        double norm = Math.Sqrt(na * na + nb * nb + nc * nc);
        if (norm <= maxNorm) return;
        float scale = (float)(maxNorm / norm);
        TensorPrimitives.Multiply(a, scale, a);
        TensorPrimitives.Multiply(b, scale, b);
        TensorPrimitives.Multiply(c, scale, c);
    }

    private static double Progress(long step, long totalSteps, TimeSpan elapsed, TimeSpan? budget)
    {
        double progress = 0;
        if (totalSteps > 0) progress = (double)step / totalSteps;
        if (budget is { } b) progress = Math.Max(progress, elapsed / b);
        return Math.Min(progress, 1);
    }

    private static string Rate(long words, long ticks)
    {
        if (ticks == 0) return "-";
        double rate = words / Stopwatch.GetElapsedTime(0, ticks).TotalSeconds;
        return rate >= 10_000 ? (rate / 1000).ToString("0", CultureInfo.InvariantCulture) + "k" : rate.ToString("0", CultureInfo.InvariantCulture);
    }

    private static string Format(double value) => double.IsNaN(value) ? "-" : value.ToString("0.0000", CultureInfo.InvariantCulture);

    private static string Short(float value) => ((double)(decimal)value).ToString(CultureInfo.InvariantCulture);

    private void Log(string message) => _log.WriteLine(message);
}
