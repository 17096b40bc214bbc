using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Numerics.Tensors;
using System.Text;

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

    /// <summary>
    /// Validation loss (nats/char) of the same weights read one character at a time through the float model's
    /// <c>Step</c>, the reference of <see cref="BFloat16ValidationLoss"/> and <see cref="Int8ValidationLoss"/>; NaN
    /// when no reduced precision was measured (<see cref="CharRnnOptions.EvalWeights"/> empty).
    /// </summary>
    public double StepValidationLoss { get; init; } = double.NaN;

    /// <summary>As <see cref="StepValidationLoss"/>, with the weights read as bfloat16 (<c>Weights = BFloat16</c>); NaN when not measured.</summary>
    public double BFloat16ValidationLoss { get; init; } = double.NaN;

    /// <summary>As <see cref="StepValidationLoss"/>, with the weights read as int8 (<c>Weights = Int8</c>); NaN when not measured.</summary>
    public double Int8ValidationLoss { get; init; } = double.NaN;

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
/// A step is one batched <c>trainer.Forward</c> over the next window of all streams (tokens time-major [seq, batch],
/// states [NumLayers, batch, Hidden] for h then c, as PyTorch lays them out), the loss and one <c>Backward</c>: the
/// generated code runs the batch through matrix-matrix kernels.
/// </para>
/// </remarks>
public sealed class CharRnnTrainer
{
    /// <summary>Chunk length of validation: the inference Forward runs this many characters of each segment at a time, state carried over.</summary>
    private const int EvaluationChunk = 256;

    /// <summary>Most segments of the validation text scored side by side in one batch.</summary>
    internal const int EvaluationStreams = 16;

    /// <summary>Characters of context a validation segment reads before the part it scores.</summary>
    internal const int EvaluationWarmup = 128;

    /// <summary>Target id the loss skips: a warm-up step of a validation segment.</summary>
    private const int IgnoredTarget = -1;

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

        // The final figures come from the checkpoint read back from disk, so they show that it round-trips.
        string? checkpoint = null;
        if (_options.Trains && _options.OutputPath is not null)
        {
            checkpoint = SaveCheckpoint(model);
            model = Reload(model, checkpoint);
            Log($"Saved {checkpoint} and read it back into a new model (parameters bit-identical); evaluating and sampling that one.");
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

        (double stepLoss, double bfloat16Loss, double int8Loss) = CompareWeights(model, validation.Span, predictions);

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
            StepValidationLoss = stepLoss,
            BFloat16ValidationLoss = bfloat16Loss,
            Int8ValidationLoss = int8Loss,
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

    private readonly record struct TrainingOutcome(double InitialLoss, double FinalTrainLoss, long Steps, double CharsPerSecond, TimeSpan Time);

    /// <summary>The training loop; windows are read from data[0, trainLength), the rest is validation.</summary>
    private TrainingOutcome Train(ITokenStreamingModel model, int[] data, int trainLength, ReadOnlyMemory<int> validation)
    {
        int seq = _options.SequenceLength;
        int batch = _options.Batch;
        TimeSpan? budget = _options.Minutes > 0 ? TimeSpan.FromMinutes(_options.Minutes) : null;
        long charsPerStep = (long)seq * batch;
        var trainer = (ITokenTrainer)model.CreateTrainer(seq, batch);
        var window = new Window(seq, batch, model.StateSize);

        // Stream b starts at offset b/batch of the text and moves on by one window per step.
        int startPositions = trainLength - seq;
        var positions = new int[batch];
        for (int b = 0; b < batch; b++) positions[b] = (int)((long)b * startPositions / batch);

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
            + $"one batched Forward and Backward per step."));

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

        try
        {
            while (true)
            {
                double progress = Progress(step, clock.Elapsed, budget);
                if (progress >= 1) break;

                long start = Stopwatch.GetTimestamp();
                model.ZeroGradients();
                double loss = TrainStep(trainer, window, data, positions, lossScale) / charsPerStep;
                Span<float> gradients = model.Gradients;
                guard.CheckStep(step + 1, loss, gradients);
                GradientClipping.ClipByGlobalNorm(gradients, _options.ClipNorm);
                optimizer.LearningRate = schedule.At((long)Math.Round(progress * ScheduleResolution));
                optimizer.Step(model.Parameters, gradients);
                computeTicks += Stopwatch.GetTimestamp() - start;
                step++;

                AdvanceStreams(window, positions, model.HiddenSize, trainLength);
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

    /// <summary>One optimizer step's batch, time-major as the batched Forward takes it, and the streams' carried state; allocated once.</summary>
    private sealed class Window(int seq, int batch, int stateSize)
    {
        public int Seq { get; } = seq;

        public int Batch { get; } = batch;

        /// <summary>The streams' next characters, [seq, batch].</summary>
        public int[] Inputs { get; } = new int[seq * batch];

        /// <summary>The characters after those, [seq, batch].</summary>
        public int[] Targets { get; } = new int[seq * batch];

        /// <summary>[seq, batch, V].</summary>
        public float[] Logits { get; } = new float[seq * batch * V];

        /// <summary>[seq, batch, V].</summary>
        public float[] LogitGradient { get; } = new float[seq * batch * V];

        /// <summary>The streams' LSTM states in the batched layout: h [NumLayers, batch, Hidden], then c likewise.</summary>
        public float[] State { get; } = new float[batch * stateSize];
    }

    /// <summary>
    /// The work of one step: the next window of every stream as one batch, one batched Forward from the carried states
    /// (which it updates), the cross-entropy with its gradient scaled to a per-character mean, and one Backward that adds
    /// to the model's gradients. Returns the summed cross-entropy.
    /// </summary>
    private static double TrainStep(ITokenTrainer trainer, Window window, int[] data, int[] positions, float lossScale)
    {
        int batch = window.Batch;
        for (int b = 0; b < batch; b++)
        {
            int position = positions[b];
            for (int t = 0; t < window.Seq; t++)
            {
                window.Inputs[t * batch + b] = data[position + t];
                window.Targets[t * batch + b] = data[position + t + 1];
            }
        }
        trainer.Forward(window.Inputs, batch, default, window.Logits, window.State, window.State);
        double loss = Losses.SoftmaxCrossEntropy(window.Logits, window.Targets, window.LogitGradient, Reduction.Sum);
        TensorPrimitives.Multiply(window.LogitGradient, lossScale, window.LogitGradient);
        trainer.Backward(window.LogitGradient, default);
        return loss;
    }

    /// <summary>Moves every stream on by one window; one that would run past the training text restarts at 0 from a zero state.</summary>
    private static void AdvanceStreams(Window window, int[] positions, int hidden, int trainLength)
    {
        int batch = window.Batch;
        int blocks = window.State.Length / (batch * hidden); // h of each layer, then c of each layer
        for (int b = 0; b < batch; b++)
        {
            positions[b] += window.Seq;
            if (positions[b] + window.Seq + 1 <= trainLength) continue;
            positions[b] = 0;
            for (int block = 0; block < blocks; block++) window.State.AsSpan((block * batch + b) * hidden, hidden).Clear();
        }
    }

    /// <summary>
    /// Mean cross-entropy in nats/char of predicting text[1..count] from text[0..count-1], as if the span were read in
    /// one pass with the state carried along, but batched: the span is cut into up to <see cref="EvaluationStreams"/>
    /// consecutive segments that run side by side through the inference Forward, <see cref="EvaluationChunk"/> steps at
    /// a time with their states carried between chunks.
    /// </summary>
    /// <remarks>
    /// Every segment but the first starts at least <see cref="EvaluationWarmup"/> characters before the part it scores
    /// and only reads those, so no scored character has less context than that (the first segment's have all of theirs,
    /// as in a single pass). Each character is scored exactly once. All segments have the same length, so the batch has
    /// no padding: the last one starts early enough to end at the end of the span.
    /// </remarks>
    private static double Evaluate(ITokenStreamingModel model, ReadOnlySpan<int> text, int count)
    {
        if (count <= 0) return double.NaN;
        EvaluationLayout layout = EvaluationLayout.For(count);
        int segments = layout.Segments;
        int rows = EvaluationChunk * segments;
        var tokens = new int[rows];
        var targets = new int[rows];
        var logits = new float[rows * V];
        var scratch = new float[rows * V];
        var state = new float[segments * model.StateSize];
        double total = 0;
        for (int start = 0; start < layout.Steps; start += EvaluationChunk)
        {
            int n = Math.Min(EvaluationChunk, layout.Steps - start);
            for (int k = 0; k < segments; k++)
            {
                int first = layout.Start(k);
                int firstScored = layout.FirstScored(k);
                for (int t = start; t < start + n; t++)
                {
                    int row = (t - start) * segments + k;
                    tokens[row] = text[first + t];
                    targets[row] = t >= firstScored ? text[first + t + 1] : IgnoredTarget;
                }
            }
            Span<float> chunkLogits = logits.AsSpan(0, n * segments * V);
            model.Forward(tokens.AsSpan(0, n * segments), segments, default, chunkLogits, state, state);
            total += Losses.SoftmaxCrossEntropy(
                chunkLogits, targets.AsSpan(0, n * segments), scratch.AsSpan(0, n * segments * V), Reduction.Sum, IgnoredTarget);
        }
        return total / count;
    }

    /// <summary>
    /// The validation loss of the model's weights as float, and as bfloat16 and int8 as <see cref="CharRnnOptions.EvalWeights"/>
    /// asks (NaN for those not asked; all NaN when none is): each in a twin declared with that <c>Weights</c> holding
    /// the same parameters, reading the split in one pass one character at a time through <c>Step</c>, the one-row
    /// products that read the reduced copies (a batched Forward would read the float ones).
    /// </summary>
    private (double Single, double BFloat16, double Int8) CompareWeights(ITokenStreamingModel model, ReadOnlySpan<int> text, int count)
    {
        if (_options.EvalWeights.Count == 0 || count <= 0) return (double.NaN, double.NaN, double.NaN);
        _log.WriteLine(
            $"Validation loss by weight precision: the same parameters in twins declared with Weights = Single, {string.Join(", ", _options.EvalWeights)}, "
            + "the split read in one pass, one character at a time through Step (every product reads the reduced copy):");
        double single = double.NaN, bfloat16 = double.NaN, int8 = double.NaN;
        foreach (WeightPrecision weights in (WeightPrecision[])[WeightPrecision.Single, WeightPrecision.BFloat16, WeightPrecision.Int8])
        {
            if (weights != WeightPrecision.Single && !_options.EvalWeights.Contains(weights)) continue;
            ITokenStreamingModel twin = CharModels.Create(model.HiddenSize, model.NumLayers, _options.Seed, weights);
            model.Parameters.CopyTo(twin.Parameters);
            long start = Stopwatch.GetTimestamp();
            double loss = EvaluateStepwise(twin, text, count);
            TimeSpan time = Stopwatch.GetElapsedTime(start);
            string difference = weights == WeightPrecision.Single ? "" : string.Create(CultureInfo.InvariantCulture, $" ({loss - single:+0.00000;-0.00000;+0.00000} vs float)");
            Log($"  {Name(weights),-8}  {Format(loss)} nats/char{difference}, {count:N0} chars in {time.TotalSeconds:0.0}s");
            switch (weights)
            {
                case WeightPrecision.Single: single = loss; break;
                case WeightPrecision.BFloat16: bfloat16 = loss; break;
                default: int8 = loss; break;
            }
        }
        return (single, bfloat16, int8);
    }

    /// <summary>The name of a precision in the sample's output and final line: float, bfloat16, int8.</summary>
    internal static string Name(WeightPrecision weights) => weights switch
    {
        WeightPrecision.Single => "float",
        WeightPrecision.BFloat16 => "bfloat16",
        _ => "int8",
    };

    /// <summary>Mean cross-entropy in nats/char of predicting text[1..count] from text[0..count-1] in one pass of single-stream <c>Step</c>s.</summary>
    internal static double EvaluateStepwise(ITokenStreamingModel model, ReadOnlySpan<int> text, int count)
    {
        var state = new float[model.StateSize];
        var logits = new float[V];
        var scratch = new float[V];
        var target = new int[1];
        double total = 0;
        for (int t = 0; t < count; t++)
        {
            model.Step(text[t], state, logits);
            target[0] = text[t + 1];
            total += Losses.SoftmaxCrossEntropy(logits, target, scratch, Reduction.Sum);
        }
        return total / count;
    }

    /// <summary>
    /// How <see cref="Evaluate"/> cuts <c>count</c> predictions into segments of <see cref="Steps"/> characters each:
    /// segment 0 reads and scores [0, Steps); segment k in the middle reads from k·Scored and scores its last Scored
    /// characters; the last reads the final Steps characters and scores what is left.
    /// </summary>
    internal readonly record struct EvaluationLayout(int Count, int Segments, int Warmup, int Scored)
    {
        /// <summary>Characters each segment reads.</summary>
        public int Steps => Warmup + Scored;

        public static EvaluationLayout For(int count)
        {
            // Each segment scores at least Warmup characters, so warming up costs at most as much again; short spans are one segment.
            int segments = Math.Clamp((count - EvaluationWarmup) / EvaluationWarmup, 1, EvaluationStreams);
            if (segments == 1) return new EvaluationLayout(count, 1, 0, count);
            int scored = (count - EvaluationWarmup + segments - 1) / segments;
            segments = (count - EvaluationWarmup + scored - 1) / scored; // rounding up may leave the last segment nothing to score
            return new EvaluationLayout(count, segments, EvaluationWarmup, scored);
        }

        /// <summary>Where segment k starts reading.</summary>
        public int Start(int k) => k == 0 ? 0 : k < Segments - 1 ? k * Scored : Count - Steps;

        /// <summary>The first of segment k's steps that is scored (the step predicting position Start(k) + step + 1).</summary>
        public int FirstScored(int k) => k == 0 ? 0 : Warmup + k * Scored - Start(k);
    }

    private string SaveCheckpoint(IRecurrentModel model)
    {
        string path = _options.OutputPath!;
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        Safetensors.Save(path, model.TensorTable, model.Parameters);
        return path;
    }

    /// <summary>Loads a checkpoint just written into a fresh model of the same size and checks it holds exactly the trained parameters.</summary>
    /// <exception cref="InvalidOperationException">The file read back differs from what was saved.</exception>
    private ITokenStreamingModel Reload(ITokenStreamingModel trained, string path)
    {
        ITokenStreamingModel reloaded = CharModels.Create(trained.HiddenSize, trained.NumLayers, _options.Seed + 1);
        using (FileStream stream = File.OpenRead(path)) reloaded.LoadSafetensors(stream);
        if (!reloaded.Parameters.SequenceEqual(trained.Parameters))
            throw new InvalidOperationException($"The checkpoint '{path}' read back differs from the model that was saved.");
        return reloaded;
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
