using System;
using System.Collections.Generic;
using System.Numerics.Tensors;

namespace RnnGen.Samples.Caption;

/// <summary>
/// The bridge from a feature vector to a decoder's initial state: <c>s0 = tanh(W f + b)</c>, one dense layer with its
/// own parameters (PyTorch: <c>torch.tanh(nn.Linear(features, stateSize)(f))</c>, named <c>projection.weight</c> and
/// <c>projection.bias</c>). Its gradient is computed here by hand from the decoder trainer's <c>initialStateGrad</c>:
/// dz = ds0 ⊙ (1 - s0²), dW += dz fᵀ, db += dz.
/// </summary>
/// <remarks>
/// <para>
/// The state it fills is a whole decoder state (<c>StateSize</c> floats: h for each layer, then c for an LSTM), so an
/// LSTM decoder gets both h0 and c0 from the features. Per example the output is in the single-sequence layout
/// <c>[rows, hidden]</c> (row = layer, then the c rows), the layout of <c>Step</c> and of multi-agent <c>Step</c>'s
/// <c>[agents, StateSize]</c>. The batched overloads read and write the batched layout of <c>Forward(..., batch, ...)</c>
/// instead: <c>[rows, batch, hidden]</c>.
/// </para>
/// <para>Not thread-safe; nothing allocates after construction.</para>
/// </remarks>
public sealed class InitialStateProjection
{
    /// <summary>Name of the weight tensor [StateSize, FeatureSize] in checkpoints.</summary>
    public const string WeightName = "projection.weight";

    /// <summary>Name of the bias tensor [StateSize] in checkpoints.</summary>
    public const string BiasName = "projection.bias";

    private readonly float[] _parameters;
    private readonly float[] _gradients;
    private readonly float[] _scratch;

    /// <summary>Creates the layer with nn.Linear's default initialization (uniform ±1/√features), deterministic from the seed.</summary>
    /// <param name="featureSize">Width of the feature vector.</param>
    /// <param name="hiddenSize">The decoder's hidden width.</param>
    /// <param name="stateSize">The decoder's StateSize: a multiple of <paramref name="hiddenSize"/>.</param>
    /// <param name="seed">Initialization seed.</param>
    public InitialStateProjection(int featureSize, int hiddenSize, int stateSize, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(featureSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        if (stateSize <= 0 || stateSize % hiddenSize != 0)
            throw new ArgumentException($"stateSize {stateSize} must be a positive multiple of hiddenSize {hiddenSize}.", nameof(stateSize));
        FeatureSize = featureSize;
        HiddenSize = hiddenSize;
        StateSize = stateSize;
        _parameters = new float[stateSize * featureSize + stateSize];
        _gradients = new float[_parameters.Length];
        _scratch = new float[stateSize];
        Tensors = [new TensorInfo(WeightName, 0, stateSize, featureSize), new TensorInfo(BiasName, stateSize * featureSize, stateSize)];
        float bound = 1f / MathF.Sqrt(featureSize);
        new Rng(seed).FillUniform(_parameters, -bound, bound);
    }

    /// <summary>Width of the input feature vector.</summary>
    public int FeatureSize { get; }

    /// <summary>The decoder's hidden width.</summary>
    public int HiddenSize { get; }

    /// <summary>Floats of state written per example.</summary>
    public int StateSize { get; }

    /// <summary>W [StateSize, FeatureSize] row-major, then b [StateSize].</summary>
    public Span<float> Parameters => _parameters;

    /// <summary>Gradients, same layout as <see cref="Parameters"/>; <see cref="Backward"/> adds to them.</summary>
    public Span<float> Gradients => _gradients;

    /// <summary>The weight W [StateSize, FeatureSize].</summary>
    public Span<float> Weight => _parameters.AsSpan(0, StateSize * FeatureSize);

    /// <summary>The gradient of W.</summary>
    public Span<float> WeightGradient => _gradients.AsSpan(0, StateSize * FeatureSize);

    /// <summary>The two tensors, for safetensors and <see cref="TrainingGuard"/> reports (offsets into <see cref="Parameters"/>).</summary>
    public IReadOnlyList<TensorInfo> Tensors { get; }

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGradients() => Array.Clear(_gradients);

    /// <summary>s0 = tanh(W f + b) for one example, in the single-sequence state layout.</summary>
    public void Forward(ReadOnlySpan<float> features, Span<float> state)
    {
        CheckLength(features.Length, FeatureSize, nameof(features));
        CheckLength(state.Length, StateSize, nameof(state));
        ReadOnlySpan<float> weight = _parameters.AsSpan(0, StateSize * FeatureSize);
        ReadOnlySpan<float> bias = _parameters.AsSpan(StateSize * FeatureSize, StateSize);
        for (int j = 0; j < StateSize; j++) state[j] = TensorPrimitives.Dot(weight.Slice(j * FeatureSize, FeatureSize), features) + bias[j];
        TensorPrimitives.Tanh(state, state);
    }

    /// <summary>s0 for a batch: features [batch, FeatureSize] into the batched decoder state [rows, batch, HiddenSize].</summary>
    public void Forward(ReadOnlySpan<float> features, int batch, Span<float> state)
    {
        CheckBatch(features, batch, state);
        for (int b = 0; b < batch; b++)
        {
            Span<float> s = _scratch; // one example's state in the single layout
            Forward(features.Slice(b * FeatureSize, FeatureSize), s);
            Scatter(s, b, batch, state);
        }
    }

    /// <summary>
    /// Adds dL/dW and dL/db for a batch, given the features, the states <see cref="Forward(ReadOnlySpan{float}, int, Span{float})"/>
    /// produced from them, and dL/ds0 (the decoder trainer's <c>initialStateGrad</c>), both in the batched layout.
    /// </summary>
    public void Backward(ReadOnlySpan<float> features, int batch, ReadOnlySpan<float> state, ReadOnlySpan<float> stateGrad)
    {
        CheckBatch(features, batch, state);
        CheckLength(stateGrad.Length, batch * StateSize, nameof(stateGrad));
        Span<float> weightGrad = _gradients.AsSpan(0, StateSize * FeatureSize);
        Span<float> biasGrad = _gradients.AsSpan(StateSize * FeatureSize, StateSize);
        Span<float> dz = _scratch;
        for (int b = 0; b < batch; b++)
        {
            ReadOnlySpan<float> f = features.Slice(b * FeatureSize, FeatureSize);
            // dz = ds0 ⊙ (1 - s0²): tanh' written in terms of its output.
            for (int j = 0; j < StateSize; j++)
            {
                int at = Index(j, b, batch);
                float s = state[at];
                dz[j] = stateGrad[at] * (1f - s * s);
            }
            TensorPrimitives.Add(biasGrad, dz, biasGrad);
            for (int j = 0; j < StateSize; j++)
            {
                Span<float> row = weightGrad.Slice(j * FeatureSize, FeatureSize);
                TensorPrimitives.MultiplyAdd(f, dz[j], row, row);
            }
        }
    }

    /// <summary>Element j of example b's state (single layout: row j / HiddenSize, unit j % HiddenSize) in the batched layout.</summary>
    private int Index(int j, int b, int batch) => ((j / HiddenSize) * batch + b) * HiddenSize + j % HiddenSize;

    private void Scatter(ReadOnlySpan<float> single, int b, int batch, Span<float> batched)
    {
        for (int row = 0; row < StateSize / HiddenSize; row++)
            single.Slice(row * HiddenSize, HiddenSize).CopyTo(batched.Slice((row * batch + b) * HiddenSize, HiddenSize));
    }

    private void CheckBatch(ReadOnlySpan<float> features, int batch, ReadOnlySpan<float> state)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        CheckLength(features.Length, batch * FeatureSize, nameof(features));
        CheckLength(state.Length, batch * StateSize, nameof(state));
    }

    private static void CheckLength(int actual, int expected, string name)
    {
        if (actual != expected) throw new ArgumentException($"{name} has {actual} floats; expected {expected}.", name);
    }
}
