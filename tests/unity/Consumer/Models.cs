// Models of PyTorch fixtures in tests/golden/fixtures (make_golden.py) and fixtures/batch (make_batch_golden.py): the
// same declarations as the test project's, compiled here by the package's generator in a C# 9 netstandard2.1 build.
using System;
using System.Collections.Generic;
using RnnGen;

namespace UnityConsumer
{
    [RecurrentModel(Cell = CellKind.Lstm, Input = 5, Hidden = 7)]
    public partial class LstmBasic { }

    [RecurrentModel(Cell = CellKind.Lstm, Input = 7, Hidden = 13, Layers = 2, Bidirectional = true)]
    public partial class LstmL2BiH13Init { }

    [RecurrentModel(Cell = CellKind.Lstm, Input = 9, Hidden = 33, Layers = 3)]
    public partial class LstmL3H33 { }

    [RecurrentModel(Cell = CellKind.Lstm, Vocabulary = 11, Input = 6, Hidden = 13, Output = 9)]
    public partial class LstmTokensHead { }

    [RecurrentModel(Cell = CellKind.Gru, Input = 5, Hidden = 7)]
    public partial class GruBasic { }

    [RecurrentModel(Cell = CellKind.Gru, Input = 7, Hidden = 13, Layers = 2, Bidirectional = true)]
    public partial class GruL2BiH13Init { }

    [RecurrentModel(Cell = CellKind.Gru, Input = 9, Hidden = 33, Layers = 3)]
    public partial class GruL3H33 { }

    [RecurrentModel(Cell = CellKind.Gru, Vocabulary = 11, Input = 6, Hidden = 13, Output = 9)]
    public partial class GruTokensHead { }

    // Batch fixtures (padded batches of unequal lengths).
    [RecurrentModel(Cell = CellKind.Lstm, Input = 5, Hidden = 7)]
    public partial class BatchLstmUni { }

    [RecurrentModel(Cell = CellKind.Lstm, Input = 4, Hidden = 9, Layers = 2, Bidirectional = true)]
    public partial class BatchLstmBiInit { }

    [RecurrentModel(Cell = CellKind.Lstm, Input = 3, Hidden = 5, Layers = 2)]
    public partial class BatchLstmFull { }

    [RecurrentModel(Cell = CellKind.Gru, Input = 5, Hidden = 7)]
    public partial class BatchGruUni { }

    [RecurrentModel(Cell = CellKind.Gru, Input = 4, Hidden = 9, Layers = 2, Bidirectional = true)]
    public partial class BatchGruBiInit { }

    [RecurrentModel(Cell = CellKind.Gru, Input = 3, Hidden = 5, Layers = 2)]
    public partial class BatchGruFull { }

    [RecurrentModel(Cell = CellKind.Gru, Vocabulary = 11, Input = 6, Hidden = 8, Output = 5)]
    public partial class BatchGruTokensHead { }

    public static class Fixtures
    {
        /// <summary>Single-sequence cases of fixtures/cases.json checked here.</summary>
        public static readonly IReadOnlyDictionary<string, Func<IRecurrentModel>> Sequence = new Dictionary<string, Func<IRecurrentModel>>
        {
            ["lstm_basic"] = () => new LstmBasic(),
            ["lstm_l2_bi_h13_init"] = () => new LstmL2BiH13Init(),
            ["lstm_l3_h33"] = () => new LstmL3H33(),
            ["lstm_tokens_head"] = () => new LstmTokensHead(),
            ["gru_basic"] = () => new GruBasic(),
            ["gru_l2_bi_h13_init"] = () => new GruL2BiH13Init(),
            ["gru_l3_h33"] = () => new GruL3H33(),
            ["gru_tokens_head"] = () => new GruTokensHead(),
        };

        /// <summary>Batch cases of fixtures/batch/cases.json checked here.</summary>
        public static readonly IReadOnlyDictionary<string, Func<IRecurrentModel>> Batch = new Dictionary<string, Func<IRecurrentModel>>
        {
            ["lstm_uni"] = () => new BatchLstmUni(),
            ["lstm_bi_init"] = () => new BatchLstmBiInit(),
            ["lstm_full"] = () => new BatchLstmFull(),
            ["gru_uni"] = () => new BatchGruUni(),
            ["gru_bi_init"] = () => new BatchGruBiInit(),
            ["gru_full"] = () => new BatchGruFull(),
            ["gru_tokens_head"] = () => new BatchGruTokensHead(),
        };
    }
}
