using System;
using System.ComponentModel;
using System.Diagnostics;
using System.IO;
using System.Linq;

namespace RnnGen.Benchmarks;

/// <summary>
/// TorchSharp 0.107 on Debian 12: its native bridge needs <c>GLIBCXX_3.4.32</c> for one symbol, which GCC 12's
/// libstdc++ lacks. When that is the reason it does not load, and g++ and python3 are on PATH, this builds the
/// one-symbol shim from <c>torchsharp-debian12/</c> into the build output, marks the requirement weak in the build
/// output's copy of <c>libLibTorchSharp.so</c>, checks in a child process that TorchSharp then runs, and runs the
/// program again with <c>LD_PRELOAD</c> set (see benchmarks/torchsharp-debian12/README.md). Any failure leaves the
/// run going without TorchSharp and says why.
/// </summary>
internal static class TorchSharpDebian12
{
    /// <summary>Set in the re-launched process (so it does not try again); <c>off</c> disables the workaround.</summary>
    public const string GuardVariable = "RNNGEN_TORCHSHARP_DEBIAN12";

    /// <summary>The argument of the child that only checks TorchSharp loads (exit code 0 when it does).</summary>
    public const string CheckArgument = "--torchsharp-check";

    private const string MissingVersion = "GLIBCXX_3.4.32";

    /// <summary>Why the workaround was not used, for the skip message; null when it was not needed or is in use.</summary>
    public static string? Note { get; private set; }

    /// <summary>True in the process started with the workaround in place.</summary>
    public static bool Applied => Environment.GetEnvironmentVariable(GuardVariable) == "applied";

    /// <summary>
    /// Applies the workaround and runs this program again when TorchSharp needs it and it can be applied: returns the
    /// exit code of that run, or null to go on in this process (workaround not needed, disabled, or failed).
    /// </summary>
    public static int? RunWithWorkaroundIfNeeded(string[] args)
    {
        if (!OperatingSystem.IsLinux()) return null;
        string? guard = Environment.GetEnvironmentVariable(GuardVariable);
        if (guard is "applied") return null;
        string? bridge = TorchSharpProbe.FindNativeBridge();
        if (bridge is null || !Needed(bridge)) return null;
        if (guard is "off")
        {
            Note = $"the workaround in benchmarks/torchsharp-debian12 is off ({GuardVariable}=off)";
            return null;
        }
        try
        {
            string? preload = Apply(bridge);
            if (preload is null) return null;
            Console.WriteLine($"// TorchSharp: {Path.GetFileName(bridge)} needs {MissingVersion}; applied benchmarks/torchsharp-debian12 (shim + weak version requirement); running again with LD_PRELOAD={preload}");
            return Run(args, preload, out _);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Win32Exception or InvalidOperationException)
        {
            Fail($"{e.GetType().Name}: {e.Message}");
            return null;
        }
    }

    /// <summary>Builds the shim, weakens the bridge's requirement and checks TorchSharp runs; the LD_PRELOAD value, or null.</summary>
    private static string? Apply(string bridge)
    {
        string tools = Path.Combine(AppContext.BaseDirectory, "torchsharp-debian12");
        string source = Path.Combine(tools, "ios_base_shim.cpp"), map = Path.Combine(tools, "shim.map"), weaken = Path.Combine(tools, "weaken_verneed.py");
        if (!File.Exists(source) || !File.Exists(map) || !File.Exists(weaken))
            return Fail($"{tools} is incomplete (rebuild the benchmark project)");
        string? gxx = FindOnPath("g++");
        if (gxx is null) return Fail("g++ is not on PATH (apt-get install -y g++)");
        string? python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : FindOnPath("python3");
        if (python is null) return Fail("python3 is not on PATH");

        string shim = Path.Combine(tools, "libios_base_shim.so");
        if (!File.Exists(shim) || File.GetLastWriteTimeUtc(shim) < File.GetLastWriteTimeUtc(source))
        {
            var (exit, output) = RunTool(gxx, "-O2", "-shared", "-fPIC", "-Wl,--version-script=" + map, "-o", shim, source);
            if (exit != 0) return Fail($"g++ failed (exit {exit}): {LastLine(output)}");
        }
        var (weakExit, weakOutput) = RunTool(python, weaken, bridge, MissingVersion);
        if (weakExit != 0) return Fail($"weaken_verneed.py failed (exit {weakExit}): {LastLine(weakOutput)}");

        // A short child first: if TorchSharp still does not run (or crashes) with the workaround, this run goes on without it.
        int check = Run(new[] { CheckArgument }, shim, out string checkOutput);
        if (check != 0) return Fail($"TorchSharp still does not run with it (exit {check}): {LastLine(checkOutput)}");
        return shim;
    }

    /// <summary>The <see cref="CheckArgument"/> child: exit code 0 when TorchSharp loads and computes.</summary>
    public static int Check()
    {
        if (TorchSharpProbe.Available) return 0;
        Console.WriteLine(TorchSharpProbe.Failure);
        return 1;
    }

    /// <summary>Runs this program with the given arguments and the shim preloaded; output is captured only for the check.</summary>
    private static int Run(string[] args, string preload, out string output)
    {
        string process = Environment.ProcessPath ?? throw new InvalidOperationException("the path of this process is unknown");
        var info = new ProcessStartInfo(process) { UseShellExecute = false };
        // Started as `dotnet RnnGen.Benchmarks.dll`: the muxer needs the assembly again.
        if (Path.GetFileNameWithoutExtension(process) == "dotnet") info.ArgumentList.Add(Environment.GetCommandLineArgs()[0]);
        foreach (string argument in args) info.ArgumentList.Add(argument);
        string? existing = Environment.GetEnvironmentVariable("LD_PRELOAD");
        info.Environment["LD_PRELOAD"] = string.IsNullOrEmpty(existing) ? preload : preload + ":" + existing;
        info.Environment[GuardVariable] = "applied";
        bool capture = args is [CheckArgument];
        info.RedirectStandardOutput = capture;
        info.RedirectStandardError = capture;
        using var child = Process.Start(info)!;
        if (capture)
        {
            var stdout = child.StandardOutput.ReadToEndAsync();
            var stderr = child.StandardError.ReadToEndAsync();
            if (!child.WaitForExit((int)TimeSpan.FromMinutes(2).TotalMilliseconds))
            {
                child.Kill(entireProcessTree: true);
                output = "timed out after 120 s";
                return -2;
            }
            output = stdout.Result + stderr.Result;
        }
        else
        {
            child.WaitForExit();
            output = "";
        }
        return child.ExitCode;
    }

    /// <summary>
    /// True when the bridge asks for <c>GLIBCXX_3.4.32</c> and the libstdc++ this process runs on lacks it. Decided
    /// from the files rather than by loading the bridge: once weakened, loading it without the shim would fail at its
    /// first call into the missing symbol, which ends the process instead of throwing.
    /// </summary>
    public static bool Needed(string bridge)
    {
        try
        {
            return Contains(bridge, MissingVersion) && LoadedLibStdCxx() is { } libstdcxx && !Contains(libstdcxx, MissingVersion);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The libstdc++ mapped into this process (the .NET runtime links it), from /proc/self/maps.</summary>
    public static string? LoadedLibStdCxx() =>
        File.ReadLines("/proc/self/maps")
            .Select(line => line.IndexOf('/') is int at and >= 0 ? line.Substring(at) : "")
            .FirstOrDefault(path => Path.GetFileName(path).StartsWith("libstdc++.so", StringComparison.Ordinal) && File.Exists(path));

    private static bool Contains(string path, string text) =>
        File.ReadAllBytes(path).AsSpan().IndexOf(System.Text.Encoding.ASCII.GetBytes(text)) >= 0;

    private static string? Fail(string why)
    {
        Note = "the workaround in benchmarks/torchsharp-debian12 was not applied: " + why;
        Console.WriteLine("// TorchSharp: " + Note);
        return null;
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    private static (int Exit, string Output) RunTool(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments) info.ArgumentList.Add(argument);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit((int)TimeSpan.FromMinutes(2).TotalMilliseconds))
        {
            process.Kill(entireProcessTree: true);
            return (-2, "timed out after 120 s");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    private static string LastLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
}
