using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;

namespace RnnGen.Samples.Agents;

/// <summary>What training the tracker did.</summary>
/// <param name="Steps">Optimizer steps.</param>
/// <param name="InitialLoss">Mean squared error of the first window, before any update.</param>
/// <param name="FinalLoss">Smoothed mean squared error at the end.</param>
/// <param name="Time">Wall-clock time.</param>
/// <param name="FramesPerSecond">Training throughput: simulated-and-trained agent frames per second.</param>
public sealed record TrainingReport(int Steps, double InitialLoss, double FinalLoss, TimeSpan Time, double FramesPerSecond);

/// <summary>
/// Supervised training of the tracker on generated trajectories: <c>streams</c> worlds of one agent each run
/// continuously under a behaviour policy (the scripted controller with exploration noise, sometimes pure wandering),
/// and each step takes the next <c>window</c> frames of all of them as one batch [window, streams, observation] for
/// the batched trainer. The loss is the mean squared error between the GRU's outputs and the truth (target offset
/// and velocity). The state is carried from window to window (truncated BPTT), so the GRU learns to track over
/// long runs, as the game needs.
/// </summary>
public static class TrackerTraining
{
    private const float FinalLearningRateFraction = 0.1f;
    private const float NoiseCorrelation = 0.9f;   // per frame: exploration noise changes over about 10 frames
    private const float ChaseNoise = 2.5f;         // m/s² of noise on top of the scripted controller
    private const float WanderNoise = 4f;          // m/s² of noise while wandering
    private const float WanderProbability = 0.3f;  // share of time a stream wanders instead of chasing
    private const float ModeSwitchProbability = 1f / 90f;

    /// <summary>Trains <paramref name="model"/> in place for <see cref="AgentsOptions.TrainSteps"/> steps.</summary>
    /// <exception cref="TrainingDivergedException">The loss or the gradients became NaN or infinite.</exception>
    public static TrainingReport Train(TrackerGru model, AgentsOptions options, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        int streams = options.Streams, window = options.Window, steps = options.TrainSteps;
        const int I = TrackerGru.InputSize, O = TrackerGru.OutputSize;

        var behaviour = new Behaviour(streams, unchecked(options.Seed * 7919 + 17));
        TrackerGru.Trainer trainer = model.CreateTrainer(window, streams);
        var input = new float[window * streams * I];
        var labels = new float[window * streams * O];
        var output = new float[labels.Length];
        var outputGrad = new float[labels.Length];
        var state = new float[streams * TrackerGru.StateSize]; // [layers = 1, streams, hidden]: carried across windows
        var finalState = new float[state.Length];
        var optimizer = new Adam(TrackerGru.ParameterCount, options.LearningRate);
        var schedule = new CosineAnnealing(options.LearningRate, steps, options.LearningRate * FinalLearningRateFraction);
        var guard = new TrainingGuard(TrackerGru.Tensors);

        log.WriteLine(FormattableString.Invariant(
            $"Training the tracker: {steps:N0} steps of {streams} trajectories x {window} frames (time-major [{window}, {streams}, {I}] batches, state carried between windows), Adam lr {options.LearningRate} cosine to {options.LearningRate * FinalLearningRateFraction}, clip {options.ClipNorm}."));
        var clock = Stopwatch.StartNew();
        double initialLoss = double.NaN, smoothed = 0;
        const double Smoothing = 0.95;
        using (var bar = new ProgressBar(log, steps, null, options.LiveProgress, clock))
        {
            for (int step = 1; step <= steps; step++)
            {
                behaviour.Generate(window, input, labels);
                model.ZeroGradients();
                trainer.Forward(input, streams, default, output, state, finalState);
                finalState.CopyTo(state, 0);
                double loss = Losses.MeanSquaredError(output, labels, outputGrad);
                trainer.Backward(outputGrad, default);
                guard.CheckStep(step, loss, model.Gradients);
                GradientClipping.ClipByGlobalNorm(model.Gradients, options.ClipNorm);
                optimizer.LearningRate = schedule.At(step - 1);
                optimizer.Step(model.Parameters, model.Gradients);

                if (step == 1) initialLoss = loss;
                smoothed = Smoothing * smoothed + (1 - Smoothing) * loss;
                if (bar.IsDue || step == steps)
                {
                    double rate = step * (double)window * streams / clock.Elapsed.TotalSeconds;
                    bar.Update(step, ("mse", (smoothed / (1 - Math.Pow(Smoothing, step))).ToString("0.0000", CultureInfo.InvariantCulture)),
                        ("frames/s", rate.ToString("0", CultureInfo.InvariantCulture)));
                }
            }
        }
        TimeSpan time = clock.Elapsed;
        double finalLoss = smoothed / (1 - Math.Pow(Smoothing, steps));
        double throughput = steps * (double)window * streams / time.TotalSeconds;
        log.WriteLine(FormattableString.Invariant(
            $"Trained {steps:N0} steps ({steps * (double)window * streams:N0} agent frames) in {ProgressBar.FormatDuration(time)}: mse {initialLoss:0.0000} -> {finalLoss:0.0000}, {throughput:N0} frames/s."));
        return new TrainingReport(steps, initialLoss, finalLoss, time, throughput);
    }

    /// <summary>The trajectories: one world per stream, driven by the scripted controller plus smooth noise, or wandering.</summary>
    private sealed class Behaviour
    {
        private readonly World _world;
        private readonly float[] _noiseX, _noiseY;
        private readonly bool[] _wandering;

        public Behaviour(int streams, int seed)
        {
            _world = new World(streams, seed);
            _noiseX = new float[streams];
            _noiseY = new float[streams];
            _wandering = new bool[streams];
        }

        /// <summary>The next <paramref name="window"/> frames of every stream: observations [window, streams, I] and labels [window, streams, O].</summary>
        public void Generate(int window, Span<float> input, Span<float> labels)
        {
            int streams = _world.Agents;
            const int I = World.ObservationSize, O = World.LabelSize;
            float innovation = MathF.Sqrt(1 - NoiseCorrelation * NoiseCorrelation);
            for (int t = 0; t < window; t++)
            {
                for (int b = 0; b < streams; b++)
                {
                    int row = t * streams + b;
                    _world.Observe(b, input.Slice(row * I, I));
                    _world.Label(b, labels.Slice(row * O, O));
                    // A two-state chain: wandering a WanderProbability share of the time, in spells of ~1/ModeSwitchProbability frames.
                    float leave = _wandering[b] ? ModeSwitchProbability : ModeSwitchProbability * WanderProbability / (1 - WanderProbability);
                    if (_world.NextSingle() < leave) _wandering[b] = !_wandering[b];
                    _noiseX[b] = NoiseCorrelation * _noiseX[b] + innovation * _world.Gaussian();
                    _noiseY[b] = NoiseCorrelation * _noiseY[b] + innovation * _world.Gaussian();
                    (float ax, float ay) = _wandering[b] ? (0f, 0f) : _world.OracleAction(b);
                    float noise = _wandering[b] ? WanderNoise : ChaseNoise;
                    _world.Advance(b, ax + noise * _noiseX[b], ay + noise * _noiseY[b]);
                }
                _world.EndFrame();
            }
        }
    }
}
