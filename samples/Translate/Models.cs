namespace RnnGen.Samples.Translate;

// An encoder-decoder (sequence to sequence, Sutskever et al. 2014) without attention, as the PyTorch module
//
//   class Seq2Seq(nn.Module):
//       def __init__(self):
//           self.encoder = Encoder()   # embedding [40, 32] -> GRU(32, 128, num_layers=2)
//           self.decoder = Decoder()   # embedding [14, 16] -> GRU(16, 128, num_layers=2) -> linear [14, 128]
//
// whose state_dict names (encoder.embedding.weight, ..., decoder.head.bias) are those of the saved file. The encoder's
// final state is the decoder's initial state, so both have the same cell, Hidden and Layers and are unidirectional:
// their states have the same layout, [Layers, batch, Hidden]. The encoder has no head: only its final state is used.

[RecurrentModel(Cell = CellKind.Gru, Vocabulary = Seq2Seq.SourceVocabulary, Input = 32, Hidden = Seq2Seq.Hidden, Layers = Seq2Seq.Layers)]
public partial class NumberEncoder { }

[RecurrentModel(Cell = CellKind.Gru, Vocabulary = Seq2Seq.TargetVocabulary, Input = 16, Hidden = Seq2Seq.Hidden, Layers = Seq2Seq.Layers, Output = Seq2Seq.TargetVocabulary)]
public partial class NumberDecoder { }

/// <summary>Sizes shared by the two models and the sample code.</summary>
public static class Seq2Seq
{
    /// <summary>Source word ids: 4 reserved + 31 number words, rounded up.</summary>
    public const int SourceVocabulary = 40;

    /// <summary>Target ids: 4 reserved (padding, unknown, start, end) + 10 digits; also the decoder head's width.</summary>
    public const int TargetVocabulary = 14;

    /// <summary>Hidden width of both GRUs.</summary>
    public const int Hidden = 128;

    /// <summary>Layers of both GRUs.</summary>
    public const int Layers = 2;
}
