using System;
using System.Collections.Generic;

namespace RnnGen.Samples.Caption;

/// <summary>The GRU caption decoder: word embedding, one GRU layer, a linear head over the vocabulary.</summary>
[RecurrentModel(Cell = CellKind.Gru, Vocabulary = CaptionModels.Vocabulary, Input = CaptionModels.Embedding, Hidden = CaptionModels.Hidden, Output = CaptionModels.Vocabulary)]
public partial class CaptionGru { }

/// <summary>The LSTM caption decoder; the projection fills both h0 and c0.</summary>
[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = CaptionModels.Vocabulary, Input = CaptionModels.Embedding, Hidden = CaptionModels.Hidden, Output = CaptionModels.Vocabulary)]
public partial class CaptionLstm { }

/// <summary>The decoders this sample can train, and how to pick one.</summary>
public static class CaptionModels
{
    /// <summary>Token ids: the 4 reserved ids of <see cref="WordVocabulary"/> plus <see cref="Scenes.AllWords"/>, rounded up.</summary>
    public const int Vocabulary = 32;

    /// <summary>Width of the word embedding.</summary>
    public const int Embedding = 32;

    /// <summary>Hidden width of the decoder.</summary>
    public const int Hidden = 128;

    /// <summary>The cell names the command line accepts.</summary>
    public static IReadOnlyList<string> Cells { get; } = ["gru", "lstm"];

    /// <summary>A decoder of the given cell ("gru" or "lstm"), initialized as PyTorch does from <paramref name="seed"/>.</summary>
    /// <exception cref="ArgumentException">Another cell name.</exception>
    public static ITokenStreamingModel Create(string cell, int seed) => cell switch
    {
        "gru" => new CaptionGru(seed),
        "lstm" => new CaptionLstm(seed),
        _ => throw new ArgumentException($"Unknown cell '{cell}': expected one of {string.Join(", ", Cells)}.", nameof(cell)),
    };

    /// <summary>
    /// The cell of a checkpoint of this sample, from the shape of <c>rnn.weight_hh_l0</c> ([3H, H] for a GRU, [4H, H]
    /// for an LSTM), so <c>--load</c> needs no <c>--cell</c>.
    /// </summary>
    /// <exception cref="SafetensorsException">The file is not a checkpoint of this sample.</exception>
    public static string ReadCell(string path)
    {
        IReadOnlyDictionary<string, SafetensorsTensor> tensors = Safetensors.ReadAll(path);
        if (tensors.TryGetValue("rnn.weight_hh_l0", out SafetensorsTensor? weight) && weight.Shape.Count == 2 && weight.Shape[1] == Hidden)
        {
            if (weight.Shape[0] == 3 * Hidden) return "gru";
            if (weight.Shape[0] == 4 * Hidden) return "lstm";
        }
        throw new SafetensorsException($"'{path}' has no rnn.weight_hh_l0 of shape [{3 * Hidden}, {Hidden}] (GRU) or [{4 * Hidden}, {Hidden}] (LSTM); it is not a checkpoint of this sample.");
    }
}
