using System.IO;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using ApprovalTests;
using ApprovalTests.Core;
using ApprovalTests.Reporters;
using ApprovalTests.Writers;

namespace RnnGen.Generator.Tests;

/// <summary>
/// File snapshots with ApprovalTests: <c>Snapshots/{name}.approved.txt</c> beside this project's sources.
/// On a mismatch the test fails and leaves <c>{name}.received.txt</c> next to it (git-ignored); no diff tool is
/// launched, so a headless CI machine fails cleanly. To accept a change, move the received file over the approved one.
/// </summary>
internal static partial class Snapshot
{
    private const string Folder = "Snapshots";

    /// <summary>Scrubs the generator version from <paramref name="text"/> and compares it with the approved snapshot.</summary>
    public static void Verify(string name, string text, [CallerFilePath] string callerFile = "")
    {
        string directory = Path.Combine(ProjectDirectory(callerFile), Folder);
        Approvals.Verify(
            WriterFactory.CreateTextWriter(ScrubVersion(text)),
            new Namer(directory, name),
            QuietReporter.INSTANCE);
    }

    /// <summary>Replaces the generator version in the <c>GeneratedCode</c> attribute and the header line with <c>{version}</c>.</summary>
    public static string ScrubVersion(string text)
    {
        text = GeneratedCodeVersion().Replace(text, "${prefix}{version}\")");
        return HeaderVersion().Replace(text, "${prefix}{version}:");
    }

    [GeneratedRegex("""(?<prefix>GeneratedCode\("RnnGen\.Generator", ")[^"]*"\)""")]
    private static partial Regex GeneratedCodeVersion();

    [GeneratedRegex(@"^(?<prefix>// RnnGen )[^\s:]+:", RegexOptions.Multiline)]
    private static partial Regex HeaderVersion();

    /// <summary>
    /// The directory of the test sources: the caller's directory when the compiler recorded a real path, else found by
    /// walking up from the test binaries to this project file (for builds with mapped source paths).
    /// </summary>
    private static string ProjectDirectory(string callerFile)
    {
        string? fromCaller = Path.GetDirectoryName(callerFile);
        if (!string.IsNullOrEmpty(fromCaller) && File.Exists(Path.Combine(fromCaller, "RnnGen.Generator.Tests.csproj")))
        {
            return fromCaller;
        }
        for (DirectoryInfo? dir = new(System.AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RnnGen.Generator.Tests.csproj"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException("Cannot find the RnnGen.Generator.Tests project directory for snapshots.");
    }

    private sealed class Namer(string sourcePath, string name) : IApprovalNamer
    {
        public string SourcePath { get; } = sourcePath;

        public string Name { get; } = name;
    }
}
