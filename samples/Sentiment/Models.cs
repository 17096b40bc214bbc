namespace RnnGen.Samples.Sentiment;

// The classifier: nn.Embedding(128, 32) -> nn.GRU(32, 64) -> nn.Linear(64, 1).
//
// Many-to-one with the generated head: the model is declared with Output = 1, so the head runs at every step, and the
// sample reads its output at each review's last valid step. For a unidirectional GRU the output there is exactly
// head(final state): the packed batch stops every review at its own length, so padding never reaches it. The loss
// (binary cross-entropy with logits) gives a gradient at that one step per review and zero at every other step, so
// Backward sees the same gradient as for head(final state). We pick this over "no head + a linear layer in sample code
// whose gradient goes back as finalStateGrad" because the whole network then lives in the generated class: one
// Parameters span for Adam, one safetensors file, and the state_dict of the PyTorch module above. The price, a
// 64-float dot product at steps whose output is thrown away, is negligible next to the GRU.
[RecurrentModel(Cell = CellKind.Gru, Vocabulary = SentimentModel.Vocabulary, Input = 32, Hidden = 64, Layers = 1, Output = 1)]
public partial class SentimentGru { }

/// <summary>Sizes shared by the model and the sample code.</summary>
public static class SentimentModel
{
    /// <summary>Word ids the embedding covers; the grammar uses fewer (see <see cref="ReviewCorpus.AllWords"/>).</summary>
    public const int Vocabulary = 128;
}
