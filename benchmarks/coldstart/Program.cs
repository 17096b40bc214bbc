using System;
using System.Diagnostics;
using System.Globalization;
using System.Runtime;

namespace RnnGen.ColdStart;

/// <summary>Configuration 2 of the benchmarks (their <c>BiLstm128x256</c>): the model whose first Forward issue 19 measures.</summary>
[RecurrentModel(Cell = CellKind.Lstm, Input = 128, Hidden = 256, Layers = 2, Bidirectional = true)]
public partial class BiLstm128x256 { }

/// <summary>The streaming model of the benchmarks (their <c>Lstm32x64</c>): the model whose first Step issue 19 measures.</summary>
[RecurrentModel(Cell = CellKind.Lstm, Input = 32, Hidden = 64)]
public partial class Lstm32x64 { }

/// <summary>
/// One cold-start measurement per process: <c>forward [steps]</c> or <c>step</c>. Construction (with <c>Reserve</c>,
/// as the benchmarks set up), the first call and the second call are timed apart, so the first call's excess over the
/// second is the JIT (and first-touch) cost a fresh process pays. run.sh runs this several times and takes medians.
/// </summary>
public static class Program
{
    /// <summary>The benchmarks' Fixture.Seed, so the weights are theirs.</summary>
    private const int Seed = 20240917;

    /// <summary>Steps of the Forward input: the benchmarks' Fixture.SequenceSteps (Sequence runs T = 128 at batch 1 and 32).</summary>
    private const int DefaultSteps = 128;

    public static int Main(string[] args)
    {
        switch (args)
        {
            case ["forward"]:
                return Forward(DefaultSteps);
            case ["forward", var text] when int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int steps) && steps > 0:
                return Forward(steps);
            case ["step"]:
                return Step();
            default:
                Console.Error.WriteLine("usage: ColdStart forward [steps] | step");
                return 2;
        }
    }

    private static int Forward(int steps)
    {
        var random = new Random(Seed + 11);
        float[] input = RandomVector(random, steps * BiLstm128x256.InputSize);
        var output = new float[steps * BiLstm128x256.OutputSize];

        long start = Stopwatch.GetTimestamp();
        var model = new BiLstm128x256(Seed);
        model.Reserve(steps, 1);
        TimeSpan construction = Stopwatch.GetElapsedTime(start);

        var jit = JitSnapshot.Take();
        start = Stopwatch.GetTimestamp();
        model.Forward(input, output);
        TimeSpan first = Stopwatch.GetElapsedTime(start);
        jit = JitSnapshot.Take() - jit;
        float checksum = output[^1];

        start = Stopwatch.GetTimestamp();
        model.Forward(input, output);
        TimeSpan second = Stopwatch.GetElapsedTime(start);

        Report($"BiLstm128x256 T={steps} batch 1", "Forward", first, second, construction, jit, checksum + output[^1]);
        return 0;
    }

    private static int Step()
    {
        var random = new Random(Seed + 10);
        float[] x = RandomVector(random, Lstm32x64.InputSize);
        var state = new float[Lstm32x64.StateSize];
        var output = new float[Lstm32x64.OutputSize];

        long start = Stopwatch.GetTimestamp();
        var model = new Lstm32x64(Seed);
        TimeSpan construction = Stopwatch.GetElapsedTime(start);

        var jit = JitSnapshot.Take();
        start = Stopwatch.GetTimestamp();
        model.Step(x, state, output);
        TimeSpan first = Stopwatch.GetElapsedTime(start);
        jit = JitSnapshot.Take() - jit;
        float checksum = output[0];

        start = Stopwatch.GetTimestamp();
        model.Step(x, state, output);
        TimeSpan second = Stopwatch.GetElapsedTime(start);

        Report("Lstm32x64 caller-owned state", "Step", first, second, construction, jit, checksum + output[0]);
        return 0;
    }

    /// <summary>
    /// One line run.sh reads: the three times in milliseconds (invariant culture), then, in parentheses, the model and
    /// how much of the first call the JIT took on this thread (<see cref="JitInfo"/>) and how many methods it compiled.
    /// </summary>
    private static void Report(string what, string call, TimeSpan first, TimeSpan second, TimeSpan construction, JitSnapshot jit, float checksum)
    {
        // The checksum keeps the outputs observable; a NaN would mean the model did not run as meant.
        if (!float.IsFinite(checksum)) throw new InvalidOperationException($"{what}: non-finite output {checksum}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"first {call}: {first.TotalMilliseconds:F3} ms; second: {second.TotalMilliseconds:F3} ms; construction: {construction.TotalMilliseconds:F3} ms " +
            $"({what}; JIT during the first call: {jit.Time.TotalMilliseconds:F1} ms, {jit.Methods} methods)"));
    }

    /// <summary>The JIT's work so far on this thread: compilation time and methods compiled.</summary>
    private readonly record struct JitSnapshot(TimeSpan Time, long Methods)
    {
        public static JitSnapshot Take() => new(JitInfo.GetCompilationTime(currentThread: true), JitInfo.GetCompiledMethodCount(currentThread: true));

        public static JitSnapshot operator -(JitSnapshot a, JitSnapshot b) => new(a.Time - b.Time, a.Methods - b.Methods);
    }

    private static float[] RandomVector(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = 2f * random.NextSingle() - 1f;
        return values;
    }
}
