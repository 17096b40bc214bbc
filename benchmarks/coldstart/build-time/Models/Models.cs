using RnnGen;

namespace BuildTime;

// Eight models that together use every kind of generated code: the three cells, stacks, both directions, token
// vocabularies, heads, batch-first and bfloat16 step weights, at sizes from the tests to the benchmarks.

[RecurrentModel(Cell = CellKind.Lstm, Input = 32, Hidden = 64)]
public partial class StreamingLstm { }

[RecurrentModel(Cell = CellKind.Gru, Input = 64, Hidden = 128, Layers = 2)]
public partial class StackedGru { }

[RecurrentModel(Cell = CellKind.Rnn, Input = 16, Hidden = 48, Nonlinearity = Nonlinearity.Relu)]
public partial class ReluRnn { }

[RecurrentModel(Cell = CellKind.Lstm, Input = 128, Hidden = 256, Layers = 2, Bidirectional = true)]
public partial class BidirectionalLstm { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = 65, Input = 64, Hidden = 256, Layers = 2, Output = 65)]
public partial class CharLstm { }

[RecurrentModel(Cell = CellKind.Gru, Vocabulary = 1000, Input = 32, Hidden = 64, Bidirectional = true, BatchFirst = true, Output = 5)]
public partial class TaggerGru { }

[RecurrentModel(Cell = CellKind.Lstm, Input = 256, Hidden = 256, Weights = WeightPrecision.BFloat16)]
public partial class ListenerBf16 { }

[RecurrentModel(Cell = CellKind.Rnn, Input = 8, Hidden = 20, Layers = 3, Bias = false, Output = 4)]
public partial class StackedRnnHead { }
