using System.Linq;
using System.Text;
using Xunit;

namespace RnnGen.Generator.Tests;

/// <summary>
/// The generated source of representative models, compared with approved files in <c>Snapshots/</c>. Each case also
/// checks that the generated code compiles without errors or warnings.
/// </summary>
public class SnapshotTests
{
    [Fact]
    public void Lstm2LayerBidirectional() => VerifyModel(nameof(Lstm2LayerBidirectional), """
        using RnnGen;

        namespace Samples.Tagging;

        [RecurrentModel(Cell = CellKind.Lstm, Input = 7, Hidden = 13, Layers = 2, Bidirectional = true)]
        public partial class Tagger { }
        """);

    [Fact]
    public void GruDropoutBatchFirst() => VerifyModel(nameof(GruDropoutBatchFirst), """
        using RnnGen;

        namespace Samples.Dropout;

        [RecurrentModel(Cell = CellKind.Gru, Input = 5, Hidden = 6, Layers = 3, Dropout = 0.25f, BatchFirst = true, Output = 3)]
        public partial class Regularized { }
        """);

    [Fact]
    public void LstmDropoutBidirectional() => VerifyModel(nameof(LstmDropoutBidirectional), """
        using RnnGen;

        namespace Samples.Dropout;

        [RecurrentModel(Cell = CellKind.Lstm, Input = 7, Hidden = 13, Layers = 2, Bidirectional = true, Dropout = 0.5f)]
        public partial class Tagger { }
        """);

    [Fact]
    public void GruInt8BidirectionalHead() => VerifyModel(nameof(GruInt8BidirectionalHead), """
        using RnnGen;

        namespace Samples.Edge;

        [RecurrentModel(Cell = CellKind.Gru, Input = 7, Hidden = 13, Bidirectional = true, Output = 5, Weights = WeightPrecision.Int8)]
        public partial class Scorer { }
        """);

    [Fact]
    public void LstmBFloat16() => VerifyModel(nameof(LstmBFloat16), """
        using RnnGen;

        namespace Samples.Edge;

        [RecurrentModel(Cell = CellKind.Lstm, Input = 7, Hidden = 13, Weights = WeightPrecision.BFloat16)]
        public partial class Controller { }
        """);

    [Fact]
    public void GruTokensWithHead() => VerifyModel(nameof(GruTokensWithHead), """
        using RnnGen;

        namespace Samples.CharLm
        {
            [RecurrentModel(Cell = CellKind.Gru, Vocabulary = 65, Input = 32, Hidden = 128, Output = 65)]
            public partial class CharModel { }
        }
        """);

    [Fact]
    public void RnnReluNoBias() => VerifyModel(nameof(RnnReluNoBias), """
        using RnnGen;

        namespace Samples.Control;

        [RecurrentModel(Cell = CellKind.Rnn, Input = 4, Hidden = 16, Layers = 1, Nonlinearity = Nonlinearity.Relu, Bias = false)]
        internal partial class Controller { }
        """);

    [Fact]
    public void GlobalNamespace() => VerifyModel(nameof(GlobalNamespace), """
        using RnnGen;

        [RecurrentModel(Input = 3, Hidden = 5, Layers = 3)]
        public partial class GlobalModel { }
        """);

    [Fact]
    public void NestedInPartialClass() => VerifyModel(nameof(NestedInPartialClass), """
        using RnnGen;

        namespace Samples.Nested;

        public partial class Outer
        {
            [RecurrentModel(Cell = CellKind.Lstm, Input = 6, Hidden = 4, Output = 2)]
            internal partial class Inner { }
        }
        """);

    [Fact]
    public void ScrubberRemovesTheGeneratorVersion()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            [RnnGen.RecurrentModel(Input = 1, Hidden = 1)]
            public partial class M { }
            """);
        string raw = run.Sources.Single().Text;
        string version = RecurrentModelGenerator.Emitter.Version;
        Assert.Contains($"// RnnGen {version}: M\n", raw);
        Assert.Contains($"GeneratedCode(\"RnnGen.Generator\", \"{version}\")", raw);

        string scrubbed = Snapshot.ScrubVersion(raw);
        Assert.Contains("// RnnGen {version}: M\n", scrubbed);
        Assert.Contains("GeneratedCode(\"RnnGen.Generator\", \"{version}\")", scrubbed);
        Assert.DoesNotContain(version, scrubbed);
    }

    private static void VerifyModel(string name, string source)
    {
        GeneratorRun run = GeneratorHarness.Run(source);
        run.AssertCompilesCleanly();
        var text = new StringBuilder();
        foreach ((string hintName, string generated) in run.Sources)
        {
            text.Append("//// ").Append(hintName).Append('\n').Append(generated);
        }
        Snapshot.Verify("SnapshotTests." + name, text.ToString());
    }
}
