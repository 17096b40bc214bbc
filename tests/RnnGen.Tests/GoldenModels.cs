// Model classes for the PyTorch parity fixtures in tests/golden (one per case of make_golden.py).
using System;
using System.Collections.Generic;

namespace RnnGen.Tests.Golden;

[RecurrentModel(Cell = CellKind.Rnn, Input = 5, Hidden = 7)]
public partial class RnnBasic { }

[RecurrentModel(Cell = CellKind.Rnn, Input = 7, Hidden = 13, Layers = 2, Bidirectional = true)]
public partial class RnnL2BiH13Init { }

[RecurrentModel(Cell = CellKind.Rnn, Input = 9, Hidden = 33, Layers = 3)]
public partial class RnnL3H33 { }

[RecurrentModel(Cell = CellKind.Rnn, Input = 6, Hidden = 8, Layers = 2, Bidirectional = true, Bias = false)]
public partial class RnnNobias { }

[RecurrentModel(Cell = CellKind.Rnn, Vocabulary = 11, Input = 6, Hidden = 13, Output = 9)]
public partial class RnnTokensHead { }

[RecurrentModel(Cell = CellKind.Rnn, Input = 4, Hidden = 16, Layers = 2, Bidirectional = true)]
public partial class RnnT1 { }

[RecurrentModel(Cell = CellKind.Rnn, Vocabulary = 10, Input = 5, Hidden = 6, Layers = 2, Bidirectional = true, Output = 4)]
public partial class RnnBiTokensHead { }

[RecurrentModel(Cell = CellKind.Rnn, Input = 5, Hidden = 7, Nonlinearity = Nonlinearity.Relu)]
public partial class RnnReluBasic { }

[RecurrentModel(Cell = CellKind.Rnn, Input = 7, Hidden = 13, Layers = 2, Bidirectional = true, Nonlinearity = Nonlinearity.Relu)]
public partial class RnnReluL2BiH13Init { }

[RecurrentModel(Cell = CellKind.Rnn, Input = 9, Hidden = 33, Layers = 3, Nonlinearity = Nonlinearity.Relu)]
public partial class RnnReluL3H33 { }

[RecurrentModel(Cell = CellKind.Rnn, Input = 6, Hidden = 8, Layers = 2, Bidirectional = true, Bias = false, Nonlinearity = Nonlinearity.Relu)]
public partial class RnnReluNobias { }

[RecurrentModel(Cell = CellKind.Rnn, Vocabulary = 11, Input = 6, Hidden = 13, Nonlinearity = Nonlinearity.Relu, Output = 9)]
public partial class RnnReluTokensHead { }

[RecurrentModel(Cell = CellKind.Rnn, Input = 4, Hidden = 16, Layers = 2, Bidirectional = true, Nonlinearity = Nonlinearity.Relu)]
public partial class RnnReluT1 { }

[RecurrentModel(Cell = CellKind.Rnn, Vocabulary = 10, Input = 5, Hidden = 6, Layers = 2, Bidirectional = true, Nonlinearity = Nonlinearity.Relu, Output = 4)]
public partial class RnnReluBiTokensHead { }

[RecurrentModel(Cell = CellKind.Lstm, Input = 5, Hidden = 7)]
public partial class LstmBasic { }

[RecurrentModel(Cell = CellKind.Lstm, Input = 7, Hidden = 13, Layers = 2, Bidirectional = true)]
public partial class LstmL2BiH13Init { }

[RecurrentModel(Cell = CellKind.Lstm, Input = 9, Hidden = 33, Layers = 3)]
public partial class LstmL3H33 { }

[RecurrentModel(Cell = CellKind.Lstm, Input = 6, Hidden = 8, Layers = 2, Bidirectional = true, Bias = false)]
public partial class LstmNobias { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = 11, Input = 6, Hidden = 13, Output = 9)]
public partial class LstmTokensHead { }

[RecurrentModel(Cell = CellKind.Lstm, Input = 4, Hidden = 16, Layers = 2, Bidirectional = true)]
public partial class LstmT1 { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = 10, Input = 5, Hidden = 6, Layers = 2, Bidirectional = true, Output = 4)]
public partial class LstmBiTokensHead { }

[RecurrentModel(Cell = CellKind.Gru, Input = 5, Hidden = 7)]
public partial class GruBasic { }

[RecurrentModel(Cell = CellKind.Gru, Input = 7, Hidden = 13, Layers = 2, Bidirectional = true)]
public partial class GruL2BiH13Init { }

[RecurrentModel(Cell = CellKind.Gru, Input = 9, Hidden = 33, Layers = 3)]
public partial class GruL3H33 { }

[RecurrentModel(Cell = CellKind.Gru, Input = 6, Hidden = 8, Layers = 2, Bidirectional = true, Bias = false)]
public partial class GruNobias { }

[RecurrentModel(Cell = CellKind.Gru, Vocabulary = 11, Input = 6, Hidden = 13, Output = 9)]
public partial class GruTokensHead { }

[RecurrentModel(Cell = CellKind.Gru, Input = 4, Hidden = 16, Layers = 2, Bidirectional = true)]
public partial class GruT1 { }

[RecurrentModel(Cell = CellKind.Gru, Vocabulary = 10, Input = 5, Hidden = 6, Layers = 2, Bidirectional = true, Output = 4)]
public partial class GruBiTokensHead { }

public static class GoldenModels
{
    public static readonly IReadOnlyDictionary<string, Func<IRecurrentModel>> ByCase = new Dictionary<string, Func<IRecurrentModel>>
    {
        ["rnn_basic"] = () => new RnnBasic(),
        ["rnn_l2_bi_h13_init"] = () => new RnnL2BiH13Init(),
        ["rnn_l3_h33"] = () => new RnnL3H33(),
        ["rnn_nobias"] = () => new RnnNobias(),
        ["rnn_tokens_head"] = () => new RnnTokensHead(),
        ["rnn_t1"] = () => new RnnT1(),
        ["rnn_bi_tokens_head"] = () => new RnnBiTokensHead(),
        ["rnn_relu_basic"] = () => new RnnReluBasic(),
        ["rnn_relu_l2_bi_h13_init"] = () => new RnnReluL2BiH13Init(),
        ["rnn_relu_l3_h33"] = () => new RnnReluL3H33(),
        ["rnn_relu_nobias"] = () => new RnnReluNobias(),
        ["rnn_relu_tokens_head"] = () => new RnnReluTokensHead(),
        ["rnn_relu_t1"] = () => new RnnReluT1(),
        ["rnn_relu_bi_tokens_head"] = () => new RnnReluBiTokensHead(),
        ["lstm_basic"] = () => new LstmBasic(),
        ["lstm_l2_bi_h13_init"] = () => new LstmL2BiH13Init(),
        ["lstm_l3_h33"] = () => new LstmL3H33(),
        ["lstm_nobias"] = () => new LstmNobias(),
        ["lstm_tokens_head"] = () => new LstmTokensHead(),
        ["lstm_t1"] = () => new LstmT1(),
        ["lstm_bi_tokens_head"] = () => new LstmBiTokensHead(),
        ["gru_basic"] = () => new GruBasic(),
        ["gru_l2_bi_h13_init"] = () => new GruL2BiH13Init(),
        ["gru_l3_h33"] = () => new GruL3H33(),
        ["gru_nobias"] = () => new GruNobias(),
        ["gru_tokens_head"] = () => new GruTokensHead(),
        ["gru_t1"] = () => new GruT1(),
        ["gru_bi_tokens_head"] = () => new GruBiTokensHead(),
    };
}
