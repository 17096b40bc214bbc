using System;

namespace RnnGen;

/// <summary>The recurrent cell a <see cref="RecurrentModelAttribute"/> model is built from (PyTorch semantics).</summary>
public enum CellKind
{
    /// <summary>Elman cell, as <c>torch.nn.RNN</c>: h' = act(W_ih x + b_ih + W_hh h + b_hh).</summary>
    Rnn = 0,
    /// <summary>Long short-term memory, as <c>torch.nn.LSTM</c>; gate order i, f, g, o.</summary>
    Lstm = 1,
    /// <summary>Gated recurrent unit, as <c>torch.nn.GRU</c>; gate order r, z, n, with b_hn inside r ⊙ (W_hn h + b_hn).</summary>
    Gru = 2,
}

/// <summary>The activation of an <see cref="CellKind.Rnn"/> cell, as <c>nonlinearity</c> of <c>torch.nn.RNN</c>.</summary>
public enum Nonlinearity
{
    /// <summary>Hyperbolic tangent (PyTorch's default).</summary>
    Tanh = 0,
    /// <summary>Rectified linear unit.</summary>
    Relu = 1,
}

/// <summary>The storage of the weight copies a model's inference reads (see <see cref="RecurrentModelAttribute.Weights"/>).</summary>
public enum WeightPrecision
{
    /// <summary>32-bit floats, the parameters exactly (the default).</summary>
    Single = 0,
    /// <summary>
    /// bfloat16 (16 bits per weight, 8 significant bits, each within half a bfloat16 unit of the weight): half the bytes
    /// per product. Products and sums stay in 32-bit floats; only the stored weights are rounded.
    /// </summary>
    BFloat16 = 1,
    /// <summary>
    /// int8 with one float scale per output row (symmetric, PyTorch's per-channel dynamic quantization): a quarter of the
    /// bytes. Each product's input (x or h) is quantized to int8 per step with its own scale, the dot products are
    /// summed exactly in 32-bit integers and scaled back to float once per output; the cell math stays float.
    /// </summary>
    Int8 = 2,
}

/// <summary>
/// Marks a <c>partial</c> class to be expanded at compile time into a fixed-shape recurrent network:
/// an optional embedding, a stack of RNN/LSTM/GRU layers (optionally bidirectional), and an optional
/// linear head applied at every step. Parameter names, shapes, gate orders and equations are PyTorch's.
/// </summary>
/// <example>
/// <code>
/// [RecurrentModel(Cell = CellKind.Lstm, Input = 128, Hidden = 256, Layers = 2, Bidirectional = true)]
/// public partial class Tagger { }
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RecurrentModelAttribute : Attribute
{
    /// <summary>The cell kind. Default <see cref="CellKind.Rnn"/>.</summary>
    public CellKind Cell { get; set; }

    /// <summary>Width of each input vector (the embedding width when <see cref="Vocabulary"/> &gt; 0). Required, 1 to 16384.</summary>
    public int Input { get; set; }

    /// <summary>Width of the hidden state of each layer and direction. Required, 1 to 16384.</summary>
    public int Hidden { get; set; }

    /// <summary>Number of stacked recurrent layers, 1 to 64. Default 1.</summary>
    public int Layers { get; set; } = 1;

    /// <summary>Whether each layer runs in both directions, outputs concatenated forward then reverse. Default false.</summary>
    public bool Bidirectional { get; set; }

    /// <summary>Whether the recurrent layers have the two bias vectors b_ih and b_hh. Default true.</summary>
    public bool Bias { get; set; } = true;

    /// <summary>The activation of an <see cref="CellKind.Rnn"/> cell; only valid with that cell. Default <see cref="RnnGen.Nonlinearity.Tanh"/>.</summary>
    public Nonlinearity Nonlinearity { get; set; }

    /// <summary>When &gt; 0, inputs are token ids looked up in an embedding table [Vocabulary, Input] (as <c>torch.nn.Embedding</c>). Default 0, 0 to 1048576.</summary>
    public int Vocabulary { get; set; }

    /// <summary>
    /// Layout of batched inputs and outputs: false (the default) is time-major [steps, batch, width] as PyTorch's default;
    /// true is [batch, steps, width] as PyTorch's <c>batch_first=True</c>. States are [layers*directions, batch, hidden] either way.
    /// </summary>
    public bool BatchFirst { get; set; }

    /// <summary>
    /// The storage of the weight copies inference reads: <c>Forward</c> (one sequence and batches), single-stream and
    /// multi-agent <c>Step</c>, the recurrent layers and the head. Default <see cref="WeightPrecision.Single"/>.
    /// <see cref="WeightPrecision.BFloat16"/> halves the bytes each product reads and <see cref="WeightPrecision.Int8"/>
    /// quarters them, so inference that is limited by memory bandwidth gets faster, at the cost of rounding (see
    /// docs/performance.md for the measured differences from float). The parameters stay 32-bit floats: training,
    /// gradients and weight files use them, and the reduced copy is rebuilt from them when they change.
    /// </summary>
    public WeightPrecision Weights { get; set; }

    /// <summary>
    /// The probability of zeroing each element of every recurrent layer's output but the last's during training, as
    /// <c>dropout</c> of <c>torch.nn.LSTM</c>/<c>GRU</c>/<c>RNN</c>: the trainer's Forward multiplies those outputs (both
    /// directions of a bidirectional layer) by a Bernoulli(1 − p) mask scaled by 1/(1 − p), drawn from the trainer's
    /// seeded generator (<c>Trainer.Seed</c>), and its Backward uses the same masks. Inference (<c>Forward</c>, <c>Step</c>)
    /// ignores it. Default 0 (none); at least 0 and less than 1 (RNNG0013), and only with <see cref="Layers"/> &gt; 1
    /// (RNNG0014: with one layer there is no output between layers to drop).
    /// </summary>
    public float Dropout { get; set; }

    /// <summary>When &gt; 0, a linear head [Output, Directions*Hidden] is applied at every step and the output is logits. Default 0, 0 to 1048576.</summary>
    public int Output { get; set; }
}
