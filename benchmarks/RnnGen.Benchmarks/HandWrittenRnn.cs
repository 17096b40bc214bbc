using System;
using System.Numerics.Tensors;

namespace RnnGen.Benchmarks;

/// <summary>
/// The baseline: the LSTM/GRU one would write by hand without the generator. Sizes are runtime values, weights are
/// row-major arrays per layer and direction in PyTorch's layout, each gate row is one <see cref="TensorPrimitives.Dot"/>
/// over the input and one over the hidden state, and the element-wise part is a plain scalar loop. A batch is run one
/// sequence at a time. Same equations as torch.nn.LSTM / GRU, so it must agree with the generated models to ~1e-5.
/// </summary>
public sealed class HandWrittenRnn
{
    private readonly bool _lstm;
    private readonly int _inputSize, _hiddenSize, _layers, _directions, _gateCount;
    private readonly float[][] _weightIh, _weightHh, _biasIh, _biasHh; // per layer * directions + direction
    private readonly float[] _gates, _gatesH; // one step's pre-activations (GRU keeps W_hh h + b_hh apart)
    private float[] _layerA = Array.Empty<float>(), _layerB = Array.Empty<float>(), _sequenceState = Array.Empty<float>();

    /// <param name="weight">Returns a tensor by its PyTorch state_dict name, e.g. <c>rnn.weight_ih_l0_reverse</c>.</param>
    public HandWrittenRnn(CellKind cell, int inputSize, int hiddenSize, int layers, bool bidirectional, Func<string, float[]> weight)
    {
        if (cell == CellKind.Rnn) throw new ArgumentException("The baseline covers LSTM and GRU.", nameof(cell));
        _lstm = cell == CellKind.Lstm;
        _inputSize = inputSize;
        _hiddenSize = hiddenSize;
        _layers = layers;
        _directions = bidirectional ? 2 : 1;
        _gateCount = _lstm ? 4 : 3;
        int cells = layers * _directions;
        _weightIh = new float[cells][];
        _weightHh = new float[cells][];
        _biasIh = new float[cells][];
        _biasHh = new float[cells][];
        for (int layer = 0; layer < layers; layer++)
        {
            for (int direction = 0; direction < _directions; direction++)
            {
                string suffix = "_l" + layer + (direction == 1 ? "_reverse" : "");
                int index = layer * _directions + direction;
                _weightIh[index] = weight("rnn.weight_ih" + suffix);
                _weightHh[index] = weight("rnn.weight_hh" + suffix);
                _biasIh[index] = weight("rnn.bias_ih" + suffix);
                _biasHh[index] = weight("rnn.bias_hh" + suffix);
            }
        }
        _gates = new float[_gateCount * hiddenSize];
        _gatesH = new float[_gateCount * hiddenSize];
    }

    /// <summary>Floats in a state: h [layers*directions, hidden], then c in the same layout for LSTM.</summary>
    public int StateSize => (_lstm ? 2 : 1) * _layers * _directions * _hiddenSize;

    /// <summary>Per-step output width.</summary>
    public int OutputSize => _directions * _hiddenSize;

    /// <summary>One step of a unidirectional model on caller-owned state (same layout as the generated models).</summary>
    public void Step(ReadOnlySpan<float> x, Span<float> state, Span<float> output)
    {
        if (_directions != 1) throw new InvalidOperationException("Step needs a unidirectional model.");
        int cHalf = _layers * _hiddenSize;
        ReadOnlySpan<float> layerInput = x;
        for (int layer = 0; layer < _layers; layer++)
        {
            Span<float> h = state.Slice(layer * _hiddenSize, _hiddenSize);
            Span<float> c = _lstm ? state.Slice(cHalf + layer * _hiddenSize, _hiddenSize) : default;
            Cell(layer, layerInput, h, c);
            layerInput = h;
        }
        layerInput.CopyTo(output);
    }

    /// <summary>
    /// A padded time-major batch [steps, batch, input] from zero states, into [steps, batch, directions*hidden]:
    /// each sequence in turn, as a hand-written loop would do it.
    /// </summary>
    public void Forward(ReadOnlySpan<float> input, int batch, Span<float> output)
    {
        int steps = input.Length / (batch * _inputSize);
        int width = _directions * _hiddenSize;
        if (_layerA.Length < steps * width)
        {
            _layerA = new float[steps * width];
            _layerB = new float[steps * width];
        }
        if (_sequenceState.Length < 2 * _hiddenSize) _sequenceState = new float[2 * _hiddenSize];
        for (int b = 0; b < batch; b++)
        {
            // Layer 0 reads this sequence's rows of the batch; later layers read the previous layer's [steps, width].
            ReadOnlySpan<float> layerInput = input;
            int inputOffset = b * _inputSize, inputStride = batch * _inputSize;
            for (int layer = 0; layer < _layers; layer++)
            {
                bool last = layer == _layers - 1;
                Span<float> layerOutput = last ? output : (layer % 2 == 0 ? _layerA : _layerB);
                int outputOffset = last ? b * width : 0, outputStride = last ? batch * width : width;
                for (int direction = 0; direction < _directions; direction++)
                {
                    Span<float> h = _sequenceState.AsSpan(0, _hiddenSize);
                    Span<float> c = _sequenceState.AsSpan(_hiddenSize, _hiddenSize);
                    h.Clear();
                    c.Clear();
                    for (int s = 0; s < steps; s++)
                    {
                        int t = direction == 0 ? s : steps - 1 - s;
                        int cellInputSize = layer == 0 ? _inputSize : width;
                        Cell(layer * _directions + direction, layerInput.Slice(inputOffset + t * inputStride, cellInputSize), h, _lstm ? c : default);
                        h.CopyTo(layerOutput.Slice(outputOffset + t * outputStride + direction * _hiddenSize, _hiddenSize));
                    }
                }
                layerInput = layerOutput;
                inputOffset = 0;
                inputStride = width;
            }
        }
    }

    /// <summary>One cell step in place on h (and c for LSTM).</summary>
    private void Cell(int index, ReadOnlySpan<float> x, Span<float> h, Span<float> c)
    {
        int n = _hiddenSize, inputs = x.Length;
        float[] wIh = _weightIh[index], wHh = _weightHh[index], bIh = _biasIh[index], bHh = _biasHh[index];
        if (_lstm)
        {
            // gates = W_ih x + b_ih + W_hh h + b_hh, rows i, f, g, o.
            for (int r = 0; r < 4 * n; r++)
                _gates[r] = bIh[r] + bHh[r] + TensorPrimitives.Dot(wIh.AsSpan(r * inputs, inputs), x) + TensorPrimitives.Dot(wHh.AsSpan(r * n, n), h);
            for (int j = 0; j < n; j++)
            {
                float i = Sigmoid(_gates[j]), f = Sigmoid(_gates[n + j]), g = MathF.Tanh(_gates[2 * n + j]), o = Sigmoid(_gates[3 * n + j]);
                c[j] = f * c[j] + i * g;
                h[j] = o * MathF.Tanh(c[j]);
            }
        }
        else
        {
            // GRU keeps W_hh h + b_hh apart because r gates only its n part.
            for (int r = 0; r < 3 * n; r++)
            {
                _gates[r] = bIh[r] + TensorPrimitives.Dot(wIh.AsSpan(r * inputs, inputs), x);
                _gatesH[r] = bHh[r] + TensorPrimitives.Dot(wHh.AsSpan(r * n, n), h);
            }
            for (int j = 0; j < n; j++)
            {
                float reset = Sigmoid(_gates[j] + _gatesH[j]), update = Sigmoid(_gates[n + j] + _gatesH[n + j]);
                float candidate = MathF.Tanh(_gates[2 * n + j] + reset * _gatesH[2 * n + j]);
                h[j] = (1f - update) * candidate + update * h[j];
            }
        }
    }

    private static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));
}
