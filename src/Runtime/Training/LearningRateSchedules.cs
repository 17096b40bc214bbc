using System;

namespace RnnGen;

/// <summary>
/// A learning rate as a pure function of the step number, the closed forms of <c>torch.optim.lr_scheduler</c>.
/// Schedules hold no state, so a run resumed at step s gets the same rates as one that never stopped.
/// </summary>
/// <example>
/// <code>
/// var optimizer = new Adam(model.ParameterCount, learningRate: 3e-3f);
/// var schedule = new CosineAnnealing(initial: 3e-3f, totalSteps: 10_000, minimum: 1e-4f, warmupSteps: 200);
/// for (long step = 0; step &lt; 10_000; step++)
/// {
///     optimizer.LearningRate = schedule.At(step);
///     // ... forward, loss, backward ...
///     optimizer.Step(model.Parameters, gradients);
/// }
/// </code>
/// PyTorch's <c>scheduler.step()</c> once per optimizer step corresponds to <c>step</c> counting optimizer steps;
/// to change the rate once per epoch instead, pass the epoch number.
/// </example>
public abstract class LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    protected LearningRateSchedule()
    {
    }

    /// <summary>The learning rate for step <paramref name="step"/> (0 is the first step).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is negative.</exception>
    public abstract float At(long step);

    /// <summary>Throws for a negative step.</summary>
    protected static void CheckStep(long step)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), step, "step must be ≥ 0.");
    }
}

/// <summary>
/// Multiplies the rate by γ every <c>stepSize</c> steps, as <c>torch.optim.lr_scheduler.StepLR</c>:
/// lr(t) = initial · γ^⌊t / stepSize⌋.
/// </summary>
public sealed class StepDecay : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="initial">The rate for steps 0 .. stepSize-1.</param>
    /// <param name="stepSize">How many steps each rate lasts; ≥ 1.</param>
    /// <param name="gamma">The factor applied at each decay (PyTorch's default is 0.1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public StepDecay(float initial, int stepSize, float gamma)
    {
        Initial = TrainingChecks.NonNegative(initial, nameof(initial));
        if (stepSize < 1) throw new ArgumentOutOfRangeException(nameof(stepSize), stepSize, "stepSize must be ≥ 1.");
        StepSize = stepSize;
        Gamma = TrainingChecks.NonNegative(gamma, nameof(gamma));
    }

    /// <summary>The rate before the first decay.</summary>
    public float Initial { get; }

    /// <summary>Steps between decays.</summary>
    public int StepSize { get; }

    /// <summary>The factor applied at each decay.</summary>
    public float Gamma { get; }

    /// <inheritdoc />
    public override float At(long step)
    {
        CheckStep(step);
        return (float)(Initial * Math.Pow(Gamma, step / StepSize));
    }
}

/// <summary>
/// Cosine annealing, the closed form of <c>torch.optim.lr_scheduler.CosineAnnealingLR</c>, with an optional linear
/// warm-up: for t &lt; warmup, lr(t) = initial · (t + 1) / warmup (so the first step already moves); after it,
/// lr(t) = minimum + (initial - minimum) · (1 + cos(π (t - warmup) / (totalSteps - warmup))) / 2.
/// </summary>
/// <remarks>
/// With no warm-up this is PyTorch's schedule with T_max = totalSteps and eta_min = minimum, including its behaviour
/// past T_max: the cosine continues, so the rate climbs back towards <see cref="Initial"/> over the next
/// totalSteps steps (the "warm restarts without the restart"). Train for exactly totalSteps steps, or clamp the step,
/// if that is not wanted.
/// </remarks>
public sealed class CosineAnnealing : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="initial">The peak rate, reached at the end of the warm-up (at step 0 without one).</param>
    /// <param name="totalSteps">The step at which the rate reaches <paramref name="minimum"/> (T_max), counting the warm-up.</param>
    /// <param name="minimum">The rate at the end of the annealing (eta_min).</param>
    /// <param name="warmupSteps">Steps of linear warm-up before the cosine starts; less than <paramref name="totalSteps"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public CosineAnnealing(float initial, long totalSteps, float minimum = 0f, long warmupSteps = 0)
    {
        Initial = TrainingChecks.NonNegative(initial, nameof(initial));
        Minimum = TrainingChecks.NonNegative(minimum, nameof(minimum));
        if (warmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps, "warmupSteps must be ≥ 0.");
        if (totalSteps <= warmupSteps)
            throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, $"totalSteps must be greater than warmupSteps ({warmupSteps}).");
        TotalSteps = totalSteps;
        WarmupSteps = warmupSteps;
    }

    /// <summary>The peak rate.</summary>
    public float Initial { get; }

    /// <summary>The rate at <see cref="TotalSteps"/>.</summary>
    public float Minimum { get; }

    /// <summary>The step at which the rate reaches <see cref="Minimum"/>.</summary>
    public long TotalSteps { get; }

    /// <summary>Steps of linear warm-up.</summary>
    public long WarmupSteps { get; }

    /// <inheritdoc />
    public override float At(long step)
    {
        CheckStep(step);
        if (step < WarmupSteps) return (float)((double)Initial * (step + 1) / WarmupSteps);
        double progress = (double)(step - WarmupSteps) / (TotalSteps - WarmupSteps);
        return (float)(Minimum + ((double)Initial - Minimum) * (1.0 + Math.Cos(Math.PI * progress)) / 2.0);
    }
}
