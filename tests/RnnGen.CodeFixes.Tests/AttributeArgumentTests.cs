using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Xunit;

namespace RnnGen.CodeFixes.Tests;

/// <summary>RNNG0004, RNNG0005, RNNG0006, RNNG0007 and RNNG0011: arguments set to a valid value, added, removed or renamed.</summary>
public class AttributeArgumentTests
{
    private static readonly AttributeArgumentCodeFixProvider Provider = new();

    private static string ModelWith(string arguments) => $$"""
        using RnnGen;

        namespace Models;

        [RecurrentModel({{arguments}})]
        public partial class Model { }
        """;

    /// <summary>A model the generator checks but does not emit: the class is not partial (RNNG0001).</summary>
    private static string NonPartialModelWith(string arguments) => ModelWith(arguments).Replace("public partial class", "public class");

    // ---- RNNG0004: Input, Hidden, Layers not positive ----------------------------------------------------------

    [Theory]
    [InlineData("Input = 4, Hidden = 0", "Input = 4, Hidden = 1", "Set Hidden to 1")]
    [InlineData("Input = -3, Hidden = 8", "Input = 1, Hidden = 8", "Set Input to 1")]
    [InlineData("Input = 4, Hidden = 8, Layers = 0", "Input = 4, Hidden = 8, Layers = 1", "Set Layers to 1")]
    [InlineData("Input = 4, Hidden = 8, Layers = -2 /* why */", "Input = 4, Hidden = 8, Layers = 1 /* why */", "Set Layers to 1")]
    [InlineData("Input = 4, Hidden = 8 - 8", "Input = 4, Hidden = 1", "Set Hidden to 1")]
    public Task RNNG0004_sets_the_size_to_1(string before, string after, string title)
        => CodeFixHarness.AssertFixAsync(Provider, "RNNG0004", ModelWith(before), ModelWith(after), title);

    [Theory]
    [InlineData("Hidden = 8", "Input = 1, Hidden = 8", "Add Input = 1")]
    [InlineData("Input = 4", "Input = 4, Hidden = 1", "Add Hidden = 1")]
    [InlineData("Cell = CellKind.Lstm, Input = 4, Layers = 2", "Cell = CellKind.Lstm, Input = 4, Hidden = 1, Layers = 2", "Add Hidden = 1")]
    [InlineData("Cell = CellKind.Gru, Hidden = 8", "Cell = CellKind.Gru, Input = 1, Hidden = 8", "Add Input = 1")]
    [InlineData("Cell = CellKind.Gru", "Cell = CellKind.Gru, Input = 1", "Add Input = 1")]
    public async Task RNNG0004_adds_a_missing_size(string before, string after, string title)
    {
        // With both sizes missing the fixed source still lacks Hidden; everything else must come out clean.
        if (before.Contains("Input") || before.Contains("Hidden"))
        {
            await CodeFixHarness.AssertFixAsync(Provider, "RNNG0004", ModelWith(before), ModelWith(after), title);
            return;
        }
        Document document = CodeFixHarness.CreateDocument(ModelWith(before));
        Diagnostic input = (await CodeFixHarness.GeneratorDiagnosticsAsync(document))[0];
        CodeAction action = Assert.Single(await CodeFixHarness.ActionsAsync(Provider, document, input));
        Assert.Equal(title, action.Title);
        Assert.Equal(ModelWith(after), await CodeFixHarness.ApplyAsync(action, document));
    }

    [Fact]
    public Task RNNG0004_adds_a_missing_size_to_a_multiline_attribute() => CodeFixHarness.AssertFixAsync(Provider, "RNNG0004", """
        using RnnGen;

        [RecurrentModel(
            Cell = CellKind.Lstm,
            Input = 4)]
        public partial class Model { }
        """, """
        using RnnGen;

        [RecurrentModel(
            Cell = CellKind.Lstm,
            Input = 4,
            Hidden = 1)]
        public partial class Model { }
        """, "Add Hidden = 1");

    [Fact]
    public async Task RNNG0004_with_no_arguments_at_all_is_fixed_in_two_steps()
    {
        string source = """
            using RnnGen;

            [RecurrentModel]
            public partial class Model { }
            """;
        var titles = new List<string>();
        for (int round = 0; round < 3; round++)
        {
            Document document = CodeFixHarness.CreateDocument(source);
            var diagnostics = await CodeFixHarness.GeneratorDiagnosticsAsync(document);
            if (diagnostics.IsEmpty) break;
            Assert.All(diagnostics, d => Assert.Equal("RNNG0004", d.Id));
            // Each diagnostic at the attribute is about one size, and is offered exactly that one.
            var offered = new List<string>();
            foreach (Diagnostic diagnostic in diagnostics)
            {
                offered.Add(Assert.Single(await CodeFixHarness.ActionsAsync(Provider, document, diagnostic)).Title);
            }
            Assert.Equal(offered.Distinct(), offered);
            CodeAction first = (await CodeFixHarness.ActionsAsync(Provider, document, diagnostics[0]))[0];
            titles.Add(first.Title);
            source = await CodeFixHarness.ApplyAsync(first, document);
        }
        Assert.Equal(new[] { "Add Input = 1", "Add Hidden = 1" }, titles);
        Assert.Equal(CodeFixHarness.Normalize("""
            using RnnGen;

            [RecurrentModel(Input = 1, Hidden = 1)]
            public partial class Model { }
            """), source);
    }

    // ---- RNNG0005: Vocabulary, Output negative -----------------------------------------------------------------

    [Theory]
    [InlineData("Input = 4, Hidden = 8, Vocabulary = -1", "Input = 4, Hidden = 8, Vocabulary = 0", "Set Vocabulary to 0")]
    [InlineData("Input = 4, Hidden = 8, Output = -5", "Input = 4, Hidden = 8, Output = 0", "Set Output to 0")]
    public Task RNNG0005_sets_the_size_to_0(string before, string after, string title)
        => CodeFixHarness.AssertFixAsync(Provider, "RNNG0005", ModelWith(before), ModelWith(after), title);

    // ---- RNNG0013, RNNG0014: Dropout out of range, or on one layer ---------------------------------------------

    [Theory]
    [InlineData("Input = 4, Hidden = 8, Layers = 2, Dropout = 1", "Input = 4, Hidden = 8, Layers = 2, Dropout = 0")]
    [InlineData("Input = 4, Hidden = 8, Layers = 2, Dropout = -0.5f", "Input = 4, Hidden = 8, Layers = 2, Dropout = 0")]
    public Task RNNG0013_sets_dropout_to_0(string before, string after)
        => CodeFixHarness.AssertFixAsync(Provider, "RNNG0013", ModelWith(before), ModelWith(after), "Set Dropout to 0 (none)");

    [Theory]
    [InlineData("Cell = CellKind.Lstm, Input = 4, Hidden = 8, Dropout = 0.2f", "Cell = CellKind.Lstm, Input = 4, Hidden = 8")]
    [InlineData("Dropout = 0.5f, Input = 4, Hidden = 8, Layers = 1", "Input = 4, Hidden = 8, Layers = 1")]
    public Task RNNG0014_removes_the_dropout(string before, string after)
        => CodeFixHarness.AssertFixAsync(Provider, "RNNG0014", ModelWith(before), ModelWith(after), "Remove Dropout (it applies only between layers)");

    // ---- RNNG0006: Nonlinearity on a gated cell ----------------------------------------------------------------

    [Theory]
    [InlineData("Cell = CellKind.Lstm, Input = 4, Hidden = 8, Nonlinearity = Nonlinearity.Relu", "Cell = CellKind.Lstm, Input = 4, Hidden = 8")]
    [InlineData("Cell = CellKind.Gru, Nonlinearity = Nonlinearity.Tanh, Input = 4, Hidden = 8", "Cell = CellKind.Gru, Input = 4, Hidden = 8")]
    [InlineData("Nonlinearity = Nonlinearity.Relu, Cell = CellKind.Lstm, Input = 4, Hidden = 8", "Cell = CellKind.Lstm, Input = 4, Hidden = 8")]
    public Task RNNG0006_removes_the_nonlinearity(string before, string after)
        => CodeFixHarness.AssertFixAsync(Provider, "RNNG0006", ModelWith(before), ModelWith(after), "Remove Nonlinearity (it applies only to Cell = CellKind.Rnn)");

    // ---- RNNG0011: StepWeights, replaced by Weights --------------------------------------------------------------

    [Theory]
    [InlineData("Cell = CellKind.Lstm, Input = 4, Hidden = 8, StepWeights = WeightPrecision.BFloat16", "Cell = CellKind.Lstm, Input = 4, Hidden = 8, Weights = WeightPrecision.BFloat16")]
    [InlineData("StepWeights = WeightPrecision.Single, Input = 4, Hidden = 8", "Weights = WeightPrecision.Single, Input = 4, Hidden = 8")]
    public Task RNNG0011_renames_StepWeights_to_Weights(string before, string after)
        => CodeFixHarness.AssertFixAsync(Provider, "RNNG0011", ModelWith(before), ModelWith(after), "Rename StepWeights to Weights (it now applies to every inference path)");

    [Fact]
    public Task RNNG0006_removes_the_nonlinearity_from_a_multiline_attribute() => CodeFixHarness.AssertFixAsync(Provider, "RNNG0006", """
        using RnnGen;

        [RecurrentModel(
            Cell = CellKind.Lstm,
            Input = 4,
            Hidden = 8,
            Nonlinearity = Nonlinearity.Relu
        )]
        public partial class Model { }
        """, """
        using RnnGen;

        [RecurrentModel(
            Cell = CellKind.Lstm,
            Input = 4,
            Hidden = 8
        )]
        public partial class Model { }
        """, "Remove Nonlinearity (it applies only to Cell = CellKind.Rnn)");

    // ---- RNNG0007: beyond the cap ------------------------------------------------------------------------------

    [Theory]
    [InlineData("Input = 4, Hidden = 20000", "Input = 4, Hidden = 16384", "Set Hidden to 16384 (the largest supported)")]
    [InlineData("Input = 16385, Hidden = 8", "Input = 16384, Hidden = 8", "Set Input to 16384 (the largest supported)")]
    [InlineData("Input = 4, Hidden = 8, Layers = 65", "Input = 4, Hidden = 8, Layers = 64", "Set Layers to 64 (the largest supported)")]
    [InlineData("Vocabulary = 2000000, Input = 4, Hidden = 8", "Vocabulary = 1048576, Input = 4, Hidden = 8", "Set Vocabulary to 1048576 (the largest supported)")]
    public Task RNNG0007_sets_the_size_to_the_cap(string before, string after, string title)
        => CodeFixHarness.AssertFixAsync(Provider, "RNNG0007", ModelWith(before), ModelWith(after), title);

    [Theory]
    [InlineData("Input = 4, Hidden = 8, Output = 1048577", "Input = 4, Hidden = 8, Output = 1048576")]
    [InlineData("Input = 4, Hidden = 8, Output = 1 << 21", "Input = 4, Hidden = 8, Output = 1048576")]
    public Task RNNG0007_sets_the_output_to_the_cap(string before, string after)
        // The class is left non-partial (RNNG0001) so the generator checks the fixed head without emitting it.
        => CodeFixHarness.AssertFixAsync(Provider, "RNNG0007", NonPartialModelWith(before), NonPartialModelWith(after),
            "Set Output to 1048576 (the largest supported)", unrelated: "RNNG0001");

    [Theory]
    [InlineData("Input", "Hidden = 8", 16384)]
    [InlineData("Hidden", "Input = 4", 16384)]
    [InlineData("Layers", "Input = 4, Hidden = 8", 64)]
    [InlineData("Vocabulary", "Input = 4, Hidden = 8", 1048576)]
    [InlineData("Output", "Input = 4, Hidden = 8", 1048576)]
    public async Task The_caps_the_fixes_use_are_the_generators(string property, string others, int cap)
    {
        // The fixes carry their own copy of the caps; the generator accepts exactly that value and rejects one more.
        // (Non-partial, so the generator validates without emitting: a head of a million rows takes seconds to emit.)
        string Source(int value) => NonPartialModelWith(others + ", " + property + " = " + value.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(new[] { "RNNG0001" }, (await CodeFixHarness.GeneratorDiagnosticsAsync(Source(cap))).Select(d => d.Id));
        Assert.Equal(new[] { "RNNG0001", "RNNG0007" }, (await CodeFixHarness.GeneratorDiagnosticsAsync(Source(cap + 1))).Select(d => d.Id).OrderBy(id => id, System.StringComparer.Ordinal));
    }

    // ---- several at once, and what is left alone --------------------------------------------------------------

    [Fact]
    public async Task Every_value_error_of_one_attribute_gets_its_own_fix()
    {
        string source = ModelWith("Input = 0, Hidden = 20000, Layers = -1, Vocabulary = -1, Output = -5");
        for (int round = 0; round < 6; round++)
        {
            Document document = CodeFixHarness.CreateDocument(source);
            var diagnostics = await CodeFixHarness.GeneratorDiagnosticsAsync(document);
            if (diagnostics.IsEmpty) break;
            source = await CodeFixHarness.ApplyAsync(Assert.Single(await CodeFixHarness.ActionsAsync(Provider, document, diagnostics[0])), document);
        }
        Assert.Equal(ModelWith("Input = 1, Hidden = 16384, Layers = 1, Vocabulary = 0, Output = 0"), source);
    }

    [Fact]
    public async Task A_diagnostic_whose_span_no_longer_fits_the_document_gets_no_fix()
    {
        // A stale diagnostic (the user typed since the generator ran) must not produce an edit in the wrong place.
        Document reported = CodeFixHarness.CreateDocument(ModelWith("Input = 4, Hidden = 0"));
        Diagnostic diagnostic = Assert.Single(await CodeFixHarness.GeneratorDiagnosticsAsync(reported));
        Document edited = CodeFixHarness.CreateDocument(ModelWith("Input = 4, Hidden = 0, Layers = 2").Replace("namespace Models;", "namespace Models.Other;"));
        Assert.Empty(await CodeFixHarness.ActionsAsync(Provider, edited, diagnostic));
    }

    [Fact]
    public async Task An_argument_of_another_attribute_is_left_alone()
    {
        Document document = CodeFixHarness.CreateDocument("""
            using System;
            using RnnGen;

            [AttributeUsage(AttributeTargets.Class, Inherited = false)]
            public sealed class OtherAttribute : Attribute { public int Hidden { get; set; } }

            [Other(Hidden = 0)]
            public partial class Model { }
            """);
        SyntaxTree tree = (await document.GetSyntaxTreeAsync())!;
        int start = tree.ToString().IndexOf("Hidden = 0", System.StringComparison.Ordinal);
        var fake = Diagnostic.Create(
            new DiagnosticDescriptor("RNNG0004", "t", "RecurrentModel.Hidden must be at least 1; found 0", "RnnGen", DiagnosticSeverity.Error, true),
            Location.Create(tree, new Microsoft.CodeAnalysis.Text.TextSpan(start, "Hidden = 0".Length)));
        Assert.Empty(await CodeFixHarness.ActionsAsync(Provider, document, fake));
    }

    [Fact]
    public async Task A_diagnostic_located_in_the_syntax_tree_works_as_well_as_the_generators()
    {
        // The generator reports plain file locations; an IDE may hand the fix a location in the document's tree instead.
        Document document = CodeFixHarness.CreateDocument(ModelWith("Input = 4, Hidden = 0"));
        Diagnostic reported = Assert.Single(await CodeFixHarness.GeneratorDiagnosticsAsync(document));
        Assert.Null(reported.Location.SourceTree);
        SyntaxTree tree = (await document.GetSyntaxTreeAsync())!;
        var relocated = Diagnostic.Create(reported.Descriptor, Location.Create(tree, reported.Location.SourceSpan), "Hidden", "0");
        CodeAction action = Assert.Single(await CodeFixHarness.ActionsAsync(Provider, document, relocated));
        Assert.Equal(ModelWith("Input = 4, Hidden = 1"), await CodeFixHarness.ApplyAsync(action, document));
    }
}
