using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Numerics.Tensors;
using System.Text;
using System.Threading.Tasks;

namespace RnnGen.Samples.CharRnn;

/// <summary>What a CharRnn run did and reached.</summary>
public sealed record CharRnnResult
{
    /// <summary>The generated model class that was trained, e.g. CharLstmH128L2.</summary>
    public required string ModelName { get; init; }

    /// <summary>Hidden width.</summary>
    public required int Hidden { get; init; }

    /// <summary>LSTM layers.</summary>
    public required int Layers { get; init; }

    /// <summary>Learnable floats.</summary>
    public required int ParameterCount { get; init; }

    /// <summary>Where the text came from: a path, or "built-in rhymes".</summary>
    public required string Corpus { get; init; }

    /// <summary>Characters in the training split.</summary>
    public required int TrainChars { get; init; }

    /// <summary>Characters in the validation split (the last 5%).</summary>
    public required int ValidationChars { get; init; }

    /// <summary>Optimizer steps taken.</summary>
    public required long Steps { get; init; }

    /// <summary>Mean cross-entropy (nats/char) of the first training batch, before any update; NaN without training.</summary>
    public required double InitialLoss { get; init; }

    /// <summary>Smoothed training loss at the end (nats/char); NaN without training.</summary>
    public required double FinalTrainLoss { get; init; }

    /// <summary>Mean cross-entropy (nats/char) over the whole validation split after training.</summary>
    public required double ValidationLoss { get; init; }

    /// <summary>Training throughput: characters through Forward and Backward per second (evaluation excluded).</summary>
    public required double CharsPerSecond { get; init; }

    /// <summary>Wall-clock time of the training loop, evaluations included.</summary>
    public required TimeSpan TrainingTime { get; init; }

    /// <summary>The prompt followed by the sampled characters.</summary>
    public required string Sample { get; init; }

    /// <summary>The checkpoint written, or null.</summary>
    public string? CheckpointPath { get; init; }
}

/// <summary>
/// Karpathy's char-rnn with a generated LSTM: truncated BPTT over <c>batch</c> streams that read the training text
/// at evenly spaced offsets, Adam with a cosine schedule and gradient clipping, periodic validation and checkpoints,
/// then temperature sampling. <see cref="Run"/> is the whole program minus argument parsing, so tests can call it.
/// </summary>
/// <remarks>
/// <para>
/// Each stream keeps its LSTM state from one window to the next (the model sees a continuous text) but no gradient
/// flows between windows. A stream that reaches the end of the training text starts again at its beginning with a
/// zero state.
/// </para>
/// <para>
/// The runtime's trainers take one sequence at a time, so a batch is a loop over streams that accumulates gradients.
/// With several threads every worker holds its own copy of the model (parameters copied in before each step) and
/// works on a fixed share of the streams; their gradients are summed in worker order, so a run is reproducible for
/// a given seed and thread count.
/// </para>
/// </remarks>
public sealed class CharRnnTrainer
{
    /// <summary>Chunk length of validation: the inference Forward runs this many characters at a time, state carried over.</summary>
    private const int EvaluationChunk = 256;

    /// <summary>The cosine schedule is evaluated at progress × this many steps, so it works for step and time budgets alike.</summary>
    private const long ScheduleResolution = 1_000_000;

    /// <summary>The schedule's floor as a fraction of the peak learning rate.</summary>
    private const float FinalLearningRateFraction = 0.1f;

    private const int V = CharModels.Vocabulary;

    private readonly CharRnnOptions _options;
    private readonly TextWriter _log;

    private CharRnnTrainer(CharRnnOptions options, TextWriter log)
    {
        _options = options;
        _log = log;
    }

    /// <summary>Trains (or loads), evaluates, saves and samples, as the command line does.</summary>
    /// <param name="options">The run's settings.</param>
    /// <param name="log">Where progress and results go.</param>
    /// <exception cref="ArgumentException">An option is out of range, the corpus is too small, or a checkpoint does not fit the sizes asked for.</exception>
    /// <exception cref="IOException">The corpus or checkpoint cannot be read (<see cref="SafetensorsException"/> for a bad checkpoint).</exception>
    /// <exception cref="TrainingDivergedException">The loss or the gradients became NaN or infinite; nothing was saved at that step.</exception>
    public static CharRnnResult Run(CharRnnOptions options, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        options.Validate();
        return new CharRnnTrainer(options, log).Run();
    }

    private CharRnnResult Run()
    {
        (string corpusName, int[] data) = LoadCorpus();
        int validationLength = Math.Max(2, data.Length / 20);
        int trainLength = data.Length - validationLength;
        if (trainLength < 1 || (_options.Trains && trainLength < _options.SequenceLength + 1))
            throw new ArgumentException(
                $"The corpus has {data.Length} characters: too few for a validation split of {validationLength} and training windows of --seq {_options.SequenceLength} + 1.");
        ReadOnlyMemory<int> validation = data.AsMemory(trainLength);
        Log($"Corpus: {corpusName}: {data.Length:N0} chars, {trainLength:N0} for training, the last {validationLength:N0} (5%) for validation.");

        ITokenStreamingModel model = CreateModel(out int hidden, out int layers);
        string modelName = model.GetType().Name;
        Log(
            $"Model: {modelName}: embedding [{V}, {model.InputSize}] -> {layers} x LSTM({hidden}) -> linear [{V}, {hidden}], {model.ParameterCount:N0} parameters.");

        var result = new TrainingOutcome(double.NaN, double.NaN, 0, 0, TimeSpan.Zero);
        if (_options.Trains)
        {
            result = Train(model, data, trainLength, validation);
        }
        else
        {
            _log.WriteLine(_options.LoadPath is null
                ? "No training (--steps 0 --minutes 0): evaluating and sampling the untrained model."
                : "No training (--steps 0 --minutes 0): evaluating and sampling the loaded model.");
        }

        int predictions = validation.Length - 1;
        if (predictions > _options.EvalChars) Log($"Evaluating on the whole validation split ({predictions:N0} chars)...");
        long evaluationStart = Stopwatch.GetTimestamp();
        double validationLoss = Evaluate(model, validation.Span, predictions);
        TimeSpan evaluationTime = Stopwatch.GetElapsedTime(evaluationStart);
        _log.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"Validation loss: {Format(validationLoss)} nats/char ({Format(validationLoss / Math.Log(2))} bits/char, perplexity {Format(Math.Exp(validationLoss))}), "
            + $"{predictions:N0} chars in {evaluationTime.TotalSeconds:0.0}s."));

        string? checkpoint = null;
        if (_options.Trains && _options.OutputPath is not null)
        {
            checkpoint = SaveCheckpoint(model);
            Log($"Saved {checkpoint}.");
        }

        string sample = Generate(model);
        _log.WriteLine();
        Log($"--- sample: temperature {Short(_options.Temperature)}, seed {_options.Seed}, prompt \"{Escape(_options.Prompt)}\" ---");
        _log.WriteLine(sample);
        _log.WriteLine("--- end of sample ---");

        return new CharRnnResult
        {
            ModelName = modelName,
            Hidden = hidden,
            Layers = layers,
            ParameterCount = model.ParameterCount,
            Corpus = corpusName,
            TrainChars = trainLength,
            ValidationChars = validationLength,
            Steps = result.Steps,
            InitialLoss = result.InitialLoss,
            FinalTrainLoss = result.FinalTrainLoss,
            ValidationLoss = validationLoss,
            CharsPerSecond = result.CharsPerSecond,
            TrainingTime = result.Time,
            Sample = sample,
            CheckpointPath = checkpoint,
        };
    }

    private (string Name, int[] Data) LoadCorpus()
    {
        string text;
        string name;
        if (_options.CorpusPath is null)
        {
            text = SyntheticCorpus.Generate();
            name = "built-in rhymes";
            Log($"No --corpus given: generated {text.Length:N0} characters of rhyming verse (the same text every run).");
        }
        else
        {
            if (!File.Exists(_options.CorpusPath))
                throw new FileNotFoundException($"Corpus file '{_options.CorpusPath}' not found (full path {Path.GetFullPath(_options.CorpusPath)}).", _options.CorpusPath);
            text = File.ReadAllText(_options.CorpusPath);
            name = _options.CorpusPath;
        }
        // Windows line endings would otherwise become '?' before every newline.
        text = text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n');
        int unknown = CharVocabulary.CountUnknown(text);
        if (unknown > 0)
            Log($"Note: {unknown:N0} characters outside '\\n' and printable ASCII are read as '{CharVocabulary.FallbackChar}'.");
        return (name, CharVocabulary.Encode(text));
    }

    private ITokenStreamingModel CreateModel(out int hidden, out int layers)
    {
        if (_options.LoadPath is not { } path)
        {
            hidden = _options.Hidden ?? CharRnnOptions.DefaultHidden;
            layers = _options.Layers ?? CharRnnOptions.DefaultLayers;
            return CharModels.Create(hidden, layers, _options.Seed);
        }

        if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint '{path}' not found (full path {Path.GetFullPath(path)}).", path);
        (hidden, layers) = CharModels.ReadSize(path);
        if ((_options.Hidden is { } h && h != hidden) || (_options.Layers is { } l && l != layers))
            throw new ArgumentException(
                $"The checkpoint '{path}' holds a model with hidden {hidden} and {layers} layer(s), not the --hidden {_options.Hidden ?? hidden} --layers {_options.Layers ?? layers} asked for; leave them out to use the checkpoint's.");
        ITokenStreamingModel model = CharModels.Create(hidden, layers, _options.Seed);
        using (FileStream stream = File.OpenRead(path)) model.LoadSafetensors(stream);
        Log($"Loaded {path} (hidden {hidden}, {layers} layer(s)).");
        return model;
    }

    /// <summary>One worker's model copy, trainer and buffers, all allocated once.</summary>
    private sealed class Worker
    {
        public required ITokenStreamingModel Model { get; init; }
        public required ITokenTrainer Trainer { get; init; }
        public required float[] Logits { get; init; }
        public required float[] LogitGradient { get; init; }
        public double LossSum;
    }

    private readonly record struct TrainingOutcome(double InitialLoss, double FinalTrainLoss, long Steps, double CharsPerSecond, TimeSpan Time);

    /// <summary>The training loop; windows are read from data[0, trainLength), the rest is validation.</summary>
    private TrainingOutcome Train(ITokenStreamingModel model, int[] data, int trainLength, ReadOnlyMemory<int> validation)
    {
        int seq = _options.SequenceLength;
        int batch = _options.Batch;
        int threadCount = _options.EffectiveThreads;
        TimeSpan? budget = _options.Minutes > 0 ? TimeSpan.FromMinutes(_options.Minutes) : null;
        long charsPerStep = (long)seq * batch;

        var workers = new Worker[threadCount];
        for (int w = 0; w < threadCount; w++)
        {
            // Worker 0 trains the model itself; the others train copies whose parameters are refreshed every step.
            ITokenStreamingModel copy = w == 0 ? model : CharModels.Create(model.HiddenSize, model.NumLayers, _options.Seed);
            workers[w] = new Worker
            {
                Model = copy,
                Trainer = (ITokenTrainer)copy.CreateTrainer(seq),
                Logits = new float[seq * V],
                LogitGradient = new float[seq * V],
            };
        }

        // Stream b starts at offset b/batch of the text and moves on by one window per step.
        int startPositions = trainLength - seq;
        var positions = new int[batch];
        var states = new float[batch][];
        for (int b = 0; b < batch; b++)
        {
            positions[b] = (int)((long)b * startPositions / batch);
            states[b] = new float[model.StateSize];
        }

        var optimizer = new Adam(model.ParameterCount, _options.LearningRate);
        var schedule = new CosineAnnealing(_options.LearningRate, ScheduleResolution, _options.LearningRate * FinalLearningRateFraction);
        var guard = new TrainingGuard(model.TensorTable);
        float lossScale = 1f / charsPerStep;

        string limit = (_options.Steps > 0 ? _options.Steps.ToString("N0", CultureInfo.InvariantCulture) + " steps" : "")
                       + (_options.Steps > 0 && budget is not null ? " or " : "")
                       + (budget is { } b2 ? ProgressBar.FormatDuration(b2) : "");
        _log.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"Training for {limit}: {batch} streams x {seq} chars per step ({charsPerStep:N0} chars, an epoch is {(double)trainLength / charsPerStep:N0} steps), "
            + $"Adam lr {Short(_options.LearningRate)} cosine to {Short(_options.LearningRate * FinalLearningRateFraction)}, clip {Short(_options.ClipNorm)}, "
            + $"{threadCount} thread(s) of {Environment.ProcessorCount} core(s)."));

        var clock = Stopwatch.StartNew();
        var bar = new ProgressBar(_log, _options.Steps, budget, _options.LiveProgress, clock);
        long step = 0;
        double initialLoss = double.NaN;
        double smoothed = 0;
        const double Smoothing = 0.9;
        double lastValidation = double.NaN;
        long computeTicks = 0;
        int evaluationsDone = 0;
        int periodic = Math.Max(0, _options.Evaluations - 1); // the final, whole-split evaluation is the last one

        Action<int> runWorker = w => TrainShare(workers, w, model, data, positions, states, seq, lossScale);
        try
        {
            while (true)
            {
                double progress = Progress(step, clock.Elapsed, budget);
                if (progress >= 1) break;

                long start = Stopwatch.GetTimestamp();
                if (threadCount == 1) runWorker(0);
                else Parallel.For(0, threadCount, runWorker);

                Span<float> gradients = model.Gradients;
                double loss = workers[0].LossSum;
                for (int w = 1; w < threadCount; w++)
                {
                    TensorPrimitives.Add(gradients, workers[w].Model.Gradients, gradients);
                    loss += workers[w].LossSum;
                }
                loss /= charsPerStep;
                guard.CheckStep(step + 1, loss, gradients);
                GradientClipping.ClipByGlobalNorm(gradients, _options.ClipNorm);
                optimizer.LearningRate = schedule.At((long)Math.Round(progress * ScheduleResolution));
                optimizer.Step(model.Parameters, gradients);
                computeTicks += Stopwatch.GetTimestamp() - start;
                step++;

                AdvanceStreams(positions, states, seq, trainLength);
                if (step == 1) initialLoss = loss;
                smoothed = Smoothing * smoothed + (1 - Smoothing) * loss;
                double smoothedLoss = smoothed / (1 - Math.Pow(Smoothing, step));
                double charsPerSecond = step * charsPerStep / Stopwatch.GetElapsedTime(0, computeTicks).TotalSeconds;

                progress = Progress(step, clock.Elapsed, budget);
                if (periodic > 0 && evaluationsDone < periodic && progress < 1 && progress >= (evaluationsDone + 1.0) / (periodic + 1))
                {
                    // One evaluation even when a long step passed several marks.
                    evaluationsDone = Math.Min(periodic, (int)(progress * (periodic + 1)));
                    int count = Math.Min(_options.EvalChars, validation.Length - 1);
                    lastValidation = Evaluate(model, validation.Span, count);
                    string saved = "";
                    if (_options.OutputPath is not null) saved = $", saved {SaveCheckpoint(model)}";
                    bar.WriteLine(string.Create(
                        CultureInfo.InvariantCulture,
                        $"step {step,6}  train loss {Format(smoothedLoss)}  val loss {Format(lastValidation)} ({count:N0} chars)  "
                        + $"{FormatRate(charsPerSecond)} chars/s  {ProgressBar.FormatDuration(clock.Elapsed)}{saved}"));
                }
                if (bar.IsDue || progress >= 1)
                {
                    bar.Update(
                        step,
                        ("loss", Format(smoothedLoss)),
                        ("val", double.IsNaN(lastValidation) ? "-" : Format(lastValidation)),
                        ("chars/s", FormatRate(charsPerSecond)),
                        ("lr", optimizer.LearningRate.ToString("0.0e0", CultureInfo.InvariantCulture)));
                }
            }
        }
        finally
        {
            // Also on divergence, so the report does not start in the middle of the progress line.
            bar.Finish();
        }

        TimeSpan time = clock.Elapsed;
        double rate = step == 0 ? 0 : step * charsPerStep / Stopwatch.GetElapsedTime(0, computeTicks).TotalSeconds;
        double finalLoss = step == 0 ? double.NaN : smoothed / (1 - Math.Pow(Smoothing, step));
        _log.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"Trained {step:N0} steps ({step * charsPerStep:N0} chars, {(double)step * charsPerStep / trainLength:0.00} epochs) in {ProgressBar.FormatDuration(time)}: "
            + $"loss {Format(initialLoss)} -> {Format(finalLoss)} nats/char, {FormatRate(rate)} chars/s."));
        return new TrainingOutcome(initialLoss, finalLoss, step, rate, time);
    }

    private double Progress(long step, TimeSpan elapsed, TimeSpan? budget)
    {
        double progress = 0;
        if (_options.Steps > 0) progress = (double)step / _options.Steps;
        if (budget is { } b) progress = Math.Max(progress, elapsed / b);
        return Math.Min(progress, 1);
    }

    /// <summary>
    /// Worker <paramref name="w"/>'s share of one step: streams w, w + threads, ... each run Forward on its next window from
    /// its carried state, the summed cross-entropy scaled to a per-character mean over the whole batch, and Backward.
    /// </summary>
    private static void TrainShare(Worker[] workers, int w, ITokenStreamingModel model, int[] data, int[] positions, float[][] states, int seq, float lossScale)
    {
        Worker worker = workers[w];
        if (w > 0) model.Parameters.CopyTo(worker.Model.Parameters);
        worker.Model.ZeroGradients();
        worker.LossSum = 0;
        for (int b = w; b < positions.Length; b += workers.Length)
        {
            ReadOnlySpan<int> inputs = data.AsSpan(positions[b], seq);
            ReadOnlySpan<int> targets = data.AsSpan(positions[b] + 1, seq);
            worker.Trainer.Forward(inputs, worker.Logits, states[b], states[b]);
            worker.LossSum += Losses.SoftmaxCrossEntropy(worker.Logits, targets, worker.LogitGradient, Reduction.Sum);
            TensorPrimitives.Multiply(worker.LogitGradient, lossScale, worker.LogitGradient);
            worker.Trainer.Backward(worker.LogitGradient, default);
        }
    }

    private static void AdvanceStreams(int[] positions, float[][] states, int seq, int trainLength)
    {
        for (int b = 0; b < positions.Length; b++)
        {
            positions[b] += seq;
            if (positions[b] + seq + 1 > trainLength)
            {
                positions[b] = 0;
                Array.Clear(states[b]);
            }
        }
    }

    /// <summary>
    /// Mean cross-entropy in nats/char of predicting text[1..count] from text[0..count-1], with the inference Forward
    /// over consecutive chunks and the state carried between them (as if the whole span were one sequence).
    /// </summary>
    private static double Evaluate(ITokenStreamingModel model, ReadOnlySpan<int> text, int count)
    {
        if (count <= 0) return double.NaN;
        var logits = new float[EvaluationChunk * V];
        var scratch = new float[EvaluationChunk * V];
        var state = new float[model.StateSize];
        double total = 0;
        for (int start = 0; start < count; start += EvaluationChunk)
        {
            int n = Math.Min(EvaluationChunk, count - start);
            Span<float> chunkLogits = logits.AsSpan(0, n * V);
            model.Forward(text.Slice(start, n), chunkLogits, state, state);
            total += Losses.SoftmaxCrossEntropy(chunkLogits, text.Slice(start + 1, n), scratch.AsSpan(0, n * V), Reduction.Sum);
        }
        return total / count;
    }

    private string SaveCheckpoint(IRecurrentModel model)
    {
        string path = _options.OutputPath!;
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        Safetensors.Save(path, model.TensorTable, model.Parameters);
        return path;
    }

    /// <summary>Feeds the prompt through the streaming Step, then samples <see cref="CharRnnOptions.SampleLength"/> characters.</summary>
    private string Generate(ITokenStreamingModel model)
    {
        string prompt = _options.Prompt;
        var rng = new Rng(_options.Seed);
        var state = new float[model.StateSize];
        var logits = new float[V];
        var scratch = new float[V];
        var text = new StringBuilder(prompt.Length + _options.SampleLength);
        text.Append(prompt);

        // An empty prompt starts the text as after a line break.
        if (prompt.Length == 0) model.Step(CharVocabulary.NewlineId, state, logits);
        foreach (char c in prompt) model.Step(CharVocabulary.Encode(c), state, logits);
        for (int i = 0; i < _options.SampleLength; i++)
        {
            int next = Sampling.Sample(logits, _options.Temperature, rng, scratch);
            text.Append(CharVocabulary.Decode(next));
            model.Step(next, state, logits);
        }
        return text.ToString();
    }

    /// <summary>Writes a line formatted with the invariant culture, so logs read the same on every machine.</summary>
    private void Log(FormattableString line) => _log.WriteLine(FormattableString.Invariant(line));

    private static string Format(double value) => value.ToString("0.0000", CultureInfo.InvariantCulture);

    private static string Short(float value) => value.ToString("G4", CultureInfo.InvariantCulture);

    private static string FormatRate(double charsPerSecond)
        => charsPerSecond >= 1e4 ? (charsPerSecond / 1e3).ToString("0.0", CultureInfo.InvariantCulture) + "k" : charsPerSecond.ToString("0", CultureInfo.InvariantCulture);

    private static string Escape(string text) => text.Replace("\n", "\\n", StringComparison.Ordinal);
}
