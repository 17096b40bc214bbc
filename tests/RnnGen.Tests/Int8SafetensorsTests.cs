using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using RnnGen.Tests.LargeGolden;
using Xunit;

namespace RnnGen.Tests;

/// <summary>
/// <c>SafetensorsOptions.Int8Weights</c>: matrices written as I8 with an F32 <c>&lt;name&gt;.scale</c> per row, vectors
/// as F32; such a file loads into a model of any precision as q · scale, and an int8 model loaded from it computes what
/// the int8 model it was saved from computes.
/// </summary>
public class Int8SafetensorsTests
{
    private static byte[] Save(IRecurrentModel model, SafetensorsOptions? options = null)
    {
        using var stream = new MemoryStream();
        model.SaveSafetensors(stream, options);
        return stream.ToArray();
    }

    [Fact]
    public void Matrices_are_int8_with_a_scale_per_row_and_vectors_stay_float()
    {
        var model = new LstmI300H160Head(5);
        byte[] full = Save(model);
        byte[] small = Save(model, new SafetensorsOptions { Int8Weights = true });
        IReadOnlyDictionary<string, SafetensorsTensor> tensors = Safetensors.ReadAll(new MemoryStream(small));
        foreach (TensorInfo t in LstmI300H160Head.Tensors)
        {
            Assert.True(tensors.ContainsKey(t.Name), t.Name);
            Assert.Equal(t.Shape, tensors[t.Name].Shape);
            if (t.Shape.Count == 2)
            {
                SafetensorsTensor scale = tensors[t.Name + ".scale"];
                Assert.Equal(new[] { t.Shape[0] }, scale.Shape);
                // ReadAll gives an I8 tensor's integers; every row reaches ±127 (its largest magnitude).
                float[] q = tensors[t.Name].Data;
                Assert.All(q, v => Assert.True(v == Math.Round(v) && Math.Abs(v) <= 127, $"{t.Name}: {v}"));
                for (int r = 0; r < t.Shape[0]; r++) Assert.Equal(127f, q.Skip(r * t.Shape[1]).Take(t.Shape[1]).Max(Math.Abs));
            }
            else
            {
                Assert.Equal(model.Parameter(t.Name).ToArray(), tensors[t.Name].Data);
            }
        }
        Assert.True(small.Length < 0.3 * full.Length, $"int8 file {small.Length} bytes, float {full.Length}");
    }

    [Fact]
    public void An_int8_file_loads_into_a_float_model_within_half_a_step_of_each_weight()
    {
        var model = new LstmI300H160Head(6);
        byte[] file = Save(model, new SafetensorsOptions { Int8Weights = true });
        var loaded = new LstmI300H160Head(7);
        loaded.LoadSafetensors(new MemoryStream(file));
        foreach (TensorInfo t in LstmI300H160Head.Tensors)
        {
            float[] original = model.Parameter(t.Name).ToArray(), back = loaded.Parameter(t.Name).ToArray();
            if (t.Shape.Count != 2) { Assert.Equal(original, back); continue; }
            int cols = t.Shape[1];
            for (int r = 0; r < t.Shape[0]; r++)
            {
                float step = original.Skip(r * cols).Take(cols).Max(Math.Abs) / 127f;
                for (int c = 0; c < cols; c++)
                    Assert.True(Math.Abs(original[r * cols + c] - back[r * cols + c]) <= 0.5f * step * 1.0001f, $"{t.Name}[{r}, {c}]");
            }
        }
    }

    [Fact]
    public void An_int8_model_loaded_from_an_int8_file_steps_as_the_model_saved()
    {
        var saved = new LstmI300H160HeadInt8(8);
        byte[] file = Save(saved, new SafetensorsOptions { Int8Weights = true });
        var loaded = new LstmI300H160HeadInt8(9);
        loaded.LoadSafetensors(new MemoryStream(file));
        var x = new float[LstmI300H160HeadInt8.InputSize];
        for (int i = 0; i < x.Length; i++) x[i] = (i % 23 - 11) * 0.07f;
        var a = new float[LstmI300H160HeadInt8.StateSize];
        var b = new float[LstmI300H160HeadInt8.StateSize];
        var ya = new float[LstmI300H160HeadInt8.OutputSize];
        var yb = new float[LstmI300H160HeadInt8.OutputSize];
        for (int t = 0; t < 6; t++)
        {
            saved.Step(x, a, ya);
            loaded.Step(x, b, yb);
            Assert.Equal(ya, yb); // the same int8 copy: q · scale quantizes back to q
            Assert.Equal(a, b);
        }
    }

    [Fact]
    public void A_bad_scale_tensor_fails_the_load_and_changes_nothing()
    {
        var model = new LstmI300H160Head(10);
        byte[] file = Save(model, new SafetensorsOptions { Int8Weights = true });
        IReadOnlyDictionary<string, SafetensorsTensor> tensors = Safetensors.ReadAll(new MemoryStream(file));
        string matrix = LstmI300H160Head.Tensors.First(t => t.Shape.Count == 2).Name;

        var target = new LstmI300H160Head(11);
        float[] before = target.Parameters.ToArray();
        // Without the scales (loaded leniently so the missing name is what fails).
        var missing = SafetensorsTestFiles.Write(tensors.Where(p => p.Key != matrix + ".scale"), i8: tensors.Keys.Where(k => !k.EndsWith(".scale", StringComparison.Ordinal) && tensors.ContainsKey(k + ".scale")));
        var e1 = Assert.Throws<SafetensorsException>(() => target.LoadSafetensors(new MemoryStream(missing)));
        Assert.Contains($"'{matrix}' is I8 but the file has no '{matrix}.scale'", e1.Message);
        // A negative scale.
        var negative = SafetensorsTestFiles.Write(tensors.Select(p => p.Key == matrix + ".scale" ? new KeyValuePair<string, SafetensorsTensor>(p.Key, new SafetensorsTensor(p.Value.Shape.ToArray(), p.Value.Data.Select(v => -v).ToArray())) : p), i8: tensors.Keys.Where(k => tensors.ContainsKey(k + ".scale")));
        var e2 = Assert.Throws<SafetensorsException>(() => target.LoadSafetensors(new MemoryStream(negative)));
        Assert.Contains("finite and not negative", e2.Message);
        Assert.Equal(before, target.Parameters.ToArray());
    }

    [Fact]
    public void Int8Weights_refuses_a_non_finite_weight_before_writing()
    {
        var model = new LstmI300H160Head(12);
        model.Parameter(LstmI300H160Head.Tensors.First(t => t.Shape.Count == 2).Name)[3] = float.NaN;
        using var stream = new MemoryStream();
        var e = Assert.Throws<ArgumentException>(() => model.SaveSafetensors(stream, new SafetensorsOptions { Int8Weights = true }));
        Assert.Contains("finite", e.Message);
        Assert.Equal(0, stream.Length);
    }
}

/// <summary>Writes safetensors files from tensors for the tests: F32, or I8 for the names given (values are integers).</summary>
internal static class SafetensorsTestFiles
{
    public static byte[] Write(IEnumerable<KeyValuePair<string, SafetensorsTensor>> tensors, IEnumerable<string> i8)
    {
        var int8 = new HashSet<string>(i8, StringComparer.Ordinal);
        var list = tensors.ToList();
        var header = new System.Text.StringBuilder("{");
        long offset = 0;
        var data = new MemoryStream();
        foreach (var (name, t) in list)
        {
            bool isInt8 = int8.Contains(name);
            long bytes = isInt8 ? t.Data.Length : 4L * t.Data.Length;
            if (header.Length > 1) header.Append(',');
            header.Append($"\"{name}\":{{\"dtype\":\"{(isInt8 ? "I8" : "F32")}\",\"shape\":[{string.Join(",", t.Shape)}],\"data_offsets\":[{offset},{offset + bytes}]}}");
            offset += bytes;
            foreach (float v in t.Data)
            {
                if (isInt8) data.WriteByte(unchecked((byte)(sbyte)v));
                else data.Write(BitConverter.GetBytes(v));
            }
        }
        header.Append('}');
        while (header.Length % 8 != 0) header.Append(' ');
        byte[] h = System.Text.Encoding.UTF8.GetBytes(header.ToString());
        var file = new MemoryStream();
        file.Write(BitConverter.GetBytes((ulong)h.Length));
        file.Write(h);
        data.Position = 0;
        data.CopyTo(file);
        return file.ToArray();
    }
}
