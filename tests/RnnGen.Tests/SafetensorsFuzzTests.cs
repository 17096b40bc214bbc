using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using RnnGen.Tests.Golden;
using Xunit;

namespace RnnGen.Tests;

/// <summary>
/// Seeded fuzzing of the safetensors loader: files written by SaveSafetensors, mutated thousands of times (truncated,
/// header bytes flipped, header length changed, offsets, shapes and dtypes edited, tensors re-encoded, reordered,
/// duplicated, added, removed, non-finite values and trailing bytes put in). Every load, through a seekable stream, a
/// non-seekable one and now and then a file, either succeeds with exactly the values the file holds or throws a
/// <see cref="SafetensorsException"/> and leaves every parameter bit as it was.
/// </summary>
public sealed class SafetensorsFuzzTests : IDisposable
{
    private const int Seed = 18_04;
    private const int MutationsPerModel = 1500;

    private readonly string _dir;

    public SafetensorsFuzzTests()
    {
        _dir = Path.Combine(Path.GetTempPath(), "rnngen-safetensors-fuzz-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    // ------------------------------------------------------------------------------------------------------------
    // A file in editable parts
    // ------------------------------------------------------------------------------------------------------------

    /// <summary>A tensor as the mutations see it before layout: name, dtype and shape, and its bytes.</summary>
    private sealed record Tensor(string Name, string DType, int[] Shape, byte[] Data);

    /// <summary>A header entry as raw JSON fragments, so that edits can write anything (wrong types, huge numbers).</summary>
    private sealed record Item(string Name, string DType, string Shape, string Offsets);

    /// <summary>Lays the tensors out contiguously in the given order; header entries in <paramref name="headerOrder"/>.</summary>
    private static (List<Item> Items, byte[] Data) Layout(List<Tensor> tensors, int[] headerOrder)
    {
        var offsets = new long[tensors.Count];
        long offset = 0;
        for (int i = 0; i < tensors.Count; i++)
        {
            offsets[i] = offset;
            offset += tensors[i].Data.Length;
        }
        var items = headerOrder.Select(i => new Item(
            tensors[i].Name,
            JsonSerializer.Serialize(tensors[i].DType),
            "[" + string.Join(",", tensors[i].Shape) + "]",
            $"[{offsets[i]},{offsets[i] + tensors[i].Data.Length}]")).ToList();
        return (items, tensors.SelectMany(t => t.Data).ToArray());
    }

    private static byte[] Serialize(string? metadata, List<Item> items, byte[] data)
    {
        var header = new StringBuilder("{");
        var parts = new List<string>();
        if (metadata is not null) parts.Add("\"__metadata__\":" + metadata);
        foreach (Item item in items)
        {
            parts.Add($"{JsonSerializer.Serialize(item.Name)}:{{\"dtype\":{item.DType},\"shape\":{item.Shape},\"data_offsets\":{item.Offsets}}}");
        }
        header.Append(string.Join(",", parts)).Append('}');
        while (header.Length % 8 != 0) header.Append(' ');
        byte[] text = Encoding.UTF8.GetBytes(header.ToString());
        var file = new byte[8 + text.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)text.Length);
        text.CopyTo(file, 8);
        data.CopyTo(file, 8 + text.Length);
        return file;
    }

    /// <summary>The tensors of a file written by SaveSafetensors, in data order.</summary>
    private static List<Tensor> Parse(byte[] file)
    {
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        using JsonDocument header = JsonDocument.Parse(file.AsMemory(8, headerLength));
        var tensors = new List<(long Begin, Tensor Tensor)>();
        foreach (JsonProperty p in header.RootElement.EnumerateObject())
        {
            if (p.Name == "__metadata__") continue;
            long begin = p.Value.GetProperty("data_offsets")[0].GetInt64();
            long end = p.Value.GetProperty("data_offsets")[1].GetInt64();
            int[] shape = p.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
            tensors.Add((begin, new Tensor(p.Name, p.Value.GetProperty("dtype").GetString()!, shape, file.AsSpan(8 + headerLength + (int)begin, (int)(end - begin)).ToArray())));
        }
        return tensors.OrderBy(t => t.Begin).Select(t => t.Tensor).ToList();
    }

    /// <summary>
    /// What a file that loaded holds, decoded independently of the runtime (no validation: only called for files the
    /// runtime accepted).
    /// </summary>
    private static Dictionary<string, float[]> Decode(byte[] file)
    {
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        using JsonDocument header = JsonDocument.Parse(file.AsMemory(8, headerLength));
        var result = new Dictionary<string, float[]>();
        foreach (JsonProperty p in header.RootElement.EnumerateObject())
        {
            if (p.Name == "__metadata__") continue;
            int begin = (int)p.Value.GetProperty("data_offsets")[0].GetInt64();
            int end = (int)p.Value.GetProperty("data_offsets")[1].GetInt64();
            ReadOnlySpan<byte> bytes = file.AsSpan(8 + headerLength + begin, end - begin);
            result[p.Name] = p.Value.GetProperty("dtype").GetString() switch
            {
                "F32" => Enumerable.Range(0, bytes.Length / 4).Select(i => BinaryPrimitives.ReadSingleLittleEndian(file.AsSpan(8 + headerLength + begin + 4 * i))).ToArray(),
                "F16" => Enumerable.Range(0, bytes.Length / 2).Select(i => (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(8 + headerLength + begin + 2 * i)))).ToArray(),
                "BF16" => Enumerable.Range(0, bytes.Length / 2).Select(i => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(8 + headerLength + begin + 2 * i)) << 16)).ToArray(),
                "F64" => Enumerable.Range(0, bytes.Length / 8).Select(i => (float)BinaryPrimitives.ReadDoubleLittleEndian(file.AsSpan(8 + headerLength + begin + 8 * i))).ToArray(),
                var other => throw new InvalidOperationException("the runtime accepted dtype " + other),
            };
        }
        return result;
    }

    private static byte[] Encode(float[] values, string dtype) => dtype switch
    {
        "F16" => values.SelectMany(v => BitConverter.GetBytes(BitConverter.HalfToUInt16Bits((Half)v))).ToArray(),
        "BF16" => values.SelectMany(v => BitConverter.GetBytes((ushort)(BitConverter.SingleToUInt32Bits(v) >> 16))).ToArray(),
        "F64" => values.SelectMany(v => BitConverter.GetBytes((double)v)).ToArray(),
        _ => values.SelectMany(BitConverter.GetBytes).ToArray(),
    };

    // ------------------------------------------------------------------------------------------------------------
    // Mutations
    // ------------------------------------------------------------------------------------------------------------

    /// <summary>One mutated file, what was done to it, and whether it must fail whatever the options (single edits whose failure is certain).</summary>
    private sealed record Case(byte[] File, string Description, bool MustFail, SafetensorsOptions Options, IReadOnlyList<string> Kinds);

    private static readonly string[] s_kinds =
    {
        "reencode", "reorder", "extra", "remove", "nonfinite", "dtype", "shape", "offsets", "duplicate", "metadata",
        "truncate", "headerbytes", "headerlength", "trailing", "databytes", "splice",
    };

    private static T? TryParse<T>(string json) where T : class
    {
        try { return JsonSerializer.Deserialize<T>(json); } catch (JsonException) { return null; }
    }

    private static Case Mutate(byte[] original, Random random)
    {
        var options = new SafetensorsOptions { IgnoreUnexpected = random.Next(4) == 0, AllowNonFinite = random.Next(5) == 0 };
        List<Tensor> tensors = Parse(original);
        int edits = random.Next(3) == 0 ? 2 : 1;
        var kinds = Enumerable.Range(0, edits).Select(_ => s_kinds[random.Next(s_kinds.Length)]).OrderBy(k => Array.IndexOf(s_kinds, k)).ToList();
        var done = new List<string>();
        bool mustFail = false;

        // Edits of the tensors, before layout (they keep the file well formed).
        foreach (string kind in kinds)
        {
            int t = random.Next(tensors.Count);
            switch (kind)
            {
                case "reencode":
                {
                    string dtype = new[] { "F16", "BF16", "F64" }[random.Next(3)];
                    float[] values = Decode(Serialize(null, Layout(new List<Tensor> { tensors[t] }, new[] { 0 }).Items, tensors[t].Data))[tensors[t].Name];
                    tensors[t] = tensors[t] with { DType = dtype, Data = Encode(values, dtype) };
                    done.Add($"reencode {tensors[t].Name} as {dtype}");
                    break;
                }
                case "reorder":
                {
                    int u = random.Next(tensors.Count);
                    (tensors[t], tensors[u]) = (tensors[u], tensors[t]);
                    done.Add($"swap data of {tensors[t].Name} and {tensors[u].Name}");
                    break;
                }
                case "extra":
                    tensors.Insert(random.Next(tensors.Count + 1), new Tensor("extra.t" + random.Next(3), "F32", new[] { 3 }, Encode(new[] { 1f, 2f, 3f }, "F32")));
                    done.Add("extra tensor");
                    mustFail = !options.IgnoreUnexpected;
                    break;
                case "remove":
                    done.Add($"remove {tensors[t].Name}");
                    tensors.RemoveAt(t);
                    mustFail = true;
                    break;
                case "nonfinite":
                {
                    float bad = new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity, BitConverter.Int32BitsToSingle(-1) }[random.Next(4)];
                    byte[] data = (byte[])tensors[t].Data.Clone();
                    int size = tensors[t].DType switch { "F16" or "BF16" => 2, "F64" => 8, _ => 4 };
                    int element = random.Next(data.Length / size);
                    Encode(new[] { bad }, tensors[t].DType).CopyTo(data, element * size);
                    tensors[t] = tensors[t] with { Data = data };
                    done.Add($"{bad} at {tensors[t].Name}[{element}]");
                    mustFail = !options.AllowNonFinite;
                    break;
                }
            }
        }

        int[] headerOrder = Enumerable.Range(0, tensors.Count).OrderBy(_ => random.Next()).ToArray();
        (List<Item> items, byte[] payload) = Layout(tensors, headerOrder);
        string? metadata = "{\"format\":\"pt\"}";

        // Edits of the header's JSON.
        foreach (string kind in kinds)
        {
            if (items.Count == 0) break;
            int i = random.Next(items.Count);
            Item item = items[i];
            switch (kind)
            {
                case "dtype":
                {
                    string dtype = new[] { "\"F16\"", "\"BF16\"", "\"F64\"", "\"F32\"", "\"I32\"", "\"U8\"", "\"f32\"", "\"\"", "32", "null", "[\"F32\"]" }[random.Next(11)];
                    mustFail = dtype != item.DType;
                    items[i] = item with { DType = dtype };
                    done.Add($"dtype of {item.Name} {item.DType} -> {dtype}");
                    break;
                }
                case "shape":
                {
                    if (TryParse<int[]>(item.Shape) is not int[] shape) break; // edited already
                    string edited = random.Next(8) switch
                    {
                        0 => "[" + string.Join(",", shape.Reverse()) + "]",
                        1 => "[" + string.Join(",", shape.Append(1)) + "]",
                        2 => "[" + shape.Aggregate(1L, (a, b) => a * b) + "]",
                        3 => "[" + string.Join(",", shape.Select((d, k) => k == 0 ? d + random.Next(-2, 3) : d)) + "]",
                        4 => "[65536,65536,65536,65536]",
                        5 => "[" + string.Join(",", shape.Select(d => d == 1 ? d : -d)) + "]",
                        6 => new[] { "[]", "[0]", "[2147483648]", "[1.5]", "[\"7\"]", "7", "{}" }[random.Next(7)],
                        _ => "[" + string.Join(",", shape.Select(_ => int.MaxValue)) + "]",
                    };
                    mustFail = edited != item.Shape;
                    items[i] = item with { Shape = edited };
                    done.Add($"shape of {item.Name} {item.Shape} -> {edited}");
                    break;
                }
                case "offsets":
                {
                    if (TryParse<long[]>(item.Offsets) is not { Length: 2 } o) break; // edited already
                    long delta = random.Next(1, 9) * (random.Next(2) == 0 ? -1 : 1);
                    string edited = random.Next(8) switch
                    {
                        0 => $"[{o[0] + delta},{o[1] + delta}]",
                        1 => $"[{o[0]},{o[1] + delta}]",
                        2 => $"[{o[1]},{o[0]}]",
                        3 => $"[0,{o[1] - o[0]}]",
                        4 => items[random.Next(items.Count)].Offsets,
                        5 => new[] { "[0,18446744073709551615]", "[9223372036854775807,9223372036854775807]", "[-4,0]", "[0]", "[0,4,8]", "[0.0,4]", "\"0,4\"" }[random.Next(7)],
                        6 => $"[{o[0] + (1L << 62)},{o[1] + (1L << 62)}]",
                        _ => $"[{o[0]},{long.MaxValue}]",
                    };
                    items[i] = item with { Offsets = edited };
                    done.Add($"offsets of {item.Name} {item.Offsets} -> {edited}");
                    break;
                }
                case "duplicate":
                    items.Insert(random.Next(items.Count + 1), random.Next(2) == 0 ? item : item with { Offsets = $"[{payload.Length},{payload.Length}]" });
                    done.Add($"duplicate {item.Name}");
                    mustFail = true;
                    break;
                case "metadata":
                    metadata = new[] { null, "null", "{}", "{\"a\":\"b\",\"c\":\"d\"}", "{\"format\":1}", "[]", "\"pt\"", "{\"x\":{\"y\":\"z\"}}", "{\"x\":null}" }[random.Next(9)];
                    done.Add($"metadata {metadata ?? "absent"}");
                    break;
            }
        }

        byte[] file = Serialize(metadata, items, payload);
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);

        // Edits of the bytes.
        foreach (string kind in kinds)
        {
            switch (kind)
            {
                case "truncate":
                {
                    int length = random.Next(file.Length);
                    file = file.AsSpan(0, length).ToArray();
                    done.Add($"truncate to {length}");
                    mustFail = true;
                    break;
                }
                case "headerbytes":
                {
                    int flips = random.Next(1, 4);
                    for (int k = 0; k < flips && file.Length > 8; k++)
                    {
                        int at = 8 + random.Next(Math.Min(headerLength, file.Length - 8));
                        byte value = random.Next(2) == 0 ? (byte)random.Next(256) : (byte)"{}[],:\"0123456789-. \te\\"[random.Next(23)];
                        done.Add($"header byte {at} 0x{file[at]:X2} -> 0x{value:X2}");
                        file[at] = value;
                    }
                    break;
                }
                case "headerlength":
                {
                    ulong length = random.Next(6) switch
                    {
                        0 => (ulong)(headerLength + random.Next(-16, 17)),
                        1 => 0,
                        2 => (ulong)Safetensors.MaxHeaderBytes + (ulong)random.Next(2),
                        3 => (ulong)file.Length,
                        4 => ulong.MaxValue - (ulong)random.Next(2),
                        _ => (ulong)random.NextInt64(),
                    };
                    mustFail = length != (ulong)headerLength;
                    if (file.Length >= 8) BinaryPrimitives.WriteUInt64LittleEndian(file, length);
                    done.Add($"header length {headerLength} -> {length}");
                    break;
                }
                case "trailing":
                {
                    var extra = new byte[random.Next(1, 40)];
                    random.NextBytes(extra);
                    file = file.Concat(extra).ToArray();
                    done.Add($"{extra.Length} trailing bytes");
                    mustFail = true;
                    break;
                }
                case "databytes":
                {
                    int start = 8 + headerLength;
                    if (file.Length > start)
                    {
                        int at = start + random.Next(file.Length - start);
                        file[at] ^= (byte)(1 << random.Next(8));
                        done.Add($"data bit flip at {at}");
                    }
                    break;
                }
                case "splice":
                {
                    int at = random.Next(file.Length + 1);
                    int count = random.Next(1, 9);
                    if (random.Next(2) == 0 && at + count <= file.Length)
                    {
                        file = file.Take(at).Concat(file.Skip(at + count)).ToArray();
                        done.Add($"delete {count} bytes at {at}");
                    }
                    else
                    {
                        var bytes = new byte[count];
                        random.NextBytes(bytes);
                        file = file.Take(at).Concat(bytes).Concat(file.Skip(at)).ToArray();
                        done.Add($"insert {count} bytes at {at}");
                    }
                    mustFail = at >= 8 + headerLength; // in the data: it no longer has the length the header gives
                    break;
                }
            }
        }
        string description = string.Join("; ", done) + $" (IgnoreUnexpected={options.IgnoreUnexpected}, AllowNonFinite={options.AllowNonFinite})";
        return new Case(file, description, mustFail && kinds.Count == 1, options, kinds);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Loading
    // ------------------------------------------------------------------------------------------------------------

    /// <summary>A stream that cannot seek and returns at most <c>maxChunk</c> bytes per read.</summary>
    private sealed class NonSeekableStream : Stream
    {
        private readonly Stream _inner;
        private readonly int _maxChunk;

        public NonSeekableStream(Stream inner, int maxChunk)
        {
            _inner = inner;
            _maxChunk = maxChunk;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, _maxChunk));
        public override int Read(Span<byte> buffer) => _inner.Read(buffer.Slice(0, Math.Min(buffer.Length, _maxChunk)));
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        protected override void Dispose(bool disposing)
        {
            if (disposing) _inner.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>Loads through <paramref name="load"/>: null when it succeeded, the message when it threw a SafetensorsException; anything else fails the test.</summary>
    private static string? TryLoad(IRecurrentModel model, float[] before, Action load, string how, Case c)
    {
        before.CopyTo(model.Parameters);
        try
        {
            load();
            return null;
        }
        catch (SafetensorsException ex)
        {
            if (!SameBits(before, model.Parameters))
            {
                Assert.Fail($"{how}: failed load changed the weights ({ex.Message}). Mutation: {c.Description}");
            }
            return ex.Message;
        }
        catch (Exception ex)
        {
            Assert.Fail($"{how}: {ex.GetType().Name} instead of SafetensorsException: {ex.Message}. Mutation: {c.Description}");
            return null;
        }
    }

    private static bool SameBits(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) return false;
        for (int i = 0; i < a.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(a[i]) != BitConverter.SingleToInt32Bits(b[i])) return false;
        }
        return true;
    }

    private static void AssertHolds(IRecurrentModel model, Dictionary<string, float[]> file, Case c, string how)
    {
        foreach (TensorInfo t in model.TensorTable)
        {
            Assert.True(file.TryGetValue(t.Name, out float[]? expected), $"{how}: loaded, but the file has no '{t.Name}'. Mutation: {c.Description}");
            if (!SameBits(expected, model.Parameter(t.Name)))
            {
                Assert.Fail($"{how}: '{t.Name}' loaded other values than the file holds. Mutation: {c.Description}");
            }
            if (!c.Options.AllowNonFinite && expected!.Any(v => !float.IsFinite(v)))
            {
                Assert.Fail($"{how}: '{t.Name}' loaded a non-finite value without AllowNonFinite. Mutation: {c.Description}");
            }
        }
    }

    public static TheoryData<string> Models => new() { nameof(RnnBasic), nameof(LstmL2BiH13Init), nameof(GruBiTokensHead), nameof(RnnNobias) };

    private static IRecurrentModel Create(string name, int seed) => name switch
    {
        nameof(RnnBasic) => new RnnBasic(seed),
        nameof(LstmL2BiH13Init) => new LstmL2BiH13Init(seed),
        nameof(GruBiTokensHead) => new GruBiTokensHead(seed),
        _ => new RnnNobias(seed),
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void Mutated_files_load_exactly_or_throw_SafetensorsException_leaving_the_weights_unchanged(string modelName)
    {
        var random = new Random(Seed + modelName.Length * 7919 + modelName[0]);
        var original = new MemoryStream();
        Create(modelName, 1).SaveSafetensors(original);
        byte[] source = original.ToArray();

        IRecurrentModel model = Create(modelName, 2);
        float[] before = model.Parameters.ToArray();
        Assert.False(SameBits(before, Create(modelName, 1).Parameters), "the target model must start from other weights");

        var counts = s_kinds.ToDictionary(k => k, _ => 0);
        int loaded = 0, rejected = 0;
        for (int n = 0; n < MutationsPerModel; n++)
        {
            Case c = Mutate(source, random);
            foreach (string kind in c.Kinds) counts[kind]++;

            string? seekable = TryLoad(model, before, () => model.LoadSafetensors(new MemoryStream(c.File, writable: false), c.Options), "seekable", c);
            float[] afterSeekable = model.Parameters.ToArray();
            int chunk = new[] { 1, 3, 8, 100, 4096 }[random.Next(5)];
            string? nonSeekable = TryLoad(model, before, () => model.LoadSafetensors(new NonSeekableStream(new MemoryStream(c.File, writable: false), chunk), c.Options), $"non-seekable ({chunk}-byte reads)", c);
            Assert.True((seekable is null) == (nonSeekable is null),
                $"Seekable and non-seekable loads disagree: {seekable ?? "loaded"} / {nonSeekable ?? "loaded"}. Mutation: {c.Description}");
            if (n % 60 == 0)
            {
                string path = Path.Combine(_dir, $"{modelName}-{n}.safetensors");
                File.WriteAllBytes(path, c.File);
                string? fromFile = TryLoad(model, before, () => Safetensors.Load(path, model.TensorTable, model.Parameters, c.Options), "file", c);
                Assert.True((seekable is null) == (fromFile is null), $"Stream and file loads disagree: {seekable ?? "loaded"} / {fromFile ?? "loaded"}. Mutation: {c.Description}");
            }

            // ReadAll applies the same format rules: it loads whatever Load loaded, and otherwise throws only SafetensorsException.
            IReadOnlyDictionary<string, SafetensorsTensor>? all = null;
            try
            {
                all = Safetensors.ReadAll(new MemoryStream(c.File, writable: false));
            }
            catch (SafetensorsException) { }
            catch (Exception ex)
            {
                Assert.Fail($"ReadAll: {ex.GetType().Name} instead of SafetensorsException: {ex.Message}. Mutation: {c.Description}");
            }

            if (seekable is null)
            {
                Assert.False(c.MustFail, "Loaded a file that cannot be valid. Mutation: " + c.Description);
                Dictionary<string, float[]> expected = Decode(c.File);
                AssertHolds(model, expected, c, "non-seekable");
                Assert.True(SameBits(afterSeekable, model.Parameters), "Seekable and non-seekable loads gave other values. Mutation: " + c.Description);
                Assert.NotNull(all);
                foreach ((string name, SafetensorsTensor tensor) in all!)
                {
                    Assert.True(SameBits(expected[name], tensor.Data), $"ReadAll gave other values for '{name}'. Mutation: {c.Description}");
                }
                loaded++;
            }
            else
            {
                rejected++;
            }
        }

        // The mutations must exercise both outcomes and every kind of edit.
        Assert.True(loaded >= MutationsPerModel / 20, $"only {loaded} of {MutationsPerModel} mutated files loaded");
        Assert.True(rejected >= MutationsPerModel / 2, $"only {rejected} of {MutationsPerModel} mutated files were rejected");
        foreach ((string kind, int count) in counts) Assert.True(count > 0, $"no mutation of kind {kind}");
    }
}
