using System;
using System.Collections.Generic;
using System.Linq;

namespace RnnGen.Samples.Tagger;

// Sizes are compile-time constants, so the sample declares its networks once per size and picks the sentence
// tagger at run time through IVectorSequenceModel. In PyTorch terms the whole tagger is
//
//   word_embedding = nn.Embedding(V, 64)                                   # a plain float[] here
//   char_lstm      = nn.Embedding(96, 32) -> nn.LSTM(32, 32, bidirectional=True)
//   tagger         = nn.LSTM(64 + 2*32, H, bidirectional=True) -> nn.Linear(2H, 17)
//
// and a word's input to the tagger is [word_embedding(word); h_forward_final; h_reverse_final] of the char LSTM
// run over its characters.

/// <summary>The character BiLSTM: reads a word's characters; its two final h states are the word's spelling feature.</summary>
[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = TaggerModels.CharVocabularySize, Input = TaggerModels.CharEmbedding, Hidden = TaggerModels.CharHidden, Bidirectional = true)]
public partial class CharBiLstm { }

/// <summary>The sentence tagger with hidden width 64: a BiLSTM over the word vectors and a linear head to UPOS logits.</summary>
[RecurrentModel(Cell = CellKind.Lstm, Input = TaggerModels.TaggerInput, Hidden = 64, Bidirectional = true, Output = TaggerModels.Tags)]
public partial class SentenceTaggerH64 { }

/// <summary>The sentence tagger with hidden width 128.</summary>
[RecurrentModel(Cell = CellKind.Lstm, Input = TaggerModels.TaggerInput, Hidden = 128, Bidirectional = true, Output = TaggerModels.Tags)]
public partial class SentenceTaggerH128 { }

/// <summary>The sentence tagger with hidden width 256.</summary>
[RecurrentModel(Cell = CellKind.Lstm, Input = TaggerModels.TaggerInput, Hidden = 256, Bidirectional = true, Output = TaggerModels.Tags)]
public partial class SentenceTaggerH256 { }

// The same networks with reduced-precision weights, for --eval-weights: the same parameter layouts, so the trained
// parameters copy into them as they are; a Forward of one sequence then reads the bfloat16 or int8 copy in its
// recurrent products.

/// <summary><see cref="CharBiLstm"/> reading bfloat16 weights in inference.</summary>
[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = TaggerModels.CharVocabularySize, Input = TaggerModels.CharEmbedding, Hidden = TaggerModels.CharHidden, Bidirectional = true, Weights = WeightPrecision.BFloat16)]
public partial class CharBiLstmBFloat16 { }

/// <summary><see cref="CharBiLstm"/> reading int8 weights in inference.</summary>
[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = TaggerModels.CharVocabularySize, Input = TaggerModels.CharEmbedding, Hidden = TaggerModels.CharHidden, Bidirectional = true, Weights = WeightPrecision.Int8)]
public partial class CharBiLstmInt8 { }

/// <summary><see cref="SentenceTaggerH64"/> reading bfloat16 weights in inference.</summary>
[RecurrentModel(Cell = CellKind.Lstm, Input = TaggerModels.TaggerInput, Hidden = 64, Bidirectional = true, Output = TaggerModels.Tags, Weights = WeightPrecision.BFloat16)]
public partial class SentenceTaggerH64BFloat16 { }

/// <summary><see cref="SentenceTaggerH64"/> reading int8 weights in inference.</summary>
[RecurrentModel(Cell = CellKind.Lstm, Input = TaggerModels.TaggerInput, Hidden = 64, Bidirectional = true, Output = TaggerModels.Tags, Weights = WeightPrecision.Int8)]
public partial class SentenceTaggerH64Int8 { }

/// <summary><see cref="SentenceTaggerH128"/> reading bfloat16 weights in inference.</summary>
[RecurrentModel(Cell = CellKind.Lstm, Input = TaggerModels.TaggerInput, Hidden = 128, Bidirectional = true, Output = TaggerModels.Tags, Weights = WeightPrecision.BFloat16)]
public partial class SentenceTaggerH128BFloat16 { }

/// <summary><see cref="SentenceTaggerH128"/> reading int8 weights in inference.</summary>
[RecurrentModel(Cell = CellKind.Lstm, Input = TaggerModels.TaggerInput, Hidden = 128, Bidirectional = true, Output = TaggerModels.Tags, Weights = WeightPrecision.Int8)]
public partial class SentenceTaggerH128Int8 { }

/// <summary><see cref="SentenceTaggerH256"/> reading bfloat16 weights in inference.</summary>
[RecurrentModel(Cell = CellKind.Lstm, Input = TaggerModels.TaggerInput, Hidden = 256, Bidirectional = true, Output = TaggerModels.Tags, Weights = WeightPrecision.BFloat16)]
public partial class SentenceTaggerH256BFloat16 { }

/// <summary><see cref="SentenceTaggerH256"/> reading int8 weights in inference.</summary>
[RecurrentModel(Cell = CellKind.Lstm, Input = TaggerModels.TaggerInput, Hidden = 256, Bidirectional = true, Output = TaggerModels.Tags, Weights = WeightPrecision.Int8)]
public partial class SentenceTaggerH256Int8 { }

/// <summary>The sizes of the tagger's networks and how to create the sentence tagger of a given hidden width.</summary>
public static class TaggerModels
{
    /// <summary>Character ids (<see cref="CharVocabulary.Size"/>).</summary>
    public const int CharVocabularySize = CharVocabulary.Size;

    /// <summary>Width of the character embedding, the character LSTM's input.</summary>
    public const int CharEmbedding = 32;

    /// <summary>Hidden width of each direction of the character LSTM.</summary>
    public const int CharHidden = 32;

    /// <summary>Width of a word's spelling feature: the final h of both directions of the character LSTM.</summary>
    public const int CharFeature = 2 * CharHidden;

    /// <summary>Width of the word embedding.</summary>
    public const int WordEmbedding = 64;

    /// <summary>Width of the sentence tagger's input vector per word: word embedding, then the spelling feature.</summary>
    public const int TaggerInput = WordEmbedding + CharFeature;

    /// <summary>Number of tags: the 17 Universal POS tags.</summary>
    public const int Tags = UniversalTags.Count;

    /// <summary>Hidden widths with a compiled sentence tagger.</summary>
    public static IReadOnlyList<int> SupportedHidden { get; } = [64, 128, 256];

    /// <summary>Longest word the character LSTM reads; longer words keep their first and last <c>MaxWordChars / 2</c> characters.</summary>
    public const int MaxWordChars = 20;

    /// <summary>
    /// Creates the sentence tagger of the given hidden width, initialized as PyTorch does from <paramref name="seed"/>,
    /// reading weights of <paramref name="weights"/> precision in inference.
    /// </summary>
    /// <exception cref="ArgumentException">No tagger of that width is compiled in; the message lists the widths that are.</exception>
    public static IVectorSequenceModel CreateSentenceTagger(int hidden, int seed, WeightPrecision weights = WeightPrecision.Single) => (hidden, weights) switch
    {
        (64, WeightPrecision.Single) => new SentenceTaggerH64(seed),
        (64, WeightPrecision.BFloat16) => new SentenceTaggerH64BFloat16(seed),
        (64, WeightPrecision.Int8) => new SentenceTaggerH64Int8(seed),
        (128, WeightPrecision.Single) => new SentenceTaggerH128(seed),
        (128, WeightPrecision.BFloat16) => new SentenceTaggerH128BFloat16(seed),
        (128, WeightPrecision.Int8) => new SentenceTaggerH128Int8(seed),
        (256, WeightPrecision.Single) => new SentenceTaggerH256(seed),
        (256, WeightPrecision.BFloat16) => new SentenceTaggerH256BFloat16(seed),
        (256, WeightPrecision.Int8) => new SentenceTaggerH256Int8(seed),
        _ when SupportedHidden.Contains(hidden) => throw new ArgumentOutOfRangeException(nameof(weights), weights, "Not a weight precision."),
        _ => throw new ArgumentException(
            $"No compiled sentence tagger with hidden size {hidden}. Supported: {string.Join(", ", SupportedHidden)}. "
            + "Another size needs three more [RecurrentModel] declarations (float, bfloat16 and int8 weights) in samples/Tagger/Models.cs."),
    };

    /// <summary>Creates the character BiLSTM reading weights of <paramref name="weights"/> precision in inference (the float one is <see cref="CharBiLstm"/>).</summary>
    public static ITokenSequenceModel CreateCharModel(int seed, WeightPrecision weights) => weights switch
    {
        WeightPrecision.Single => new CharBiLstm(seed),
        WeightPrecision.BFloat16 => new CharBiLstmBFloat16(seed),
        WeightPrecision.Int8 => new CharBiLstmInt8(seed),
        _ => throw new ArgumentOutOfRangeException(nameof(weights), weights, "Not a weight precision."),
    };
}
