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

/// <summary>Weight I/O: safetensors save/load round trips, name mapping, dtype conversion, validation and atomic saves.</summary>
public sealed class SafetensorsTests : IDisposable
{
    private readonly string _dir;

    public SafetensorsTests()
    {
        _dir = Path.Combine(Path.GetTempPath(), "rnngen-safetensors-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Helpers
    // ------------------------------------------------------------------------------------------------------------

    /// <summary>One tensor of a hand-built file. Offsets default to "right after the previous tensor".</summary>
    private sealed record Entry(string Name, string DType, int[] Shape, byte[] Data, long[]? Offsets = null);

    /// <summary>Builds safetensors bytes: 8-byte LE header length, JSON header (space padded to 8), data.</summary>
    private static byte[] Build(IEnumerable<Entry> entries, bool metadata = true)
    {
        var list = entries.ToList();
        var header = new MemoryStream();
        using (var writer = new Utf8JsonWriter(header))
        {
            writer.WriteStartObject();
            if (metadata)
            {
                writer.WriteStartObject("__metadata__");
                writer.WriteString("format", "pt");
                writer.WriteEndObject();
            }
            long offset = 0;
            foreach (Entry e in list)
            {
                writer.WriteStartObject(e.Name);
                writer.WriteString("dtype", e.DType);
                writer.WriteStartArray("shape");
                foreach (int d in e.Shape) writer.WriteNumberValue(d);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                foreach (long o in e.Offsets ?? new[] { offset, offset + e.Data.Length }) writer.WriteNumberValue(o);
                writer.WriteEndArray();
                writer.WriteEndObject();
                offset += e.Data.Length;
            }
            writer.WriteEndObject();
        }
        while (header.Length % 8 != 0) header.WriteByte((byte)' ');
        return Frame(header.ToArray(), list.SelectMany(e => e.Data).ToArray());
    }

    private static byte[] Frame(string header, byte[] data) => Frame(Encoding.UTF8.GetBytes(header), data);

    private static byte[] Frame(byte[] header, byte[] data) => Frame((ulong)header.Length, header.Concat(data).ToArray());

    private static byte[] Frame(ulong headerLength, byte[] rest)
    {
        var bytes = new byte[8 + rest.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength);
        rest.CopyTo(bytes, 8);
        return bytes;
    }

    private static byte[] F32(IEnumerable<float> values)
    {
        float[] v = values.ToArray();
        var bytes = new byte[4 * v.Length];
        for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), v[i]);
        return bytes;
    }

    private static byte[] F64(IEnumerable<double> values)
    {
        double[] v = values.ToArray();
        var bytes = new byte[8 * v.Length];
        for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(8 * i), v[i]);
        return bytes;
    }

    private static byte[] U16(IEnumerable<ushort> bits)
    {
        ushort[] v = bits.ToArray();
        var bytes = new byte[2 * v.Length];
        for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), v[i]);
        return bytes;
    }

    private static int Count(int[] shape) => shape.Aggregate(1, (a, b) => a * b);

    /// <summary>A valid F32 file for <see cref="RnnBasic"/> whose values differ from any seeded model (1000 + 0.5 i).</summary>
    private static List<Entry> BasicEntries(string prefix = "", string module = "rnn")
    {
        var entries = new List<Entry>();
        int k = 0;
        foreach (TensorInfo t in RnnBasic.Tensors)
        {
            int[] shape = t.Shape.ToArray();
            string name = prefix + module + t.Name.Substring(t.Name.IndexOf('.'));
            entries.Add(new Entry(name, "F32", shape, F32(Enumerable.Range(k, Count(shape)).Select(i => 1000f + 0.5f * i))));
            k += Count(shape);
        }
        return entries;
    }

    private static float[] BasicValues() => Enumerable.Range(0, RnnBasic.ParameterCount).Select(i => 1000f + 0.5f * i).ToArray();

    private static List<Entry> Replace(List<Entry> entries, string name, Func<Entry, Entry> change)
    {
        int index = entries.FindIndex(e => e.Name == name);
        Assert.True(index >= 0, "no entry " + name);
        entries[index] = change(entries[index]);
        return entries;
    }

    private static void AssertBitIdentical(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: expected {expected.Length} floats, got {actual.Length}.");
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
            {
                Assert.Fail($"{what}[{i}]: expected {expected[i]:R} (0x{BitConverter.SingleToInt32Bits(expected[i]):X8}), got {actual[i]:R} (0x{BitConverter.SingleToInt32Bits(actual[i]):X8}).");
            }
        }
    }

    private static Stream Open(byte[] file, bool seekable) =>
        seekable ? new MemoryStream(file, writable: false) : new NonSeekableStream(new MemoryStream(file, writable: false), maxChunk: 5);

    /// <summary>
    /// Loads <paramref name="file"/> into a seeded <see cref="RnnBasic"/>, expects a <see cref="SafetensorsException"/>
    /// whose message contains every fragment, and checks the parameters are bit-for-bit what they were before.
    /// </summary>
    private static SafetensorsException AssertLoadFails(byte[] file, bool seekable, SafetensorsOptions? options, params string[] fragments)
    {
        var model = new RnnBasic(7);
        float[] before = model.Parameters.ToArray();
        using Stream stream = Open(file, seekable);
        SafetensorsException ex = Assert.Throws<SafetensorsException>(() => model.LoadSafetensors(stream, options));
        foreach (string fragment in fragments)
        {
            Assert.True(ex.Message.Contains(fragment, StringComparison.Ordinal), $"Message \"{ex.Message}\" should contain \"{fragment}\".");
        }
        AssertBitIdentical(before, model.Parameters, "parameters after failed load");
        return ex;
    }

    private static SafetensorsException AssertLoadFails(byte[] file, bool seekable, params string[] fragments) =>
        AssertLoadFails(file, seekable, null, fragments);

    private static (ulong HeaderLength, JsonDocument Header) ReadHeader(byte[] file)
    {
        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(file);
        return (length, JsonDocument.Parse(file.AsMemory(8, (int)length)));
    }

    private static byte[] SaveToBytes(IRecurrentModel model, SafetensorsOptions? options = null)
    {
        var stream = new MemoryStream();
        model.SaveSafetensors(stream, options);
        return stream.ToArray();
    }

    /// <summary>A read/write stream that cannot seek (no Length, no Position) and returns at most a few bytes per read.</summary>
    private sealed class NonSeekableStream : Stream
    {
        private readonly Stream _inner;
        private readonly int _maxChunk;

        public NonSeekableStream(Stream inner, int maxChunk = int.MaxValue)
        {
            _inner = inner;
            _maxChunk = maxChunk;
        }

        public override bool CanRead => _inner.CanRead;
        public override bool CanSeek => false;
        public override bool CanWrite => _inner.CanWrite;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => _inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, _maxChunk));
        public override int Read(Span<byte> buffer) => _inner.Read(buffer.Slice(0, Math.Min(buffer.Length, _maxChunk)));
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);
        public override void Write(ReadOnlySpan<byte> buffer) => _inner.Write(buffer);
        protected override void Dispose(bool disposing)
        {
            if (disposing) _inner.Dispose();
            base.Dispose(disposing);
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Round trips
    // ------------------------------------------------------------------------------------------------------------

    [Fact]
    public void Round_trip_through_memory_stream_is_bit_identical()
    {
        var source = new LstmL2BiH13Init(1);
        var target = new LstmL2BiH13Init(2);
        Assert.False(source.Parameters.SequenceEqual(target.Parameters), "differently seeded models should differ");

        var stream = new MemoryStream();
        source.SaveSafetensors(stream);
        stream.Position = 0;
        target.LoadSafetensors(stream);

        AssertBitIdentical(source.Parameters, target.Parameters, "parameters");
        Assert.Equal(stream.Length, stream.Position);
    }

    [Fact]
    public void Round_trip_through_file_is_bit_identical()
    {
        var source = new LstmTokensHead(11);
        var target = new LstmTokensHead(12);
        string path = Path.Combine(_dir, "tokens_head.safetensors");

        source.SaveSafetensors(path);
        target.LoadSafetensors(path);

        AssertBitIdentical(source.Parameters, target.Parameters, "parameters");
        foreach (TensorInfo t in LstmTokensHead.Tensors)
        {
            AssertBitIdentical(source.Parameter(t.Name), target.Parameter(t.Name), t.Name);
        }
    }

    [Fact]
    public void Round_trip_through_non_seekable_streams_reading_in_small_chunks()
    {
        var source = new GruL2BiH13Init(3);
        var target = new GruL2BiH13Init(4);
        var buffer = new MemoryStream();
        using (var write = new NonSeekableStream(buffer))
        {
            source.SaveSafetensors(write);
        }
        using var read = new NonSeekableStream(new MemoryStream(buffer.ToArray()), maxChunk: 3);
        target.LoadSafetensors(read);
        AssertBitIdentical(source.Parameters, target.Parameters, "parameters");
    }

    [Fact]
    public void Round_trip_keeps_special_float_values_bit_exact()
    {
        var source = new RnnBasic(5);
        float[] specials =
        {
            -0f, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon, -float.Epsilon, float.MaxValue,
            float.MinValue, BitConverter.Int32BitsToSingle(0x7FC00001), BitConverter.Int32BitsToSingle(unchecked((int)0xFFA12345)),
            1e-40f, 0f,
        };
        specials.CopyTo(source.Parameters);
        byte[] file = SaveToBytes(source);

        // By default the infinity at element 1 of the first tensor stops the load; the option lets every bit through.
        AssertLoadFails(file, seekable: true, "'rnn.weight_ih_l0'", "+infinity", "element 1 ", "[0, 1]", "AllowNonFinite");
        var target = new RnnBasic(6);
        target.LoadSafetensors(new MemoryStream(file), new SafetensorsOptions { AllowNonFinite = true });
        AssertBitIdentical(source.Parameters, target.Parameters, "parameters");
    }

    [Fact]
    public void Load_starts_at_the_current_stream_position()
    {
        var source = new RnnBasic(1);
        var stream = new MemoryStream();
        stream.Write(new byte[] { 1, 2, 3, 4, 5 });
        source.SaveSafetensors(stream);
        stream.Position = 5;
        var target = new RnnBasic(2);
        target.LoadSafetensors(stream);
        AssertBitIdentical(source.Parameters, target.Parameters, "parameters");
    }

    [Fact]
    public void ReadAll_returns_the_tensor_table_names_shapes_and_values()
    {
        var model = new LstmL2BiH13Init(21);
        byte[] file = SaveToBytes(model);

        IReadOnlyDictionary<string, SafetensorsTensor> all = Safetensors.ReadAll(new MemoryStream(file));
        Assert.Equal(LstmL2BiH13Init.Tensors.Select(t => t.Name).OrderBy(n => n, StringComparer.Ordinal),
                     all.Keys.OrderBy(n => n, StringComparer.Ordinal));
        foreach (TensorInfo t in LstmL2BiH13Init.Tensors)
        {
            SafetensorsTensor tensor = all[t.Name];
            Assert.Equal(t.Shape, tensor.Shape);
            AssertBitIdentical(model.Parameters.Slice(t.Offset, t.Length), tensor.Data, t.Name);
            AssertBitIdentical(model.Parameter(t.Name), tensor.Data, t.Name);
        }

        // Same through a file path.
        string path = Path.Combine(_dir, "all.safetensors");
        model.SaveSafetensors(path);
        Assert.Equal(file, File.ReadAllBytes(path));
        Assert.Equal(all.Keys.OrderBy(n => n), Safetensors.ReadAll(path).Keys.OrderBy(n => n));
    }

    [Fact]
    public void Saved_file_layout_matches_the_format()
    {
        var model = new LstmTokensHead(8);
        byte[] file = SaveToBytes(model);
        (ulong headerLength, JsonDocument header) = ReadHeader(file);
        using (header)
        {
            Assert.Equal(0UL, headerLength % 8);
            Assert.Equal(8 + (long)headerLength + 4L * LstmTokensHead.ParameterCount, file.Length);

            JsonElement root = header.RootElement;
            Assert.Equal(JsonValueKind.Object, root.ValueKind);
            Assert.True(root.TryGetProperty("__metadata__", out JsonElement metadata), "__metadata__ missing");
            Assert.Equal("pt", metadata.GetProperty("format").GetString());

            long expectedBegin = 0;
            foreach (TensorInfo t in LstmTokensHead.Tensors)
            {
                JsonElement e = root.GetProperty(t.Name);
                Assert.Equal("F32", e.GetProperty("dtype").GetString());
                Assert.Equal(t.Shape, e.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray());
                long[] offsets = e.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                Assert.Equal(new[] { expectedBegin, expectedBegin + 4L * t.Length }, offsets);
                // Raw little-endian F32 data at that place.
                for (int i = 0; i < t.Length; i++)
                {
                    float v = BinaryPrimitives.ReadSingleLittleEndian(file.AsSpan(8 + (int)headerLength + (int)offsets[0] + 4 * i));
                    Assert.Equal(BitConverter.SingleToInt32Bits(model.Parameters[t.Offset + i]), BitConverter.SingleToInt32Bits(v));
                }
                expectedBegin = offsets[1];
            }
            Assert.Equal(LstmTokensHead.Tensors.Count + 1, root.EnumerateObject().Count());
        }
    }

    [Fact]
    public void Saving_is_deterministic()
    {
        var model = new GruTokensHead(9);
        Assert.Equal(SaveToBytes(model), SaveToBytes(model));
        var options = new SafetensorsOptions { Prefix = "m.", Rename = new Dictionary<string, string> { ["rnn"] = "gru" } };
        Assert.Equal(SaveToBytes(model, options), SaveToBytes(model, options));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Name mapping
    // ------------------------------------------------------------------------------------------------------------

    [Fact]
    public void MapName_applies_module_rename_full_name_rename_and_prefix()
    {
        var options = new SafetensorsOptions
        {
            Prefix = "encoder.",
            Rename = new Dictionary<string, string> { ["rnn"] = "lstm", ["head.weight"] = "classifier.w", ["rnn.bias_hh_l0"] = "extra.b", ["embedding"] = "" },
        };
        Assert.Equal("encoder.lstm.weight_ih_l0", options.MapName("rnn.weight_ih_l0"));
        Assert.Equal("encoder.extra.b", options.MapName("rnn.bias_hh_l0"));          // full name wins over module
        Assert.Equal("encoder.classifier.w", options.MapName("head.weight"));
        Assert.Equal("encoder.head.bias", options.MapName("head.bias"));            // untouched module
        Assert.Equal("encoder.weight", options.MapName("embedding.weight"));        // module renamed to nothing
        Assert.Equal("rnn.weight_ih_l0", new SafetensorsOptions().MapName("rnn.weight_ih_l0"));
        // Only the first segment is a module name.
        Assert.Equal("rnn.weight_ih_l0", new SafetensorsOptions { Rename = new Dictionary<string, string> { ["weight_ih_l0"] = "x" } }.MapName("rnn.weight_ih_l0"));
    }

    [Fact]
    public void Save_and_load_with_prefix_round_trips_and_names_are_prefixed()
    {
        var options = new SafetensorsOptions { Prefix = "encoder." };
        var source = new LstmTokensHead(1);
        byte[] file = SaveToBytes(source, options);

        Assert.Equal(LstmTokensHead.Tensors.Select(t => "encoder." + t.Name).OrderBy(n => n),
                     Safetensors.ReadAll(new MemoryStream(file)).Keys.OrderBy(n => n));

        var target = new LstmTokensHead(2);
        target.LoadSafetensors(new MemoryStream(file), options);
        AssertBitIdentical(source.Parameters, target.Parameters, "parameters");

        // Without the prefix the names do not match.
        AssertMissing(new LstmTokensHead(3), file, null, "'embedding.weight'");
    }

    [Fact]
    public void Save_and_load_with_module_rename_round_trips()
    {
        var options = new SafetensorsOptions { Rename = new Dictionary<string, string> { ["rnn"] = "lstm" } };
        var source = new LstmTokensHead(1);
        byte[] file = SaveToBytes(source, options);

        var names = Safetensors.ReadAll(new MemoryStream(file)).Keys.OrderBy(n => n, StringComparer.Ordinal).ToArray();
        Assert.Equal(new[] { "embedding.weight", "head.bias", "head.weight", "lstm.bias_hh_l0", "lstm.bias_ih_l0", "lstm.weight_hh_l0", "lstm.weight_ih_l0" }, names);

        var target = new LstmTokensHead(2);
        target.LoadSafetensors(new MemoryStream(file), options);
        AssertBitIdentical(source.Parameters, target.Parameters, "parameters");
    }

    [Fact]
    public void Save_and_load_with_full_name_rename_prefix_and_module_rename_round_trips()
    {
        var options = new SafetensorsOptions
        {
            Prefix = "model.encoder.",
            Rename = new Dictionary<string, string> { ["rnn"] = "lstm", ["head.weight"] = "classifier.weight", ["head.bias"] = "classifier.bias" },
        };
        var source = new LstmTokensHead(31);
        string path = Path.Combine(_dir, "renamed.safetensors");
        source.SaveSafetensors(path, options);

        var all = Safetensors.ReadAll(path);
        Assert.Contains("model.encoder.classifier.weight", all.Keys);
        Assert.Contains("model.encoder.classifier.bias", all.Keys);
        Assert.Contains("model.encoder.lstm.weight_hh_l0", all.Keys);
        Assert.Contains("model.encoder.embedding.weight", all.Keys);
        Assert.DoesNotContain(all.Keys, k => k.Contains("head", StringComparison.Ordinal) || k.Contains("rnn", StringComparison.Ordinal));
        AssertBitIdentical(source.Parameter("head.weight"), all["model.encoder.classifier.weight"].Data, "head.weight");

        var target = new LstmTokensHead(32);
        target.LoadSafetensors(path, options);
        AssertBitIdentical(source.Parameters, target.Parameters, "parameters");
    }

    [Fact]
    public void Loads_a_file_written_with_lstm_names_using_module_rename()
    {
        byte[] file = Build(BasicEntries(module: "lstm"));
        var model = new RnnBasic(1);
        model.LoadSafetensors(new MemoryStream(file), new SafetensorsOptions { Rename = new Dictionary<string, string> { ["rnn"] = "lstm" } });
        AssertBitIdentical(BasicValues(), model.Parameters, "parameters");
        Assert.Equal(1000f, model.Parameter("rnn.weight_ih_l0")[0]);
        Assert.Equal(1000f + 0.5f * 35, model.Parameter("rnn.weight_hh_l0")[0]);

        // Without the rename it is a missing tensor, and nothing changes.
        AssertLoadFails(file, seekable: true, "Missing tensor 'rnn.weight_ih_l0'");

        // With a prefix too.
        byte[] prefixed = Build(BasicEntries(prefix: "encoder.", module: "lstm"));
        var other = new RnnBasic(2);
        other.LoadSafetensors(new MemoryStream(prefixed), new SafetensorsOptions { Prefix = "encoder.", Rename = new Dictionary<string, string> { ["rnn"] = "lstm" } });
        AssertBitIdentical(BasicValues(), other.Parameters, "parameters");
    }

    [Fact]
    public void Loads_a_file_with_a_single_tensor_renamed_by_full_name()
    {
        List<Entry> entries = Replace(BasicEntries(), "rnn.bias_hh_l0", e => e with { Name = "rnn.hidden_bias" });
        var model = new RnnBasic(1);
        model.LoadSafetensors(new MemoryStream(Build(entries)), new SafetensorsOptions { Rename = new Dictionary<string, string> { ["rnn.bias_hh_l0"] = "rnn.hidden_bias" } });
        AssertBitIdentical(BasicValues(), model.Parameters, "parameters");
    }

    [Fact]
    public void With_a_prefix_tensors_outside_it_are_ignored_but_extra_ones_inside_it_are_not()
    {
        List<Entry> entries = BasicEntries(prefix: "encoder.");
        entries.Add(new Entry("decoder.weight", "F32", new[] { 2 }, F32(new[] { 1f, 2f })));
        entries.Add(new Entry("step", "F64", new[] { 1 }, F64(new[] { 3.0 })));
        var options = new SafetensorsOptions { Prefix = "encoder." };
        var model = new RnnBasic(1);
        model.LoadSafetensors(new MemoryStream(Build(entries)), options);
        AssertBitIdentical(BasicValues(), model.Parameters, "parameters");

        entries.Add(new Entry("encoder.rnn.weight_ih_l1", "F32", new[] { 2 }, F32(new[] { 1f, 2f })));
        AssertLoadFails(Build(entries), seekable: true, options, "encoder.rnn.weight_ih_l1", "Unexpected");
    }

    [Fact]
    public void Missing_tensor_with_prefix_names_file_and_model_names()
    {
        List<Entry> entries = BasicEntries(prefix: "encoder.");
        entries.RemoveAll(e => e.Name == "encoder.rnn.bias_hh_l0");
        AssertLoadFails(Build(entries), seekable: true, new SafetensorsOptions { Prefix = "encoder." },
            "'encoder.rnn.bias_hh_l0'", "'rnn.bias_hh_l0'", "[7]");
    }

    private static void AssertMissing(IRecurrentModel model, byte[] file, SafetensorsOptions? options, string name)
    {
        float[] before = model.Parameters.ToArray();
        var ex = Assert.Throws<SafetensorsException>(() => model.LoadSafetensors(new MemoryStream(file), options));
        Assert.Contains("Missing tensor", ex.Message);
        Assert.Contains(name, ex.Message);
        AssertBitIdentical(before, model.Parameters, "parameters after failed load");
    }

    // ------------------------------------------------------------------------------------------------------------
    // dtypes
    // ------------------------------------------------------------------------------------------------------------

    [Fact]
    public void F16_BF16_and_F64_tensors_are_converted_exactly()
    {
        // rnn.weight_ih_l0 [7, 5] as F16.
        var f16Bits = new List<ushort> { 0x3C00, 0xC000, 0x3800, 0x3555, 0x7BFF, 0xFBFF, 0x0001, 0x0400, 0x8000, 0x7C00, 0xFC00, 0x0000 };
        var f16Expected = new List<float>
        {
            1f, -2f, 0.5f, 0.333251953125f, 65504f, -65504f, 5.9604644775390625E-8f, 6.103515625E-05f, -0f,
            float.PositiveInfinity, float.NegativeInfinity, 0f,
        };
        for (int i = f16Bits.Count; i < 35; i++)
        {
            float v = (i - 17) * 0.125f;
            f16Bits.Add(BitConverter.HalfToUInt16Bits((Half)v));
            f16Expected.Add(v);
        }

        // rnn.weight_hh_l0 [7, 7] as BF16.
        var bf16Bits = new List<ushort> { 0x3F80, 0xC020, 0x4049, 0x7F7F, 0x0001, 0x8000, 0x7F80, 0x3DCC };
        var bf16Expected = new List<float>
        {
            1f, -2.5f, 3.140625f, 3.3895313892515355E+38f, BitConverter.Int32BitsToSingle(0x00010000), -0f,
            float.PositiveInfinity, 0.099609375f,
        };
        for (int i = bf16Bits.Count; i < 49; i++)
        {
            float v = (i - 24) * 0.5f;
            uint bits = BitConverter.SingleToUInt32Bits(v);
            Assert.Equal(0u, bits & 0xFFFF);
            bf16Bits.Add((ushort)(bits >> 16));
            bf16Expected.Add(v);
        }

        // rnn.bias_ih_l0 [7] as F64, rnn.bias_hh_l0 [7] as F32.
        double[] f64 = { 1.5, -0.25, (double)0.001f, (double)float.MaxValue, (double)float.Epsilon, -0.0, 123456.0 };
        float[] f64Expected = { 1.5f, -0.25f, 0.001f, float.MaxValue, float.Epsilon, -0f, 123456f };
        float[] f32 = { 7f, -7f, 0.1f, 1e-30f, -3.5f, 2f, 1f };

        byte[] file = Build(new[]
        {
            new Entry("rnn.weight_ih_l0", "F16", new[] { 7, 5 }, U16(f16Bits)),
            new Entry("rnn.weight_hh_l0", "BF16", new[] { 7, 7 }, U16(bf16Bits)),
            new Entry("rnn.bias_ih_l0", "F64", new[] { 7 }, F64(f64)),
            new Entry("rnn.bias_hh_l0", "F32", new[] { 7 }, F32(f32)),
        });

        var model = new RnnBasic(3);
        model.LoadSafetensors(new MemoryStream(file), new SafetensorsOptions { AllowNonFinite = true }); // the infinities
        AssertBitIdentical(f16Expected.ToArray(), model.Parameter("rnn.weight_ih_l0"), "F16 rnn.weight_ih_l0");
        AssertBitIdentical(bf16Expected.ToArray(), model.Parameter("rnn.weight_hh_l0"), "BF16 rnn.weight_hh_l0");
        AssertBitIdentical(f64Expected, model.Parameter("rnn.bias_ih_l0"), "F64 rnn.bias_ih_l0");
        AssertBitIdentical(f32, model.Parameter("rnn.bias_hh_l0"), "F32 rnn.bias_hh_l0");

        var all = Safetensors.ReadAll(new MemoryStream(file));
        AssertBitIdentical(f16Expected.ToArray(), all["rnn.weight_ih_l0"].Data, "ReadAll F16");
        AssertBitIdentical(bf16Expected.ToArray(), all["rnn.weight_hh_l0"].Data, "ReadAll BF16");
        AssertBitIdentical(f64Expected, all["rnn.bias_ih_l0"].Data, "ReadAll F64");
        Assert.Equal(new[] { 7, 5 }, all["rnn.weight_ih_l0"].Shape);
        Assert.Equal(new[] { 7, 7 }, all["rnn.weight_hh_l0"].Shape);
        Assert.Equal(new[] { 7 }, all["rnn.bias_ih_l0"].Shape);
    }

    [Theory]
    [InlineData("F16")]
    [InlineData("BF16")]
    [InlineData("F64")]
    public void Whole_model_in_a_narrow_or_wide_dtype_loads(string dtype)
    {
        // Values that all three dtypes represent exactly: multiples of 1/8 in [-8, 8).
        var entries = new List<Entry>();
        var expected = new List<float>();
        int k = 0;
        foreach (TensorInfo t in LstmL2BiH13Init.Tensors)
        {
            float[] values = Enumerable.Range(k, t.Length).Select(i => (i % 128 - 64) / 8f).ToArray();
            k += t.Length;
            expected.AddRange(values);
            byte[] data = dtype switch
            {
                "F16" => U16(values.Select(v => BitConverter.HalfToUInt16Bits((Half)v))),
                "BF16" => U16(values.Select(v => (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16))),
                _ => F64(values.Select(v => (double)v)),
            };
            entries.Add(new Entry(t.Name, dtype, t.Shape.ToArray(), data));
        }
        // Put the tensors in the file in reverse order: order in the file must not matter.
        entries.Reverse();
        var model = new LstmL2BiH13Init(1);
        model.LoadSafetensors(new MemoryStream(Build(entries)));
        AssertBitIdentical(expected.ToArray(), model.Parameters, dtype);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Bad input: SafetensorsException, message naming what is wrong, parameters untouched
    // ------------------------------------------------------------------------------------------------------------

    [Fact]
    public void A_valid_hand_built_file_loads()
    {
        // Sanity check of the builder the failure tests rely on.
        foreach (bool seekable in new[] { true, false })
        {
            var model = new RnnBasic(7);
            using Stream stream = Open(Build(BasicEntries()), seekable);
            model.LoadSafetensors(stream);
            AssertBitIdentical(BasicValues(), model.Parameters, "parameters");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Missing_tensor(bool seekable)
    {
        List<Entry> entries = BasicEntries();
        entries.RemoveAll(e => e.Name == "rnn.bias_hh_l0");
        var ex = AssertLoadFails(Build(entries), seekable, "Missing tensor 'rnn.bias_hh_l0'", "[7]");
        Assert.IsAssignableFrom<IOException>(ex);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Unexpected_extra_tensor_fails_unless_ignored(bool seekable)
    {
        List<Entry> entries = BasicEntries();
        entries.Add(new Entry("rnn.weight_ih_l1", "F32", new[] { 7, 7 }, F32(new float[49])));
        entries.Add(new Entry("head.weight", "BF16", new[] { 3 }, U16(new ushort[3])));
        byte[] file = Build(entries);
        AssertLoadFails(file, seekable, "Unexpected", "rnn.weight_ih_l1", "head.weight", "IgnoreUnexpected");

        var model = new RnnBasic(7);
        using Stream stream = Open(file, seekable);
        model.LoadSafetensors(stream, new SafetensorsOptions { IgnoreUnexpected = true });
        AssertBitIdentical(BasicValues(), model.Parameters, "parameters");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Wrong_shape(bool seekable)
    {
        // Transposed: same element count, other shape.
        List<Entry> transposed = Replace(BasicEntries(), "rnn.weight_ih_l0", e => e with { Shape = new[] { 5, 7 } });
        AssertLoadFails(Build(transposed), seekable, "'rnn.weight_ih_l0'", "[5, 7]", "expected [7, 5]");

        // Flattened: other rank.
        List<Entry> flat = Replace(BasicEntries(), "rnn.weight_ih_l0", e => e with { Shape = new[] { 35 } });
        AssertLoadFails(Build(flat), seekable, "'rnn.weight_ih_l0'", "[35]", "expected [7, 5]");

        // Different size.
        List<Entry> bigger = Replace(BasicEntries(), "rnn.bias_hh_l0", e => e with { Shape = new[] { 8 }, Data = F32(new float[8]) });
        AssertLoadFails(Build(bigger), seekable, "'rnn.bias_hh_l0'", "[8]", "expected [7]");
    }

    [Theory]
    [InlineData("I64", 8)]
    [InlineData("I32", 4)]
    [InlineData("U8", 1)]
    [InlineData("BOOL", 1)]
    [InlineData("F8_E4M3", 1)]
    [InlineData("f32", 4)]
    public void Unsupported_dtype(string dtype, int size)
    {
        List<Entry> entries = Replace(BasicEntries(), "rnn.bias_ih_l0", e => e with { DType = dtype, Data = new byte[7 * size] });
        foreach (bool seekable in new[] { true, false })
        {
            AssertLoadFails(Build(entries), seekable, "'rnn.bias_ih_l0'", "dtype " + dtype, "F32", "F16", "BF16", "F64");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Data_offsets_length_does_not_match_shape(bool seekable)
    {
        // [7] F32 needs 28 bytes; give 24.
        List<Entry> shorter = Replace(BasicEntries(), "rnn.bias_ih_l0", e => e with { Data = e.Data.Take(24).ToArray() });
        AssertLoadFails(Build(shorter), seekable, "'rnn.bias_ih_l0'", "needs 28 bytes", "give 24");

        // [7, 5] F16 needs 70 bytes; give the 140 bytes of F32 data.
        List<Entry> wrongType = Replace(BasicEntries(), "rnn.weight_ih_l0", e => e with { DType = "F16" });
        AssertLoadFails(Build(wrongType), seekable, "'rnn.weight_ih_l0'", "needs 70 bytes", "give 140");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Data_offsets_end_before_begin(bool seekable)
    {
        List<Entry> entries = Replace(BasicEntries(), "rnn.bias_hh_l0", e => e with { Offsets = new long[] { 364, 336 } });
        AssertLoadFails(Build(entries), seekable, "'rnn.bias_hh_l0'", "end before begin", "[364, 336]");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Malformed_data_offsets_and_shapes(bool seekable)
    {
        AssertLoadFails(Build(Replace(BasicEntries(), "rnn.bias_hh_l0", e => e with { Offsets = new long[] { 336 } })), seekable,
            "'rnn.bias_hh_l0'", "1 data_offsets", "expected 2");
        AssertLoadFails(Build(Replace(BasicEntries(), "rnn.bias_hh_l0", e => e with { Offsets = new long[] { 336, 364, 392 } })), seekable,
            "'rnn.bias_hh_l0'", "3 data_offsets", "expected 2");
        AssertLoadFails(Build(Replace(BasicEntries(), "rnn.bias_hh_l0", e => e with { Offsets = new long[] { -28, 0 } })), seekable,
            "'rnn.bias_hh_l0'", "invalid data offset");
        AssertLoadFails(Build(Replace(BasicEntries(), "rnn.bias_hh_l0", e => e with { Shape = new[] { -7 } })), seekable,
            "'rnn.bias_hh_l0'", "invalid shape");

        string header = "{\"rnn.weight_ih_l0\":{\"dtype\":\"F32\",\"shape\":[7,5.5],\"data_offsets\":[0,140]}}";
        AssertLoadFails(Frame(header, new byte[140]), seekable, "'rnn.weight_ih_l0'", "invalid shape");
        header = "{\"rnn.weight_ih_l0\":{\"dtype\":\"F32\",\"shape\":[7,5],\"data_offsets\":[\"0\",140]}}";
        AssertLoadFails(Frame(header, new byte[140]), seekable, "'rnn.weight_ih_l0'", "invalid data offset");
        header = "{\"rnn.weight_ih_l0\":{\"dtype\":\"F32\",\"shape\":[7,5]}}";
        AssertLoadFails(Frame(header, new byte[140]), seekable, "'rnn.weight_ih_l0'", "data_offsets");
        header = "{\"rnn.weight_ih_l0\":[1,2,3]}";
        AssertLoadFails(Frame(header, new byte[140]), seekable, "'rnn.weight_ih_l0'", "dtype");
        header = "{\"rnn.weight_ih_l0\":{\"dtype\":32,\"shape\":[7,5],\"data_offsets\":[0,140]}}";
        AssertLoadFails(Frame(header, new byte[140]), seekable, "'rnn.weight_ih_l0'", "dtype");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Overlapping_data_offsets(bool seekable)
    {
        // rnn.bias_ih_l0 is bytes 336..364; make rnn.bias_hh_l0 start inside it (both names distinct).
        List<Entry> entries = Replace(BasicEntries(), "rnn.bias_hh_l0", e => e with { Offsets = new long[] { 350, 378 } });
        AssertLoadFails(Build(entries), seekable, "'rnn.bias_ih_l0'", "'rnn.bias_hh_l0'", "overlap");

        // Two tensors on exactly the same bytes.
        entries = Replace(BasicEntries(), "rnn.bias_hh_l0", e => e with { Offsets = new long[] { 336, 364 } });
        AssertLoadFails(Build(entries), seekable, "'rnn.bias_ih_l0'", "'rnn.bias_hh_l0'", "overlap");

        // A small tensor inside a large one.
        entries = Replace(BasicEntries(), "rnn.bias_hh_l0", e => e with { Offsets = new long[] { 0, 28 } });
        AssertLoadFails(Build(entries), seekable, "'rnn.weight_ih_l0'", "'rnn.bias_hh_l0'", "overlap");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Duplicate_tensor_names(bool seekable)
    {
        string header = "{\"rnn.bias_ih_l0\":{\"dtype\":\"F32\",\"shape\":[7],\"data_offsets\":[0,28]},"
                      + "\"rnn.bias_ih_l0\":{\"dtype\":\"F32\",\"shape\":[7],\"data_offsets\":[28,56]}}";
        AssertLoadFails(Frame(header, new byte[56]), seekable, "'rnn.bias_ih_l0'", "twice");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Offsets_beyond_the_data(bool seekable)
    {
        // Each tensor is self-consistent, but the last one points past the end of the data, leaving a hole before it.
        List<Entry> entries = Replace(BasicEntries(), "rnn.bias_hh_l0", e => e with { Offsets = new long[] { 1000, 1028 } });
        AssertLoadFails(Build(entries), seekable, "'rnn.bias_hh_l0'", "1000..1028", "'rnn.bias_ih_l0' ends (byte 364)", "holes");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Truncated_data(bool seekable)
    {
        byte[] full = SaveToBytes(new RnnBasic(99));
        Assert.Equal(8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(full) + 392, full.Length); // 98 floats
        foreach (int cut in new[] { 1, 4, 27, 28, 100, 392 })
        {
            byte[] file = full.Take(full.Length - cut).ToArray();
            AssertLoadFails(file, seekable, "Truncated", "392 bytes of data", "'rnn.bias_hh_l0'");
            if (seekable) AssertLoadFails(file, seekable, "file has " + (392 - cut));
        }
    }

    [Fact]
    public void Truncated_data_through_a_file_path()
    {
        byte[] full = SaveToBytes(new RnnBasic(99));
        string path = Path.Combine(_dir, "cut.safetensors");
        File.WriteAllBytes(path, full.Take(full.Length - 10).ToArray());
        var model = new RnnBasic(7);
        float[] before = model.Parameters.ToArray();
        var ex = Assert.Throws<SafetensorsException>(() => model.LoadSafetensors(path));
        Assert.Contains("Truncated", ex.Message);
        AssertBitIdentical(before, model.Parameters, "parameters after failed load");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Truncated_header(bool seekable)
    {
        byte[] full = SaveToBytes(new RnnBasic(99));
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(full);
        byte[] file = full.Take(8 + (int)headerLength / 2).ToArray();
        AssertLoadFails(file, seekable, headerLength.ToString());
        AssertLoadFails(file, seekable, seekable ? "larger than the rest of the file" : "cut short");
        if (seekable) AssertLoadFails(file, seekable, "(" + (headerLength / 2) + " bytes)");

        // Only the length.
        AssertLoadFails(full.Take(8).ToArray(), seekable, headerLength.ToString());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Header_length_zero(bool seekable)
    {
        AssertLoadFails(Frame(0UL, new byte[64]), seekable, "header length 0", "out of range");
        AssertLoadFails(Frame(0UL, Array.Empty<byte>()), seekable, "header length 0", "out of range");
    }

    [Theory]
    [InlineData(true, 100_000_001UL)]
    [InlineData(false, 100_000_001UL)]
    [InlineData(true, 0x1_0000_0000UL)]
    [InlineData(false, 0x1_0000_0000UL)]
    [InlineData(true, ulong.MaxValue)]
    [InlineData(false, ulong.MaxValue)]
    public void Header_length_too_large(bool seekable, ulong length)
    {
        byte[] rest = Encoding.UTF8.GetBytes("{}      ");
        AssertLoadFails(Frame(length, rest), seekable, "header length " + length, "out of range", "100000000");
    }

    [Fact]
    public void Header_length_at_the_limit_but_file_short_fails_cleanly()
    {
        AssertLoadFails(Frame((ulong)Safetensors.MaxHeaderBytes, Encoding.UTF8.GetBytes("{}      ")), seekable: true, "larger than the rest of the file");
    }

    [Theory]
    [InlineData(true, "this is not json")]
    [InlineData(false, "this is not json")]
    [InlineData(true, "{\"rnn.bias_ih_l0\": {\"dtype\": \"F32\",")]
    [InlineData(false, "{\"rnn.bias_ih_l0\": {\"dtype\": \"F32\",")]
    [InlineData(true, "        ")]
    [InlineData(true, "{} {}")]
    [InlineData(true, "{\"a\":[[[[[[[[[[[[1]]]]]]]]]]]]}")]
    public void Header_not_json(bool seekable, string header)
    {
        AssertLoadFails(Frame(header, new byte[16]), seekable, "not valid JSON");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Header_not_utf8(bool seekable)
    {
        byte[] bad = Encoding.UTF8.GetBytes("{\"rnn.bias").Concat(new byte[] { 0xFF, 0xFE }).Concat(Encoding.UTF8.GetBytes("\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}")).ToArray();
        AssertLoadFails(Frame(bad, new byte[4]), seekable, "not valid JSON");

        // Valid UTF-8, but an escaped lone surrogate in a name or a dtype.
        AssertLoadFails(Frame("{\"rnn.\\ud800\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]), seekable, "not valid JSON");
        AssertLoadFails(Frame("{\"rnn.bias_ih_l0\":{\"dtype\":\"F\\udc00\",\"shape\":[7],\"data_offsets\":[0,28]}}", new byte[28]), seekable, "not valid JSON");
    }

    [Theory]
    [InlineData(true, "[1, 2, 3]")]
    [InlineData(false, "[1, 2, 3]")]
    [InlineData(true, "42")]
    [InlineData(true, "\"rnn.weight_ih_l0\"")]
    [InlineData(true, "null")]
    [InlineData(false, "true")]
    public void Header_json_not_an_object(bool seekable, string header)
    {
        AssertLoadFails(Frame(header, new byte[16]), seekable, "must be a JSON object");
    }

    [Theory]
    [InlineData(true, 0)]
    [InlineData(false, 0)]
    [InlineData(true, 1)]
    [InlineData(false, 1)]
    [InlineData(true, 7)]
    [InlineData(false, 7)]
    public void Fewer_than_8_bytes(bool seekable, int length)
    {
        AssertLoadFails(new byte[length], seekable, "fewer than 8 bytes");
    }

    [Fact]
    public void ReadAll_rejects_bad_files_too()
    {
        Assert.Throws<SafetensorsException>(() => Safetensors.ReadAll(new MemoryStream(new byte[3])));
        Assert.Throws<SafetensorsException>(() => Safetensors.ReadAll(new MemoryStream(Frame("[]", Array.Empty<byte>()))));
        byte[] full = SaveToBytes(new RnnBasic(1));
        Assert.Throws<SafetensorsException>(() => Safetensors.ReadAll(new MemoryStream(full.Take(full.Length - 1).ToArray())));
        Assert.Throws<SafetensorsException>(() => Safetensors.ReadAll(new NonSeekableStream(new MemoryStream(full.Take(full.Length - 1).ToArray()))));
    }

    [Fact]
    public void A_failure_late_in_validation_writes_nothing()
    {
        // Every tensor but the last is valid (and different from the model's values): nothing may be half-loaded.
        List<Entry> entries = Replace(BasicEntries(), "rnn.bias_hh_l0", e => e with { Shape = new[] { 1, 7 } });
        AssertLoadFails(Build(entries), seekable: true, "'rnn.bias_hh_l0'");

        // Also when the only problem is an extra tensor after all the model's tensors matched.
        entries = BasicEntries();
        entries.Add(new Entry("zzz", "F32", new[] { 1 }, F32(new[] { 1f })));
        AssertLoadFails(Build(entries), seekable: true, "zzz");
    }

    [Fact]
    public void Static_api_checks_the_parameter_buffer()
    {
        var tensors = new[] { new TensorInfo("a", 0, 2, 3), new TensorInfo("b", 6, 4) };
        var values = Enumerable.Range(0, 10).Select(i => i * 1.25f).ToArray();
        var stream = new MemoryStream();
        Safetensors.Save(stream, tensors, values);

        // Buffers larger than the table need are fine; the rest is left alone.
        var larger = Enumerable.Repeat(-1f, 12).ToArray();
        stream.Position = 0;
        Safetensors.Load(stream, tensors, larger);
        AssertBitIdentical(values.Concat(new[] { -1f, -1f }).ToArray(), larger, "larger buffer");

        stream.Position = 0;
        Assert.Throws<ArgumentException>(() => Safetensors.Load(stream, tensors, new float[9]));
        Assert.Throws<ArgumentException>(() => Safetensors.Save(new MemoryStream(), tensors, new float[9]));
        Assert.Throws<ArgumentNullException>(() => Safetensors.Load((Stream)null!, tensors, new float[10]));
        Assert.Throws<ArgumentNullException>(() => Safetensors.Save((Stream)null!, tensors, new float[10]));
    }

    // ------------------------------------------------------------------------------------------------------------
    // The format's own rules (as the reference implementation): data tiled from 0, nothing after it, metadata of
    // strings, one '{' first
    // ------------------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Data_must_be_covered_from_byte_zero_without_holes(bool seekable)
    {
        // Every offset moved 4 bytes on, 4 unused bytes in front: the first tensor does not start at 0.
        var shifted = new List<Entry>();
        long offset = 4;
        foreach (Entry e in BasicEntries())
        {
            shifted.Add(e with { Offsets = new[] { offset, offset + e.Data.Length } });
            offset += e.Data.Length;
        }
        shifted[0] = shifted[0] with { Data = new byte[4].Concat(shifted[0].Data).ToArray() };
        AssertLoadFails(Build(shifted), seekable, "'rnn.weight_ih_l0'", "4..144", "does not start at byte 0");

        // A 4-byte hole between two tensors (the data is there, it belongs to no tensor).
        List<Entry> gap = BasicEntries();
        gap[2] = gap[2] with { Offsets = new long[] { 340, 368 }, Data = new byte[4].Concat(gap[2].Data).ToArray() };
        gap[3] = gap[3] with { Offsets = new long[] { 368, 396 } };
        AssertLoadFails(Build(gap), seekable, "'rnn.bias_ih_l0'", "340..368", "'rnn.weight_hh_l0' ends (byte 336)", "holes");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Bytes_after_the_data_are_rejected(bool seekable)
    {
        byte[] full = SaveToBytes(new RnnBasic(99));
        foreach (int extra in new[] { 1, 8, 4096 })
        {
            byte[] file = full.Concat(new byte[extra]).ToArray();
            AssertLoadFails(file, seekable, "after the 392 bytes of data", "'rnn.bias_hh_l0'", "must end the file");
            if (seekable) AssertLoadFails(file, seekable, extra + " bytes after");
            using Stream stream = Open(file, seekable);
            Assert.Throws<SafetensorsException>(() => Safetensors.ReadAll(stream));
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Metadata_must_map_strings_to_strings(bool seekable)
    {
        string tensors = "\"rnn.bias_ih_l0\":{\"dtype\":\"F32\",\"shape\":[7],\"data_offsets\":[0,28]}";
        foreach ((string metadata, string fragment) in new[]
        {
            ("{\"format\":1}", "'format' must be a string"),
            ("{\"format\":\"pt\",\"nested\":{\"a\":\"b\"}}", "'nested' must be a string"),
            ("[\"pt\"]", "must be an object of strings"),
            ("\"pt\"", "must be an object of strings"),
        })
        {
            AssertLoadFails(Frame("{\"__metadata__\":" + metadata + "," + tensors + "}", new byte[28]), seekable, "__metadata__", fragment);
        }
        AssertLoadFails(Frame("{\"__metadata__\":{},\"__metadata__\":{}," + tensors + "}", new byte[28]), seekable, "__metadata__ appears twice");

        // An empty map, a null (as serde reads an absent Option) and no metadata at all are fine.
        foreach (string ok in new[] { "{\"__metadata__\":{}," + tensors + "}", "{\"__metadata__\":null," + tensors + "}", "{" + tensors + "}" })
        {
            using Stream stream = Open(Frame(ok, F32(Enumerable.Repeat(2.5f, 7))), seekable);
            IReadOnlyDictionary<string, SafetensorsTensor> all = Safetensors.ReadAll(stream);
            Assert.Equal(Enumerable.Repeat(2.5f, 7), all["rnn.bias_ih_l0"].Data);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Header_must_start_with_a_brace(bool seekable)
    {
        string header = "{\"rnn.bias_ih_l0\":{\"dtype\":\"F32\",\"shape\":[7],\"data_offsets\":[0,28]}}";
        AssertLoadFails(Frame(" " + header, new byte[28]), seekable, "must start with '{'", "0x20");
        AssertLoadFails(Frame(new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes(header)).ToArray(), new byte[28]), seekable, "0xEF");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_tensor_field_given_twice_is_rejected(bool seekable)
    {
        string header = "{\"rnn.bias_ih_l0\":{\"dtype\":\"F32\",\"shape\":[7],\"dtype\":\"F16\",\"data_offsets\":[0,28]}}";
        AssertLoadFails(Frame(header, new byte[28]), seekable, "'rnn.bias_ih_l0'", "\"dtype\" twice");

        // Unknown fields are ignored, as by the reference implementation.
        header = "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"note\":[1,{}]}}";
        Assert.Equal(new[] { 1f }, Safetensors.ReadAll(new MemoryStream(Frame(header, F32(new[] { 1f }))))["t"].Data);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Sizes_are_computed_without_overflow(bool seekable)
    {
        // 2^48 elements: the product is caught before it wraps, whatever the offsets claim.
        AssertLoadFails(Frame("{\"t\":{\"dtype\":\"F64\",\"shape\":[65536,65536,65536],\"data_offsets\":[0,0]}}", Array.Empty<byte>()), seekable,
            "'t'", "more than 2147483591 elements");
        // An element count that would wrap a 32-bit int to 0 (2^16 * 2^16).
        AssertLoadFails(Frame("{\"t\":{\"dtype\":\"F32\",\"shape\":[65536,65536],\"data_offsets\":[0,0]}}", Array.Empty<byte>()), seekable,
            "'t'", "more than");
        // Offsets beyond 64 bits, and begin/end whose difference a 64-bit subtraction would get wrong.
        AssertLoadFails(Frame("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,18446744073709551615]}}", new byte[4]), seekable,
            "'t'", "invalid data offset");
        AssertLoadFails(Frame("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,9223372036854775807]}}", new byte[4]), seekable,
            "'t'", "needs 4 bytes", "give 9223372036854775807");
        AssertLoadFails(Frame("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[9223372036854775803,9223372036854775807]}}", new byte[4]), seekable,
            "'t'", "does not start at byte 0");

        // A zero dimension makes an empty tensor, however large the others.
        byte[] empty = Frame("{\"t\":{\"dtype\":\"F32\",\"shape\":[2147483647,0,2147483647],\"data_offsets\":[0,0]}}", Array.Empty<byte>());
        using Stream stream = Open(empty, seekable);
        SafetensorsTensor t = Safetensors.ReadAll(stream)["t"];
        Assert.Empty(t.Data);
        Assert.Equal(new[] { int.MaxValue, 0, int.MaxValue }, t.Shape);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Streams that claim more than they hold: read as bytes arrive, allocate little
    // ------------------------------------------------------------------------------------------------------------

    /// <summary>Bytes allocated on this thread by <paramref name="action"/>, run twice (the first run pays for JIT and statics).</summary>
    private static long AllocatedBy(Action action)
    {
        action();
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void A_short_stream_claiming_a_90_MB_header_fails_after_allocating_little()
    {
        // 100 bytes: a header length of 90,000,000, then 92 bytes of what could be the header's start.
        byte[] file = Frame(90_000_000UL, Encoding.UTF8.GetBytes("{\"rnn.bias_ih_l0\":{\"dtype\":\"F32\",\"shape\":[7],\"data_offsets\":[0,28]}".PadRight(92)));
        Assert.Equal(100, file.Length);
        var model = new RnnBasic(7);
        float[] before = model.Parameters.ToArray();
        string? message = null;
        long allocated = AllocatedBy(() =>
        {
            using var stream = new NonSeekableStream(new MemoryStream(file, writable: false), maxChunk: 7);
            try { model.LoadSafetensors(stream); } catch (SafetensorsException ex) { message = ex.Message; }
        });
        Assert.NotNull(message);
        Assert.Contains("header of 90000000 bytes is cut short after 92", message, StringComparison.Ordinal);
        Assert.True(allocated < 1 << 20, $"Allocated {allocated} bytes for a 100-byte stream.");
        AssertBitIdentical(before, model.Parameters, "parameters after failed load");

        // Seekable, the length is known: rejected before the header is read.
        AssertLoadFails(file, seekable: true, "larger than the rest of the file (92 bytes)");
    }

    [Fact]
    public void A_short_stream_claiming_a_400_MB_tensor_fails_after_allocating_little()
    {
        // A valid header for one F32 tensor of 100,000,000 elements, then 100 bytes of data: read whole, or skipped
        // by a load that ignores it after the model's own tensors.
        byte[] file = Frame("{\"big\":{\"dtype\":\"F32\",\"shape\":[100000000],\"data_offsets\":[0,400000000]}}", new byte[100]);
        List<Entry> entries = BasicEntries();
        entries.Add(new Entry("zbig", "F32", new[] { 100_000_000 }, new byte[100], Offsets: new long[] { 392, 400_000_392 }));
        byte[] withModel = Build(entries);
        foreach ((byte[] bytes, Action<Stream> read) in new (byte[], Action<Stream>)[]
        {
            (file, s => Safetensors.ReadAll(s)),
            (withModel, s => new RnnBasic(1).LoadSafetensors(s, new SafetensorsOptions { IgnoreUnexpected = true })),
        })
        {
            string? message = null;
            long allocated = AllocatedBy(() =>
            {
                using var stream = new NonSeekableStream(new MemoryStream(bytes, writable: false));
                try { read(stream); } catch (SafetensorsException ex) { message = ex.Message; }
            });
            Assert.NotNull(message);
            Assert.Contains("Truncated", message, StringComparison.Ordinal);
            Assert.True(allocated < 1 << 20, $"Allocated {allocated} bytes for a {bytes.Length}-byte stream ({message}).");
        }
        AssertLoadFails(withModel, seekable: false, new SafetensorsOptions { IgnoreUnexpected = true }, "'zbig'", "the stream ended after 492");

        using var readAll = new NonSeekableStream(new MemoryStream(file, writable: false));
        var ex = Assert.Throws<SafetensorsException>(() => Safetensors.ReadAll(readAll));
        Assert.Contains("header describes 400000000 bytes of data (up to the end of tensor 'big'), the stream ended after 100", ex.Message, StringComparison.Ordinal);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Non-finite weights: rejected by default, naming the tensor and element; AllowNonFinite loads them
    // ------------------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("F32", 0x7FC00000UL, "NaN")]
    [InlineData("F32", 0xFF800000UL, "-infinity")]
    [InlineData("F16", 0x7C00UL, "+infinity")]
    [InlineData("BF16", 0xFFC1UL, "NaN")]
    [InlineData("F64", 0x7FF8000000000000UL, "NaN")]
    [InlineData("F64", 0x7E37E43C8800759CUL, "the F64 value 1E+300, too large for a float (it would load as +infinity),")]
    public void Non_finite_weights_are_rejected_unless_allowed(string dtype, ulong bits, string found)
    {
        // rnn.weight_hh_l0 [7, 7] in the given dtype, all 0.25 except element 38 ([5, 3]).
        int size = dtype switch { "F16" or "BF16" => 2, "F32" => 4, _ => 8 };
        byte[] data = new byte[49 * size];
        for (int i = 0; i < 49; i++)
        {
            ulong v = i == 38 ? bits : dtype switch { "F16" => 0x3400UL, "BF16" => 0x3E80UL, "F32" => 0x3E800000UL, _ => 0x3FD0000000000000UL };
            for (int b = 0; b < size; b++) data[i * size + b] = (byte)(v >> (8 * b));
        }
        byte[] file = Build(Replace(BasicEntries(), "rnn.weight_hh_l0", e => e with { DType = dtype, Data = data }));
        foreach (bool seekable in new[] { true, false })
        {
            AssertLoadFails(file, seekable, "Tensor 'rnn.weight_hh_l0' holds " + found + " at element 38 (index [5, 3])", "AllowNonFinite");

            var model = new RnnBasic(7);
            using Stream stream = Open(file, seekable);
            model.LoadSafetensors(stream, new SafetensorsOptions { AllowNonFinite = true });
            float loaded = model.Parameter("rnn.weight_hh_l0")[38];
            Assert.True(!float.IsFinite(loaded), $"element 38 loaded as {loaded}");
            Assert.Equal(found == "NaN", float.IsNaN(loaded));
            Assert.Equal(0.25f, model.Parameter("rnn.weight_hh_l0")[37]);
            Assert.Equal(BasicValues()[..35], model.Parameter("rnn.weight_ih_l0").ToArray());
        }

        // ReadAll returns what is stored.
        Assert.False(float.IsFinite(Safetensors.ReadAll(new MemoryStream(file))["rnn.weight_hh_l0"].Data[38]));
    }

    [Fact]
    public void A_non_finite_value_in_a_tensor_the_model_does_not_take_is_not_checked()
    {
        List<Entry> entries = BasicEntries();
        entries.Add(new Entry("extra.running_var", "F32", new[] { 2 }, F32(new[] { float.NaN, 1f })));
        var model = new RnnBasic(7);
        model.LoadSafetensors(new MemoryStream(Build(entries)), new SafetensorsOptions { IgnoreUnexpected = true });
        AssertBitIdentical(BasicValues(), model.Parameters, "parameters");
    }

    // ------------------------------------------------------------------------------------------------------------
    // Atomic save
    // ------------------------------------------------------------------------------------------------------------

    [Fact]
    public void Save_into_missing_directory_throws_and_leaves_no_temp_file()
    {
        string missing = Path.Combine(_dir, "does-not-exist");
        string path = Path.Combine(missing, "model.safetensors");
        var model = new RnnBasic(1);
        Assert.ThrowsAny<IOException>(() => model.SaveSafetensors(path));
        Assert.False(Directory.Exists(missing));
        Assert.Empty(Directory.GetFileSystemEntries(_dir, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void Successful_save_leaves_only_the_target_file()
    {
        string path = Path.Combine(_dir, "model.safetensors");
        var model = new LstmL2BiH13Init(1);
        model.SaveSafetensors(path);
        model.SaveSafetensors(path);
        Assert.Equal(new[] { path }, Directory.GetFiles(_dir));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
        Assert.Equal(SaveToBytes(model), File.ReadAllBytes(path));
    }

    [Fact]
    public void Save_over_an_existing_file_replaces_it_completely()
    {
        string path = Path.Combine(_dir, "model.safetensors");

        // A much longer unrelated file.
        File.WriteAllBytes(path, Enumerable.Repeat((byte)0xAB, 1 << 20).ToArray());
        var small = new RnnBasic(5);
        small.SaveSafetensors(path);
        byte[] expected = SaveToBytes(small);
        Assert.Equal(expected.Length, new FileInfo(path).Length);
        Assert.Equal(expected, File.ReadAllBytes(path));

        // A bigger model's file, then a smaller model's file at the same path.
        new LstmL3H33(1).SaveSafetensors(path);
        small.SaveSafetensors(path);
        Assert.Equal(expected, File.ReadAllBytes(path));

        var loaded = new RnnBasic(6);
        loaded.LoadSafetensors(path);
        AssertBitIdentical(small.Parameters, loaded.Parameters, "parameters");
        Assert.Equal(new[] { path }, Directory.GetFiles(_dir));
    }

    [Fact]
    public void Save_does_not_touch_the_target_when_it_fails()
    {
        // A parameter buffer too small for the table fails inside the stream save; the old file must survive.
        string path = Path.Combine(_dir, "keep.safetensors");
        byte[] old = SaveToBytes(new RnnBasic(1));
        File.WriteAllBytes(path, old);
        var tensors = new[] { new TensorInfo("x", 0, 100) };
        Assert.Throws<ArgumentException>(() => Safetensors.Save(path, tensors, new float[10]));
        Assert.Equal(old, File.ReadAllBytes(path));
        Assert.Equal(new[] { path }, Directory.GetFiles(_dir));
    }

    [Fact]
    public void Save_with_renames_that_collide_throws_and_writes_nothing()
    {
        string path = Path.Combine(_dir, "keep.safetensors");
        byte[] old = SaveToBytes(new RnnBasic(1));
        File.WriteAllBytes(path, old);
        var model = new RnnBasic(2);
        var colliding = new SafetensorsOptions { Rename = new Dictionary<string, string> { ["rnn.bias_ih_l0"] = "rnn.bias", ["rnn.bias_hh_l0"] = "rnn.bias" } };

        var ex = Assert.Throws<ArgumentException>(() => model.SaveSafetensors(path, colliding));
        Assert.Contains("'rnn.bias'", ex.Message);
        Assert.Equal(old, File.ReadAllBytes(path));
        Assert.Equal(new[] { path }, Directory.GetFiles(_dir));

        var stream = new MemoryStream();
        Assert.Throws<ArgumentException>(() => model.SaveSafetensors(stream, colliding));
        Assert.Equal(0, stream.Length);

        // A tensor may not be saved as the metadata entry either.
        var metadata = new SafetensorsOptions { Rename = new Dictionary<string, string> { ["rnn.bias_ih_l0"] = "__metadata__" } };
        Assert.Throws<ArgumentException>(() => model.SaveSafetensors(new MemoryStream(), metadata));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Parameter(name) and golden fixtures
    // ------------------------------------------------------------------------------------------------------------

    [Fact]
    public void Parameter_with_unknown_name_lists_valid_names()
    {
        var model = new LstmL2BiH13Init(1);
        var ex = Assert.Throws<ArgumentException>(() => model.Parameter("nope"));
        Assert.Equal("name", ex.ParamName);
        Assert.Contains("'nope'", ex.Message);
        foreach (TensorInfo t in LstmL2BiH13Init.Tensors) Assert.Contains(t.Name, ex.Message);

        var tokens = new LstmTokensHead(1);
        var ex2 = Assert.Throws<ArgumentException>(() => tokens.Parameter("rnn.weight_ih_l1"));
        foreach (TensorInfo t in LstmTokensHead.Tensors) Assert.Contains(t.Name, ex2.Message);
    }

    [Fact]
    public void Parameter_views_match_the_tensor_table()
    {
        var model = new LstmTokensHead(1);
        foreach (TensorInfo t in LstmTokensHead.Tensors)
        {
            Span<float> view = model.Parameter(t.Name);
            Assert.Equal(t.Length, view.Length);
            view[0] = 12345f;
            Assert.Equal(12345f, model.Parameters[t.Offset]);
        }
        int total = 0;
        foreach (TensorInfo t in LstmTokensHead.Tensors)
        {
            Assert.Equal(total, t.Offset);
            total += t.Length;
        }
        Assert.Equal(LstmTokensHead.ParameterCount, total);
    }

    [Fact]
    public void Golden_fixture_loads_with_model_prefix()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "golden", "lstm_l2_bi_h13_init.safetensors");
        IReadOnlyDictionary<string, SafetensorsTensor> all = Safetensors.ReadAll(path);
        Assert.Contains(all.Keys, k => !k.StartsWith("model.", StringComparison.Ordinal)); // other tensors are ignored by the prefix

        var model = new LstmL2BiH13Init(1);
        model.LoadSafetensors(path, new SafetensorsOptions { Prefix = "model." });
        foreach (TensorInfo t in LstmL2BiH13Init.Tensors)
        {
            SafetensorsTensor tensor = all["model." + t.Name];
            Assert.Equal(t.Shape, tensor.Shape);
            AssertBitIdentical(tensor.Data, model.Parameter(t.Name), t.Name);
        }

        // Stream overload gives the same, and re-saving under the prefix reproduces the model tensors.
        var viaStream = new LstmL2BiH13Init(2);
        using (FileStream stream = File.OpenRead(path)) viaStream.LoadSafetensors(stream, new SafetensorsOptions { Prefix = "model." });
        AssertBitIdentical(model.Parameters, viaStream.Parameters, "stream load");

        var resaved = Safetensors.ReadAll(new MemoryStream(SaveToBytes(model, new SafetensorsOptions { Prefix = "model." })));
        foreach ((string name, SafetensorsTensor tensor) in resaved)
        {
            AssertBitIdentical(all[name].Data, tensor.Data, name);
        }
    }
}
