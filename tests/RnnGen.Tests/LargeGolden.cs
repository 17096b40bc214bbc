using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using Xunit;

namespace RnnGen.Tests;

/// <summary>
/// One case of tests/golden/fixtures/large (make_large_golden.py): PyTorch's stored results, plus the parameters and
/// inputs that are not stored but generated here exactly as the script generates them (see its docstring).
/// </summary>
public sealed class LargeFixture
{
    public const string Folder = "large";

    private static readonly ConcurrentDictionary<string, LargeFixture> Cache = new();

    private readonly Dictionary<string, float[]> _generated = new();

    private LargeFixture(string name)
    {
        Golden = GoldenCase.Load(name, Folder);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(GoldenCase.Directory, Folder, "cases.json")));
        JsonElement json = doc.RootElement.EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        foreach (JsonElement spec in json.GetProperty("generated").EnumerateArray())
        {
            string tensor = spec.GetProperty("name").GetString()!;
            long count = spec.GetProperty("shape").EnumerateArray().Aggregate(1L, (n, d) => n * d.GetInt64());
            _generated.Add(tensor, Generate(name, tensor, (int)count, spec.GetProperty("scale").GetDouble()));
        }
        Assert.Equal(Golden.Lengths.Length, Golden.Batch);
        Assert.Equal(Golden.Lengths.Select(l => (float)l), Golden["test.lengths"]);
    }

    public static LargeFixture Load(string name) => Cache.GetOrAdd(name, n => new LargeFixture(n));

    public static TheoryData<string> All() => GoldenCase.All(Folder);

    public GoldenCase Golden { get; }
    public string Name => Golden.Name;
    public int Steps => Golden.Steps;
    public int Batch => Golden.Batch;
    public int[] Lengths => Golden.Lengths;
    public bool IsLstm => Golden.IsLstm;

    /// <summary>A generated tensor or a stored one (treat as read-only: fixtures are cached).</summary>
    public float[] this[string name] => _generated.TryGetValue(name, out float[]? t) ? t : Golden[name];

    public bool Has(string name) => _generated.ContainsKey(name) || Golden.Has(name);

    /// <summary>Batch states, [layers*directions, batch, hidden] for h then c (LSTM), or empty without an initial state.</summary>
    public float[] InitialState => Golden.HasInitialState ? Pair("test.h0", "test.c0") : Array.Empty<float>();

    public float[] FinalState => Pair("test.hn", "test.cn");

    public float[] FinalStateGrad => Pair("test.dhn", "test.dcn");

    public float[] InitialStateGrad => Pair("grad.h0", "grad.c0");

    private float[] Pair(string h, string c) => IsLstm ? this[h].Concat(this[c]).ToArray() : this[h];

    /// <summary>A new model of this case with the generated parameters; every parameter is set.</summary>
    public IRecurrentModel CreateModel(Func<IRecurrentModel> create)
    {
        IRecurrentModel model = create();
        int set = 0;
        foreach (TensorInfo tensor in model.TensorTable)
        {
            float[] values = this[tensor.Name];
            Span<float> target = model.Parameter(tensor.Name);
            Assert.Equal(values.Length, target.Length);
            values.CopyTo(target);
            set += values.Length;
        }
        Assert.Equal(model.ParameterCount, set);
        return model;
    }

    /// <summary>Sequence <paramref name="b"/>'s state, StateSize floats, from a batch state laid out [rows, batch, hidden].</summary>
    public float[] SequenceState(float[] batchState, int b, IRecurrentModel model)
    {
        int h = model.HiddenSize, rows = model.StateSize / h;
        var state = new float[model.StateSize];
        for (int r = 0; r < rows; r++) Array.Copy(batchState, (r * Batch + b) * h, state, r * h, h);
        return state;
    }

    /// <summary>Steps 0..length-1 of sequence <paramref name="b"/> of a time-major [T, batch, width] tensor.</summary>
    public float[] SequenceRows(float[] timeMajor, int b, int width)
    {
        var rows = new float[Lengths[b] * width];
        for (int t = 0; t < Lengths[b]; t++) Array.Copy(timeMajor, (t * Batch + b) * width, rows, t * width, width);
        return rows;
    }

    public int[] SequenceTokens(int b)
    {
        float[] tokens = Golden["test.tokens"];
        return Enumerable.Range(0, Lengths[b]).Select(t => (int)tokens[t * Batch + b]).ToArray();
    }

    // The generator of make_large_golden.py: FNV-1a of "case/tensor", splitmix64 of key + i * golden ratio, the top 24
    // bits as a uniform value in [-scale, scale). Exact in float32 (24 bits, power-of-two scale).
    private const ulong GoldenRatio = 0x9E3779B97F4A7C15UL;

    private static float[] Generate(string caseName, string tensor, int count, double scale)
    {
        Assert.True(Math.Log2(scale) == Math.Round(Math.Log2(scale)), $"{tensor}: scale {scale} is not a power of two.");
        ulong key = 0xCBF29CE484222325UL;
        foreach (byte b in Encoding.UTF8.GetBytes(caseName + "/" + tensor)) key = unchecked((key ^ b) * 0x100000001B3UL);
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            ulong z = SplitMix64(unchecked(key + (ulong)i * GoldenRatio));
            long u = (long)(z >> 40) - (1L << 23);
            values[i] = (float)(u / (double)(1 << 23) * scale);
        }
        return values;
    }

    private static ulong SplitMix64(ulong z)
    {
        unchecked
        {
            z += GoldenRatio;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
