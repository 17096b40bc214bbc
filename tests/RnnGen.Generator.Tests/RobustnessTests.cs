using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;
using Xunit.Abstractions;

namespace RnnGen.Generator.Tests;

/// <summary>
/// The generator sees code as it is being typed: broken attributes, wrong types, missing values. It must never throw
/// (no CS8785 "generator failed"), and whatever it emits must not add errors to those the compiler already reports.
/// Unusual but valid declarations (keyword names, every kind of containing type) must generate code that compiles.
/// </summary>
public class RobustnessTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> BrokenSources => new()
    {
        { "missing value", "[RecurrentModel(Input = 4, Hidden = )] public partial class M { }" },
        { "string for int", "[RecurrentModel(Input = 4, Hidden = \"x\")] public partial class M { }" },
        { "double for int", "[RecurrentModel(Input = 4, Hidden = 1.5)] public partial class M { }" },
        { "long for int", "[RecurrentModel(Input = 4, Hidden = 4294967296)] public partial class M { }" },
        { "overflow", "[RecurrentModel(Input = 4, Hidden = int.MaxValue + 1)] public partial class M { }" },
        { "int for enum", "[RecurrentModel(Cell = 1, Input = 4, Hidden = 8)] public partial class M { }" },
        { "int for bool", "[RecurrentModel(Input = 4, Hidden = 8, Bias = 1)] public partial class M { }" },
        { "null for int", "[RecurrentModel(Input = 4, Hidden = null)] public partial class M { }" },
        { "undefined name", "[RecurrentModel(Input = 4, Hidden = Missing.Value)] public partial class M { }" },
        { "non-constant", "[RecurrentModel(Input = 4, Hidden = System.Environment.ProcessorCount)] public partial class M { }" },
        { "unknown property", "[RecurrentModel(Input = 4, Hidden = 8, Dropout = 1)] public partial class M { }" },
        { "duplicate argument", "[RecurrentModel(Input = 4, Input = 5, Hidden = 8)] public partial class M { }" },
        { "positional arguments", "[RecurrentModel(4, 8)] public partial class M { }" },
        { "unclosed argument list", "[RecurrentModel(Input = 4, Hidden = 8] public partial class M { }" },
        { "unclosed attribute", "[RecurrentModel(Input = 4, Hidden = 8) public partial class M { }" },
        { "no class name", "[RecurrentModel(Input = 4, Hidden = 8)] public partial class { }" },
        { "no class body", "[RecurrentModel(Input = 4, Hidden = 8)] public partial class M" },
        { "attribute twice", "[RecurrentModel(Input = 4, Hidden = 8)][RecurrentModel(Input = 5, Hidden = 9)] public partial class M { }" },
        { "attribute on two parts", "[RecurrentModel(Input = 4, Hidden = 8)] public partial class M { } [RecurrentModel(Input = 4, Hidden = 8)] public partial class M { }" },
        { "on a struct", "[RecurrentModel(Input = 4, Hidden = 8)] public partial struct M { }" },
        { "on a record", "[RecurrentModel(Input = 4, Hidden = 8)] public partial record M;" },
        { "on an interface", "[RecurrentModel(Input = 4, Hidden = 8)] public partial interface M { }" },
        { "on a method", "public partial class C { [RecurrentModel(Input = 4, Hidden = 8)] void M() { } }" },
        { "combined flags", "[RecurrentModel(Cell = CellKind.Lstm | CellKind.Gru, Input = 4, Hidden = 8)] public partial class M { }" },
        { "everything wrong", "[RecurrentModel(Nonlinearity = Nonlinearity.Relu, Cell = (CellKind)99, Input = -1, Hidden = 99999, Vocabulary = -5, Output = -7, Layers = 0)] public static class M<T> { }" },
        { "type and namespace clash", "namespace N { [RecurrentModel(Input = 4, Hidden = 8)] public partial class M { } } public partial class N { [RecurrentModel(Input = 4, Hidden = 8)] public partial class M { } }" },
    };

    [Theory]
    [MemberData(nameof(BrokenSources))]
    public void NeverThrows(string name, string body)
    {
        GeneratorRun run = GeneratorHarness.Run("using RnnGen;\n\n" + body + "\n");
        output.WriteLine(name);
        foreach (Diagnostic d in run.Input.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error)) output.WriteLine("input:     " + d);
        foreach (Diagnostic d in run.GeneratorDiagnostics) output.WriteLine("generator: " + d);
        foreach ((string hint, _) in run.Sources) output.WriteLine("generated: " + hint);
        run.AssertGeneratorDidNotThrow();
        if (run.Sources.Count == 0) return;

        // Whatever the generator emits for broken input must not add errors of its own.
        var generatedTrees = run.Output.SyntaxTrees.Except(run.Input.SyntaxTrees).ToHashSet();
        foreach (Diagnostic d in run.OutputProblems) output.WriteLine("output:    " + d);
        Assert.DoesNotContain(run.OutputProblems, d => d.Location.SourceTree is { } tree && generatedTrees.Contains(tree));
    }

    [Fact]
    public void AttributeOnTwoPartsOfOneClassGeneratesOnce()
    {
        GeneratorRun run = GeneratorHarness.Run(
            "using RnnGen;\n[RecurrentModel(Input = 4, Hidden = 8)] public partial class M { }\n",
            "using RnnGen;\n[RecurrentModel(Input = 4, Hidden = 8)] public partial class M { }\n");
        run.AssertGeneratorDidNotThrow();
        Assert.Equal("M.g.cs", Assert.Single(run.Sources).HintName);
    }

    [Fact]
    public void ClassWithoutANameGeneratesNothing()
    {
        GeneratorRun run = GeneratorHarness.Run("using RnnGen;\n[RecurrentModel(Input = 4, Hidden = 8)] public partial class { }\n");
        run.AssertGeneratorDidNotThrow();
        Assert.Empty(run.Sources);
        Assert.Empty(run.GeneratorDiagnostics);
    }

    [Fact]
    public void NestedModelsAreNamedLikeMetadata()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            using RnnGen;
            namespace N { [RecurrentModel(Input = 4, Hidden = 8)] public partial class M { } }
            public partial class N { [RecurrentModel(Input = 4, Hidden = 8)] public partial class M { } }
            """);
        run.AssertGeneratorDidNotThrow();
        Assert.Equal(new[] { "N+M.g.cs", "N.M.g.cs" }, run.Sources.Select(s => s.HintName));
    }

    [Fact]
    public void KeywordNamesAreEscapedInCodeButNotInHintNames()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            using RnnGen;
            namespace @class;
            public partial class @static { [RecurrentModel(Input = 4, Hidden = 8)] public partial class @event { } }
            """);
        run.AssertCompilesCleanly();
        (string hintName, string text) = Assert.Single(run.Sources);
        Assert.Equal("class.static+event.g.cs", hintName);
        Assert.Contains("namespace @class\n", text, System.StringComparison.Ordinal);
        Assert.Contains("partial class @static\n", text, System.StringComparison.Ordinal);
        Assert.Contains("partial class @event : ", text, System.StringComparison.Ordinal);
    }

    public static TheoryData<string, string> UnusualValidDeclarations => new()
    {
        { "keyword class name", "namespace N; [RecurrentModel(Input = 2, Hidden = 3)] public partial class @event { }" },
        { "keyword namespace", "namespace @class.@int; [RecurrentModel(Input = 2, Hidden = 3)] public partial class M { }" },
        { "in a struct", "public partial struct S { [RecurrentModel(Input = 2, Hidden = 3)] public partial class M { } }" },
        { "in a record", "public partial record R { [RecurrentModel(Input = 2, Hidden = 3)] public partial class M { } }" },
        { "in a record struct", "public partial record struct R { [RecurrentModel(Input = 2, Hidden = 3)] public partial class M { } }" },
        { "in an interface", "public partial interface I { [RecurrentModel(Input = 2, Hidden = 3)] public partial class M { } }" },
        { "in a static class", "public static partial class S { [RecurrentModel(Input = 2, Hidden = 3)] private partial class M { } }" },
        { "two levels deep", "namespace A.B { internal partial class O1 { protected internal partial class O2 { [RecurrentModel(Input = 2, Hidden = 3)] private protected partial class M { } } } }" },
        { "sealed", "[RecurrentModel(Input = 2, Hidden = 3)] public sealed partial class M { }" },
        { "with a base class", "public class Base { } [RecurrentModel(Input = 2, Hidden = 3)] public partial class M : Base { }" },
        { "parts in one file", "[RecurrentModel(Input = 2, Hidden = 3)] public partial class M { } public partial class M { public int Extra => 1; }" },
        { "namespace and nested type of the same path", "namespace N { [RecurrentModel(Input = 2, Hidden = 3)] public partial class M { } } namespace P { public partial class N { [RecurrentModel(Input = 2, Hidden = 3)] public partial class M { } } }" },
        { "fully qualified attribute", "[global::RnnGen.RecurrentModelAttribute(Cell = global::RnnGen.CellKind.Gru, Input = 2, Hidden = 3)] public partial class M { }" },
        { "constants as arguments", "public static class Sizes { public const int H = 3; } [RecurrentModel(Input = Sizes.H - 1, Hidden = Sizes.H, Layers = (int)CellKind.Gru)] public partial class M { }" },
    };

    [Theory]
    [MemberData(nameof(UnusualValidDeclarations))]
    public void UnusualValidDeclarationsCompile(string name, string body)
    {
        output.WriteLine(name);
        GeneratorRun run = GeneratorHarness.Run("using RnnGen;\n\n" + body + "\n");
        foreach (Diagnostic d in run.OutputProblems) output.WriteLine(d.ToString());
        run.AssertCompilesCleanly();
    }
}
