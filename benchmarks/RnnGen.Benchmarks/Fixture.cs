using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace RnnGen.Benchmarks;

/// <summary>The peers compared with the generated models.</summary>
public enum Peer
{
    /// <summary>The generated model against itself: multi-agent Step against single Steps.</summary>
    Ours,
    /// <summary>The hand-written LSTM/GRU with runtime sizes (<see cref="HandWrittenRnn"/>).</summary>
    HandWritten,
    /// <summary>ONNX Runtime over graphs exported from the same weights.</summary>
    Ort,
    /// <summary>ONNX Runtime's own int8 LSTM (<c>DynamicQuantizeLSTM</c>) on the same weights, quantized by export_onnx.py.</summary>
    OrtInt8,
    /// <summary>TorchSharp (libtorch), where its native library loads.</summary>
    TorchSharp,
}

/// <summary>The outcome of one equality check: a peer against the generated model on one case.</summary>
public sealed record PeerCheck(Peer Peer, string Case, bool Ok, double MaxDifference, string Note);

/// <summary>
/// The set-up step shared by <c>--validate</c> and the benchmarks: save the generated models' weights (fixed seed) as
/// safetensors, export the ONNX graphs from them with <c>export_onnx.py</c>, and check every peer against the generated
/// models. A peer that is missing is skipped with the reason printed; a peer that disagrees beyond
/// <see cref="Tolerance"/> is reported as an error and left out of the benchmarks. Nothing here throws for a missing peer.
/// </summary>
public static class Fixture
{
    /// <summary>Seed of every model's weights.</summary>
    public const int Seed = 20240917;

    /// <summary>Largest absolute difference accepted between a peer and the generated model.</summary>
    public const double Tolerance = 1e-4;

    public const int SequenceSteps = 128;
    public const int SequenceBatch = 32;
    public const int CharSteps = 64;
    public const int TrainingBatch = 32;
    public const int Agents = 256;

    private static readonly object s_gate = new();
    private static List<PeerCheck>? s_checks;
    private static readonly List<string> s_skipped = new();

    /// <summary>Where weights and ONNX graphs are written: BenchmarkDotNet's artifacts folder, or RNNGEN_BENCH_MODELS.</summary>
    public static string Directory { get; } =
        Environment.GetEnvironmentVariable("RNNGEN_BENCH_MODELS") is { Length: > 0 } dir
            ? Path.GetFullPath(dir)
            : Path.Combine(Environment.CurrentDirectory, "BenchmarkDotNet.Artifacts", "rnngen-models");

    /// <summary>Why ONNX Runtime rows are skipped, or null when the graphs were exported.</summary>
    public static string? OrtUnavailable { get; private set; }

    /// <summary>Why the ONNX Runtime int8 rows are skipped (the float ones may still run), or null when its graph was exported.</summary>
    public static string? OrtInt8Unavailable { get; private set; }

    /// <summary>The model ONNX Runtime's int8 LSTM peer runs (the issue's streaming target).</summary>
    public static ModelSpec OrtInt8Model => ModelSpec.Of(StreamingModel.Lstm32x64);

    /// <summary>Every check made, once <see cref="Prepare"/> has run.</summary>
    public static IReadOnlyList<PeerCheck> Checks => Prepare();

    /// <summary>Peers skipped (not installed / not loadable), with the reason.</summary>
    public static IReadOnlyList<string> Skipped { get { Prepare(); return s_skipped; } }

    /// <summary>True when the peer was checked on this case and agreed with the generated model.</summary>
    public static bool IsUsable(Peer peer, string caseKey) =>
        Prepare().Any(c => c.Peer == peer && c.Case == caseKey && c.Ok);

    /// <summary>Runs the set-up and the checks once; later calls return the same results.</summary>
    public static IReadOnlyList<PeerCheck> Prepare()
    {
        lock (s_gate)
        {
            if (s_checks is not null) return s_checks;
            var checks = new List<PeerCheck>();
            var clock = Stopwatch.StartNew();
            Console.WriteLine($"// RnnGen benchmarks set-up: models (seed {Seed}) in {Directory}");
            System.IO.Directory.CreateDirectory(Directory);
            SaveWeights();
            ExportOnnx();
            Validation.Run(checks, s_skipped);
            Console.WriteLine($"// set-up and equality checks took {clock.Elapsed.TotalSeconds:F1} s");
            int failed = checks.Count(c => !c.Ok);
            if (failed > 0) Console.WriteLine($"// ERROR: {failed} peer check(s) failed; those peers are not benchmarked.");
            s_checks = checks;
            return checks;
        }
    }

    private static void SaveWeights()
    {
        foreach (StreamingModel model in Enum.GetValues<StreamingModel>())
            Save(ModelSpec.CreateStreaming(model), ModelSpec.Of(model).WeightsPath);
        Save(new BiLstm128x256(Seed), ModelSpec.Sequence.WeightsPath);
        Save(new CharLstm(Seed), TrainingData.CharWeightsPath);

        static void Save(IRecurrentModel model, string path)
        {
            using var stream = File.Create(path);
            model.SaveSafetensors(stream);
        }
    }

    /// <summary>The ONNX graphs to export: one-step graphs for the streaming sizes, the whole-sequence graph for configuration 2.</summary>
    public static IEnumerable<ModelSpec> OnnxModels =>
        Enum.GetValues<StreamingModel>().Select(ModelSpec.Of).Append(ModelSpec.Sequence);

    private static void ExportOnnx()
    {
        string script = Path.Combine(AppContext.BaseDirectory, "export_onnx.py");
        if (!File.Exists(script))
        {
            OrtUnavailable = OrtInt8Unavailable = "export_onnx.py is not next to the benchmark binary";
            return;
        }
        string? python = FindPython(script, out string why);
        if (python is null)
        {
            OrtUnavailable = OrtInt8Unavailable = why;
            return;
        }
        var jobs = OnnxModels.Select(m => new Dictionary<string, object>
        {
            ["cell"] = m.IsLstm ? "lstm" : "gru",
            ["input"] = m.InputSize,
            ["hidden"] = m.HiddenSize,
            ["layers"] = m.Layers,
            ["bidirectional"] = m.Bidirectional,
            ["mode"] = m.OnnxMode,
            ["weights"] = m.WeightsPath,
            ["out"] = m.OnnxPath,
        }).ToList();
        // Last, so a failure of the int8 graph alone leaves the float graphs written and benchmarked.
        ModelSpec int8 = OrtInt8Model;
        jobs.Add(new Dictionary<string, object>
        {
            ["cell"] = "lstm",
            ["input"] = int8.InputSize,
            ["hidden"] = int8.HiddenSize,
            ["mode"] = "step-int8",
            ["weights"] = int8.WeightsPath,
            ["out"] = int8.OnnxInt8Path,
        });
        string jobsPath = Path.Combine(Directory, "onnx-jobs.json");
        File.WriteAllText(jobsPath, JsonSerializer.Serialize(jobs));
        foreach (ModelSpec m in OnnxModels) File.Delete(m.OnnxPath);
        File.Delete(int8.OnnxInt8Path);
        var (exit, output) = RunProcess(python, new[] { script, "--jobs", jobsPath }, TimeSpan.FromMinutes(10));
        if (OnnxModels.Any(m => !File.Exists(m.OnnxPath)))
        {
            OrtUnavailable = OrtInt8Unavailable = $"export_onnx.py failed (exit {exit}): {LastLines(output, 6)}";
            Console.WriteLine("// ERROR: " + OrtUnavailable);
            return;
        }
        if (exit != 0 || !File.Exists(int8.OnnxInt8Path))
        {
            OrtInt8Unavailable = $"export_onnx.py failed on the step-int8 graph (exit {exit}): {LastLines(output, 6)}";
            Console.WriteLine("// ERROR: " + OrtInt8Unavailable);
            return;
        }
        Console.WriteLine($"// exported {jobs.Count} ONNX graphs with {python} {script}");
    }

    /// <summary>RNNGEN_PYTHON, else Debian's /usr/bin/python3 (where apt's python3-torch lives), else python3 on PATH.</summary>
    private static string? FindPython(string script, out string why)
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("RNNGEN_PYTHON") is { Length: > 0 } configured) candidates.Add(configured);
        if (File.Exists("/usr/bin/python3")) candidates.Add("/usr/bin/python3");
        candidates.Add("python3");
        candidates.Add("python");
        var reasons = new List<string>();
        foreach (string candidate in candidates.Distinct())
        {
            var (exit, output) = RunProcess(candidate, new[] { script, "--check" }, TimeSpan.FromMinutes(2));
            if (exit == 0)
            {
                Console.WriteLine($"// python: {candidate} ({output.Trim()})");
                why = "";
                return candidate;
            }
            reasons.Add($"{candidate}: {(exit == -1 ? "not found" : LastLines(output, 1))}");
        }
        why = "no Python with torch and onnx (apt-get install -y python3-torch python3-onnx): " + string.Join("; ", reasons);
        return null;
    }

    private static (int Exit, string Output) RunProcess(string file, string[] arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments) info.ArgumentList.Add(argument);
        info.Environment["PYTHONWARNINGS"] = "ignore";
        try
        {
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit((int)timeout.TotalMilliseconds))
            {
                process.Kill(entireProcessTree: true);
                return (-2, "timed out after " + timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture) + " s");
            }
            return (process.ExitCode, stdout.Result + stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return (-1, "not found");
        }
    }

    private static string LastLines(string text, int count) =>
        string.Join(" | ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(count));
}
