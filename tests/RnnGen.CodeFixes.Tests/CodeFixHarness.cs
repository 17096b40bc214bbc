using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using RnnGen.Generator;
using Xunit;

namespace RnnGen.CodeFixes.Tests;

/// <summary>
/// What an IDE does with a generator diagnostic, in-process: put the source in an <see cref="AdhocWorkspace"/> document,
/// run <see cref="RecurrentModelGenerator"/> on the project's compilation, hand one of its diagnostics to a
/// <see cref="CodeFixProvider"/>, and apply the action it registers.
/// </summary>
internal static class CodeFixHarness
{
    /// <summary>Path of the document; the generator's diagnostics carry it.</summary>
    public const string SourcePath = "/src/Models.cs";

    public static readonly CSharpParseOptions ParseOptions = CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Latest);

    private static readonly CSharpCompilationOptions CompilationOptions = new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary)
        .WithNullableContextOptions(NullableContextOptions.Enable);

    private static readonly Lazy<ImmutableArray<MetadataReference>> s_references = new(LoadReferences);

    /// <summary>
    /// The core library, its System.Runtime facade and RnnGen.Runtime.dll: enough to bind <c>[RecurrentModel]</c>, which is
    /// all the generator needs (these tests never compile the generated code), and far quicker to load than every
    /// assembly of the platform.
    /// </summary>
    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        string trusted = (string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "";
        var wanted = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "System.Private.CoreLib", "System.Runtime" };
        return trusted.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(path => wanted.Contains(Path.GetFileNameWithoutExtension(path)))
            .Append(typeof(RecurrentModelAttribute).Assembly.Location)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToImmutableArray();
    }

    private static readonly Lazy<ImmutableArray<MetadataReference>> s_platformReferences = new(LoadPlatformReferences);

    /// <summary>Every trusted platform assembly of the test host plus RnnGen.Runtime.dll, each once: what compiling generated code needs.</summary>
    public static ImmutableArray<MetadataReference> PlatformReferences => s_platformReferences.Value;

    private static ImmutableArray<MetadataReference> LoadPlatformReferences()
    {
        string trusted = (string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "";
        var byName = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string path in trusted.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Append(typeof(RecurrentModelAttribute).Assembly.Location))
        {
            byName[Path.GetFileNameWithoutExtension(path)] = path;
        }
        return byName.Values
            .OrderBy(p => p, StringComparer.Ordinal)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToImmutableArray();
    }

    /// <summary>A document at <see cref="SourcePath"/> holding <paramref name="source"/>, in a fresh workspace.</summary>
    public static Document CreateDocument(string source)
    {
        var workspace = new AdhocWorkspace();
        ProjectId projectId = ProjectId.CreateNewId();
        DocumentId documentId = DocumentId.CreateNewId(projectId);
        Solution solution = workspace.CurrentSolution
            .AddProject(ProjectInfo.Create(
                projectId,
                VersionStamp.Default,
                name: "Models",
                assemblyName: "Models",
                language: LanguageNames.CSharp,
                compilationOptions: CompilationOptions,
                parseOptions: ParseOptions,
                metadataReferences: s_references.Value))
            .AddDocument(documentId, "Models.cs", SourceText.From(source), filePath: SourcePath);
        return solution.GetDocument(documentId)!;
    }

    /// <summary>Runs the generator on the document's project and returns what it reported, in source order.</summary>
    public static async Task<ImmutableArray<Diagnostic>> GeneratorDiagnosticsAsync(Document document)
    {
        Compilation compilation = (await document.Project.GetCompilationAsync().ConfigureAwait(false))!;
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            new[] { new RecurrentModelGenerator().AsSourceGenerator() },
            parseOptions: ParseOptions);
        GeneratorRunResult result = Assert.Single(driver.RunGenerators(compilation).GetRunResult().Results);
        Assert.Null(result.Exception);
        return result.Diagnostics
            .OrderBy(d => d.Location.SourceSpan.Start)
            .ThenBy(d => d.Id, StringComparer.Ordinal)
            .ToImmutableArray();
    }

    /// <summary>Runs the generator on <paramref name="source"/> alone.</summary>
    public static Task<ImmutableArray<Diagnostic>> GeneratorDiagnosticsAsync(string source) => GeneratorDiagnosticsAsync(CreateDocument(source));

    /// <summary>Every action <paramref name="provider"/> registers for <paramref name="diagnostic"/>.</summary>
    public static async Task<IReadOnlyList<CodeAction>> ActionsAsync(CodeFixProvider provider, Document document, Diagnostic diagnostic)
    {
        Assert.Contains(diagnostic.Id, provider.FixableDiagnosticIds);
        var actions = new List<CodeAction>();
        var context = new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None);
        await provider.RegisterCodeFixesAsync(context).ConfigureAwait(false);
        return actions;
    }

    /// <summary>Applies <paramref name="action"/>'s operations and returns the document's new text.</summary>
    public static async Task<string> ApplyAsync(CodeAction action, Document document)
    {
        ImmutableArray<CodeActionOperation> operations = await action.GetOperationsAsync(CancellationToken.None).ConfigureAwait(false);
        ApplyChangesOperation apply = Assert.Single(operations.OfType<ApplyChangesOperation>());
        Document changed = apply.ChangedSolution.GetDocument(document.Id)!;
        return (await changed.GetTextAsync().ConfigureAwait(false)).ToString();
    }

    /// <summary>
    /// The whole round trip: the generator reports exactly <paramref name="id"/> (once, or <paramref name="count"/>
    /// times) on <paramref name="before"/>, plus <paramref name="unrelated"/> if given; the provider's only action for the
    /// first <paramref name="id"/> is titled <paramref name="title"/> and turns the source into <paramref name="after"/>;
    /// on that the generator reports nothing but <paramref name="unrelated"/>.
    /// </summary>
    /// <remarks>
    /// An <paramref name="unrelated"/> error (say RNNG0001 on a class left non-partial on purpose) keeps the generator from
    /// emitting the model, for fixed sources whose model would take seconds to emit (a head of a million rows).
    /// </remarks>
    public static async Task AssertFixAsync(CodeFixProvider provider, string id, string before, string after, string title, int count = 1, string? unrelated = null)
    {
        Document document = CreateDocument(Normalize(before));
        ImmutableArray<Diagnostic> diagnostics = await GeneratorDiagnosticsAsync(document);
        string[] others = unrelated is null ? Array.Empty<string>() : new[] { unrelated };
        Assert.Equal(Enumerable.Repeat(id, count).Concat(others).OrderBy(x => x, StringComparer.Ordinal), diagnostics.Select(d => d.Id).OrderBy(x => x, StringComparer.Ordinal));

        IReadOnlyList<CodeAction> actions = await ActionsAsync(provider, document, diagnostics.First(d => d.Id == id));
        CodeAction action = Assert.Single(actions);
        Assert.Equal(title, action.Title);
        Assert.False(string.IsNullOrEmpty(action.EquivalenceKey));

        string fixedSource = await ApplyAsync(action, document);
        Assert.Equal(Normalize(after), fixedSource);
        ImmutableArray<Diagnostic> remaining = await GeneratorDiagnosticsAsync(fixedSource);
        Assert.True(remaining.Select(d => d.Id).SequenceEqual(others),
            "The fixed source has: " + string.Join("; ", remaining.Select(d => d.Id + " " + d.GetMessage(CultureInfo.InvariantCulture))));
    }

    /// <summary>Raw string literals use the file's line endings; the fixes keep whatever the source has.</summary>
    public static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal);
}
