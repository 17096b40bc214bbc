// Model classes for the realistic-size fixtures in tests/golden/fixtures/large (make_large_golden.py).
using System;
using System.Collections.Generic;

namespace RnnGen.Tests.LargeGolden;

/// <summary>Input 300: the input projection's inner dimension is more than one inner block (256).</summary>
[RecurrentModel(Cell = CellKind.Lstm, Input = 300, Hidden = 160, Output = 24)]
public partial class LstmI300H160Head { }

/// <summary>Layer 1 reads 320 floats per step (both directions of layer 0): more than one inner block.</summary>
[RecurrentModel(Cell = CellKind.Gru, Input = 40, Hidden = 160, Layers = 2, Bidirectional = true)]
public partial class GruBiL2H160 { }

[RecurrentModel(Cell = CellKind.Gru, Vocabulary = 48, Input = 32, Hidden = 192, Output = 48)]
public partial class GruTokensH192Head { }

/// <summary><see cref="LstmI300H160Head"/> with a bfloat16 single-stream Step (gate width 640: 20 full chunks of 32).</summary>
[RecurrentModel(Cell = CellKind.Lstm, Input = 300, Hidden = 160, Output = 24, Weights = WeightPrecision.BFloat16)]
public partial class LstmI300H160HeadHalf { }

/// <summary><see cref="GruTokensH192Head"/> with a bfloat16 single-stream Step (gate width 576: 18 full chunks of 32).</summary>
[RecurrentModel(Cell = CellKind.Gru, Vocabulary = 48, Input = 32, Hidden = 192, Output = 48, Weights = WeightPrecision.BFloat16)]
public partial class GruTokensH192HeadHalf { }

/// <summary>The large cases with int8 weights (and the bidirectional one with bfloat16 weights): every inference path reads the reduced copies.</summary>
[RecurrentModel(Cell = CellKind.Lstm, Input = 300, Hidden = 160, Output = 24, Weights = WeightPrecision.Int8)]
public partial class LstmI300H160HeadInt8 { }

[RecurrentModel(Cell = CellKind.Gru, Input = 40, Hidden = 160, Layers = 2, Bidirectional = true, Weights = WeightPrecision.Int8)]
public partial class GruBiL2H160Int8 { }

[RecurrentModel(Cell = CellKind.Gru, Input = 40, Hidden = 160, Layers = 2, Bidirectional = true, Weights = WeightPrecision.BFloat16)]
public partial class GruBiL2H160Half { }

[RecurrentModel(Cell = CellKind.Gru, Vocabulary = 48, Input = 32, Hidden = 192, Output = 48, Weights = WeightPrecision.Int8)]
public partial class GruTokensH192HeadInt8 { }

public static class LargeGoldenModels
{
    public static readonly IReadOnlyDictionary<string, Func<IRecurrentModel>> ByCase = new Dictionary<string, Func<IRecurrentModel>>
    {
        ["lstm_i300_h160_head"] = () => new LstmI300H160Head(),
        ["gru_bi_l2_h160"] = () => new GruBiL2H160(),
        ["gru_tokens_h192_head"] = () => new GruTokensH192Head(),
    };

    /// <summary>The int8 twin of each case.</summary>
    public static readonly IReadOnlyDictionary<string, Func<IRecurrentModel>> Int8ByCase = new Dictionary<string, Func<IRecurrentModel>>
    {
        ["lstm_i300_h160_head"] = () => new LstmI300H160HeadInt8(),
        ["gru_bi_l2_h160"] = () => new GruBiL2H160Int8(),
        ["gru_tokens_h192_head"] = () => new GruTokensH192HeadInt8(),
    };

    /// <summary>The bfloat16 twin of each case.</summary>
    public static readonly IReadOnlyDictionary<string, Func<IRecurrentModel>> HalfByCase = new Dictionary<string, Func<IRecurrentModel>>
    {
        ["lstm_i300_h160_head"] = () => new LstmI300H160HeadHalf(),
        ["gru_bi_l2_h160"] = () => new GruBiL2H160Half(),
        ["gru_tokens_h192_head"] = () => new GruTokensH192HeadHalf(),
    };

    /// <summary>The bfloat16-Step twin of each unidirectional case.</summary>
    public static readonly IReadOnlyDictionary<string, Func<IRecurrentModel>> HalfStepByCase = new Dictionary<string, Func<IRecurrentModel>>
    {
        ["lstm_i300_h160_head"] = () => new LstmI300H160HeadHalf(),
        ["gru_tokens_h192_head"] = () => new GruTokensH192HeadHalf(),
    };
}
