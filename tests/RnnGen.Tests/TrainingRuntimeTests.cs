using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Xunit;

namespace RnnGen.Tests;

/// <summary>
/// The size-independent training runtime (losses, optimizers, clipping, schedules, sampling) against PyTorch fixtures
/// from tests/golden/make_training_golden.py, plus allocation, validation and sampling-statistics checks.
/// </summary>
public sealed class TrainingRuntimeTests
{
    private const float Tolerance = 1e-5f;
    private const int AllocationCalls = 1000;

    private static readonly Lazy<IReadOnlyDictionary<string, SafetensorsTensor>> s_fixture =
        new(() => Safetensors.ReadAll(Path.Combine(AppContext.BaseDirectory, "golden", "training.safetensors")));

    private static float[] Fixture(string name)
        => s_fixture.Value.TryGetValue(name, out SafetensorsTensor? tensor)
            ? tensor.Data
            : throw new KeyNotFoundException($"training.safetensors has no tensor '{name}'.");

    private static int[] FixtureInts(string name) => Fixture(name).Select(v => (int)MathF.Round(v)).ToArray();

    // ---------------------------------------------------------------- losses

    [Theory]
    [InlineData("ce_mean", Reduction.Mean, -100)]
    [InlineData("ce_sum", Reduction.Sum, -100)]
    [InlineData("ce_large", Reduction.Mean, -100)]
    [InlineData("ce_ignore_mean", Reduction.Mean, -100)]
    [InlineData("ce_ignore_sum", Reduction.Sum, -100)]
    [InlineData("ce_ignore_custom", Reduction.Mean, 2)]
    public void SoftmaxCrossEntropyMatchesPyTorch(string name, Reduction reduction, int ignoreIndex)
    {
        float[] logits = Fixture($"loss.{name}.input");
        int[] targets = FixtureInts($"loss.{name}.target");
        var gradient = new float[logits.Length];
        Array.Fill(gradient, float.NaN); // written, not accumulated

        float loss = Losses.SoftmaxCrossEntropy(logits, targets, gradient, reduction, ignoreIndex);

        Numeric.AssertClose(Fixture($"loss.{name}.loss"), new[] { loss }, Tolerance, name + " loss");
        Numeric.AssertClose(Fixture($"loss.{name}.grad"), gradient, Tolerance, name + " gradient");

        // In place: the gradient may be the logits' own storage.
        float[] inPlace = (float[])logits.Clone();
        float inPlaceLoss = Losses.SoftmaxCrossEntropy(inPlace, targets, inPlace, reduction, ignoreIndex);
        Assert.Equal(loss, inPlaceLoss);
        Assert.Equal(gradient, inPlace);
    }

    [Theory]
    [InlineData("mse_mean", Reduction.Mean)]
    [InlineData("mse_sum", Reduction.Sum)]
    public void MeanSquaredErrorMatchesPyTorch(string name, Reduction reduction)
    {
        float[] prediction = Fixture($"loss.{name}.input");
        var gradient = new float[prediction.Length];
        float loss = Losses.MeanSquaredError(prediction, Fixture($"loss.{name}.target"), gradient, reduction);
        Numeric.AssertClose(Fixture($"loss.{name}.loss"), new[] { loss }, Tolerance, name + " loss");
        Numeric.AssertClose(Fixture($"loss.{name}.grad"), gradient, Tolerance, name + " gradient");
    }

    [Theory]
    [InlineData("bce_mean", Reduction.Mean)]
    [InlineData("bce_sum", Reduction.Sum)]
    public void BinaryCrossEntropyWithLogitsMatchesPyTorch(string name, Reduction reduction)
    {
        float[] logits = Fixture($"loss.{name}.input");
        float[] targets = Fixture($"loss.{name}.target");
        var gradient = new float[logits.Length];
        float loss = Losses.BinaryCrossEntropyWithLogits(logits, targets, gradient, reduction);
        Numeric.AssertClose(Fixture($"loss.{name}.loss"), new[] { loss }, Tolerance, name + " loss");
        Numeric.AssertClose(Fixture($"loss.{name}.grad"), gradient, Tolerance, name + " gradient");

        float[] inPlace = (float[])logits.Clone();
        Assert.Equal(loss, Losses.BinaryCrossEntropyWithLogits(inPlace, targets, inPlace, reduction));
        Assert.Equal(gradient, inPlace);
    }

    [Fact]
    public void BinaryCrossEntropyWithLogitsSpansSeveralChunks()
    {
        // Longer than the 256-float stack chunk: the chunked sum must equal the element-wise definition.
        var rng = new Rng(5);
        var logits = new float[1000];
        var targets = new float[1000];
        rng.FillNormal(logits, 0f, 5f);
        rng.FillUniform(targets, 0f, 1f);
        var gradient = new float[1000];
        float loss = Losses.BinaryCrossEntropyWithLogits(logits, targets, gradient, Reduction.Sum);

        double expected = 0;
        var expectedGradient = new float[1000];
        for (int i = 0; i < logits.Length; i++)
        {
            double x = logits[i], y = targets[i];
            expected += Math.Max(x, 0) - x * y + Math.Log(1 + Math.Exp(-Math.Abs(x)));
            expectedGradient[i] = (float)(1 / (1 + Math.Exp(-x)) - y);
        }
        Numeric.AssertClose(new[] { (float)expected }, new[] { loss }, Tolerance, "loss");
        Numeric.AssertClose(expectedGradient, gradient, Tolerance, "gradient");
    }

    [Fact]
    public void CrossEntropyWithEveryTargetIgnoredIsZero()
    {
        // PyTorch returns NaN here; we return 0 and a zero gradient so an all-padding batch changes nothing.
        float[] logits = { 1f, 2f, 3f, 4f, 5f, 6f };
        float[] gradient = { 9f, 9f, 9f, 9f, 9f, 9f };
        Assert.Equal(0f, Losses.SoftmaxCrossEntropy(logits, new[] { -100, -100 }, gradient));
        Assert.All(gradient, g => Assert.Equal(0f, g));
    }

    [Fact]
    public void CrossEntropyTargetOutOfRangeNamesTheRow()
    {
        var gradient = new float[6];
        var error = Assert.Throws<ArgumentOutOfRangeException>(
            () => Losses.SoftmaxCrossEntropy(new float[6], new[] { 0, 1, 3 }, gradient));
        Assert.Contains("targets[2]", error.Message);
        error = Assert.Throws<ArgumentOutOfRangeException>(
            () => Losses.SoftmaxCrossEntropy(new float[6], new[] { -1, 1, 0 }, gradient));
        Assert.Contains("targets[0]", error.Message);
    }

    // ---------------------------------------------------------------- optimizers

    public static TheoryData<string> OptimizerNames()
        => new() { "sgd", "sgd_momentum", "sgd_nesterov", "adam", "adam_weight_decay", "adamw", "adagrad", "adagrad_min_char_rnn", "rmsprop", "rmsprop_centered_momentum" };

    /// <summary>The configurations of OPTIMIZERS in make_training_golden.py.</summary>
    private static IOptimizer CreateOptimizer(string name, int count) => name switch
    {
        "sgd" => new Sgd(count, 0.1f),
        "sgd_momentum" => new Sgd(count, 0.1f, momentum: 0.9f, dampening: 0.1f, weightDecay: 0.01f),
        "sgd_nesterov" => new Sgd(count, 0.1f, momentum: 0.9f, nesterov: true),
        "adam" => new Adam(count, 0.01f),
        "adam_weight_decay" => new Adam(count, 0.01f, beta1: 0.8f, beta2: 0.99f, epsilon: 1e-6f, weightDecay: 0.1f),
        "adamw" => new AdamW(count, 0.01f, weightDecay: 0.1f),
        "adagrad" => new Adagrad(count, 0.1f, initialAccumulator: 0.1f, weightDecay: 0.01f),
        "adagrad_min_char_rnn" => new Adagrad(count, 0.1f, epsilon: 1e-8f),
        "rmsprop" => new RmsProp(count, 0.01f),
        "rmsprop_centered_momentum" => new RmsProp(count, 0.01f, alpha: 0.9f, epsilon: 1e-8f, momentum: 0.9f, centered: true, weightDecay: 0.01f),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };

    [Theory]
    [MemberData(nameof(OptimizerNames))]
    public void OptimizerTrajectoryMatchesPyTorch(string name)
    {
        float[] parameters = Fixture($"opt.{name}.params0");
        float[] gradients = Fixture($"opt.{name}.grads");
        float[] expected = Fixture($"opt.{name}.params");
        int count = parameters.Length;
        int steps = gradients.Length / count;
        parameters = (float[])parameters.Clone();
        IOptimizer optimizer = CreateOptimizer(name, count);

        for (int step = 0; step < steps; step++)
        {
            optimizer.Step(parameters, gradients.AsSpan(step * count, count));
            Assert.Equal(step + 1, optimizer.StepCount);
            Numeric.AssertClose(expected.AsSpan(step * count, count), parameters, Tolerance, $"{name} after step {step + 1}");
        }

        // Reset forgets everything: replaying the gradients retraces the trajectory exactly.
        float[] first = (float[])parameters.Clone();
        optimizer.Reset();
        Assert.Equal(0, optimizer.StepCount);
        parameters = (float[])Fixture($"opt.{name}.params0").Clone();
        for (int step = 0; step < steps; step++) optimizer.Step(parameters, gradients.AsSpan(step * count, count));
        Assert.Equal(first, parameters);
    }

    [Theory]
    [MemberData(nameof(OptimizerNames))]
    public void OptimizerIsElementWiseAtEveryLength(string name)
    {
        // The SIMD body and the padded tail must agree: any prefix, optimized alone, follows the full run.
        float[] initial = Fixture($"opt.{name}.params0");
        float[] gradients = Fixture($"opt.{name}.grads");
        int count = initial.Length;
        int steps = gradients.Length / count;
        float[] full = (float[])initial.Clone();
        IOptimizer fullOptimizer = CreateOptimizer(name, count);
        for (int step = 0; step < steps; step++) fullOptimizer.Step(full, gradients.AsSpan(step * count, count));

        foreach (int length in new[] { 1, 3, 7, 8, 9, 16, 17, 31, 33 })
        {
            float[] prefix = initial.AsSpan(0, length).ToArray();
            IOptimizer optimizer = CreateOptimizer(name, length);
            for (int step = 0; step < steps; step++) optimizer.Step(prefix, gradients.AsSpan(step * count, length));
            Assert.Equal(full.AsSpan(0, length).ToArray(), prefix);
        }
    }

    [Fact]
    public void LearningRateCanChangeBetweenSteps()
    {
        var sgd = new Sgd(2, 0.5f);
        float[] parameters = { 1f, 2f };
        sgd.Step(parameters, new[] { 1f, 1f });
        sgd.LearningRate = 0.25f;
        sgd.Step(parameters, new[] { 1f, 1f });
        Assert.Equal(new[] { 0.25f, 1.25f }, parameters);
        Assert.Throws<ArgumentOutOfRangeException>(() => sgd.LearningRate = -1f);
        Assert.Throws<ArgumentOutOfRangeException>(() => sgd.LearningRate = float.NaN);
    }

    [Fact]
    public void NesterovNeedsMomentumAndNoDampening()
    {
        Assert.Throws<ArgumentException>(() => new Sgd(4, 0.1f, nesterov: true));
        Assert.Throws<ArgumentException>(() => new Sgd(4, 0.1f, momentum: 0.9f, dampening: 0.1f, nesterov: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(4, beta1: 1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RmsProp(-1));
    }

    // ---------------------------------------------------------------- clipping

    [Theory]
    [InlineData("clip")]
    [InlineData("clip_noop")]
    public void ClipByGlobalNormMatchesPyTorch(string name)
    {
        float[] gradients = (float[])Fixture($"clip.{name}.input").Clone();
        float norm = GradientClipping.ClipByGlobalNorm(gradients, Fixture($"clip.{name}.max_norm")[0]);
        Numeric.AssertClose(Fixture($"clip.{name}.norm"), new[] { norm }, Tolerance, name + " norm");
        Numeric.AssertClose(Fixture($"clip.{name}.output"), gradients, Tolerance, name + " gradients");
        Numeric.AssertClose(Fixture($"clip.{name}.norm"), new[] { GradientClipping.GlobalNorm(Fixture($"clip.{name}.input")) }, Tolerance, name + " global norm");
    }

    [Fact]
    public void ClipByValueAndIsFinite()
    {
        float[] gradients = { -3f, -0.5f, 0f, 0.5f, 3f, float.NaN };
        GradientClipping.ClipByValue(gradients, 1f);
        Assert.Equal(new[] { -1f, -0.5f, 0f, 0.5f, 1f }, gradients.AsSpan(0, 5).ToArray());
        Assert.True(float.IsNaN(gradients[5]));

        // Longer than a vector: the SIMD body and its overlapping tail.
        float[] many = Enumerable.Range(0, 37).Select(i => (i - 18) * 0.25f).ToArray();
        many[36] = float.NaN;
        float[] expected = many.Select(g => float.IsNaN(g) ? g : Math.Clamp(g, -2f, 2f)).ToArray();
        GradientClipping.ClipByValue(many, 2f);
        Assert.Equal(expected, many);

        Assert.True(GradientClipping.IsFinite(new[] { 1f, -2f, float.MaxValue }));
        Assert.True(GradientClipping.IsFinite(ReadOnlySpan<float>.Empty));
        Assert.False(GradientClipping.IsFinite(Enumerable.Repeat(1f, 37).Append(float.NaN).ToArray()));
        Assert.False(GradientClipping.IsFinite(Enumerable.Repeat(1f, 37).Prepend(float.NegativeInfinity).ToArray()));
        Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipByGlobalNorm(new float[3], -1f));
    }

    // ---------------------------------------------------------------- schedules

    [Fact]
    public void SchedulesMatchPyTorch()
    {
        AssertSchedule(new StepDecay(0.1f, 3, 0.5f), "sched.step_lr");
        AssertSchedule(new CosineAnnealing(0.1f, 20, 0.001f), "sched.cosine");
        AssertSchedule(new CosineAnnealing(0.05f, 8), "sched.cosine_short"); // past T_max the cosine continues, as in PyTorch

        static void AssertSchedule(LearningRateSchedule schedule, string name)
        {
            float[] expected = Fixture(name);
            float[] actual = Enumerable.Range(0, expected.Length).Select(step => schedule.At(step)).ToArray();
            Numeric.AssertClose(expected, actual, Tolerance, name);
        }
    }

    [Fact]
    public void CosineWarmupIsLinearThenAnneals()
    {
        var schedule = new CosineAnnealing(1f, 14, 0.1f, warmupSteps: 4);
        Assert.Equal(new[] { 0.25f, 0.5f, 0.75f, 1f }, Enumerable.Range(0, 4).Select(s => schedule.At(s)).ToArray());
        Assert.Equal(1f, schedule.At(4)); // cosine starts at its peak
        Assert.Equal(0.55f, schedule.At(9), 6); // half-way through the 10 cosine steps
        Assert.Equal(0.1f, schedule.At(14), 6);
        Assert.Throws<ArgumentOutOfRangeException>(() => schedule.At(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineAnnealing(1f, 4, warmupSteps: 4));
    }

    // ---------------------------------------------------------------- sampling

    [Fact]
    public void SoftmaxMatchesPyTorch()
    {
        float[] logits = Fixture("softmax.logits");
        float[] temperatures = Fixture("softmax.temperatures");
        float[] expected = Fixture("softmax.probs");
        var probabilities = new float[logits.Length];
        for (int t = 0; t < temperatures.Length; t++)
        {
            Sampling.Softmax(logits, probabilities, temperatures[t]);
            Numeric.AssertClose(expected.AsSpan(t * logits.Length, logits.Length), probabilities, Tolerance, $"softmax at temperature {temperatures[t]}");
        }
    }

    [Fact]
    public void GreedyPicksTheArgmaxAndTheFirstOnTies()
    {
        Assert.Equal(2, Sampling.Greedy(new[] { 0.1f, -3f, 7f, 6.9f }));
        Assert.Equal(1, Sampling.Greedy(new[] { 0f, 5f, 5f, 1f }));
        Assert.Equal(0, Sampling.Greedy(new[] { -1f }));
        Assert.Equal(19, Sampling.Greedy(Enumerable.Range(0, 40).Select(i => i == 19 ? 100f : -(float)i).ToArray()));
    }

    [Fact]
    public void SampleFrequenciesMatchSoftmax()
    {
        float[] logits = { 1.5f, -0.5f, 0.3f, 2.2f, 0f, -1.7f, 1f };
        const float Temperature = 0.8f;
        const int Draws = 20_000;
        var probabilities = new float[logits.Length];
        Sampling.Softmax(logits, probabilities, Temperature);

        var counts = new int[logits.Length];
        var rng = new Rng(1234);
        var scratch = new float[logits.Length + 5]; // longer than needed is fine
        for (int i = 0; i < Draws; i++) counts[Sampling.Sample(logits, Temperature, rng, scratch)]++;

        for (int i = 0; i < logits.Length; i++)
        {
            float frequency = counts[i] / (float)Draws;
            Assert.True(Math.Abs(frequency - probabilities[i]) <= 0.02f, $"index {i}: frequency {frequency}, probability {probabilities[i]}.");
        }
    }

    [Fact]
    public void MaskedLogitsAreNeverSampled()
    {
        float[] logits = { float.NegativeInfinity, 0f, float.NegativeInfinity, 0.5f };
        var rng = new Rng(3);
        var scratch = new float[4];
        for (int i = 0; i < 2000; i++)
        {
            int index = Sampling.Sample(logits, 1f, rng, scratch);
            Assert.True(index is 1 or 3, $"drew masked index {index}");
        }
    }

    [Fact]
    public void TopKNeverLeavesTheTopK()
    {
        var rng = new Rng(99);
        var logitsRng = new Rng(7);
        var scratch = new float[64];
        for (int trial = 0; trial < 200; trial++)
        {
            int length = 1 + logitsRng.NextInt(64);
            // Few distinct values, so ties straddle the cut often.
            float[] logits = Enumerable.Range(0, length).Select(_ => (float)logitsRng.NextInt(6)).ToArray();
            int k = 1 + logitsRng.NextInt(length);
            var allowed = Enumerable.Range(0, length).OrderByDescending(i => logits[i]).ThenBy(i => i).Take(k).ToHashSet();
            var seen = new HashSet<int>();
            for (int draw = 0; draw < 50; draw++)
            {
                int index = Sampling.SampleTopK(logits, k, 1.3f, rng, scratch);
                Assert.True(allowed.Contains(index), $"trial {trial}: drew {index}, outside the top {k} of [{string.Join(", ", logits)}].");
                seen.Add(index);
            }
            if (k == 1) Assert.Equal(Sampling.Greedy(logits), Assert.Single(seen));
        }
    }

    [Fact]
    public void TopKBreaksTiesTowardLowerIndices()
    {
        float[] logits = { 1f, 3f, 3f, 3f, 0f };
        var rng = new Rng(11);
        var scratch = new float[5];
        var counts = new int[5];
        for (int i = 0; i < 4000; i++) counts[Sampling.SampleTopK(logits, 2, 1f, rng, scratch)]++;
        Assert.Equal(0, counts[0] + counts[3] + counts[4]);
        Assert.InRange(counts[1] / 4000f, 0.45f, 0.55f);
    }

    [Fact]
    public void SameSeedGivesTheSameSequence()
    {
        float[] logits = { 0.2f, 1.1f, -0.4f, 0.9f, 0.0f, 0.5f, 1.4f, -2f };
        int[] Run(ulong seed, bool topK)
        {
            var rng = new Rng(seed);
            var scratch = new float[logits.Length];
            return Enumerable.Range(0, 200).Select(_ => topK ? Sampling.SampleTopK(logits, 4, 0.9f, rng, scratch) : Sampling.Sample(logits, 0.9f, rng, scratch)).ToArray();
        }
        Assert.Equal(Run(42, false), Run(42, false));
        Assert.Equal(Run(42, true), Run(42, true));
        Assert.NotEqual(Run(42, false), Run(43, false));
    }

    [Fact]
    public void SamplingRejectsBadArguments()
    {
        var rng = new Rng(1);
        float[] logits = { 1f, 2f, 3f };
        Assert.Throws<ArgumentOutOfRangeException>(() => Sampling.Sample(logits, 0f, rng, new float[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Sampling.Sample(logits, float.NaN, rng, new float[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Sampling.SampleTopK(logits, 0, 1f, rng, new float[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Sampling.SampleTopK(logits, 4, 1f, rng, new float[3]));
        Assert.Throws<ArgumentException>(() => Sampling.Sample(new[] { 1f, float.NaN }, 1f, rng, new float[2]));
        Assert.Throws<ArgumentException>(() => Sampling.Sample(new[] { float.NegativeInfinity, float.NegativeInfinity }, 1f, rng, new float[2]));
        Assert.Throws<ArgumentException>(() => Sampling.Greedy(ReadOnlySpan<float>.Empty));
    }

    // ---------------------------------------------------------------- lengths

    [Fact]
    public void BadLengthsNameExpectedAndActual()
    {
        AssertLengthError(() => new Adam(50).Step(new float[49], new float[50]), "parameters", "49", "50");
        AssertLengthError(() => new Sgd(50, 0.1f).Step(new float[50], new float[51]), "gradients", "51", "50");
        AssertLengthError(() => new RmsProp(8).Step(new float[7], new float[8]), "parameters", "7", "8");
        AssertLengthError(() => new Adagrad(8).Step(new float[8], new float[9]), "gradients", "9", "8");
        AssertLengthError(() => new AdamW(8).Step(new float[8], new float[0]), "gradients", "0", "8");
        AssertLengthError(() => Losses.SoftmaxCrossEntropy(new float[10], new int[3], new float[10]), "logits", "10", "3");
        AssertLengthError(() => Losses.SoftmaxCrossEntropy(new float[12], new int[3], new float[11]), "gradient", "11", "12");
        AssertLengthError(() => Losses.MeanSquaredError(new float[5], new float[4], new float[5]), "target", "4", "5");
        AssertLengthError(() => Losses.MeanSquaredError(new float[5], new float[5], new float[6]), "gradient", "6", "5");
        AssertLengthError(() => Losses.BinaryCrossEntropyWithLogits(new float[5], new float[3], new float[5]), "targets", "3", "5");
        AssertLengthError(() => Sampling.Sample(new float[5], 1f, new Rng(1), new float[4]), "scratch", "4", "5");
        AssertLengthError(() => Sampling.SampleTopK(new float[5], 2, 1f, new Rng(1), new float[4]), "scratch", "4", "5");
        AssertLengthError(() => Sampling.Softmax(new float[5], new float[6]), "probabilities", "6", "5");

        static void AssertLengthError(Action action, string parameter, string actual, string expected)
        {
            var error = Assert.ThrowsAny<ArgumentException>(action);
            Assert.IsType<ArgumentException>(error);
            Assert.Equal(parameter, error.ParamName);
            Assert.Contains(actual, error.Message);
            Assert.Contains(expected, error.Message);
        }
    }

    // ---------------------------------------------------------------- allocations

    [Theory]
    [MemberData(nameof(OptimizerNames))]
    public void OptimizerStepDoesNotAllocate(string name)
    {
        const int Count = 1001; // not a multiple of any vector width: the tail path runs too
        IOptimizer optimizer = CreateOptimizer(name, Count);
        var parameters = new float[Count];
        var gradients = new float[Count];
        new Rng(1).FillNormal(parameters);
        new Rng(2).FillNormal(gradients, 0f, 1e-3f);
        AssertNoAllocations(name + ".Step", () => optimizer.Step(parameters, gradients));
    }

    [Fact]
    public void LossesClippingAndSchedulesDoNotAllocate()
    {
        var logits = new float[8 * 30];
        var targets = Enumerable.Range(0, 8).Select(i => i == 3 ? -100 : i * 3).ToArray();
        var gradient = new float[logits.Length];
        var values = new float[1000];
        var valueTargets = new float[1000];
        var valueGradient = new float[1000];
        new Rng(1).FillNormal(logits);
        new Rng(2).FillNormal(values);
        new Rng(3).FillUniform(valueTargets, 0f, 1f);
        LearningRateSchedule cosine = new CosineAnnealing(0.1f, 1000, 0.001f, 10);
        LearningRateSchedule stepDecay = new StepDecay(0.1f, 100, 0.5f);

        AssertNoAllocations("SoftmaxCrossEntropy", () => Losses.SoftmaxCrossEntropy(logits, targets, gradient));
        AssertNoAllocations("MeanSquaredError", () => Losses.MeanSquaredError(values, valueTargets, valueGradient));
        AssertNoAllocations("BinaryCrossEntropyWithLogits", () => Losses.BinaryCrossEntropyWithLogits(values, valueTargets, valueGradient));
        AssertNoAllocations("ClipByGlobalNorm", () => GradientClipping.ClipByGlobalNorm(valueGradient, 0.5f));
        AssertNoAllocations("ClipByValue", () => GradientClipping.ClipByValue(valueGradient, 0.5f));
        AssertNoAllocations("IsFinite", () => GradientClipping.IsFinite(valueGradient));
        AssertNoAllocations("Schedules", () => cosine.At(500) + stepDecay.At(500));
    }

    [Fact]
    public void SamplingDoesNotAllocate()
    {
        var logits = new float[65];
        new Rng(4).FillNormal(logits, 0f, 2f);
        var scratch = new float[65];
        var probabilities = new float[65];
        var rng = new Rng(5);
        AssertNoAllocations("Greedy", () => Sampling.Greedy(logits));
        AssertNoAllocations("Softmax", () => Sampling.Softmax(logits, probabilities, 0.7f));
        AssertNoAllocations("Sample", () => Sampling.Sample(logits, 0.7f, rng, scratch));
        AssertNoAllocations("SampleTopK", () => Sampling.SampleTopK(logits, 10, 0.7f, rng, scratch));
    }

    private static void AssertNoAllocations(string what, Action action) => Allocations.AssertNone(what, action, AllocationCalls);

    private static void AssertNoAllocations<T>(string what, Func<T> function) => AssertNoAllocations(what, () => { _ = function(); });
}
