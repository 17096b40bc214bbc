using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Xunit;

namespace RnnGen.Tests;

/// <summary>One case of tests/golden/fixtures/cases.json and its fixture tensors.</summary>
public sealed class GoldenCase
{
    private GoldenCase(JsonElement json, IReadOnlyDictionary<string, SafetensorsTensor> tensors, string folder)
    {
        Folder = folder;
        Name = json.GetProperty("name").GetString()!;
        Batch = json.TryGetProperty("batch", out JsonElement batch) ? batch.GetInt32() : 1;
        Lengths = json.TryGetProperty("lengths", out JsonElement lengths) ? lengths.EnumerateArray().Select(e => e.GetInt32()).ToArray() : new[] { json.GetProperty("steps").GetInt32() };
        Steps = json.GetProperty("steps").GetInt32();
        HasInitialState = json.GetProperty("initial_state").GetBoolean();
        IsLstm = json.GetProperty("cell").GetString() == "lstm";
        Tensors = tensors;
    }

    public static string Directory => Path.Combine(AppContext.BaseDirectory, "golden");

    public string Folder { get; }
    public string Name { get; }
    public int Batch { get; }
    public int[] Lengths { get; }
    public int Steps { get; }
    public bool HasInitialState { get; }
    public bool IsLstm { get; }
    public IReadOnlyDictionary<string, SafetensorsTensor> Tensors { get; }
    public string FixturePath => Path.Combine(Directory, Folder, Name + ".safetensors");

    public float[] this[string name] => Tensors.TryGetValue(name, out SafetensorsTensor? t) ? t.Data : throw new KeyNotFoundException($"Fixture {Name} has no tensor '{name}'.");

    public bool Has(string name) => Tensors.ContainsKey(name);

    public int[] Tokens => this["test.tokens"].Select(v => (int)v).ToArray();

    /// <summary>h0 then c0 (for LSTM), the StateSize layout, or empty when the case starts from zeros.</summary>
    public float[] InitialState => HasInitialState ? (IsLstm ? this["test.h0"].Concat(this["test.c0"]).ToArray() : this["test.h0"]) : Array.Empty<float>();

    public float[] FinalState => IsLstm ? this["test.hn"].Concat(this["test.cn"]).ToArray() : this["test.hn"];

    public static IEnumerable<string> Names(string folder = "")
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, folder, "cases.json")));
        return doc.RootElement.EnumerateArray().Select(e => e.GetProperty("name").GetString()!).ToList();
    }

    public static GoldenCase Load(string name, string folder = "")
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, folder, "cases.json")));
        JsonElement json = doc.RootElement.EnumerateArray().Single(e => e.GetProperty("name").GetString() == name).Clone();
        return new GoldenCase(json, Safetensors.ReadAll(Path.Combine(Directory, folder, name + ".safetensors")), folder);
    }

    public static TheoryData<string> All(string folder = "")
    {
        var data = new TheoryData<string>();
        foreach (string name in Names(folder)) data.Add(name);
        return data;
    }
}

internal static class Numeric
{
    /// <summary>Asserts |a - e| ≤ tolerance · max(1, |e|) element-wise, naming the first element that is off.</summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: expected {expected.Length} values, got {actual.Length}.");
        for (int i = 0; i < expected.Length; i++)
        {
            float scale = Math.Max(1f, Math.Abs(expected[i]));
            float diff = Math.Abs(expected[i] - actual[i]);
            Assert.True(diff <= tolerance * scale && !float.IsNaN(actual[i]),
                $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (difference {diff:R}, tolerance {tolerance * scale:R}).");
        }
    }
}
