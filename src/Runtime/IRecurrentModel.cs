using System;
using System.Collections.Generic;
using System.IO;

namespace RnnGen;

/// <summary>
/// What every generated <see cref="RecurrentModelAttribute"/> model offers, for code that works with any model
/// (training loops, tools, tests). The generated class also has the same sizes as constants.
/// </summary>
public interface IRecurrentModel
{
    /// <summary>The cell kind.</summary>
    CellKind Cell { get; }

    /// <summary>Width of each input vector (the embedding width for token models).</summary>
    int InputSize { get; }

    /// <summary>Hidden width of each layer and direction.</summary>
    int HiddenSize { get; }

    /// <summary>Number of stacked layers.</summary>
    int NumLayers { get; }

    /// <summary>1, or 2 when bidirectional.</summary>
    int NumDirections { get; }

    /// <summary>Per-step output width: the head's width if there is a head, else NumDirections * HiddenSize.</summary>
    int OutputSize { get; }

    /// <summary>Floats in a state: h as [NumLayers*NumDirections, HiddenSize], then for LSTM c in the same layout.</summary>
    int StateSize { get; }

    /// <summary>Number of learnable floats.</summary>
    int ParameterCount { get; }

    /// <summary>
    /// Threads a batch Forward may use (default 1). Above 1, large enough batches run in parts at the same time (a
    /// bidirectional model's two directions, or parts of whole sequences; a bidirectional model's trainer runs its
    /// directions apart too), with results identical to one thread; see the generated property's documentation.
    /// </summary>
    int Threads { get; set; }

    /// <summary>Vocabulary size of a token model, 0 for a model that takes vectors.</summary>
    int VocabularySize { get; }

    /// <summary>The tensor table: PyTorch state_dict names, shapes and offsets into <see cref="Parameters"/>.</summary>
    IReadOnlyList<TensorInfo> TensorTable { get; }

    /// <summary>All learnable values, flat, in state_dict order.</summary>
    Span<float> Parameters { get; }

    /// <summary>One tensor's values by state_dict name, e.g. <c>rnn.weight_ih_l0</c>.</summary>
    Span<float> Parameter(string name);

    /// <summary>Gradients of every parameter, same layout as <see cref="Parameters"/>; Backward adds to them.</summary>
    Span<float> Gradients { get; }

    /// <summary>One tensor's gradient by state_dict name.</summary>
    Span<float> Gradient(string name);

    /// <summary>Sets every gradient to zero.</summary>
    void ZeroGradients();

    /// <summary>Creates a trainer whose buffers hold sequences of up to <paramref name="maxSteps"/> steps and batches of up to <paramref name="maxBatch"/>.</summary>
    ITrainer CreateTrainer(int maxSteps, int maxBatch = 1);

    /// <summary>Loads weights from a safetensors stream (validated before anything is overwritten).</summary>
    void LoadSafetensors(Stream stream, SafetensorsOptions? options = null);

    /// <summary>Saves weights as safetensors.</summary>
    void SaveSafetensors(Stream stream, SafetensorsOptions? options = null);
}

/// <summary>A model whose inputs are vectors of <see cref="IRecurrentModel.InputSize"/> floats per step.</summary>
public interface IVectorSequenceModel : IRecurrentModel
{
    /// <summary>Runs one sequence [steps, InputSize] into output [steps, OutputSize]; empty states mean zeros / not wanted.</summary>
    void Forward(ReadOnlySpan<float> input, Span<float> output, ReadOnlySpan<float> initialState, Span<float> finalState);

    /// <summary>
    /// Runs a padded batch of sequences of unequal lengths (PyTorch packed-sequence semantics): input [steps, batch, InputSize]
    /// (or [batch, steps, ...] for BatchFirst models), output likewise with zeros at padded steps, states
    /// [layers*directions, batch, hidden] (then c for LSTM); empty states mean zeros / not wanted, empty lengths mean all full.
    /// </summary>
    void Forward(ReadOnlySpan<float> input, int batch, ReadOnlySpan<int> lengths, Span<float> output, ReadOnlySpan<float> initialState, Span<float> finalState);
}

/// <summary>A model whose inputs are token ids looked up in its embedding.</summary>
public interface ITokenSequenceModel : IRecurrentModel
{
    /// <summary>Runs one sequence of token ids into output [steps, OutputSize]; empty states mean zeros / not wanted.</summary>
    void Forward(ReadOnlySpan<int> tokens, Span<float> output, ReadOnlySpan<float> initialState, Span<float> finalState);

    /// <summary>Runs a padded batch of token sequences [steps, batch] (or [batch, steps]) of unequal lengths; see <see cref="IVectorSequenceModel"/>.</summary>
    void Forward(ReadOnlySpan<int> tokens, int batch, ReadOnlySpan<int> lengths, Span<float> output, ReadOnlySpan<float> initialState, Span<float> finalState);
}

/// <summary>A unidirectional vector model that can advance one step at a time on caller-owned state.</summary>
public interface IVectorStreamingModel : IVectorSequenceModel
{
    /// <summary>Advances <paramref name="state"/> (StateSize floats) by one step of <paramref name="x"/> (InputSize floats), writing OutputSize floats.</summary>
    void Step(ReadOnlySpan<float> x, Span<float> state, Span<float> output);

    /// <summary>Advances <paramref name="agents"/> states [agents, StateSize] by one step of x [agents, InputSize], writing [agents, OutputSize].</summary>
    void Step(ReadOnlySpan<float> x, int agents, Span<float> state, Span<float> output);
}

/// <summary>A unidirectional token model that can advance one step at a time on caller-owned state.</summary>
public interface ITokenStreamingModel : ITokenSequenceModel
{
    /// <summary>Advances <paramref name="state"/> (StateSize floats) by one step of <paramref name="token"/>, writing OutputSize floats.</summary>
    void Step(int token, Span<float> state, Span<float> output);

    /// <summary>Advances one state per token, [tokens.Length, StateSize], by one step, writing [tokens.Length, OutputSize].</summary>
    void Step(ReadOnlySpan<int> tokens, Span<float> state, Span<float> output);
}

/// <summary>Backpropagation through time for a generated model (see the model's nested <c>Trainer</c> class).</summary>
public interface ITrainer
{
    /// <summary>Longest sequence accepted.</summary>
    int MaxSteps { get; }

    /// <summary>Largest batch accepted.</summary>
    int MaxBatch { get; }

    /// <summary>Padded steps of the last Forward (0 before the first).</summary>
    int Steps { get; }

    /// <summary>Batch of the last Forward (0 before the first).</summary>
    int Batch { get; }

    /// <summary>Adds dL/dparameters for the last Forward to the model's Gradients, with no gradient into the final state; writes dL/dinput when the span is not empty.</summary>
    void Backward(ReadOnlySpan<float> outputGrad, Span<float> inputGrad);

    /// <summary>Adds dL/dparameters for the last Forward to the model's Gradients; writes dL/dinput and dL/dinitialState when the spans are not empty.</summary>
    void Backward(ReadOnlySpan<float> outputGrad, Span<float> inputGrad, ReadOnlySpan<float> finalStateGrad, Span<float> initialStateGrad);
}

/// <summary>A trainer of a model that takes vectors.</summary>
public interface IVectorTrainer : ITrainer
{
    /// <summary>Runs one sequence from a zero state and keeps what Backward needs.</summary>
    void Forward(ReadOnlySpan<float> input, Span<float> output);

    /// <summary>Runs one sequence and keeps what Backward needs.</summary>
    void Forward(ReadOnlySpan<float> input, Span<float> output, ReadOnlySpan<float> initialState, Span<float> finalState);

    /// <summary>Runs a padded batch of sequences of unequal lengths and keeps what Backward needs.</summary>
    void Forward(ReadOnlySpan<float> input, int batch, ReadOnlySpan<int> lengths, Span<float> output, ReadOnlySpan<float> initialState, Span<float> finalState);
}

/// <summary>A trainer of a model that takes token ids.</summary>
public interface ITokenTrainer : ITrainer
{
    /// <summary>Runs one sequence from a zero state and keeps what Backward needs.</summary>
    void Forward(ReadOnlySpan<int> tokens, Span<float> output);

    /// <summary>Runs one sequence and keeps what Backward needs.</summary>
    void Forward(ReadOnlySpan<int> tokens, Span<float> output, ReadOnlySpan<float> initialState, Span<float> finalState);

    /// <summary>Runs a padded batch of token sequences of unequal lengths and keeps what Backward needs.</summary>
    void Forward(ReadOnlySpan<int> tokens, int batch, ReadOnlySpan<int> lengths, Span<float> output, ReadOnlySpan<float> initialState, Span<float> finalState);
}
