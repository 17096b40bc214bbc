using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using BenchmarkDotNet.Reports;

namespace RnnGen.Benchmarks;

/// <summary>
/// The figures the suite exists for, computed from the medians after the run: µs per streaming step, the batch-32 /
/// batch-1 ratio, training tokens/s and the step/forward ratio, and the multi-agent speed-up. Printed and written to
/// <c>results/RnnGen-derived.md</c> in the artifacts folder.
/// </summary>
internal static class DerivedReport
{
    public static void Print(IEnumerable<Summary> summaries)
    {
        var all = summaries.ToList();
        var medians = new Dictionary<string, double>();
        foreach (Summary summary in all)
        {
            foreach (BenchmarkReport report in summary.Reports)
            {
                if (report.ResultStatistics is null) continue;
                var benchmark = report.BenchmarkCase;
                medians[Key(benchmark.Descriptor.Type.Name, benchmark.Descriptor.WorkloadMethod.Name, benchmark.Parameters.Items.FirstOrDefault()?.Value)] = report.ResultStatistics.Median;
            }
        }
        if (medians.Count == 0) return;

        var text = new StringBuilder();
        text.AppendLine("## Derived figures (from medians)");
        text.AppendLine();

        if (medians.Keys.Any(k => k.StartsWith("Streaming/", StringComparison.Ordinal)))
        {
            text.AppendLine("Streaming, batch 1, µs per step:");
            text.AppendLine();
            text.AppendLine("| Model | Ours | Ours, bfloat16 step weights | Hand-written | ONNX Runtime | TorchSharp | hand-written / ours | ORT / ours | ORT / ours bfloat16 |");
            text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (StreamingModel model in Enum.GetValues<StreamingModel>())
            {
                double? ours = Get(medians, "Streaming", "Ours", model), hand = Get(medians, "Streaming", "HandWritten", model);
                double? ort = Get(medians, "Streaming", "Ort", model), torch = Get(medians, "Streaming", "TorchSharp", model);
                double? half = Get(medians, "Streaming", "OursBFloat16", model);
                if (ours is null && hand is null && ort is null && half is null) continue;
                text.AppendLine($"| {model} | {Us(ours)} | {Us(half)} | {Us(hand)} | {Us(ort)} | {Us(torch)} | {Times(hand, ours)} | {Times(ort, ours)} | {Times(ort, half)} |");
            }
            text.AppendLine();
        }

        if (medians.Keys.Any(k => k.StartsWith("Sequence/", StringComparison.Ordinal)))
        {
            text.AppendLine($"Sequence, LSTM 128→256, 2 layers, bidirectional, T = {Fixture.SequenceSteps}:");
            text.AppendLine();
            text.AppendLine("| Implementation | batch 1 (ms) | batch 32 (ms) | batch-32 / batch-1 | µs per sequence at batch 32 |");
            text.AppendLine("|---|---:|---:|---:|---:|");
            foreach (var (name, method) in new[] { ("Ours", "Ours"), ("Hand-written", "HandWritten"), ("ONNX Runtime", "Ort"), ("TorchSharp", "TorchSharp"), ("Ours, 2 threads", "OursTwoThreads"), ("ONNX Runtime, 2 threads", "OrtTwoThreads") })
            {
                double? one = Get(medians, "Sequence", method, 1), many = Get(medians, "Sequence", method, Fixture.SequenceBatch);
                if (one is null && many is null) continue;
                text.AppendLine($"| {name} | {Ms(one)} | {Ms(many)} | {Ratio(many, one)} | {Us(many / Fixture.SequenceBatch)} |");
            }
            text.AppendLine();
        }

        if (medians.Keys.Any(k => k.StartsWith("Training/", StringComparison.Ordinal)))
        {
            text.AppendLine($"Training, batch {Fixture.TrainingBatch} (step = trainer.Forward + loss + Backward + Adam.Step):");
            text.AppendLine();
            text.AppendLine("| Model | T | step (ms) | tokens/s | training forward (ms) | step / forward | inference forward (ms) | TorchSharp step (ms) | step, Threads = 2 (ms) | tokens/s, Threads = 2 |");
            text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (TrainingModel model in Enum.GetValues<TrainingModel>())
            {
                double? step = Get(medians, "Training", "TrainStep", model), forward = Get(medians, "Training", "TrainerForward", model);
                double? inference = Get(medians, "Training", "InferenceForward", model), torch = Get(medians, "Training", "TorchSharpTrainStep", model);
                if (step is null && forward is null) continue;
                int tokens = TrainingData.TokensPerStepOf(model);
                double? stepTwo = Get(medians, "Training", "TrainStepTwoThreads", model);
                string PerSecond(double? ns) => ns is null ? "—" : (tokens / (ns.Value / 1e9)).ToString("N0", CultureInfo.InvariantCulture);
                text.AppendLine($"| {model} | {tokens / Fixture.TrainingBatch} | {Ms(step)} | {PerSecond(step)} | {Ms(forward)} | {Ratio(step, forward)} | {Ms(inference)} | {Ms(torch)} | {Ms(stepTwo)} | {PerSecond(stepTwo)} |");
            }
            text.AppendLine();
        }

        if (medians.Keys.Any(k => k.StartsWith("Agents/", StringComparison.Ordinal)))
        {
            double? batched = Get(medians, "Agents", "OursBatched"), singles = Get(medians, "Agents", "OursSingles");
            double? batchedTwo = Get(medians, "Agents", "OursBatchedTwoThreads");
            double? hand = Get(medians, "Agents", "HandWrittenSingles"), ort = Get(medians, "Agents", "OrtBatched"), torch = Get(medians, "Agents", "TorchSharpBatched");
            text.AppendLine($"Agents, {Fixture.Agents} LSTM 32→64 states, one step:");
            text.AppendLine();
            text.AppendLine("| Implementation | µs for all | ns per agent | vs ours batched |");
            text.AppendLine("|---|---:|---:|---:|");
            foreach (var (name, value) in new[] { ("Ours, multi-agent Step", batched), ("Ours, 256 single Steps", singles), ("Ours, multi-agent Step, 2 threads", batchedTwo), ("Hand-written, 256 single steps", hand), ("ONNX Runtime, batch 256", ort), ("TorchSharp, batch 256", torch) })
            {
                if (value is null) continue;
                text.AppendLine($"| {name} | {Us(value)} | {(value.Value / Fixture.Agents).ToString("F1", CultureInfo.InvariantCulture)} | {Times(value, batched)} |");
            }
            text.AppendLine();
            text.AppendLine($"Multi-agent speed-up over 256 single Steps: {Ratio(singles, batched)}");
            if (batchedTwo is not null) text.AppendLine($"With 2 threads: {Ratio(singles, batchedTwo)}");
            text.AppendLine();
        }

        if (Fixture.Skipped.Count > 0)
        {
            text.AppendLine("Peers skipped:");
            foreach (string skipped in Fixture.Skipped) text.AppendLine("- " + skipped);
            text.AppendLine();
        }
        var failed = Fixture.Checks.Where(c => !c.Ok).ToList();
        if (failed.Count > 0)
        {
            text.AppendLine("Peers that failed their equality check (not benchmarked):");
            foreach (PeerCheck check in failed) text.AppendLine($"- {check.Peer} {check.Case}: max |diff| {check.MaxDifference:0.00e0} ({check.Note})");
            text.AppendLine();
        }

        Console.WriteLine();
        Console.WriteLine(text.ToString());
        string? folder = all.Select(s => s.ResultsDirectoryPath).FirstOrDefault(p => !string.IsNullOrEmpty(p));
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
            string path = Path.Combine(folder, "RnnGen-derived.md");
            File.WriteAllText(path, text.ToString());
            Console.WriteLine("Derived figures written to " + path);
        }
    }

    private static string Key(string type, string method, object? parameter) =>
        type + "/" + method + "/" + Convert.ToString(parameter, CultureInfo.InvariantCulture);

    private static double? Get(Dictionary<string, double> medians, string type, string method, object? parameter = null) =>
        medians.TryGetValue(Key(type, method, parameter), out double value) ? value : null;

    private static string Us(double? nanoseconds) => nanoseconds is null ? "—" : (nanoseconds.Value / 1e3).ToString(nanoseconds < 10_000 ? "F3" : "F1", CultureInfo.InvariantCulture);

    private static string Ms(double? nanoseconds) => nanoseconds is null ? "—" : (nanoseconds.Value / 1e6).ToString("F2", CultureInfo.InvariantCulture);

    private static string Ratio(double? a, double? b) => a is null || b is null ? "—" : (a.Value / b.Value).ToString("F2", CultureInfo.InvariantCulture) + "×";

    private static string Times(double? other, double? ours) => Ratio(other, ours);
}
