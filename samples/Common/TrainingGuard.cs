using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace RnnGen.Samples;

/// <summary>
/// Stops a training loop at the first non-finite loss, gradient or parameter, with a report that says which check
/// failed, at which step, and where (the tensor and element of the first bad value), instead of letting NaN spread
/// silently through the weights.
/// </summary>
/// <remarks>
/// Call <see cref="CheckStep"/> after Backward and before clipping and the optimizer step (a NaN gradient would make
/// the update NaN); optionally <see cref="CheckParameters"/> after the step. Both allocate nothing when all is well.
/// </remarks>
/// <example>
/// <code>
/// var guard = new TrainingGuard(model.TensorTable);
/// // ... forward, loss, backward ...
/// guard.CheckStep(step, loss, model.Gradients);        // throws TrainingDivergedException
/// GradientClipping.ClipByGlobalNorm(model.Gradients, 5f);
/// optimizer.Step(model.Parameters, model.Gradients);
/// </code>
/// </example>
public sealed class TrainingGuard
{
    private readonly IReadOnlyList<TensorInfo>? _tensors;

    /// <summary>Creates a guard.</summary>
    /// <param name="tensors">The model's tensor table, to name the tensor holding a bad value; null to report flat indices only.</param>
    public TrainingGuard(IReadOnlyList<TensorInfo>? tensors = null)
    {
        _tensors = tensors;
    }

    /// <summary>The global L2 norm of the gradients at the last successful <see cref="CheckStep"/>.</summary>
    public float LastGradientNorm { get; private set; }

    /// <summary>Returns null when the loss, every gradient and the gradients' global norm are finite, else a report.</summary>
    /// <param name="step">The step number, for the report.</param>
    /// <param name="loss">The step's loss.</param>
    /// <param name="gradients">The flat gradient vector about to be used.</param>
    public TrainingProblem? Inspect(long step, double loss, ReadOnlySpan<float> gradients)
    {
        if (!double.IsFinite(loss))
            return new TrainingProblem(step, "loss is not finite", loss, GradientSummary(gradients), null);
        if (!GradientClipping.IsFinite(gradients))
            return new TrainingProblem(step, "gradient has a non-finite value", loss, GradientSummary(gradients), Locate(gradients));
        float norm = GradientClipping.GlobalNorm(gradients);
        if (!float.IsFinite(norm))
            return new TrainingProblem(step, "gradient global norm overflows float", loss, $"global norm {Format(norm)}", null);
        LastGradientNorm = norm;
        return null;
    }

    /// <summary>Throws when <see cref="Inspect"/> finds a problem.</summary>
    /// <exception cref="TrainingDivergedException">The loss or a gradient is NaN or infinite.</exception>
    public void CheckStep(long step, double loss, ReadOnlySpan<float> gradients)
    {
        TrainingProblem? problem = Inspect(step, loss, gradients);
        if (problem is not null) throw new TrainingDivergedException(problem);
    }

    /// <summary>Throws when a parameter is NaN or infinite (e.g. after an optimizer step with too large a rate).</summary>
    /// <exception cref="TrainingDivergedException">A parameter is not finite.</exception>
    public void CheckParameters(long step, double loss, ReadOnlySpan<float> parameters)
    {
        if (GradientClipping.IsFinite(parameters)) return;
        throw new TrainingDivergedException(new TrainingProblem(step, "parameter has a non-finite value after the update", loss, null, Locate(parameters)));
    }

    private static string GradientSummary(ReadOnlySpan<float> gradients)
    {
        int nan = 0, infinite = 0;
        foreach (float g in gradients)
        {
            if (float.IsNaN(g)) nan++;
            else if (float.IsInfinity(g)) infinite++;
        }
        return $"{nan} NaN and {infinite} infinite of {gradients.Length} gradient values";
    }

    private string? Locate(ReadOnlySpan<float> values)
    {
        int index = -1;
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                index = i;
                break;
            }
        }
        if (index < 0) return null;
        string where = $"index {index} (value {Format(values[index])})";
        if (_tensors is null) return where;
        foreach (TensorInfo tensor in _tensors)
        {
            if (index >= tensor.Offset && index < tensor.Offset + tensor.Length)
                return $"{where}, in {tensor.Name} {tensor.ShapeText} at {ElementIndex(tensor, index - tensor.Offset)}";
        }
        return where;
    }

    /// <summary>A flat offset within a tensor as "[row, column]" indices.</summary>
    private static string ElementIndex(TensorInfo tensor, int offset)
    {
        IReadOnlyList<int> shape = tensor.Shape;
        var indices = new int[shape.Count];
        for (int d = shape.Count - 1; d >= 0; d--)
        {
            indices[d] = offset % shape[d];
            offset /= shape[d];
        }
        return "[" + string.Join(", ", indices) + "]";
    }

    internal static string Format(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}

/// <summary>What a <see cref="TrainingGuard"/> found.</summary>
/// <param name="Step">The step at which the check failed.</param>
/// <param name="FailedCheck">Which check failed, e.g. "loss is not finite".</param>
/// <param name="Loss">The step's loss.</param>
/// <param name="Details">Counts or norms, or null.</param>
/// <param name="FirstBadValue">Where the first bad value is (flat index, tensor, element), or null.</param>
public sealed record TrainingProblem(long Step, string FailedCheck, double Loss, string? Details, string? FirstBadValue)
{
    /// <summary>A multi-line report for the user.</summary>
    public string Report
    {
        get
        {
            var text = new StringBuilder();
            text.Append("Training stopped at step ").Append(Step.ToString(CultureInfo.InvariantCulture)).Append(": ").Append(FailedCheck).Append('.');
            text.AppendLine().Append("  loss: ").Append(TrainingGuard.Format(Loss));
            if (Details is not null) text.AppendLine().Append("  ").Append(Details);
            if (FirstBadValue is not null) text.AppendLine().Append("  first bad value: ").Append(FirstBadValue);
            text.AppendLine().Append("  Common causes: a learning rate too high, no gradient clipping, or bad input data.");
            return text.ToString();
        }
    }

    /// <inheritdoc />
    public override string ToString() => Report;
}

/// <summary>Thrown by <see cref="TrainingGuard"/> when training produced NaN or infinity.</summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception from a problem report.</summary>
    public TrainingDivergedException(TrainingProblem problem) : base(problem?.Report)
    {
        Problem = problem ?? throw new ArgumentNullException(nameof(problem));
    }

    /// <summary>What was found.</summary>
    public TrainingProblem Problem { get; }
}
