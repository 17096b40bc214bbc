using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using RnnGen.Generator.Model;
using Xunit;

namespace RnnGen.Generator.Tests;

/// <summary>
/// The pipeline caches: a second run on an equivalent compilation does no new work, and no tracked step holds
/// symbols, syntax or compilations (which would defeat caching and keep old compilations alive in the IDE).
/// </summary>
public class IncrementalTests
{
    /// <summary>Every constant of <see cref="RecurrentModelGenerator.TrackingNames"/>.</summary>
    private static readonly string[] TrackingNames = typeof(RecurrentModelGenerator.TrackingNames)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string))
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToArray();

    /// <summary>Valid models of several shapes, and two with errors, so every step has outputs.</summary>
    private const string Source = """
        using RnnGen;

        namespace Models
        {
            [RecurrentModel(Cell = CellKind.Lstm, Input = 7, Hidden = 13, Layers = 2, Bidirectional = true)]
            public partial class Tagger { }

            [RecurrentModel(Cell = CellKind.Gru, Vocabulary = 65, Input = 32, Hidden = 64, Output = 65)]
            public partial class CharModel { }

            public partial class Outer
            {
                [RecurrentModel(Input = 4, Hidden = 16, Nonlinearity = Nonlinearity.Relu, Bias = false)]
                internal partial class Inner { }
            }

            [RecurrentModel(Input = 4, Hidden = 0)]
            public partial class Broken { }

            [RecurrentModel(Input = 4, Hidden = 8)]
            public class NotPartial { }
        }
        """;

    [Fact]
    public void TrackingNamesAreTheSixSteps()
        => Assert.Equal(new[] { "Diagnostics", "Models", "ModelsWithTarget", "Parse", "RuntimeLayoutChecks", "Target" }, TrackingNames.OrderBy(n => n, StringComparer.Ordinal));

    [Fact]
    public void SecondRunOnAClonedCompilationIsCached()
    {
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation(Source);
        GeneratorDriver driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        GeneratorRunResult first = Assert.Single(driver.GetRunResult().Results);

        driver = driver.RunGenerators(compilation.Clone());
        GeneratorRunResult second = Assert.Single(driver.GetRunResult().Results);

        AssertNothingRecomputed(first, second);
    }

    [Fact]
    public void AddingAnUnrelatedFileIsCached()
    {
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation(Source);
        GeneratorDriver driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        GeneratorRunResult first = Assert.Single(driver.GetRunResult().Results);

        SyntaxTree unrelated = CSharpSyntaxTree.ParseText(
            "namespace Other; internal static class Unrelated { public static int Answer => 42; }",
            GeneratorHarness.ParseOptions, path: "/src/Unrelated.cs");
        driver = driver.RunGenerators(compilation.AddSyntaxTrees(unrelated));
        GeneratorRunResult second = Assert.Single(driver.GetRunResult().Results);

        AssertNothingRecomputed(first, second);
    }

    [Fact]
    public void MovingCodeDownDoesNotRegenerateModels()
    {
        // Diagnostics carry locations, models do not: shifting every line changes the diagnostics only.
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation(Source);
        GeneratorDriver driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        SyntaxTree tree = compilation.SyntaxTrees.Single();
        SyntaxTree shifted = tree.WithChangedText(tree.GetText().Replace(0, 0, "// a comment\n\n"));
        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(tree, shifted));
        GeneratorRunResult second = Assert.Single(driver.GetRunResult().Results);

        AssertReasons(second, RecurrentModelGenerator.TrackingNames.Models, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        AssertReasons(second, RecurrentModelGenerator.TrackingNames.ModelsWithTarget, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        Assert.Contains(Outputs(second, RecurrentModelGenerator.TrackingNames.Diagnostics), o => o.Reason == IncrementalStepRunReason.Modified);
    }

    [Fact]
    public void EditingOneModelRecomputesThatModelOnly()
    {
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation(
            "[RnnGen.RecurrentModel(Input = 3, Hidden = 8)] public partial class A { }",
            "[RnnGen.RecurrentModel(Input = 3, Hidden = 8)] public partial class B { }");
        GeneratorDriver driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        SyntaxTree b = compilation.SyntaxTrees.Last();
        SyntaxTree edited = b.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From(b.ToString().Replace("Hidden = 8", "Hidden = 9", StringComparison.Ordinal)));
        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(b, edited));
        GeneratorRunResult second = Assert.Single(driver.GetRunResult().Results);

        var models = Outputs(second, RecurrentModelGenerator.TrackingNames.ModelsWithTarget).ToList();
        Assert.Equal(2, models.Count);
        var modified = Assert.Single(models, o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Equal("B", ((ValueTuple<ModelSpec, TargetInfo>)modified.Value).Item1.Name);
        Assert.Equal(9, ((ValueTuple<ModelSpec, TargetInfo>)modified.Value).Item1.Hidden);
        Assert.Single(models, o => o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged);
    }

    [Fact]
    public void TrackedOutputsHoldNoSymbolsSyntaxOrCompilations()
    {
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation(Source);
        GeneratorDriver driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        GeneratorRunResult result = Assert.Single(driver.GetRunResult().Results);

        var walker = new ForbiddenObjectWalker();
        foreach (string name in TrackingNames.Where(result.TrackedSteps.ContainsKey))
        {
            foreach ((IncrementalGeneratorRunStep step, int s) in result.TrackedSteps[name].Select((step, s) => (step, s)))
            {
                foreach (((object value, _), int o) in step.Outputs.Select((output, o) => (output, o)))
                {
                    walker.Walk(value, $"{name}[{s}].Outputs[{o}]");
                }
            }
        }

        Assert.True(walker.Problems.Count == 0, "Pipeline outputs hold objects that defeat caching:\n" + string.Join("\n", walker.Problems));
        // The walk really went through the models, not around them.
        Assert.Subset(walker.VisitedTypes, new HashSet<Type>
        {
            typeof(ParseResult), typeof(ModelSpec), typeof(ContainingType), typeof(TargetInfo), typeof(DiagnosticInfo),
            typeof(LocationInfo), typeof(EquatableArray<DiagnosticInfo>), typeof(EquatableArray<ContainingType>),
            typeof(ValueTuple<ModelSpec, TargetInfo>),
        });
    }

    [Fact]
    public void TheWalkerFindsWhatItLooksFor()
    {
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation(Source);
        INamedTypeSymbol symbol = compilation.GetTypeByMetadataName("Models.Tagger")!;
        SyntaxNode node = compilation.SyntaxTrees.Single().GetRoot();
        var walker = new ForbiddenObjectWalker();

        walker.Walk((1, new EquatableArray<string>(ImmutableArray.Create("a"))), "clean");
        Assert.Empty(walker.Problems);

        walker.Walk((symbol, 1), "tuple");
        walker.Walk(new List<object> { "x", new object[] { node } }, "nested");
        walker.Walk(new KeyValuePair<string, Compilation>("c", compilation), "pair");
        walker.Walk(compilation.GetSemanticModel(compilation.SyntaxTrees.Single()), "model");
        Assert.Equal(4, walker.Problems.Count);
        Assert.Contains(walker.Problems, p => p.StartsWith("tuple.Item1", StringComparison.Ordinal));
    }

    private static void AssertNothingRecomputed(GeneratorRunResult first, GeneratorRunResult second)
    {
        string[] present = TrackingNames.Where(first.TrackedSteps.ContainsKey).ToArray();
        // The source has valid and invalid models, so every step ran and was tracked.
        Assert.Equal(TrackingNames.OrderBy(n => n, StringComparer.Ordinal), present.OrderBy(n => n, StringComparer.Ordinal));

        foreach (string name in present)
        {
            ImmutableArray<IncrementalGeneratorRunStep> before = first.TrackedSteps[name];
            Assert.True(second.TrackedSteps.TryGetValue(name, out ImmutableArray<IncrementalGeneratorRunStep> after), $"Step {name} is missing in the second run.");
            Assert.Equal(before.Length, after.Length);
            Assert.Equal(
                before.SelectMany(s => s.Outputs).Select(o => o.Value),
                after.SelectMany(s => s.Outputs).Select(o => o.Value));
            AssertReasons(second, name, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        }

        // And nothing was handed to AddSource or ReportDiagnostic again.
        Assert.All(second.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    private static IEnumerable<(object Value, IncrementalStepRunReason Reason)> Outputs(GeneratorRunResult result, string name)
        => result.TrackedSteps[name].SelectMany(s => s.Outputs);

    private static void AssertReasons(GeneratorRunResult result, string name, params IncrementalStepRunReason[] allowed)
    {
        foreach ((IncrementalGeneratorRunStep step, int s) in result.TrackedSteps[name].Select((step, s) => (step, s)))
        {
            foreach (((object value, IncrementalStepRunReason reason), int o) in step.Outputs.Select((output, o) => (output, o)))
            {
                Assert.True(allowed.Contains(reason), $"{name}[{s}].Outputs[{o}] was {reason} (expected {string.Join(" or ", allowed)}): {value}");
            }
        }
    }
}

/// <summary>
/// Walks an object graph through every instance field (so auto-properties, tuples, records, arrays and the
/// <see cref="ImmutableArray{T}"/> inside <see cref="EquatableArray{T}"/> are all covered), noting any symbol, syntax
/// node or tree, compilation or semantic model.
/// </summary>
internal sealed class ForbiddenObjectWalker
{
    private static readonly Type[] Forbidden =
    {
        typeof(ISymbol), typeof(SyntaxNode), typeof(SyntaxTree), typeof(Compilation), typeof(SemanticModel),
    };

    private readonly HashSet<object> _visited = new(ReferenceEqualityComparer.Instance);

    public List<string> Problems { get; } = new();

    public HashSet<Type> VisitedTypes { get; } = new();

    public void Walk(object? value, string path)
    {
        if (value is null) return;
        Type type = value.GetType();
        if (!type.IsValueType && !_visited.Add(value)) return;
        if (Forbidden.FirstOrDefault(f => f.IsAssignableFrom(type)) is { } forbidden)
        {
            Problems.Add($"{path}: {type.FullName} is a {forbidden.Name}");
            return;
        }
        if (type.IsPrimitive || type.IsEnum || type.IsPointer || value is string or decimal) return;
        if (value is Delegate or MemberInfo)
        {
            Problems.Add($"{path}: {type.FullName} compares by reference");
            return;
        }
        VisitedTypes.Add(type);

        if (value is Array array)
        {
            int i = 0;
            foreach (object? item in array) Walk(item, $"{path}[{i++}]");
            return;
        }
        for (Type? t = type; t is not null && t != typeof(object); t = t.BaseType)
        {
            foreach (FieldInfo field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (field.FieldType.IsPointer || field.FieldType.IsByRefLike) continue;
                Walk(field.GetValue(value), path + "." + Readable(field.Name));
            }
        }
    }

    /// <summary><c>&lt;Name&gt;k__BackingField</c> → <c>Name</c>.</summary>
    private static string Readable(string field)
        => field.StartsWith('<') && field.IndexOf('>') is > 1 and int end ? field[1..end] : field;
}
