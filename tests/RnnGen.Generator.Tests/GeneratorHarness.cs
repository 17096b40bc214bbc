using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace RnnGen.Generator.Tests;

/// <summary>
/// Drives <see cref="RecurrentModelGenerator"/> in-process: source text → compilation → generator driver → generated
/// sources, generator diagnostics and the diagnostics of the compilation that includes the generated code.
/// </summary>
internal static class GeneratorHarness
{
    /// <summary>Path given to the first source's syntax tree; diagnostics are expected to point into it.</summary>
    public const string SourcePath = "/src/Models.cs";

    /// <summary>C# as the samples build it; documentation comments are parsed so broken crefs in generated XML docs show up.</summary>
    public static readonly CSharpParseOptions ParseOptions = CSharpParseOptions.Default
        .WithLanguageVersion(LanguageVersion.Latest)
        .WithDocumentationMode(DocumentationMode.Diagnose);

    private static readonly CSharpCompilationOptions CompilationOptions = new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary)
        .WithNullableContextOptions(NullableContextOptions.Enable)
        .WithWarningLevel(9999)
        .WithDeterministic(true)
        .WithSpecificDiagnosticOptions(new Dictionary<string, ReportDiagnostic>
        {
            // Assembly-unification notes between framework and package versions; the SDK silences these too.
            ["CS1701"] = ReportDiagnostic.Suppress,
            ["CS1702"] = ReportDiagnostic.Suppress,
            // Missing XML docs on the test's own model classes; the generated members are all documented.
            ["CS1591"] = ReportDiagnostic.Suppress,
        });

    private static readonly Lazy<ImmutableArray<MetadataReference>> s_references = new(LoadReferences);

    /// <summary>Every trusted platform assembly of the test host, plus RnnGen.Runtime.dll, each once.</summary>
    public static ImmutableArray<MetadataReference> References => s_references.Value;

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        string runtime = typeof(RnnGen.RecurrentModelAttribute).Assembly.Location;
        string trusted = (string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "";
        var byName = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string path in trusted.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Append(runtime))
        {
            // One file per assembly name: the runtime dll may already be on the list.
            byName[Path.GetFileNameWithoutExtension(path)] = path;
        }
        return byName.Values
            .OrderBy(p => p, StringComparer.Ordinal)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToImmutableArray();
    }

    /// <summary>A compilation of <paramref name="sources"/>; the first is at <see cref="SourcePath"/>, the others at /src/ExtraN.cs.</summary>
    public static CSharpCompilation CreateCompilation(params string[] sources)
    {
        var trees = sources.Select((text, i) => CSharpSyntaxTree.ParseText(
            text, ParseOptions, path: i == 0 ? SourcePath : $"/src/Extra{i}.cs"));
        return CSharpCompilation.Create("RnnGen.Generator.Tests.Input", trees, References, CompilationOptions);
    }

    /// <summary>A driver for the generator alone, tracking incremental steps.</summary>
    public static GeneratorDriver CreateDriver() => CSharpGeneratorDriver.Create(
        new[] { new RecurrentModelGenerator().AsSourceGenerator() },
        parseOptions: ParseOptions,
        driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Compiles <paramref name="sources"/> and runs the generator once on them.</summary>
    public static GeneratorRun Run(params string[] sources) => Run(CreateCompilation(sources));

    /// <summary>Runs <paramref name="driver"/> (a fresh one when null) on <paramref name="compilation"/>.</summary>
    public static GeneratorRun Run(Compilation compilation, GeneratorDriver? driver = null)
    {
        driver = (driver ?? CreateDriver()).RunGeneratorsAndUpdateCompilation(
            compilation, out Compilation output, out ImmutableArray<Diagnostic> driverDiagnostics);
        return new GeneratorRun(driver, compilation, output, driverDiagnostics);
    }
}

/// <summary>The outcome of one generator run.</summary>
internal sealed class GeneratorRun
{
    public GeneratorRun(GeneratorDriver driver, Compilation input, Compilation output, ImmutableArray<Diagnostic> driverDiagnostics)
    {
        Driver = driver;
        Input = input;
        Output = output;
        DriverDiagnostics = driverDiagnostics;
        RunResult = driver.GetRunResult();
        Result = Assert.Single(RunResult.Results);
    }

    public GeneratorDriver Driver { get; }

    public Compilation Input { get; }

    /// <summary>The input compilation plus the generated trees.</summary>
    public Compilation Output { get; }

    /// <summary>What the driver reported, including CS8785 when the generator throws.</summary>
    public ImmutableArray<Diagnostic> DriverDiagnostics { get; }

    public GeneratorDriverRunResult RunResult { get; }

    /// <summary>The result of the one generator under test.</summary>
    public GeneratorRunResult Result { get; }

    /// <summary>Diagnostics the generator reported (RNNG....).</summary>
    public ImmutableArray<Diagnostic> GeneratorDiagnostics => Result.Diagnostics;

    /// <summary>Generated files by hint name, in hint-name order.</summary>
    public IReadOnlyList<(string HintName, string Text)> Sources => Result.GeneratedSources
        .Select(s => (s.HintName, s.SourceText.ToString()))
        .OrderBy(s => s.HintName, StringComparer.Ordinal)
        .ToList();

    /// <summary>Warnings and errors of the compilation that includes the generated code (compiled once, on first use).</summary>
    public IReadOnlyList<Diagnostic> OutputProblems => _outputProblems ??= Output.GetDiagnostics()
        .Where(d => d.Severity >= DiagnosticSeverity.Warning)
        .ToList();

    private IReadOnlyList<Diagnostic>? _outputProblems;

    /// <summary>The generator neither threw nor was reported as failed.</summary>
    public void AssertGeneratorDidNotThrow()
    {
        Assert.Null(Result.Exception);
        Assert.DoesNotContain(DriverDiagnostics, d => d.Id == "CS8785");
    }

    /// <summary>The generator ran cleanly and the generated code compiles with no error or warning.</summary>
    public void AssertCompilesCleanly()
    {
        AssertGeneratorDidNotThrow();
        Assert.Empty(GeneratorDiagnostics);
        Assert.NotEmpty(Result.GeneratedSources);
        IReadOnlyList<Diagnostic> problems = OutputProblems;
        Assert.True(problems.Count == 0, "The output compilation has problems:\n" + string.Join("\n", problems));
    }
}
