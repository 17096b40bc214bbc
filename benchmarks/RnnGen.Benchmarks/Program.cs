using System;
using System.Linq;
using BenchmarkDotNet.Running;

namespace RnnGen.Benchmarks;

/// <summary>
/// Entry point. <c>--validate</c> runs only the set-up and the equality checks (exit code 1 if a peer disagrees);
/// <c>--paired [rounds]</c> the target ratios measured round by round in pairs (<see cref="Paired"/>);
/// <c>--paired-portable [rounds]</c> the same for the portable path (hardware intrinsics off, as on Unity);
/// anything else goes to BenchmarkDotNet's switcher, e.g. <c>--filter '*'</c> for the whole suite or
/// <c>--filter '*Streaming*'</c> for one group (Streaming, Sequence, Training, Agents, Window, Quantized).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is [TorchSharpDebian12.CheckArgument]) return TorchSharpDebian12.Check();
        bool informational = args.Any(a => a is "--list" or "--help" or "-h" or "--info" or "--version");
        // On Debian 12, TorchSharp runs only with a preloaded shim: apply it and run again in a child with it in place.
        if (!informational && TorchSharpDebian12.RunWithWorkaroundIfNeeded(args) is int exitCode) return exitCode;

        if (args.Contains("--validate"))
        {
            var checks = Fixture.Prepare();
            int failed = checks.Count(c => !c.Ok);
            Console.WriteLine(failed == 0
                ? $"// validate: {checks.Count} checks passed" + (Fixture.Skipped.Count > 0 ? $", {Fixture.Skipped.Count} peer(s) skipped" : "")
                : $"// validate: {failed} of {checks.Count} checks FAILED");
            return failed == 0 ? 0 : 1;
        }

        int portable = Array.IndexOf(args, "--paired-portable");
        if (portable >= 0)
        {
            int rounds = 5;
            if (portable + 1 < args.Length && !int.TryParse(args[portable + 1], out rounds) || rounds < 1)
            {
                Console.Error.WriteLine($"--paired-portable takes a number of rounds (at least 1); got '{args[portable + 1]}'.");
                return 2;
            }
            // The portable path is what runs where System.Runtime.Intrinsics does not (Unity): turn the intrinsics off
            // for a child process, set-up and equality checks included.
            if (System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated) return RunChild(args, "DOTNET_EnableHWIntrinsic", "0");
            if (Fixture.Prepare().Any(c => !c.Ok)) Console.WriteLine("// paired: peers that failed their equality check are left out");
            return Paired.RunPortable(rounds);
        }

        int paired = Array.IndexOf(args, "--paired");
        if (paired >= 0)
        {
            int rounds = 15;
            if (paired + 1 < args.Length && !int.TryParse(args[paired + 1], out rounds) || rounds < 1)
            {
                Console.Error.WriteLine($"--paired takes a number of rounds (at least 1); got '{args[paired + 1]}'.");
                return 2;
            }
            if (Fixture.Prepare().Any(c => !c.Ok)) Console.WriteLine("// paired: peers that failed their equality check are left out");
            return Paired.Run(rounds);
        }

        // The kernel group (Quantized) has no peers: a run filtered to it alone skips the set-up and its checks.
        bool kernelsOnly = args.SkipWhile(a => a != "--filter").Skip(1).TakeWhile(a => !a.StartsWith('-')).DefaultIfEmpty("").All(f => f.Contains("Quantized", StringComparison.Ordinal));
        if (!informational && !kernelsOnly) Fixture.Prepare();
        var summaries = BenchmarkSwitcher
            .FromTypes(new[] { typeof(Streaming), typeof(Sequence), typeof(Training), typeof(Agents), typeof(Window), typeof(Quantized) })
            .Run(args, new BenchmarkConfig());
        if (!informational) DerivedReport.Print(summaries);
        return 0;
    }

    /// <summary>Runs this program again with the same arguments and one more environment variable; its exit code.</summary>
    private static int RunChild(string[] args, string variable, string value)
    {
        string process = Environment.ProcessPath ?? throw new InvalidOperationException("the path of this process is unknown");
        var info = new System.Diagnostics.ProcessStartInfo(process) { UseShellExecute = false };
        // Started as `dotnet RnnGen.Benchmarks.dll`: the muxer needs the assembly again.
        if (System.IO.Path.GetFileNameWithoutExtension(process) == "dotnet") info.ArgumentList.Add(Environment.GetCommandLineArgs()[0]);
        foreach (string argument in args) info.ArgumentList.Add(argument);
        info.Environment[variable] = value;
        Console.WriteLine($"// running again with {variable}={value}");
        using var child = System.Diagnostics.Process.Start(info)!;
        child.WaitForExit();
        return child.ExitCode;
    }
}
