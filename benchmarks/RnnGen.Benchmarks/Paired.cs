using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;

namespace RnnGen.Benchmarks;

/// <summary>
/// <c>--paired [rounds]</c>: the target ratios measured in pairs. On a shared VM the speed of the core drifts by
/// 10–50 % over minutes, and BenchmarkDotNet measures each row at a different time, so a ratio of two medians carries
/// the drift of both. Here each round times A then B (B then A in the next round) back to back, and the figure
/// reported is the median over rounds of the per-round ratio A / B, next to each side's fastest round. It complements
/// the BenchmarkDotNet suite (which has the distributions and the allocation columns); it does not replace it.
/// </summary>
public static class Paired
{
    private sealed record Pair(string Name, string A, Action RunA, string B, Action RunB, int Calls);

    public static int Run(int rounds)
    {
        var pairs = new List<Pair>();
        bool OrtUsable(string caseKey) => Fixture.IsUsable(Peer.Ort, caseKey);
        var cleanups = new List<Action>();

        foreach (int batch in new[] { 1, Fixture.SequenceBatch })
        {
            if (!OrtUsable("Sequence/" + batch)) continue;
            var ours = new Sequence { Batch = batch };
            ours.SetupOurs();
            var peer = new Sequence { Batch = batch };
            peer.SetupOrt();
            cleanups.Add(peer.Cleanup);
            pairs.Add(new Pair($"configuration 2, batch {batch}", "ours", ours.Ours, "ORT", peer.Ort, batch == 1 ? 8 : 1));
            var int8 = new Sequence { Batch = batch };
            int8.SetupOursInt8();
            pairs.Add(new Pair($"configuration 2, batch {batch}", "ours int8", int8.OursInt8, "ORT", peer.Ort, batch == 1 ? 8 : 1));
            var bf16 = new Sequence { Batch = batch };
            bf16.SetupOursBFloat16();
            pairs.Add(new Pair($"configuration 2, batch {batch}", "ours bfloat16", bf16.OursBFloat16, "ORT", peer.Ort, batch == 1 ? 8 : 1));
        }
        foreach (int batch in new[] { 1, Fixture.SequenceBatch })
        {
            // Two threads (ours: Threads = 2, the two directions of each layer at the same time; ORT: two intra-op threads).
            if (OrtUsable("Sequence/" + batch))
            {
                var one = new Sequence { Batch = batch };
                one.SetupOurs();
                var two = new Sequence { Batch = batch };
                two.SetupOursTwoThreads();
                cleanups.Add(two.Cleanup);
                var peer = new Sequence { Batch = batch };
                peer.SetupOrtTwoThreads();
                cleanups.Add(peer.Cleanup);
                int calls = batch == 1 ? 8 : 1;
                pairs.Add(new Pair($"configuration 2, batch {batch}, 2 threads", "ours, 2 threads", two.OursTwoThreads, "ours, 1 thread", one.Ours, calls));
                pairs.Add(new Pair($"configuration 2, batch {batch}, 2 threads", "ours, 2 threads", two.OursTwoThreads, "ORT, 2 threads", peer.OrtTwoThreads, calls));
            }
        }
        foreach (StreamingModel model in new[] { StreamingModel.Lstm32x64, StreamingModel.Gru32x64, StreamingModel.Lstm64x64, StreamingModel.Lstm256x256 })
        {
            if (!OrtUsable("Streaming/" + model)) continue;
            var ours = new Streaming { Model = model };
            ours.SetupOurs();
            var half = new Streaming { Model = model };
            half.SetupOursBFloat16();
            var peer = new Streaming { Model = model };
            peer.SetupOrt();
            cleanups.Add(peer.Cleanup);
            int calls = model == StreamingModel.Lstm256x256 ? 400 : 20_000;
            pairs.Add(new Pair($"streaming {model}", "ours", ours.Ours, "ORT", peer.Ort, calls));
            pairs.Add(new Pair($"streaming {model}", "ours bfloat16", half.OursBFloat16, "ORT", peer.Ort, calls));
            if (model == StreamingModel.Lstm32x64)
            {
                var int8 = new Streaming { Model = model };
                int8.SetupOursInt8();
                pairs.Add(new Pair($"streaming {model}", "ours int8", int8.OursInt8, "ORT", peer.Ort, calls));
                if (Fixture.IsUsable(Peer.OrtInt8, "Streaming/" + model))
                {
                    var ortInt8 = new Streaming { Model = model };
                    ortInt8.SetupOrtInt8();
                    cleanups.Add(ortInt8.Cleanup);
                    pairs.Add(new Pair($"streaming {model}", "ours int8", int8.OursInt8, "ORT int8", ortInt8.OrtInt8, calls));
                    pairs.Add(new Pair($"streaming {model}", "ORT int8", ortInt8.OrtInt8, "ORT", peer.Ort, calls));
                }
            }
        }
        foreach (StreamingModel model in new[] { StreamingModel.Lstm32x64, StreamingModel.Gru32x64, StreamingModel.Lstm64x64, StreamingModel.Lstm256x256 })
        {
            if (!Fixture.IsUsable(Peer.TorchSharp, "Streaming/" + model)) continue;
            var ours = new Streaming { Model = model };
            ours.SetupOurs();
            var peer = new Streaming { Model = model };
            peer.SetupTorchSharp();
            cleanups.Add(peer.Cleanup);
            pairs.Add(new Pair($"streaming {model}", "ours", ours.Ours, "TorchSharp", peer.TorchSharp, model == StreamingModel.Lstm256x256 ? 400 : 2_000));
        }
        var agents = new Agents();
        agents.SetupOurs();
        pairs.Add(new Pair("agents", "batched", agents.OursBatched, "256 singles", agents.OursSingles, 200));
        var agentsTwo = new Agents();
        agentsTwo.SetupOursTwoThreads();
        cleanups.Add(agentsTwo.Cleanup);
        pairs.Add(new Pair("agents, 2 threads", "batched, 2 threads", agentsTwo.OursBatchedTwoThreads, "256 singles", agents.OursSingles, 200));
        pairs.Add(new Pair("agents, 2 threads", "batched, 2 threads", agentsTwo.OursBatchedTwoThreads, "batched, 1 thread", agents.OursBatched, 200));
        if (OrtUsable("Agents"))
        {
            var peer = new Agents();
            peer.SetupOrt();
            cleanups.Add(peer.Cleanup);
            pairs.Add(new Pair("agents", "batched", agents.OursBatched, "ORT batch 256", peer.OrtBatched, 200));
            var int8 = new Agents();
            int8.SetupOursInt8();
            pairs.Add(new Pair("agents", "batched int8", int8.OursBatchedInt8, "ORT batch 256", peer.OrtBatched, 200));
        }
        foreach (TrainingModel model in new[] { TrainingModel.BiLstm128x256, TrainingModel.CharLstm })
        {
            var training = new Training { Model = model };
            training.SetupOurs();
            pairs.Add(new Pair($"training {model}", "step", () => training.TrainStep(), "trainer forward", training.TrainerForward, 1));
            pairs.Add(new Pair($"training {model}", "forward + backward", training.ForwardBackward, "trainer forward", training.TrainerForward, 1));
            if (Fixture.IsUsable(Peer.TorchSharp, "Training/" + model))
            {
                // The same model, batch and weights; TorchSharp's step is zero_grad, forward, loss, backward, Adam.
                var torch = new Training { Model = model };
                torch.SetupTorchSharp();
                cleanups.Add(torch.Cleanup);
                pairs.Add(new Pair($"training {model}", "step", () => training.TrainStep(), "TorchSharp step", torch.TorchSharpTrainStep, 1));
            }
        }
        foreach (TrainingModel model in new[] { TrainingModel.BiLstm128x256, TrainingModel.CharLstm })
        {
            // Two threads: the bidirectional model's trainer runs each layer's directions at the same time, the char
            // LSTM's each layer in two parts of the batch.
            var one = new Training { Model = model };
            one.SetupOurs();
            var two = new Training { Model = model };
            two.SetupOursTwoThreads();
            pairs.Add(new Pair($"training {model}, 2 threads", "step, 2 threads", () => two.TrainStepTwoThreads(), "step, 1 thread", () => one.TrainStep(), 1));
        }

        Report(pairs, rounds);
        foreach (Action cleanup in cleanups) cleanup(); // the ONNX Runtime sessions and TorchSharp modules
        return 0;
    }

    /// <summary>
    /// <c>--paired-portable [rounds]</c>: the portable path (the code Unity's Mono and IL2CPP run, with no
    /// <c>System.Runtime.Intrinsics</c>) against ONNX Runtime, which keeps its native SIMD. The process must run with
    /// hardware intrinsics off (<c>DOTNET_EnableHWIntrinsic=0</c>); <see cref="Program"/> starts a child with it.
    /// </summary>
    public static int RunPortable(int rounds)
    {
        if (System.Numerics.Vector.IsHardwareAccelerated || System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated)
        {
            Console.Error.WriteLine("--paired-portable must run with DOTNET_EnableHWIntrinsic=0 (vectors are accelerated in this process).");
            return 2;
        }
        var pairs = new List<Pair>();
        var cleanups = new List<Action>();
        if (Fixture.IsUsable(Peer.Ort, "Streaming/" + StreamingModel.Lstm32x64))
        {
            var ours = new Streaming { Model = StreamingModel.Lstm32x64 };
            ours.SetupOurs();
            var peer = new Streaming { Model = StreamingModel.Lstm32x64 };
            peer.SetupOrt();
            cleanups.Add(peer.Cleanup);
            pairs.Add(new Pair("portable streaming Lstm32x64", "ours", ours.Ours, "ORT", peer.Ort, 2_000));
        }
        if (Fixture.IsUsable(Peer.Ort, "Sequence/1"))
        {
            var ours = new Sequence { Batch = 1 };
            ours.SetupOurs();
            var peer = new Sequence { Batch = 1 };
            peer.SetupOrt();
            cleanups.Add(peer.Cleanup);
            pairs.Add(new Pair("portable configuration 2, batch 1", "ours", ours.Ours, "ORT", peer.Ort, 1));
        }
        if (pairs.Count == 0)
        {
            Console.Error.WriteLine("--paired-portable: ONNX Runtime is not usable here (see the set-up lines above); nothing to compare.");
            return 1;
        }
        Report(pairs, rounds);
        foreach (Action cleanup in cleanups) cleanup();
        return 0;
    }

    /// <summary>Times every pair round by round and prints the table.</summary>
    private static void Report(List<Pair> pairs, int rounds)
    {
        Console.WriteLine($"// paired: {rounds} rounds per pair; each round times A and B back to back (order alternating).");
        Console.WriteLine($"// machine: {CpuName()}, {Environment.ProcessorCount} logical cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}, widest accelerated vector: {VectorPath()}");
        Console.WriteLine("| pair | A | B | median A / B | A fastest round | B fastest round | A / B of fastest rounds |");
        Console.WriteLine("|---|---|---|---:|---:|---:|---:|");
        foreach (Pair pair in pairs)
        {
            Time(pair.RunA, pair.Calls); // warm both
            Time(pair.RunB, pair.Calls);
            var ratios = new double[rounds];
            double bestA = double.MaxValue, bestB = double.MaxValue;
            for (int r = 0; r < rounds; r++)
            {
                double a, b;
                if (r % 2 == 0) { a = Time(pair.RunA, pair.Calls); b = Time(pair.RunB, pair.Calls); }
                else { b = Time(pair.RunB, pair.Calls); a = Time(pair.RunA, pair.Calls); }
                ratios[r] = a / b;
                bestA = Math.Min(bestA, a);
                bestB = Math.Min(bestB, b);
            }
            Array.Sort(ratios);
            double median = rounds % 2 == 1 ? ratios[rounds / 2] : (ratios[rounds / 2 - 1] + ratios[rounds / 2]) / 2;
            Console.WriteLine($"| {pair.Name} | {pair.A} | {pair.B} | {median:F2}× | {Format(bestA)} | {Format(bestB)} | {bestA / bestB:F2}× |");
        }
    }

    private static string VectorPath() =>
        System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "Vector512"
        : System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? "Vector256"
        : System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated ? "Vector128"
        : "none (the portable path)";

    /// <summary>The CPU's model name from /proc/cpuinfo where there is one.</summary>
    private static string CpuName()
    {
        try
        {
            string? line = System.IO.File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line is not null) return line.Substring(line.IndexOf(':') + 1).Trim();
        }
        catch (System.IO.IOException) { }
        catch (UnauthorizedAccessException) { }
        return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
    }

    /// <summary>Seconds per call of <paramref name="calls"/> calls in a row.</summary>
    private static double Time(Action action, int calls)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < calls; i++) action();
        return (double)(Stopwatch.GetTimestamp() - start) / Stopwatch.Frequency / calls;
    }

    private static string Format(double seconds) =>
        seconds >= 1e-3 ? $"{seconds * 1e3:F2} ms" : $"{seconds * 1e6:F2} µs";
}
