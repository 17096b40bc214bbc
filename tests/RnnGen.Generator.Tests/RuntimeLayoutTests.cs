using System;
using System.Collections.Immutable;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using Xunit;

namespace RnnGen.Generator.Tests;

/// <summary>
/// The generator emits only for a runtime of its own layout: against an RnnGen.Runtime whose
/// <c>RnnGen.CompilerServices.RuntimeLayout.Version</c> differs, or that has none, it reports RNNG0012 on each model's
/// attribute and generates nothing; every generated constructor checks the layout of the runtime loaded at run time.
/// </summary>
public class RuntimeLayoutTests
{
    private const string Markup = """
        using RnnGen;

        namespace Models;

        [[|RecurrentModel(Cell = CellKind.Gru, Input = 4, Hidden = 8)|]]
        public partial class Tagger { }
        """;

    [Fact]
    public void The_runtime_built_with_the_generator_has_the_generator_s_layout()
        => Assert.Equal(RecurrentModelGenerator.RuntimeLayoutVersion, RnnGen.CompilerServices.RuntimeLayout.Version);

    [Fact]
    public void A_runtime_of_another_layout_is_RNNG0012_on_the_attribute_and_nothing_is_generated()
    {
        GeneratorRun run = RunAgainst(FakeRuntime(RecurrentModelGenerator.RuntimeLayoutVersion + 1), out TextSpan span);

        Diagnostic diagnostic = AssertSingleMismatch(run, span);
        Assert.Equal(
            "Model 'Tagger' is not generated: the referenced RnnGen.Runtime is layout " + Invariant(RecurrentModelGenerator.RuntimeLayoutVersion + 1)
            + ", but this generator emits code for runtime layout " + Invariant(RecurrentModelGenerator.RuntimeLayoutVersion)
            + "; use the same RnnGen package version for the generator and the runtime (one PackageReference to RnnGen brings both)",
            diagnostic.GetMessage(CultureInfo.InvariantCulture));
    }

    [Fact]
    public void A_runtime_from_before_the_layout_check_is_RNNG0012()
    {
        GeneratorRun run = RunAgainst(FakeRuntime(layoutVersion: null), out TextSpan span);

        Diagnostic diagnostic = AssertSingleMismatch(run, span);
        Assert.Contains("the referenced RnnGen.Runtime has no RnnGen.CompilerServices.RuntimeLayout (it is older than this generator)",
            diagnostic.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public void A_runtime_of_the_same_layout_is_accepted()
    {
        // The stand-in runtime proves the check reads the referenced assembly, not the one the generator was built with.
        GeneratorRun run = RunAgainst(FakeRuntime(RecurrentModelGenerator.RuntimeLayoutVersion), out _);

        run.AssertGeneratorDidNotThrow();
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Single(run.Result.GeneratedSources);
    }

    [Fact]
    public void The_generated_constructor_checks_the_layout_of_the_runtime_it_runs_against()
    {
        GeneratorRun run = GeneratorHarness.Run(Markup.Replace("[|", "", StringComparison.Ordinal).Replace("|]", "", StringComparison.Ordinal));
        run.AssertCompilesCleanly();

        string source = Assert.Single(run.Sources).Text;
        string check = "global::RnnGen.CompilerServices.RuntimeLayout.EnsureCompatible("
            + Invariant(RecurrentModelGenerator.RuntimeLayoutVersion) + ", \"Models.Tagger\");";
        // Once, in the constructor every other generated constructor chains to.
        Assert.Equal(1, Count(source, check));
        int constructor = source.IndexOf("public Tagger(int seed)", StringComparison.Ordinal);
        Assert.True(constructor >= 0);
        Assert.Equal(constructor, source.LastIndexOf("public Tagger(", source.IndexOf(check, StringComparison.Ordinal), StringComparison.Ordinal));
    }

    private static Diagnostic AssertSingleMismatch(GeneratorRun run, TextSpan span)
    {
        run.AssertGeneratorDidNotThrow();
        Diagnostic diagnostic = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("RNNG0012", diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(GeneratorHarness.SourcePath, diagnostic.Location.GetLineSpan().Path);
        Assert.Equal(span, diagnostic.Location.SourceSpan);
        Assert.Empty(run.Result.GeneratedSources);
        return diagnostic;
    }

    /// <summary>Runs the generator on <see cref="Markup"/> with <paramref name="runtime"/> in place of RnnGen.Runtime.dll.</summary>
    private static GeneratorRun RunAgainst(MetadataReference runtime, out TextSpan span)
    {
        (string source, TextSpan marked) = RnnGen.Generator.Tests.Markup.Parse(Markup);
        span = marked;
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation(source);
        MetadataReference real = compilation.References.Single(r => Path.GetFileNameWithoutExtension(r.Display) == "RnnGen.Runtime");
        return GeneratorHarness.Run(compilation.ReplaceReference(real, runtime));
    }

    /// <summary>
    /// An assembly named RnnGen.Runtime with the real attribute and its enums, and a <c>RuntimeLayout</c> of the given
    /// version (none when null): an RnnGen.Runtime of another package version, as far as the generator can tell.
    /// </summary>
    private static MetadataReference FakeRuntime(int? layoutVersion)
    {
        string attribute = File.ReadAllText(Path.Combine(RepositoryRoot(), "src", "Runtime", "RecurrentModelAttribute.cs"));
        string layout = layoutVersion is int v
            ? "namespace RnnGen.CompilerServices { public static class RuntimeLayout { public const int Version = " + Invariant(v) + "; } }"
            : "";
        CSharpCompilation runtime = CSharpCompilation.Create(
            "RnnGen.Runtime",
            new[] { CSharpSyntaxTree.ParseText(attribute), CSharpSyntaxTree.ParseText(layout) },
            GeneratorHarness.References.Where(r => Path.GetFileNameWithoutExtension(r.Display) != "RnnGen.Runtime"),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        Assert.Empty(runtime.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        return runtime.ToMetadataReference();
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "RnnGen.sln"))) return directory.FullName;
        }
        throw new DirectoryNotFoundException("RnnGen.sln not found above " + AppContext.BaseDirectory);
    }

    private static int Count(string text, string part)
    {
        int count = 0;
        for (int i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal)) count++;
        return count;
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The generator lays out each int8 copy (its offsets are constants) as the runtime's QuantizeInt8 writes it.</summary>
    [Theory]
    [InlineData(1, 1)]
    [InlineData(39, 7)]
    [InlineData(256, 32)]
    [InlineData(256, 64)]
    [InlineData(1024, 512)]
    [InlineData(65, 301)]
    [InlineData(5, 26)]
    public void Int8_copy_sizes_are_the_runtimes(int outputs, int inputs)
        => Assert.Equal(RnnGen.CompilerServices.Kernels.QuantizeInt8Size(outputs, inputs), RecurrentModelGenerator.Emitter.Int8Size(outputs, inputs));
}
