using System;
using System.Collections.Generic;
using System.Linq;

namespace RnnGen.Samples.CharRnn;

// The generator fixes every size at compile time, so the sample declares one class per size it offers and picks one
// at run time through the interfaces. Each is the PyTorch model
//   nn.Embedding(96, 64) -> nn.LSTM(64, H, num_layers=L, batch_first=True) -> nn.Linear(H, 96)
// with state_dict names embedding.weight, rnn.weight_ih_l0, ..., head.weight, head.bias.

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 64, Layers = 1, Output = CharModels.Vocabulary)]
public partial class CharLstmH64L1 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 64, Layers = 2, Output = CharModels.Vocabulary)]
public partial class CharLstmH64L2 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 64, Layers = 3, Output = CharModels.Vocabulary)]
public partial class CharLstmH64L3 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 128, Layers = 1, Output = CharModels.Vocabulary)]
public partial class CharLstmH128L1 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 128, Layers = 2, Output = CharModels.Vocabulary)]
public partial class CharLstmH128L2 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 128, Layers = 3, Output = CharModels.Vocabulary)]
public partial class CharLstmH128L3 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 256, Layers = 1, Output = CharModels.Vocabulary)]
public partial class CharLstmH256L1 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 256, Layers = 2, Output = CharModels.Vocabulary)]
public partial class CharLstmH256L2 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 256, Layers = 3, Output = CharModels.Vocabulary)]
public partial class CharLstmH256L3 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 512, Layers = 1, Output = CharModels.Vocabulary)]
public partial class CharLstmH512L1 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 512, Layers = 2, Output = CharModels.Vocabulary)]
public partial class CharLstmH512L2 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 512, Layers = 3, Output = CharModels.Vocabulary)]
public partial class CharLstmH512L3 { }

// The same models with reduced-precision weights, for --eval-weights: the same parameter layout, so a trained float
// model's Parameters copy into them as they are; inference one row at a time (Step) then reads the bfloat16 or int8 copy.

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 64, Layers = 1, Output = CharModels.Vocabulary, Weights = WeightPrecision.BFloat16)]
public partial class CharLstmH64L1BFloat16 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 64, Layers = 1, Output = CharModels.Vocabulary, Weights = WeightPrecision.Int8)]
public partial class CharLstmH64L1Int8 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 64, Layers = 2, Output = CharModels.Vocabulary, Weights = WeightPrecision.BFloat16)]
public partial class CharLstmH64L2BFloat16 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 64, Layers = 2, Output = CharModels.Vocabulary, Weights = WeightPrecision.Int8)]
public partial class CharLstmH64L2Int8 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 64, Layers = 3, Output = CharModels.Vocabulary, Weights = WeightPrecision.BFloat16)]
public partial class CharLstmH64L3BFloat16 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 64, Layers = 3, Output = CharModels.Vocabulary, Weights = WeightPrecision.Int8)]
public partial class CharLstmH64L3Int8 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 128, Layers = 1, Output = CharModels.Vocabulary, Weights = WeightPrecision.BFloat16)]
public partial class CharLstmH128L1BFloat16 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 128, Layers = 1, Output = CharModels.Vocabulary, Weights = WeightPrecision.Int8)]
public partial class CharLstmH128L1Int8 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 128, Layers = 2, Output = CharModels.Vocabulary, Weights = WeightPrecision.BFloat16)]
public partial class CharLstmH128L2BFloat16 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 128, Layers = 2, Output = CharModels.Vocabulary, Weights = WeightPrecision.Int8)]
public partial class CharLstmH128L2Int8 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 128, Layers = 3, Output = CharModels.Vocabulary, Weights = WeightPrecision.BFloat16)]
public partial class CharLstmH128L3BFloat16 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 128, Layers = 3, Output = CharModels.Vocabulary, Weights = WeightPrecision.Int8)]
public partial class CharLstmH128L3Int8 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 256, Layers = 1, Output = CharModels.Vocabulary, Weights = WeightPrecision.BFloat16)]
public partial class CharLstmH256L1BFloat16 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 256, Layers = 1, Output = CharModels.Vocabulary, Weights = WeightPrecision.Int8)]
public partial class CharLstmH256L1Int8 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 256, Layers = 2, Output = CharModels.Vocabulary, Weights = WeightPrecision.BFloat16)]
public partial class CharLstmH256L2BFloat16 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 256, Layers = 2, Output = CharModels.Vocabulary, Weights = WeightPrecision.Int8)]
public partial class CharLstmH256L2Int8 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 256, Layers = 3, Output = CharModels.Vocabulary, Weights = WeightPrecision.BFloat16)]
public partial class CharLstmH256L3BFloat16 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 256, Layers = 3, Output = CharModels.Vocabulary, Weights = WeightPrecision.Int8)]
public partial class CharLstmH256L3Int8 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 512, Layers = 1, Output = CharModels.Vocabulary, Weights = WeightPrecision.BFloat16)]
public partial class CharLstmH512L1BFloat16 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 512, Layers = 1, Output = CharModels.Vocabulary, Weights = WeightPrecision.Int8)]
public partial class CharLstmH512L1Int8 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 512, Layers = 2, Output = CharModels.Vocabulary, Weights = WeightPrecision.BFloat16)]
public partial class CharLstmH512L2BFloat16 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 512, Layers = 2, Output = CharModels.Vocabulary, Weights = WeightPrecision.Int8)]
public partial class CharLstmH512L2Int8 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 512, Layers = 3, Output = CharModels.Vocabulary, Weights = WeightPrecision.BFloat16)]
public partial class CharLstmH512L3BFloat16 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CharModels.Vocabulary, Input = CharModels.Embedding, Hidden = 512, Layers = 3, Output = CharModels.Vocabulary, Weights = WeightPrecision.Int8)]
public partial class CharLstmH512L3Int8 { }

/// <summary>The family of character models this sample can train, and how to pick one by size.</summary>
public static class CharModels
{
    /// <summary>Characters in the vocabulary (<see cref="CharVocabulary.Size"/>), also the head's width.</summary>
    public const int Vocabulary = CharVocabulary.Size;

    /// <summary>Width of the character embedding, the LSTM's input.</summary>
    public const int Embedding = 64;

    /// <summary>Hidden widths with a compiled model.</summary>
    public static IReadOnlyList<int> SupportedHidden { get; } = [64, 128, 256, 512];

    /// <summary>Layer counts with a compiled model.</summary>
    public static IReadOnlyList<int> SupportedLayers { get; } = [1, 2, 3];

    /// <summary>Creates the model of the given size, initialized as PyTorch does from <paramref name="seed"/>, reading weights of <paramref name="weights"/> precision in inference.</summary>
    /// <exception cref="ArgumentException">No model of that size is compiled in; the message lists the sizes that are.</exception>
    public static ITokenStreamingModel Create(int hidden, int layers, int seed, WeightPrecision weights = WeightPrecision.Single) => (hidden, layers, weights) switch
    {
        (64, 1, WeightPrecision.Single) => new CharLstmH64L1(seed),
        (64, 1, WeightPrecision.BFloat16) => new CharLstmH64L1BFloat16(seed),
        (64, 1, WeightPrecision.Int8) => new CharLstmH64L1Int8(seed),
        (64, 2, WeightPrecision.Single) => new CharLstmH64L2(seed),
        (64, 2, WeightPrecision.BFloat16) => new CharLstmH64L2BFloat16(seed),
        (64, 2, WeightPrecision.Int8) => new CharLstmH64L2Int8(seed),
        (64, 3, WeightPrecision.Single) => new CharLstmH64L3(seed),
        (64, 3, WeightPrecision.BFloat16) => new CharLstmH64L3BFloat16(seed),
        (64, 3, WeightPrecision.Int8) => new CharLstmH64L3Int8(seed),
        (128, 1, WeightPrecision.Single) => new CharLstmH128L1(seed),
        (128, 1, WeightPrecision.BFloat16) => new CharLstmH128L1BFloat16(seed),
        (128, 1, WeightPrecision.Int8) => new CharLstmH128L1Int8(seed),
        (128, 2, WeightPrecision.Single) => new CharLstmH128L2(seed),
        (128, 2, WeightPrecision.BFloat16) => new CharLstmH128L2BFloat16(seed),
        (128, 2, WeightPrecision.Int8) => new CharLstmH128L2Int8(seed),
        (128, 3, WeightPrecision.Single) => new CharLstmH128L3(seed),
        (128, 3, WeightPrecision.BFloat16) => new CharLstmH128L3BFloat16(seed),
        (128, 3, WeightPrecision.Int8) => new CharLstmH128L3Int8(seed),
        (256, 1, WeightPrecision.Single) => new CharLstmH256L1(seed),
        (256, 1, WeightPrecision.BFloat16) => new CharLstmH256L1BFloat16(seed),
        (256, 1, WeightPrecision.Int8) => new CharLstmH256L1Int8(seed),
        (256, 2, WeightPrecision.Single) => new CharLstmH256L2(seed),
        (256, 2, WeightPrecision.BFloat16) => new CharLstmH256L2BFloat16(seed),
        (256, 2, WeightPrecision.Int8) => new CharLstmH256L2Int8(seed),
        (256, 3, WeightPrecision.Single) => new CharLstmH256L3(seed),
        (256, 3, WeightPrecision.BFloat16) => new CharLstmH256L3BFloat16(seed),
        (256, 3, WeightPrecision.Int8) => new CharLstmH256L3Int8(seed),
        (512, 1, WeightPrecision.Single) => new CharLstmH512L1(seed),
        (512, 1, WeightPrecision.BFloat16) => new CharLstmH512L1BFloat16(seed),
        (512, 1, WeightPrecision.Int8) => new CharLstmH512L1Int8(seed),
        (512, 2, WeightPrecision.Single) => new CharLstmH512L2(seed),
        (512, 2, WeightPrecision.BFloat16) => new CharLstmH512L2BFloat16(seed),
        (512, 2, WeightPrecision.Int8) => new CharLstmH512L2Int8(seed),
        (512, 3, WeightPrecision.Single) => new CharLstmH512L3(seed),
        (512, 3, WeightPrecision.BFloat16) => new CharLstmH512L3BFloat16(seed),
        (512, 3, WeightPrecision.Int8) => new CharLstmH512L3Int8(seed),
        _ when !IsSupported(hidden, layers) => throw new ArgumentException(UnsupportedMessage(hidden, layers)),
        _ => throw new ArgumentOutOfRangeException(nameof(weights), weights, "Not a weight precision."),
    };

    /// <summary>Whether a model with these sizes is compiled in.</summary>
    public static bool IsSupported(int hidden, int layers) => SupportedHidden.Contains(hidden) && SupportedLayers.Contains(layers);

    /// <summary>The error text for sizes with no compiled model.</summary>
    public static string UnsupportedMessage(int hidden, int layers)
        => $"No compiled model with hidden size {hidden} and {layers} layer(s). Supported: hidden {string.Join(", ", SupportedHidden)} "
           + $"with layers {string.Join(", ", SupportedLayers)}. Other sizes need three more [RecurrentModel] declarations (float, bfloat16 and int8 weights) in samples/CharRnn/Models.cs.";

    /// <summary>
    /// Reads the hidden size and layer count of a checkpoint from its tensor shapes (rnn.weight_hh_l0 is [4H, H], one
    /// rnn.weight_hh_lK per layer), so <c>--load</c> needs no size options.
    /// </summary>
    /// <exception cref="SafetensorsException">The file is not a character LSTM checkpoint of this sample.</exception>
    public static (int Hidden, int Layers) ReadSize(string path)
    {
        IReadOnlyDictionary<string, SafetensorsTensor> tensors = Safetensors.ReadAll(path);
        if (!tensors.TryGetValue("rnn.weight_hh_l0", out SafetensorsTensor? weightHh) || weightHh.Shape.Count != 2 || weightHh.Shape[0] != 4 * weightHh.Shape[1])
            throw new SafetensorsException($"'{path}' has no LSTM tensor rnn.weight_hh_l0 of shape [4H, H]; it is not a checkpoint of this sample.");
        int hidden = weightHh.Shape[1];
        int layers = 0;
        while (tensors.ContainsKey($"rnn.weight_hh_l{layers}")) layers++;
        if (!tensors.TryGetValue("embedding.weight", out SafetensorsTensor? embedding) || embedding.Shape.Count != 2 || embedding.Shape[0] != Vocabulary || embedding.Shape[1] != Embedding)
            throw new SafetensorsException($"'{path}' has no embedding.weight of shape [{Vocabulary}, {Embedding}]; it is not a checkpoint of this sample.");
        return (hidden, layers);
    }
}
