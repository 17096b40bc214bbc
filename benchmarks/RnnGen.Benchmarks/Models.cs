using System;
using System.IO;
using RnnGen;

namespace RnnGen.Benchmarks;

// The generated models under test. Every benchmark builds them from Fixture.Seed, so all peers see the same weights.

/// <summary>Streaming: LSTM 32→64, and the model of the Agents benchmark.</summary>
[RecurrentModel(Cell = CellKind.Lstm, Input = 32, Hidden = 64)]
public partial class Lstm32x64 { }

/// <summary>Streaming: GRU 32→64.</summary>
[RecurrentModel(Cell = CellKind.Gru, Input = 32, Hidden = 64)]
public partial class Gru32x64 { }

/// <summary>Streaming: LSTM 64→64.</summary>
[RecurrentModel(Cell = CellKind.Lstm, Input = 64, Hidden = 64)]
public partial class Lstm64x64 { }

/// <summary>Streaming: LSTM 256→256.</summary>
[RecurrentModel(Cell = CellKind.Lstm, Input = 256, Hidden = 256)]
public partial class Lstm256x256 { }

/// <summary>Streaming with bfloat16 step weights (Weights = WeightPrecision.BFloat16): the same four shapes.</summary>
[RecurrentModel(Cell = CellKind.Lstm, Input = 32, Hidden = 64, Weights = WeightPrecision.BFloat16)]
public partial class Lstm32x64Bf16 { }

/// <summary>GRU 32→64, bfloat16 step weights.</summary>
[RecurrentModel(Cell = CellKind.Gru, Input = 32, Hidden = 64, Weights = WeightPrecision.BFloat16)]
public partial class Gru32x64Bf16 { }

/// <summary>LSTM 64→64, bfloat16 step weights.</summary>
[RecurrentModel(Cell = CellKind.Lstm, Input = 64, Hidden = 64, Weights = WeightPrecision.BFloat16)]
public partial class Lstm64x64Bf16 { }

/// <summary>LSTM 256→256, bfloat16 step weights.</summary>
[RecurrentModel(Cell = CellKind.Lstm, Input = 256, Hidden = 256, Weights = WeightPrecision.BFloat16)]
public partial class Lstm256x256Bf16 { }

/// <summary>Sequence and Training: 2-layer bidirectional LSTM, input 128, hidden 256 ("configuration 2").</summary>
[RecurrentModel(Cell = CellKind.Lstm, Input = 128, Hidden = 256, Layers = 2, Bidirectional = true)]
public partial class BiLstm128x256 { }

/// <summary>Configuration 2 with int8 weights (Weights = WeightPrecision.Int8): every inference product reads int8 copies.</summary>
[RecurrentModel(Cell = CellKind.Lstm, Input = 128, Hidden = 256, Layers = 2, Bidirectional = true, Weights = WeightPrecision.Int8)]
public partial class BiLstm128x256Int8 { }

/// <summary>Configuration 2 with bfloat16 weights: the one-sequence recurrent products read the bfloat16 copy.</summary>
[RecurrentModel(Cell = CellKind.Lstm, Input = 128, Hidden = 256, Layers = 2, Bidirectional = true, Weights = WeightPrecision.BFloat16)]
public partial class BiLstm128x256Bf16 { }

/// <summary>Streaming and agents with int8 weights.</summary>
[RecurrentModel(Cell = CellKind.Lstm, Input = 32, Hidden = 64, Weights = WeightPrecision.Int8)]
public partial class Lstm32x64Int8 { }

/// <summary>Training: a char-level language model, 65 symbols embedded in 64, 2 x LSTM 256, head to 65 logits.</summary>
[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = 65, Input = 64, Hidden = 256, Layers = 2, Output = 65)]
public partial class CharLstm { }

/// <summary>The four streaming sizes.</summary>
public enum StreamingModel
{
    Lstm32x64,
    Gru32x64,
    Lstm64x64,
    Lstm256x256,
}

/// <summary>The two training configurations.</summary>
public enum TrainingModel
{
    /// <summary>Configuration 2: <see cref="Benchmarks.BiLstm128x256"/>, T = 128, batch 32, MSE against a fixed target.</summary>
    BiLstm128x256,
    /// <summary><see cref="Benchmarks.CharLstm"/>, T = 64, batch 32, cross-entropy on next tokens.</summary>
    CharLstm,
}

/// <summary>What a peer needs to know about a model: its shape, and the ONNX graph kind exported for it.</summary>
public sealed record ModelSpec(string Name, CellKind Cell, int InputSize, int HiddenSize, int Layers, bool Bidirectional, string OnnxMode)
{
    public bool IsLstm => Cell == CellKind.Lstm;
    public int Directions => Bidirectional ? 2 : 1;

    public static ModelSpec Of(StreamingModel model) => model switch
    {
        StreamingModel.Lstm32x64 => new(nameof(Lstm32x64), CellKind.Lstm, 32, 64, 1, false, "step"),
        StreamingModel.Gru32x64 => new(nameof(Gru32x64), CellKind.Gru, 32, 64, 1, false, "step"),
        StreamingModel.Lstm64x64 => new(nameof(Lstm64x64), CellKind.Lstm, 64, 64, 1, false, "step"),
        StreamingModel.Lstm256x256 => new(nameof(Lstm256x256), CellKind.Lstm, 256, 256, 1, false, "step"),
        _ => throw new ArgumentOutOfRangeException(nameof(model)),
    };

    public static readonly ModelSpec Sequence = new(nameof(BiLstm128x256), CellKind.Lstm, 128, 256, 2, true, "sequence");

    /// <summary>The model with the benchmark's fixed seed, as the interface every streaming model implements.</summary>
    public static IVectorStreamingModel CreateStreaming(StreamingModel model) => model switch
    {
        StreamingModel.Lstm32x64 => new Lstm32x64(Fixture.Seed),
        StreamingModel.Gru32x64 => new Gru32x64(Fixture.Seed),
        StreamingModel.Lstm64x64 => new Lstm64x64(Fixture.Seed),
        StreamingModel.Lstm256x256 => new Lstm256x256(Fixture.Seed),
        _ => throw new ArgumentOutOfRangeException(nameof(model)),
    };

    /// <summary>The same model with bfloat16 step weights (same seed, so the same parameters).</summary>
    public static IVectorStreamingModel CreateStreamingBFloat16(StreamingModel model) => model switch
    {
        StreamingModel.Lstm32x64 => new Lstm32x64Bf16(Fixture.Seed),
        StreamingModel.Gru32x64 => new Gru32x64Bf16(Fixture.Seed),
        StreamingModel.Lstm64x64 => new Lstm64x64Bf16(Fixture.Seed),
        StreamingModel.Lstm256x256 => new Lstm256x256Bf16(Fixture.Seed),
        _ => throw new ArgumentOutOfRangeException(nameof(model)),
    };

    /// <summary>The hand-written baseline with the weights read back from the model's safetensors file.</summary>
    public HandWrittenRnn CreateHandWritten(string safetensorsPath)
    {
        var tensors = Safetensors.ReadAll(safetensorsPath);
        return new HandWrittenRnn(Cell, InputSize, HiddenSize, Layers, Bidirectional, name => tensors[name].Data);
    }

    public string WeightsPath => Path.Combine(Fixture.Directory, Name + ".safetensors");
    public string OnnxPath => Path.Combine(Fixture.Directory, Name + "." + OnnxMode + ".onnx");

    /// <summary>The one-step graph of ONNX Runtime's int8 LSTM (export_onnx.py <c>--mode step-int8</c>); same inputs and outputs as the float step graph.</summary>
    public string OnnxInt8Path => Path.Combine(Fixture.Directory, Name + ".step-int8.onnx");
}
