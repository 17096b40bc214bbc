using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace RnnGen.CodeFixes.Tests;

/// <summary>
/// The pages under docs/diagnostics tell the truth: each example triggers exactly its error with exactly the message
/// shown, the code under "After" builds a model with no error, and the help links of the real diagnostics lead to them.
/// </summary>
public class DocsTests
{
    /// <summary>RNNG0001 to RNNG00{Count}; <see cref="The_index_lists_every_page"/> checks no page is left out.</summary>
    private const int Count = 14;

    public static TheoryData<string> Ids()
    {
        var ids = new TheoryData<string>();
        for (int i = 1; i <= Count; i++) ids.Add("RNNG" + i.ToString("D4", CultureInfo.InvariantCulture));
        return ids;
    }

    private static readonly Lazy<string> s_docs = new(() =>
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "RnnGen.sln"))) return Path.Combine(directory.FullName, "docs", "diagnostics");
        }
        throw new DirectoryNotFoundException("RnnGen.sln not found above " + AppContext.BaseDirectory);
    });

    private static string Page(string id) => File.ReadAllText(Path.Combine(s_docs.Value, id + ".md")).Replace("\r\n", "\n", StringComparison.Ordinal);

    /// <summary>The text of a level-2 section, up to the next level-2 heading.</summary>
    private static string Section(string page, string heading)
    {
        int start = page.IndexOf("\n## " + heading + "\n", StringComparison.Ordinal);
        Assert.True(start >= 0, "No '## " + heading + "' section.");
        int end = page.IndexOf("\n## ", start + 4, StringComparison.Ordinal);
        return end < 0 ? page.Substring(start) : page.Substring(start, end - start);
    }

    private static List<string> Blocks(string text, string language) => Regex
        .Matches(text, "```" + language + "\n(.*?)```", RegexOptions.Singleline)
        .Select(m => m.Groups[1].Value)
        .ToList();

    [Theory]
    [MemberData(nameof(Ids))]
    public async Task The_example_reports_exactly_the_message_shown(string id)
    {
        string page = Page(id);
        Assert.StartsWith("# " + id + ": ", page, StringComparison.Ordinal);
        string example = Section(page, "Example");
        string source = Blocks(example, "csharp")[0];
        string shown = Blocks(example, "text")[0].Trim();

        Document document = CodeFixHarness.CreateDocument(source);
        // RNNG0012's example is about the project, not the source: it references a runtime of the next layout.
        if (id == "RNNG0012") document = WithRuntimeOfLayout(document, RnnGen.CompilerServices.RuntimeLayout.Version + 1);
        ImmutableArray<Diagnostic> diagnostics = await CodeFixHarness.GeneratorDiagnosticsAsync(document);
        Diagnostic diagnostic = Assert.Single(diagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal($"error {id}: {diagnostic.GetMessage(CultureInfo.InvariantCulture)}", shown);

        // The page's title is the descriptor's, and the descriptor's help link is the page.
        string title = page.Substring(0, page.IndexOf('\n', StringComparison.Ordinal));
        Assert.Equal($"# {id}: {diagnostic.Descriptor.Title.ToString(CultureInfo.InvariantCulture)}", title);
        Assert.Equal($"https://github.com/rnngen/rnngen/blob/main/docs/diagnostics/{id}.md", diagnostic.Descriptor.HelpLinkUri);
    }

    /// <summary>
    /// The document's project with RnnGen.Runtime.dll replaced by an assembly of that name holding the real attribute
    /// and a <c>RuntimeLayout</c> of <paramref name="version"/>: a runtime of another package version, to the generator.
    /// </summary>
    private static Document WithRuntimeOfLayout(Document document, int version)
    {
        string root = Path.GetDirectoryName(Path.GetDirectoryName(s_docs.Value))!;
        string attribute = File.ReadAllText(Path.Combine(root, "src", "Runtime", "RecurrentModelAttribute.cs"));
        string layout = "namespace RnnGen.CompilerServices { public static class RuntimeLayout { public const int Version = "
            + version.ToString(CultureInfo.InvariantCulture) + "; } }";
        static bool IsRuntime(MetadataReference r) => Path.GetFileNameWithoutExtension(r.Display) == "RnnGen.Runtime";
        CSharpCompilation runtime = CSharpCompilation.Create(
            "RnnGen.Runtime",
            new[] { CSharpSyntaxTree.ParseText(attribute), CSharpSyntaxTree.ParseText(layout) },
            CodeFixHarness.PlatformReferences.Where(r => !IsRuntime(r)),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        Assert.DoesNotContain(runtime.GetDiagnostics(), d => d.Severity == DiagnosticSeverity.Error);
        Project project = document.Project;
        project = project.RemoveMetadataReference(project.MetadataReferences.Single(IsRuntime)).AddMetadataReference(runtime.ToMetadataReference());
        return project.GetDocument(document.Id)!;
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public async Task The_code_after_the_fix_has_no_error(string id)
    {
        string fix = Section(Page(id), "How to fix");
        string after = Blocks(fix, "csharp").Last();
        ImmutableArray<Diagnostic> diagnostics = await CodeFixHarness.GeneratorDiagnosticsAsync(after);
        Assert.True(diagnostics.IsEmpty, string.Join("; ", diagnostics.Select(d => d.Id + " " + d.GetMessage(CultureInfo.InvariantCulture))));
    }

    /// <summary>
    /// Every complete C# example of the guides (a block that starts with a using directive; the others are fragments)
    /// compiles against the code the generator writes for its models, with no error and no warning.
    /// </summary>
    /// <remarks>
    /// Only the examples' own files are bound (their use of the generated API), not the generated method bodies, which
    /// the generator's tests compile. And the models are built at small sizes: the generated code grows with the sizes
    /// (a 10000-word head is megabytes of source), its API does not.
    /// </remarks>
    [Fact]
    public void The_complete_examples_of_the_guides_compile()
    {
        string docs = Path.GetDirectoryName(s_docs.Value)!;
        var trees = new List<SyntaxTree>();
        foreach (string guide in new[] { "attributes.md", "pytorch-interop.md", "training.md" })
        {
            string text = File.ReadAllText(Path.Combine(docs, guide)).Replace("\r\n", "\n", StringComparison.Ordinal);
            List<string> blocks = Blocks(text, "csharp").Where(b => b.StartsWith("using ", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(blocks);
            trees.AddRange(blocks.Select((b, i) => CSharpSyntaxTree.ParseText(Shrink(b), CodeFixHarness.ParseOptions, path: $"/docs/{guide}#{i}.cs")));
        }

        var options = new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary)
            .WithNullableContextOptions(NullableContextOptions.Enable)
            .WithSpecificDiagnosticOptions(new Dictionary<string, ReportDiagnostic>
            {
                ["CS1701"] = ReportDiagnostic.Suppress,
                ["CS1702"] = ReportDiagnostic.Suppress,
            });
        CSharpCompilation compilation = CSharpCompilation.Create("Docs", trees, CodeFixHarness.PlatformReferences, options);
        CSharpGeneratorDriver.Create(new[] { new RnnGen.Generator.RecurrentModelGenerator().AsSourceGenerator() }, parseOptions: CodeFixHarness.ParseOptions)
            .RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> generatorDiagnostics);
        Assert.Empty(generatorDiagnostics);
        Assert.True(output.SyntaxTrees.Count() > trees.Count, "The generator wrote no model.");
        Diagnostic[] problems = trees
            .SelectMany(tree => output.GetSemanticModel(tree).GetDiagnostics())
            .Where(d => d.Severity >= DiagnosticSeverity.Warning)
            .ToArray();
        Assert.True(problems.Length == 0, string.Join("\n", problems.Select(d => d.ToString())));
    }

    /// <summary>Every size in a <c>[RecurrentModel(...)]</c> made small; everything else as written.</summary>
    private static string Shrink(string source) => Regex.Replace(source, @"\[RecurrentModel\((.*?)\)\]", attribute => Regex.Replace(
        attribute.Value,
        @"\b(Input|Hidden|Vocabulary|Output|Layers) = (\d+)",
        size => size.Groups[1].Value + " = " + size.Groups[1].Value switch
        {
            "Input" => "3",
            "Hidden" => "4",
            "Vocabulary" => "7",
            "Output" => "5",
            _ => Math.Min(int.Parse(size.Groups[2].Value, CultureInfo.InvariantCulture), 2).ToString(CultureInfo.InvariantCulture),
        }));

    [Fact]
    public void The_index_lists_every_page()
    {
        string index = File.ReadAllText(Path.Combine(s_docs.Value, "README.md"));
        Assert.Equal(Count, Directory.GetFiles(s_docs.Value, "RNNG*.md").Length);
        for (int i = 1; i <= Count; i++)
        {
            string id = "RNNG" + i.ToString("D4", CultureInfo.InvariantCulture);
            Assert.Contains($"[{id}]({id}.md)", index, StringComparison.Ordinal);
        }
    }
}
