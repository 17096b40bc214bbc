using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;

namespace RnnGen.Samples.Caption;

/// <summary>Accuracy of one attribute's word over every object group of the held-out scenes.</summary>
public sealed record AttributeAccuracy(string Attribute, double Accuracy);

/// <summary>A held-out scene's reference caption next to what the model wrote.</summary>
public sealed record CaptionExample(string Reference, string Greedy, string Sampled);

/// <summary>A finite-difference check of one projection weight: dL/dW[row, column] by backpropagation and by central differences.</summary>
public sealed record GradientCheck(int Row, int Column, double Analytic, double Numeric, float Epsilon)
{
    /// <summary>|analytic - numeric| / max(|analytic|, |numeric|).</summary>
    public double RelativeError => Math.Abs(Analytic - Numeric) / Math.Max(1e-12, Math.Max(Math.Abs(Analytic), Math.Abs(Numeric)));
}

/// <summary>How well greedy captions match the held-out references.</summary>
/// <param name="ExactMatch">Fraction of scenes whose greedy caption equals the reference word for word.</param>
/// <param name="NovelExactMatch">The same over scenes whose reference caption never occurs in the training set.</param>
/// <param name="NovelScenes">Number of such scenes.</param>
/// <param name="GroupCount">Fraction of scenes captioned with the right number of object groups.</param>
/// <param name="Attributes">Per attribute (count, size, color, shape, position): the fraction of object groups whose word is right.</param>
/// <param name="Loss">Teacher-forced cross-entropy per target token (nats).</param>
public sealed record CaptionEvaluation(double ExactMatch, double NovelExactMatch, int NovelScenes, double GroupCount, IReadOnlyList<AttributeAccuracy> Attributes, double Loss)
{
    /// <summary>The accuracy of one attribute by name.</summary>
    public double this[string attribute] => Attributes.First(a => a.Attribute == attribute).Accuracy;
}

/// <summary>What a Caption run did and reached.</summary>
public sealed record CaptionResult
{
    /// <summary>"gru" or "lstm".</summary>
    public required string Cell { get; init; }

    /// <summary>Learnable floats of decoder and projection.</summary>
    public required int ParameterCount { get; init; }

    /// <summary>Optimizer steps taken.</summary>
    public required int Steps { get; init; }

    /// <summary>Teacher-forced loss of the first training batch before any update; NaN without training.</summary>
    public required double InitialLoss { get; init; }

    /// <summary>Smoothed training loss at the end; NaN without training.</summary>
    public required double FinalTrainLoss { get; init; }

    /// <summary>Held-out scores of the trained model.</summary>
    public required CaptionEvaluation Test { get; init; }

    /// <summary>Held-out exact match of the model reloaded from its checkpoint (equal to <see cref="Test"/>'s when the round trip is exact).</summary>
    public required double ReloadedExactMatch { get; init; }

    /// <summary>The finite-difference check, or null when it was not run.</summary>
    public GradientCheck? GradientCheck { get; init; }

    /// <summary>A few held-out scenes with their captions.</summary>
    public required IReadOnlyList<CaptionExample> Examples { get; init; }

    /// <summary>Training throughput in captions per second.</summary>
    public required double CaptionsPerSecond { get; init; }

    /// <summary>Wall-clock time of the training loop.</summary>
    public required TimeSpan TrainingTime { get; init; }

    /// <summary>The checkpoint written, or null.</summary>
    public string? CheckpointPath { get; init; }
}

/// <summary>
/// Trains the captioner end to end: per step a batch of scenes is projected into initial states, the decoder's
/// trainer runs the padded batch of unequal-length captions with teacher forcing, the softmax cross-entropy of every
/// next word (padding ignored) is backpropagated through the decoder into its initial state, and from there, by hand,
/// into the projection. Adam updates both. <see cref="Run"/> is the whole program minus argument parsing.
/// </summary>
public sealed class CaptionTrainer
{
    /// <summary>Seed of the training scenes; the held-out scenes use the next one. Fixed, so every run sees the same data.</summary>
    public const int SceneSeed = 20240917;

    /// <summary>Target id that contributes no loss: padding after a caption's end.</summary>
    public const int IgnoreIndex = -100;

    private const float FinalLearningRateFraction = 0.1f;
    private const int EvaluationBatch = 256;

    private readonly CaptionOptions _options;
    private readonly TextWriter _log;

    private CaptionTrainer(CaptionOptions options, TextWriter log)
    {
        _options = options;
        _log = log;
    }

    /// <summary>Generates the scenes, trains (or loads), evaluates, saves, reloads and shows examples.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    /// <exception cref="IOException">A checkpoint cannot be read or written (<see cref="SafetensorsException"/> for a bad one).</exception>
    /// <exception cref="TrainingDivergedException">The loss or the gradients became NaN or infinite.</exception>
    public static CaptionResult Run(CaptionOptions options, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        options.Validate();
        return new CaptionTrainer(options, log).Run();
    }

    private CaptionResult Run()
    {
        CaptionNet net = _options.LoadPath is { } load ? CaptionNet.Load(load, _options.Seed) : new CaptionNet(_options.Cell, _options.Seed);
        var train = new CaptionData(net, Scenes.Generate(_options.TrainScenes, SceneSeed));
        var test = new CaptionData(net, Scenes.Generate(_options.TestScenes, SceneSeed + 1));
        var trainCaptions = new HashSet<string>(train.Scenes.Select(s => s.Caption), StringComparer.Ordinal);
        Log($"Scenes: {train.Count:N0} for training, {test.Count:N0} held out ({test.Scenes.Count(s => !trainCaptions.Contains(s.Caption)):N0} of them with a caption never seen in training); ",
            $"{Scenes.FeatureSize} features, {net.Vocabulary.Count} token ids, captions of {train.Targets.Min(t => t.Length)} to {train.Targets.Max(t => t.Length)} tokens.");
        Log($"Model: projection tanh(W f + b) [{net.Projection.StateSize}, {Scenes.FeatureSize}] into the initial state{(net.Cell == "lstm" ? " (h0 and c0)" : " (h0)")} of the {net.Cell.ToUpperInvariant()} decoder ",
            $"(embedding {net.Decoder.InputSize}, hidden {net.Decoder.HiddenSize}, head {net.Decoder.OutputSize}); {net.ParameterCount:N0} parameters",
            _options.LoadPath is null ? (FormattableString)$"." : $", loaded from {_options.LoadPath}.");
        Log($"Example: [{Format(train.Scenes[0].Features.Take(8))} ...] -> \"{train.Scenes[0].Caption}\"");

        var session = new Session(net, Math.Min(_options.Batch, train.Count));
        GradientCheck? check = null;
        if (_options.GradientCheck && _options.Steps > 0)
        {
            check = CheckProjectionGradient(session, train, Enumerable.Range(0, Math.Min(8, train.Count)).ToArray());
            Log($"Gradient check of the projection: dL/dW[{check.Row}, {check.Column}] backprop {check.Analytic:G6}, central difference (eps {check.Epsilon}) {check.Numeric:G6}, relative error {check.RelativeError:0.0e0}.");
        }

        TrainingOutcome outcome = _options.Steps > 0 ? Train(session, train, test) : new TrainingOutcome(double.NaN, double.NaN, 0, TimeSpan.Zero);

        CaptionEvaluation evaluation = Evaluate(net, test, trainCaptions);
        Log($"Held-out: exact match {Percent(evaluation.ExactMatch)} ({Percent(evaluation.NovelExactMatch)} on the {evaluation.NovelScenes:N0} novel captions), ",
            $"loss {evaluation.Loss:0.0000} nats/token, right number of groups {Percent(evaluation.GroupCount)}.");
        Log($"Per attribute: {string.Join(", ", evaluation.Attributes.Select(a => $"{a.Attribute} {Percent(a.Accuracy)}"))}.");

        // Round trip: save, load into a fresh captioner, and score again; the numbers must not move.
        string? saved = null;
        CaptionNet reloaded;
        if (_options.OutputPath is { } path)
        {
            net.Save(path);
            saved = path;
            reloaded = CaptionNet.Load(path, _options.Seed + 7);
        }
        else
        {
            using var memory = new MemoryStream();
            net.Save(memory);
            memory.Position = 0;
            reloaded = new CaptionNet(net.Cell, _options.Seed + 7);
            reloaded.LoadWeights(memory);
        }
        double reloadedExact = ExactMatch(reloaded, test);
        Log($"Saved {saved ?? "(in memory)"} and reloaded it: held-out exact match {Percent(reloadedExact)} ({(reloadedExact == evaluation.ExactMatch ? "identical" : "DIFFERENT")}).");

        var examples = new List<CaptionExample>();
        var rng = new Rng(_options.Seed);
        int shown = Math.Min(_options.Examples, test.Count);
        string[][] greedy = net.Greedy(test.Features.AsSpan(0, shown * Scenes.FeatureSize));
        for (int i = 0; i < shown; i++)
        {
            Scene scene = test.Scenes[i];
            var example = new CaptionExample(scene.Caption, string.Join(' ', greedy[i]), string.Join(' ', net.Sample(scene.Features, _options.Temperature, rng)));
            examples.Add(example);
            Log($"  reference: {example.Reference}");
            Log($"     greedy: {example.Greedy}{(example.Greedy == example.Reference ? "" : "   <- differs")}");
            Log($"   sampled (T={_options.Temperature.ToString("0.##", CultureInfo.InvariantCulture)}): {example.Sampled}");
        }

        return new CaptionResult
        {
            Cell = net.Cell,
            ParameterCount = net.ParameterCount,
            Steps = outcome.Steps,
            InitialLoss = outcome.InitialLoss,
            FinalTrainLoss = outcome.FinalLoss,
            Test = evaluation,
            ReloadedExactMatch = reloadedExact,
            GradientCheck = check,
            Examples = examples,
            CaptionsPerSecond = outcome.Time > TimeSpan.Zero ? outcome.Steps * (double)session.MaxBatch / outcome.Time.TotalSeconds : 0,
            TrainingTime = outcome.Time,
            CheckpointPath = saved,
        };
    }

    private sealed record TrainingOutcome(double InitialLoss, double FinalLoss, int Steps, TimeSpan Time);

    private TrainingOutcome Train(Session session, CaptionData train, CaptionData test)
    {
        CaptionNet net = session.Net;
        int steps = _options.Steps;
        var decoderOptimizer = new Adam(net.Decoder.ParameterCount, _options.LearningRate);
        var projectionOptimizer = new Adam(net.Projection.Parameters.Length, _options.LearningRate);
        var schedule = new CosineAnnealing(_options.LearningRate, steps, _options.LearningRate * FinalLearningRateFraction);
        var decoderGuard = new TrainingGuard(net.Decoder.TensorTable);
        var projectionGuard = new TrainingGuard(net.Projection.Tensors);
        var rng = new Rng(_options.Seed);
        Log($"Training {steps:N0} steps of {session.MaxBatch} captions (an epoch is {(train.Count + session.MaxBatch - 1) / session.MaxBatch} steps), ",
            $"Adam lr {_options.LearningRate} cosine to {_options.LearningRate * FinalLearningRateFraction}, clip {_options.ClipNorm}.");

        var clock = Stopwatch.StartNew();
        double initialLoss = double.NaN, smoothed = 0;
        const double Smoothing = 0.95;
        int[][] batches = [];
        int next = 0;
        int evaluations = 0;
        using (var bar = new ProgressBar(_log, steps, null, _options.LiveProgress, clock))
        {
            for (int step = 1; step <= steps; step++)
            {
                if (next == batches.Length)
                {
                    // A new epoch: captions of similar length batched together, batches in random order.
                    batches = Batching.BucketByLength(train.Lengths, session.MaxBatch, rng);
                    next = 0;
                }
                int[] batch = batches[next++];

                net.Decoder.ZeroGradients();
                net.Projection.ZeroGradients();
                double loss = session.Loss(train, batch, backward: true);
                decoderGuard.CheckStep(step, loss, net.Decoder.Gradients);
                projectionGuard.CheckStep(step, loss, net.Projection.Gradients);
                ClipTogether(net.Decoder.Gradients, net.Projection.Gradients, _options.ClipNorm);
                float rate = schedule.At(step - 1);
                decoderOptimizer.LearningRate = rate;
                projectionOptimizer.LearningRate = rate;
                decoderOptimizer.Step(net.Decoder.Parameters, net.Decoder.Gradients);
                projectionOptimizer.Step(net.Projection.Parameters, net.Projection.Gradients);

                if (step == 1) initialLoss = loss;
                smoothed = Smoothing * smoothed + (1 - Smoothing) * loss;
                double smoothedLoss = smoothed / (1 - Math.Pow(Smoothing, step));
                if (step * 4 >= (evaluations + 1) * steps && step < steps)
                {
                    evaluations++;
                    bar.WriteLine(FormattableString.Invariant(
                        $"step {step,5}  train loss {smoothedLoss:0.0000}  held-out exact match {Percent(ExactMatch(net, test))}  {ProgressBar.FormatDuration(clock.Elapsed)}"));
                }
                if (bar.IsDue || step == steps)
                {
                    double perSecond = step * (double)session.MaxBatch / clock.Elapsed.TotalSeconds;
                    bar.Update(step, ("loss", smoothedLoss.ToString("0.0000", CultureInfo.InvariantCulture)), ("captions/s", perSecond.ToString("0", CultureInfo.InvariantCulture)),
                        ("lr", rate.ToString("0.0e0", CultureInfo.InvariantCulture)));
                }
            }
        }
        TimeSpan time = clock.Elapsed;
        double finalLoss = smoothed / (1 - Math.Pow(Smoothing, steps));
        Log($"Trained {steps:N0} steps ({steps * (double)session.MaxBatch / train.Count:0.0} epochs) in {ProgressBar.FormatDuration(time)}: ",
            $"loss {initialLoss:0.0000} -> {finalLoss:0.0000} nats/token, {steps * (double)session.MaxBatch / time.TotalSeconds:0} captions/s.");
        return new TrainingOutcome(initialLoss, finalLoss, steps, time);
    }

    /// <summary>Scales both gradient vectors by one factor so that their joint L2 norm is at most <paramref name="maxNorm"/> (clip_grad_norm_ over all parameters).</summary>
    private static void ClipTogether(Span<float> a, Span<float> b, float maxNorm)
    {
        float normA = GradientClipping.GlobalNorm(a), normB = GradientClipping.GlobalNorm(b);
        float norm = MathF.Sqrt(normA * normA + normB * normB);
        float coefficient = maxNorm / (norm + 1e-6f);
        if (coefficient >= 1f) return;
        System.Numerics.Tensors.TensorPrimitives.Multiply(a, coefficient, a);
        System.Numerics.Tensors.TensorPrimitives.Multiply(b, coefficient, b);
    }

    /// <summary>
    /// Checks the hand-written projection gradient against central differences of the loss: picks the weight with
    /// the largest analytic gradient on the given scenes, moves it by ±<paramref name="epsilon"/> and compares
    /// (L(w+ε) - L(w-ε)) / 2ε with the gradient backpropagation gave. Leaves parameters and gradients as they were
    /// (gradients zeroed).
    /// </summary>
    internal static GradientCheck CheckProjectionGradient(Session session, CaptionData data, int[] indices, float epsilon = 1e-2f)
    {
        CaptionNet net = session.Net;
        net.Decoder.ZeroGradients();
        net.Projection.ZeroGradients();
        session.Loss(data, indices, backward: true);
        ReadOnlySpan<float> gradient = net.Projection.WeightGradient;
        int index = System.Numerics.Tensors.TensorPrimitives.IndexOfMaxMagnitude(gradient);
        double analytic = gradient[index];

        Span<float> weight = net.Projection.Weight;
        float original = weight[index];
        weight[index] = original + epsilon;
        double plus = session.Loss(data, indices, backward: false);
        weight[index] = original - epsilon;
        double minus = session.Loss(data, indices, backward: false);
        weight[index] = original;
        net.Decoder.ZeroGradients();
        net.Projection.ZeroGradients();
        int features = net.Projection.FeatureSize;
        return new GradientCheck(index / features, index % features, analytic, (plus - minus) / (2.0 * epsilon), epsilon);
    }

    /// <summary>Greedy captions of the held-out scenes against their references, plus the teacher-forced loss.</summary>
    internal static CaptionEvaluation Evaluate(CaptionNet net, CaptionData test, HashSet<string> trainCaptions)
    {
        string[][] captions = net.Greedy(test.Features);
        int exact = 0, novel = 0, novelExact = 0, groups = 0, objects = 0;
        var correct = new int[Scenes.Attributes.Count];
        for (int i = 0; i < test.Count; i++)
        {
            Scene scene = test.Scenes[i];
            bool match = captions[i].SequenceEqual(scene.Words, StringComparer.Ordinal);
            if (match) exact++;
            if (!trainCaptions.Contains(scene.Caption))
            {
                novel++;
                if (match) novelExact++;
            }
            SceneObject[] parsed = Scenes.Parse(captions[i]);
            if (parsed.Length == scene.Objects.Count) groups++;
            for (int k = 0; k < scene.Objects.Count; k++)
            {
                objects++;
                if (k >= parsed.Length) continue;
                for (int a = 0; a < correct.Length; a++)
                {
                    if (Scenes.Attribute(parsed[k], a) == Scenes.Attribute(scene.Objects[k], a)) correct[a]++;
                }
            }
        }
        var attributes = Scenes.Attributes.Select((name, a) => new AttributeAccuracy(name, (double)correct[a] / objects)).ToArray();
        return new CaptionEvaluation(
            (double)exact / test.Count, novel == 0 ? double.NaN : (double)novelExact / novel, novel, (double)groups / test.Count, attributes, TeacherForcedLoss(net, test));
    }

    private static double ExactMatch(CaptionNet net, CaptionData test)
    {
        string[][] captions = net.Greedy(test.Features);
        int exact = 0;
        for (int i = 0; i < test.Count; i++)
        {
            if (captions[i].SequenceEqual(test.Scenes[i].Words, StringComparer.Ordinal)) exact++;
        }
        return (double)exact / test.Count;
    }

    /// <summary>Mean cross-entropy per target token with the inference Forward over padded batches.</summary>
    private static double TeacherForcedLoss(CaptionNet net, CaptionData data)
    {
        int s = net.Decoder.StateSize, v = net.Decoder.OutputSize, f = Scenes.FeatureSize, maxT = CaptionNet.MaxTokens;
        var tokens = new int[maxT * EvaluationBatch];
        var targets = new int[maxT * EvaluationBatch];
        var lengths = new int[EvaluationBatch];
        var state = new float[EvaluationBatch * s];
        var logits = new float[maxT * EvaluationBatch * v];
        var gradient = new float[logits.Length];
        double total = 0;
        long count = 0;
        for (int start = 0; start < data.Count; start += EvaluationBatch)
        {
            int batch = Math.Min(EvaluationBatch, data.Count - start);
            int[] indices = Enumerable.Range(start, batch).ToArray();
            int steps = Batching.PadTokens(data.Inputs, indices, tokens, lengths, WordVocabulary.Padding);
            Batching.PadTokens(data.Targets, indices, targets, lengths, IgnoreIndex);
            net.Projection.Forward(data.Features.AsSpan(start * f, batch * f), batch, state.AsSpan(0, batch * s));
            Span<float> stepLogits = logits.AsSpan(0, steps * batch * v);
            net.Decoder.Forward(tokens.AsSpan(0, steps * batch), batch, lengths.AsSpan(0, batch), stepLogits, state.AsSpan(0, batch * s), default);
            total += Losses.SoftmaxCrossEntropy(stepLogits, targets.AsSpan(0, steps * batch), gradient.AsSpan(0, stepLogits.Length), Reduction.Sum, IgnoreIndex);
            for (int b = 0; b < batch; b++) count += lengths[b];
        }
        return total / count;
    }

    private void Log(params FormattableString[] parts)
    {
        foreach (FormattableString part in parts) _log.Write(FormattableString.Invariant(part));
        _log.WriteLine();
    }

    private static string Percent(double fraction) => double.IsNaN(fraction) ? "-" : (100 * fraction).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    private static string Format(IEnumerable<float> values) => string.Join(", ", values.Select(x => x.ToString("0.00", CultureInfo.InvariantCulture)));

    /// <summary>
    /// The buffers of one training batch and the decoder's trainer, sized once for the longest caption and the batch
    /// size, so a step allocates nothing.
    /// </summary>
    internal sealed class Session
    {
        private readonly ITokenTrainer _trainer;
        private readonly int[] _tokens, _targets, _lengths;
        private readonly float[] _features, _state, _stateGrad, _logits, _logitGrad;

        public Session(CaptionNet net, int maxBatch)
        {
            Net = net;
            MaxBatch = maxBatch;
            int maxT = CaptionNet.MaxTokens;
            _trainer = (ITokenTrainer)net.Decoder.CreateTrainer(maxT, maxBatch);
            _tokens = new int[maxT * maxBatch];
            _targets = new int[maxT * maxBatch];
            _lengths = new int[maxBatch];
            _features = new float[maxBatch * Scenes.FeatureSize];
            _state = new float[maxBatch * net.Decoder.StateSize];
            _stateGrad = new float[_state.Length];
            _logits = new float[maxT * maxBatch * net.Decoder.OutputSize];
            _logitGrad = new float[_logits.Length];
        }

        public CaptionNet Net { get; }

        public int MaxBatch { get; }

        /// <summary>
        /// Mean cross-entropy per target token of the scenes <paramref name="indices"/> (teacher forcing: the decoder
        /// reads the reference words); with <paramref name="backward"/>, adds the gradients of decoder and projection.
        /// </summary>
        public double Loss(CaptionData data, int[] indices, bool backward)
        {
            int batch = indices.Length, f = Scenes.FeatureSize, s = Net.Decoder.StateSize, v = Net.Decoder.OutputSize;
            int steps = Batching.PadTokens(data.Inputs, indices, _tokens, _lengths, WordVocabulary.Padding);
            Batching.PadTokens(data.Targets, indices, _targets, _lengths, IgnoreIndex);
            for (int b = 0; b < batch; b++) data.Features.AsSpan(indices[b] * f, f).CopyTo(_features.AsSpan(b * f, f));

            Span<float> features = _features.AsSpan(0, batch * f);
            Span<float> state = _state.AsSpan(0, batch * s);
            Span<float> logits = _logits.AsSpan(0, steps * batch * v);
            Span<float> logitGrad = _logitGrad.AsSpan(0, logits.Length);
            Net.Projection.Forward(features, batch, state);
            _trainer.Forward(_tokens.AsSpan(0, steps * batch), batch, _lengths.AsSpan(0, batch), logits, state, default);
            float loss = Losses.SoftmaxCrossEntropy(logits, _targets.AsSpan(0, steps * batch), logitGrad, Reduction.Mean, IgnoreIndex);
            if (backward)
            {
                Span<float> stateGrad = _stateGrad.AsSpan(0, batch * s);
                _trainer.Backward(logitGrad, default, default, stateGrad);
                Net.Projection.Backward(features, batch, state, stateGrad);
            }
            return loss;
        }
    }
}

/// <summary>Scenes with their captions encoded for the decoder: inputs (start + words), targets (words + end), features flat.</summary>
internal sealed class CaptionData
{
    public CaptionData(CaptionNet net, Scene[] scenes)
    {
        Scenes = scenes;
        Inputs = scenes.Select(s => net.EncodeInput(s.Words)).ToArray();
        Targets = scenes.Select(s => net.EncodeTarget(s.Words)).ToArray();
        Lengths = Targets.Select(t => t.Length).ToArray();
        Features = new float[scenes.Length * Caption.Scenes.FeatureSize];
        for (int i = 0; i < scenes.Length; i++) scenes[i].Features.CopyTo(Features, i * Caption.Scenes.FeatureSize);
    }

    public Scene[] Scenes { get; }

    public int[][] Inputs { get; }

    public int[][] Targets { get; }

    public int[] Lengths { get; }

    /// <summary>[scenes, FeatureSize].</summary>
    public float[] Features { get; }

    public int Count => Scenes.Length;
}
