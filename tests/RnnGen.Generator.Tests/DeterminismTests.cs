using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using RnnGen.Generator.Model;
using Xunit;

namespace RnnGen.Generator.Tests;

/// <summary>The same model always gives the same text, whatever the culture of the machine that builds it.</summary>
public class DeterminismTests
{
    private const string Source = """
        using RnnGen;

        namespace Models
        {
            [RecurrentModel(Cell = CellKind.Lstm, Input = 7, Hidden = 13, Layers = 2, Bidirectional = true)]
            public partial class Tagger { }

            [RecurrentModel(Cell = CellKind.Gru, Vocabulary = 65, Input = 32, Hidden = 128, Output = 65)]
            public partial class CharModel { }

            public partial class Outer
            {
                [RecurrentModel(Input = 1000, Hidden = 1234, Nonlinearity = Nonlinearity.Relu, Bias = false)]
                internal partial class Inner { }
            }

            [RecurrentModel(Input = -3, Hidden = 20000, Vocabulary = -1234567)]
            public partial class Broken { }
        }
        """;

    [Fact]
    public void EmittingTheSameModelTwiceGivesTheSameText()
    {
        // The specs come from the parser, so this test does not depend on ModelSpec's constructor.
        GeneratorDriver driver = GeneratorHarness.CreateDriver().RunGenerators(GeneratorHarness.CreateCompilation(Source));
        List<ModelSpec> specs = Assert.Single(driver.GetRunResult().Results)
            .TrackedSteps[RecurrentModelGenerator.TrackingNames.Models]
            .SelectMany(step => step.Outputs)
            .Select(output => (ModelSpec)output.Value)
            .ToList();
        Assert.Equal(3, specs.Count);
        foreach (ModelSpec spec in specs)
        {
            string first = RecurrentModelGenerator.Emitter.Emit(spec);
            string second = RecurrentModelGenerator.Emitter.Emit(spec with { });
            Assert.Equal(first, second, StringComparer.Ordinal);
            Assert.DoesNotContain("\r", first, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void TwoIndependentRunsGiveTheSameOutput()
    {
        (IReadOnlyList<(string, string)> sources, IReadOnlyList<string> messages) first = Generate();
        (IReadOnlyList<(string, string)> sources, IReadOnlyList<string> messages) second = Generate();
        Assert.Equal(3, first.sources.Count);
        Assert.Equal(first.sources, second.sources);
        Assert.Equal(first.messages, second.messages);
    }

    [Theory]
    [InlineData("de-DE")]
    [InlineData("ar-SA")]
    [InlineData("fa-IR")]
    [InlineData("sv-SE")]
    [InlineData("tr-TR")]
    public void OutputDoesNotDependOnTheCulture(string cultureName)
    {
        var culture = new CultureInfo(cultureName);
        // Guard against a globalization-invariant host, where every culture formats alike and this test would prove nothing.
        NumberFormatInfo invariant = CultureInfo.InvariantCulture.NumberFormat;
        Assert.True(
            culture.NumberFormat.NumberDecimalSeparator != invariant.NumberDecimalSeparator
            || culture.NumberFormat.NegativeSign != invariant.NegativeSign,
            $"{cultureName} formats numbers like the invariant culture; is ICU missing?");

        var expected = RunUnder(CultureInfo.InvariantCulture);
        var actual = RunUnder(culture);

        Assert.Equal(expected.sources, actual.sources);
        Assert.Equal(expected.messages, actual.messages);
        Assert.Contains(actual.messages, m => m.Contains("found -3", StringComparison.Ordinal));
        Assert.Contains(actual.messages, m => m.Contains("found -1234567", StringComparison.Ordinal));
    }

    private static (IReadOnlyList<(string, string)> sources, IReadOnlyList<string> messages) RunUnder(CultureInfo culture)
    {
        CultureInfo savedCulture = CultureInfo.CurrentCulture, savedUiCulture = CultureInfo.CurrentUICulture;
        try
        {
            CultureInfo.CurrentCulture = culture;
            CultureInfo.CurrentUICulture = culture;
            return Generate();
        }
        finally
        {
            CultureInfo.CurrentCulture = savedCulture;
            CultureInfo.CurrentUICulture = savedUiCulture;
        }
    }

    /// <summary>Generated files, and diagnostic messages formatted in the current culture.</summary>
    private static (IReadOnlyList<(string, string)> sources, IReadOnlyList<string> messages) Generate()
    {
        GeneratorRun run = GeneratorHarness.Run(Source);
        run.AssertGeneratorDidNotThrow();
        return (run.Sources, run.GeneratorDiagnostics.Select(d => d.Id + ": " + d.GetMessage(CultureInfo.CurrentCulture)).ToList());
    }
}
