// RnnGen quickstart: declare a network with one attribute, run it on a sequence and step by step,
// save and load its weights as safetensors (the format PyTorch's safetensors.torch.save_file writes).
using System;
using System.IO;
using RnnGen;

// 1. A whole-sequence model: a 2-layer bidirectional GRU encoder. The generator expands it at compile time.
var encoder = new Encoder(seed: 1);
const int steps = 6;
var input = new float[steps * Encoder.InputSize];
for (int i = 0; i < input.Length; i++) input[i] = MathF.Sin(0.37f * i);
var output = new float[steps * Encoder.OutputSize];
var finalState = new float[Encoder.StateSize];
encoder.Forward(input, output, initialState: default, finalState);

Console.WriteLine($"Encoder: {Encoder.NumLayers}-layer bidirectional GRU, input {Encoder.InputSize}, hidden {Encoder.HiddenSize}, {Encoder.ParameterCount} parameters");
Console.WriteLine($"  output [{steps}, {Encoder.OutputSize}], step 0: {Preview(output.AsSpan(0, Encoder.OutputSize))}");
Console.WriteLine($"  final state [{Encoder.NumLayers * Encoder.NumDirections}, {Encoder.HiddenSize}], row 0: {Preview(finalState.AsSpan(0, Encoder.HiddenSize))}");
Console.WriteLine("  tensors:");
foreach (TensorInfo tensor in Encoder.Tensors) Console.WriteLine($"    {tensor.Name,-26} {tensor.ShapeText,-10} offset {tensor.Offset}");

// 2. Save and load: a second model with other weights becomes identical after loading.
string path = Path.Combine(Path.GetTempPath(), $"rnngen-quickstart-{Environment.ProcessId}.safetensors");
encoder.SaveSafetensors(path);
var copy = new Encoder(seed: 2);
copy.LoadSafetensors(path);
var copyOutput = new float[output.Length];
copy.Forward(input, copyOutput);
Console.WriteLine($"Saved {new FileInfo(path).Length} bytes to {path}; reloaded model gives the same output: {output.AsSpan().SequenceEqual(copyOutput)}");
File.Delete(path);

// 3. A streaming model: a token-level LSTM with a head, advanced one token at a time (e.g. per frame).
var charModel = new CharModel(seed: 3);
var logits = new float[CharModel.OutputSize];
string text = "hello";
foreach (char ch in text) charModel.Step(ch - 'a', logits);
int best = 0;
for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
Console.WriteLine($"CharModel: after streaming \"{text}\", the untrained head's top next token is {best} (logit {logits[best]:F4})");

// The same steps as one Forward give the same last logits.
var tokens = new int[text.Length];
for (int i = 0; i < text.Length; i++) tokens[i] = text[i] - 'a';
var sequenceLogits = new float[text.Length * CharModel.OutputSize];
charModel.Forward(tokens, sequenceLogits);
float maxDiff = 0;
for (int i = 0; i < CharModel.OutputSize; i++) maxDiff = MathF.Max(maxDiff, MathF.Abs(sequenceLogits[(text.Length - 1) * CharModel.OutputSize + i] - logits[i]));
Console.WriteLine($"  Step vs Forward, largest difference in the last logits: {maxDiff:E2}");

static string Preview(ReadOnlySpan<float> values)
{
    var parts = new string[Math.Min(4, values.Length)];
    for (int i = 0; i < parts.Length; i++) parts[i] = values[i].ToString("F4", System.Globalization.CultureInfo.InvariantCulture);
    return "[" + string.Join(", ", parts) + (values.Length > parts.Length ? ", ...]" : "]");
}

[RecurrentModel(Cell = CellKind.Gru, Input = 7, Hidden = 13, Layers = 2, Bidirectional = true)]
public partial class Encoder { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = 26, Input = 16, Hidden = 64, Output = 26)]
public partial class CharModel { }
