using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using Xunit;

namespace RnnGen.Generator.Tests;

/// <summary>
/// One or more cases per diagnostic RNNG0001..RNNG0010: the id, severity Error, a message naming the offending value,
/// the location (the attribute argument for value errors, the class identifier for declaration errors; the marked
/// <c>[|...|]</c> span in each source), and no generated source for the erroneous model.
/// </summary>
public class DiagnosticTests
{
    // ---- declaration errors: located on the class identifier ---------------------------------------------------

    [Fact]
    public void RNNG0001_NotPartial() => AssertSingleError("RNNG0001", """
        using RnnGen;

        [RecurrentModel(Input = 4, Hidden = 8)]
        public class [|Plain|] { }
        """, "Class 'Plain'", "not declared partial");

    [Fact]
    public void RNNG0002_GenericClass() => AssertSingleError("RNNG0002", """
        using RnnGen;

        namespace Models;

        [RecurrentModel(Input = 4, Hidden = 8)]
        public partial class [|Generic|]<T> { }
        """, "Class 'Generic' is generic");

    [Fact]
    public void RNNG0002_NestedInGenericType() => AssertSingleError("RNNG0002", """
        using RnnGen;

        public partial class Box<T>
        {
            [RecurrentModel(Input = 4, Hidden = 8)]
            public partial class [|Inner|] { }
        }
        """, "Class 'Inner'", "generic type 'Box'");

    [Fact]
    public void RNNG0003_ContainingTypeNotPartial() => AssertSingleError("RNNG0003", """
        using RnnGen;

        public class Outer
        {
            [RecurrentModel(Input = 4, Hidden = 8)]
            public partial class [|Inner|] { }
        }
        """, "Class 'Inner' is nested in 'Outer'", "add the 'partial' modifier to 'Outer'");

    [Fact]
    public void RNNG0003_OuterMostTypeNotPartial() => AssertSingleError("RNNG0003", """
        using RnnGen;

        namespace Models
        {
            public struct Outer
            {
                public partial class Middle
                {
                    [RecurrentModel(Input = 4, Hidden = 8)]
                    internal partial class [|Inner|] { }
                }
            }
        }
        """, "Class 'Inner' is nested in 'Outer'");

    [Fact]
    public void RNNG0010_StaticClass() => AssertSingleError("RNNG0010", """
        using RnnGen;

        [RecurrentModel(Input = 4, Hidden = 8)]
        public static partial class [|Helpers|] { }
        """, "Class 'Helpers' is static");

    [Fact]
    public void RNNG0010_AbstractClass() => AssertSingleError("RNNG0010", """
        using RnnGen;

        [RecurrentModel(Input = 4, Hidden = 8)]
        public abstract partial class [|Base|] { }
        """, "Class 'Base' is abstract");

    // ---- value errors: located on the attribute argument ----------------------------------------------------

    [Theory]
    [InlineData("Input = 4, [|Hidden = 0|]", "RecurrentModel.Hidden must be at least 1; found 0")]
    [InlineData("[|Input = -3|], Hidden = 8", "RecurrentModel.Input must be at least 1; found -3")]
    [InlineData("Input = 4, Hidden = 8, [|Layers = 0|]", "RecurrentModel.Layers must be at least 1; found 0")]
    [InlineData("Input = 4, Hidden = 8, [|Layers = -2|]", "RecurrentModel.Layers must be at least 1; found -2")]
    public void RNNG0004_SizeNotPositive(string arguments, string message)
        => AssertSingleError("RNNG0004", ModelWith(arguments), message);

    [Fact]
    public void RNNG0004_InputOmitted_IsReportedOnTheAttribute() => AssertSingleError("RNNG0004", """
        using RnnGen;

        [[|RecurrentModel(Hidden = 8)|]]
        public partial class NoInput { }
        """, "RecurrentModel.Input must be at least 1; found 0");

    [Theory]
    [InlineData("Input = 4, Hidden = 8, [|Vocabulary = -1|]", "RecurrentModel.Vocabulary must be 0 (none) or positive; found -1")]
    [InlineData("Input = 4, Hidden = 8, [|Output = -5|]", "RecurrentModel.Output must be 0 (none) or positive; found -5")]
    public void RNNG0005_SizeNegative(string arguments, string message)
        => AssertSingleError("RNNG0005", ModelWith(arguments), message);

    [Theory]
    [InlineData("Cell = CellKind.Lstm, Input = 4, Hidden = 8, [|Nonlinearity = Nonlinearity.Relu|]", "Nonlinearity is set to Relu, but Cell is Lstm")]
    [InlineData("Cell = CellKind.Gru, Input = 4, Hidden = 8, [|Nonlinearity = Nonlinearity.Tanh|]", "Nonlinearity is set to Tanh, but Cell is Gru")]
    public void RNNG0006_NonlinearityOnGatedCell(string arguments, string message)
        => AssertSingleError("RNNG0006", ModelWith(arguments), message);

    [Theory]
    [InlineData("Input = 4, [|Hidden = 20000|]", "RecurrentModel.Hidden is 20000; the largest supported value is 16384")]
    [InlineData("[|Input = 16385|], Hidden = 8", "RecurrentModel.Input is 16385; the largest supported value is 16384")]
    [InlineData("Input = 4, Hidden = 8, [|Layers = 65|]", "RecurrentModel.Layers is 65; the largest supported value is 64")]
    [InlineData("[|Vocabulary = 2000000|], Input = 4, Hidden = 8", "RecurrentModel.Vocabulary is 2000000; the largest supported value is 1048576")]
    [InlineData("Input = 4, Hidden = 8, [|Output = 1048577|]", "RecurrentModel.Output is 1048577; the largest supported value is 1048576")]
    public void RNNG0007_SizeTooLarge(string arguments, string message)
        => AssertSingleError("RNNG0007", ModelWith(arguments), message);

    [Theory]
    [InlineData("[|Cell = (CellKind)7|], Input = 4, Hidden = 8", "RecurrentModel.Cell has value 7, which is not a member of RnnGen.CellKind")]
    [InlineData("[|Cell = (CellKind)(-1)|], Input = 4, Hidden = 8", "RecurrentModel.Cell has value -1, which is not a member of RnnGen.CellKind")]
    [InlineData("Input = 4, Hidden = 8, [|Nonlinearity = (Nonlinearity)5|]", "RecurrentModel.Nonlinearity has value 5, which is not a member of RnnGen.Nonlinearity")]
    [InlineData("Input = 4, Hidden = 8, [|Weights = (WeightPrecision)3|]", "RecurrentModel.Weights has value 3, which is not a member of RnnGen.WeightPrecision")]
    public void RNNG0008_UnknownEnumValue(string arguments, string message)
        => AssertSingleError("RNNG0008", ModelWith(arguments), message);

    [Fact]
    public void RNNG0011_StepWeightsWasReplacedByWeights()
        => AssertSingleError("RNNG0011", ModelWith("Cell = CellKind.Lstm, Input = 4, Hidden = 8, [|StepWeights = WeightPrecision.BFloat16|]"),
            "RecurrentModel.StepWeights was replaced by RecurrentModel.Weights", "rename it to Weights");

    [Theory]
    [InlineData("Input = 4, Hidden = 8, Layers = 2, [|Dropout = 1|]", "RecurrentModel.Dropout is 1; it is the probability of zeroing an element, at least 0 and less than 1 (0 for none)")]
    [InlineData("Input = 4, Hidden = 8, Layers = 2, [|Dropout = -0.1f|]", "RecurrentModel.Dropout is -0.1; it is the probability")]
    [InlineData("Input = 4, Hidden = 8, Layers = 2, [|Dropout = float.NaN|]", "RecurrentModel.Dropout is NaN;")]
    [InlineData("Input = 4, Hidden = 8, [|Dropout = 1.5f|]", "RecurrentModel.Dropout is 1.5;")]
    public void RNNG0013_DropoutOutOfRange(string arguments, string message)
        => AssertSingleError("RNNG0013", ModelWith(arguments), message);

    [Theory]
    [InlineData("Input = 4, Hidden = 8, [|Dropout = 0.2f|]")]
    [InlineData("Cell = CellKind.Lstm, Input = 4, Hidden = 8, Layers = 1, Bidirectional = true, [|Dropout = 0.2f|]")]
    public void RNNG0014_DropoutOnOneLayer(string arguments)
        => AssertSingleError("RNNG0014", ModelWith(arguments),
            "RecurrentModel.Dropout is 0.2, but the model has one layer", "so it needs Layers > 1 (remove it, or add layers)");

    [Theory]
    [InlineData("Input = 4, Hidden = 8, Dropout = 0")]
    [InlineData("Input = 4, Hidden = 8, Layers = 2, Dropout = 0.999f")]
    public void Dropout_in_range_is_fine(string arguments)
    {
        GeneratorRun run = GeneratorHarness.Run(ModelWith(arguments));
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Single(run.Sources);
    }

    [Theory]
    [InlineData("Weights = WeightPrecision.BFloat16")]
    [InlineData("Weights = WeightPrecision.Int8")]
    public void Reduced_weights_on_a_bidirectional_model_are_fine(string weights)
    {
        GeneratorRun run = GeneratorHarness.Run(ModelWith("Cell = CellKind.Gru, Input = 4, Hidden = 8, Bidirectional = true, Output = 3, " + weights));
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Single(run.Sources);
    }

    [Fact]
    public void RNNG0009_TooManyParameters_HugeEmbedding()
    {
        // 1048576 x 16384 embedding = 2^34 floats, plus the RNN layer: 8 x 16384 + 8 x 8 + 2 x 8.
        long expected = (1L << 34) + 8 * 16384 + 8 * 8 + 2 * 8;
        AssertSingleError("RNNG0009", """
            using RnnGen;

            [[|RecurrentModel(Vocabulary = 1048576, Input = 16384, Hidden = 8)|]]
            public partial class Huge { }
            """,
            "Model 'Huge' would have " + expected.ToString(CultureInfo.InvariantCulture) + " parameters",
            "at most 2147482623 are supported");
    }

    [Fact]
    public void RNNG0009_TooManyParameters_WideLstm()
    {
        // 4 gates x 16384 rows, times (16384 input + 16384 hidden) columns, plus two biases.
        long expected = 65536L * 16384 * 2 + 2 * 65536;
        AssertSingleError("RNNG0009", """
            using RnnGen;

            [[|RecurrentModel(Cell = CellKind.Lstm, Input = 16384, Hidden = 16384)|]]
            public partial class Wide { }
            """,
            "Model 'Wide' would have " + expected.ToString(CultureInfo.InvariantCulture) + " parameters");
    }

    // ---- around the diagnostics -----------------------------------------------------------------------------

    [Fact]
    public void OnlyTheValidModelIsGenerated()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            using RnnGen;

            namespace Models;

            [RecurrentModel(Input = 4, Hidden = 0)]
            public partial class Bad { }

            [RecurrentModel(Input = 4, Hidden = 8)]
            public partial class Good { }
            """);
        run.AssertGeneratorDidNotThrow();
        Assert.Equal("RNNG0004", Assert.Single(run.GeneratorDiagnostics).Id);
        Assert.Equal("Models.Good.g.cs", Assert.Single(run.Sources).HintName);
        Assert.Empty(run.OutputProblems);
    }

    [Fact]
    public void EveryValueErrorIsReported()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            using RnnGen;

            [RecurrentModel(Cell = (CellKind)9, Input = 0, Hidden = 20000, Layers = -1, Vocabulary = -1, Output = 2000000)]
            public partial class AllWrong { }
            """);
        run.AssertGeneratorDidNotThrow();
        Assert.Equal(
            new[] { "RNNG0004", "RNNG0004", "RNNG0005", "RNNG0007", "RNNG0007", "RNNG0008" },
            run.GeneratorDiagnostics.Select(d => d.Id).OrderBy(id => id, System.StringComparer.Ordinal));
        Assert.All(run.GeneratorDiagnostics, d => Assert.Equal(DiagnosticSeverity.Error, d.Severity));
        Assert.Empty(run.Sources);
    }

    [Theory]
    [InlineData("RNNG0001")]
    [InlineData("RNNG0002")]
    [InlineData("RNNG0003")]
    [InlineData("RNNG0004")]
    [InlineData("RNNG0005")]
    [InlineData("RNNG0006")]
    [InlineData("RNNG0007")]
    [InlineData("RNNG0008")]
    [InlineData("RNNG0009")]
    [InlineData("RNNG0010")]
    [InlineData("RNNG0011")]
    [InlineData("RNNG0012")]
    [InlineData("RNNG0013")]
    [InlineData("RNNG0014")]
    public void DescriptorsAreHardErrorsWithHelpLinks(string id)
    {
        DiagnosticDescriptor descriptor = DiagnosticDescriptors.ById(id);
        Assert.Equal(id, descriptor.Id);
        Assert.Equal(DiagnosticSeverity.Error, descriptor.DefaultSeverity);
        Assert.True(descriptor.IsEnabledByDefault);
        Assert.Contains(WellKnownDiagnosticTags.NotConfigurable, descriptor.CustomTags);
        Assert.Equal("RnnGen", descriptor.Category);
        Assert.EndsWith("/" + id + ".md", descriptor.HelpLinkUri, System.StringComparison.Ordinal);
        Assert.False(string.IsNullOrWhiteSpace(descriptor.Title.ToString(CultureInfo.InvariantCulture)));
    }

    private static string ModelWith(string attributeArguments) => $$"""
        using RnnGen;

        namespace Models;

        [RecurrentModel({{attributeArguments}})]
        public partial class Model { }
        """;

    private static void AssertSingleError(string id, string markup, params string[] messageParts)
    {
        (string source, TextSpan span) = Markup.Parse(markup);
        GeneratorRun run = GeneratorHarness.Run(source);
        run.AssertGeneratorDidNotThrow();

        Diagnostic diagnostic = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);

        string message = diagnostic.GetMessage(CultureInfo.InvariantCulture);
        foreach (string part in messageParts) Assert.Contains(part, message);

        FileLinePositionSpan lines = diagnostic.Location.GetLineSpan();
        Assert.Equal(GeneratorHarness.SourcePath, lines.Path);
        Assert.Equal(source.Substring(span.Start, span.Length), source.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length));
        Assert.Equal(span, diagnostic.Location.SourceSpan);
        Assert.Equal(run.Input.SyntaxTrees.First().GetLineSpan(span).Span, lines.Span);

        Assert.Empty(run.Result.GeneratedSources);
    }
}
