// Model classes for the packed-sequence fixtures in tests/golden/fixtures/batch (make_batch_golden.py).
using System;
using System.Collections.Generic;

namespace RnnGen.Tests.BatchGolden;

[RecurrentModel(Cell = CellKind.Rnn, Input = 5, Hidden = 7)]
public partial class RnnUni { }

[RecurrentModel(Cell = CellKind.Rnn, Input = 4, Hidden = 9, Layers = 2, Bidirectional = true)]
public partial class RnnBiInit { }

[RecurrentModel(Cell = CellKind.Rnn, Vocabulary = 11, Input = 6, Hidden = 8, Output = 5)]
public partial class RnnTokensHead { }

[RecurrentModel(Cell = CellKind.Rnn, Vocabulary = 9, Input = 4, Hidden = 6, Layers = 2, Bidirectional = true, Output = 3)]
public partial class RnnBiTokensHead { }

[RecurrentModel(Cell = CellKind.Rnn, Input = 3, Hidden = 5, Layers = 2)]
public partial class RnnFull { }

[RecurrentModel(Cell = CellKind.Lstm, Input = 5, Hidden = 7)]
public partial class LstmUni { }

[RecurrentModel(Cell = CellKind.Lstm, Input = 4, Hidden = 9, Layers = 2, Bidirectional = true)]
public partial class LstmBiInit { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = 11, Input = 6, Hidden = 8, Output = 5)]
public partial class LstmTokensHead { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = 9, Input = 4, Hidden = 6, Layers = 2, Bidirectional = true, Output = 3)]
public partial class LstmBiTokensHead { }

[RecurrentModel(Cell = CellKind.Lstm, Input = 3, Hidden = 5, Layers = 2)]
public partial class LstmFull { }

[RecurrentModel(Cell = CellKind.Gru, Input = 5, Hidden = 7)]
public partial class GruUni { }

[RecurrentModel(Cell = CellKind.Gru, Input = 4, Hidden = 9, Layers = 2, Bidirectional = true)]
public partial class GruBiInit { }

[RecurrentModel(Cell = CellKind.Gru, Vocabulary = 11, Input = 6, Hidden = 8, Output = 5)]
public partial class GruTokensHead { }

[RecurrentModel(Cell = CellKind.Gru, Vocabulary = 9, Input = 4, Hidden = 6, Layers = 2, Bidirectional = true, Output = 3)]
public partial class GruBiTokensHead { }

[RecurrentModel(Cell = CellKind.Gru, Input = 3, Hidden = 5, Layers = 2)]
public partial class GruFull { }

[RecurrentModel(Cell = CellKind.Rnn, Input = 4, Hidden = 6, Bidirectional = true, Nonlinearity = Nonlinearity.Relu)]
public partial class RnnReluBi { }

[RecurrentModel(Cell = CellKind.Lstm, Input = 4, Hidden = 9, Layers = 2, Bidirectional = true, BatchFirst = true)]
public partial class LstmBiBatchFirst { }

public static class BatchGoldenModels
{
    public static readonly IReadOnlyDictionary<string, Func<IRecurrentModel>> ByCase = new Dictionary<string, Func<IRecurrentModel>>
    {
        ["rnn_uni"] = () => new RnnUni(),
        ["rnn_bi_init"] = () => new RnnBiInit(),
        ["rnn_tokens_head"] = () => new RnnTokensHead(),
        ["rnn_bi_tokens_head"] = () => new RnnBiTokensHead(),
        ["rnn_full"] = () => new RnnFull(),
        ["lstm_uni"] = () => new LstmUni(),
        ["lstm_bi_init"] = () => new LstmBiInit(),
        ["lstm_tokens_head"] = () => new LstmTokensHead(),
        ["lstm_bi_tokens_head"] = () => new LstmBiTokensHead(),
        ["lstm_full"] = () => new LstmFull(),
        ["gru_uni"] = () => new GruUni(),
        ["gru_bi_init"] = () => new GruBiInit(),
        ["gru_tokens_head"] = () => new GruTokensHead(),
        ["gru_bi_tokens_head"] = () => new GruBiTokensHead(),
        ["gru_full"] = () => new GruFull(),
        ["rnn_relu_bi"] = () => new RnnReluBi(),
        ["lstm_bi_batch_first"] = () => new LstmBiBatchFirst(),
    };
}
