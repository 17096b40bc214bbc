using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace RnnGen;

/// <summary>How tensor names in a safetensors file relate to a model's own names.</summary>
/// <remarks>
/// A model's own names are the PyTorch state_dict names of a module with submodules <c>embedding</c>, <c>rnn</c>
/// and <c>head</c>. To load a file written from another module, rename submodules (<c>{"rnn": "lstm"}</c>
/// for <c>self.lstm = nn.LSTM(...)</c>), rename single tensors by full name, and/or put a prefix in front of
/// every name (<c>"encoder."</c> for a model stored as <c>self.encoder</c> of a bigger module).
/// </remarks>
public sealed class SafetensorsOptions
{
    /// <summary>Prepended to every (renamed) name, e.g. <c>"encoder."</c>. Default empty.</summary>
    public string Prefix { get; init; } = "";

    /// <summary>
    /// Renames, keyed by the model's own full tensor name (<c>"head.weight"</c>) or by its first segment, the
    /// submodule (<c>"rnn"</c>, <c>"embedding"</c>, <c>"head"</c>). A full-name entry wins over a submodule entry.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Rename { get; init; }

    /// <summary>
    /// When false (the default), a tensor in the file that the model does not have is an error. Only names that
    /// start with <see cref="Prefix"/> are considered when a prefix is set. Ignored when saving.
    /// </summary>
    public bool IgnoreUnexpected { get; init; }

    /// <summary>
    /// When false (the default), a load that would put a NaN or an infinity into the model fails with a
    /// <see cref="SafetensorsException"/> naming the tensor and the element, and no weight changes: a checkpoint
    /// saved after training diverged would otherwise load silently and turn every output into NaN. This covers
    /// non-finite values stored as such and F64 values too large for a float (they would load as infinities).
    /// Set it to load such values as they are. Ignored when saving (a model's weights are written as they are).
    /// </summary>
    public bool AllowNonFinite { get; init; }

    /// <summary>
    /// Saving: when true, every matrix (2-D tensor: the layer weights, the head, the embedding) is written as int8, as
    /// <c>Weights = WeightPrecision.Int8</c> quantizes it — symmetric, one scale per row: scale = max |row| / 127,
    /// q = round(w / scale) to even, clamped to ±127 — in an I8 tensor of the matrix's name and shape, with its scales in
    /// an F32 tensor named <c>&lt;name&gt;.scale</c> of shape [rows]; vectors (biases) stay F32. The file is about a
    /// quarter of the float one. Loading needs no option: an I8 matrix with its <c>.scale</c> loads into any model, of
    /// any precision, as q · scale (and a model with <c>Weights = Int8</c> quantizes those floats back to the same q).
    /// Default false.
    /// </summary>
    public bool Int8Weights { get; init; }

    /// <summary>The name a model tensor has in the file.</summary>
    public string MapName(string modelName)
    {
        string name = modelName;
        if (Rename is not null)
        {
            if (Rename.TryGetValue(modelName, out string? full))
            {
                name = full;
            }
            else
            {
                int dot = modelName.IndexOf('.');
                if (dot > 0 && Rename.TryGetValue(modelName.Substring(0, dot), out string? module))
                {
                    name = module.Length == 0 ? modelName.Substring(dot + 1) : module + modelName.Substring(dot);
                }
            }
        }
        return Prefix + name;
    }
}

/// <summary>The file is not a valid safetensors file for the model it is loaded into.</summary>
public sealed class SafetensorsException : IOException
{
    /// <summary>Creates the exception.</summary>
    public SafetensorsException(string message) : base(message) { }

    /// <summary>Creates the exception with an inner cause.</summary>
    public SafetensorsException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>One tensor read from a safetensors file, as floats.</summary>
public sealed class SafetensorsTensor
{
    internal SafetensorsTensor(int[] shape, float[] data)
    {
        Shape = shape;
        Data = data;
    }

    /// <summary>Shape, outermost dimension first.</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>Values, row-major.</summary>
    public float[] Data { get; }
}

/// <summary>
/// Reads and writes the safetensors format (an 8-byte little-endian header length, a JSON header, then raw
/// little-endian tensor data), as written by <c>safetensors.torch.save_file</c>.
/// </summary>
/// <remarks>
/// <para>
/// Reading follows the rules of the reference implementation (huggingface/safetensors). The header length is at
/// most <see cref="MaxHeaderBytes"/>. The header is UTF-8 JSON: an object, starting with <c>{</c>, whose
/// <c>__metadata__</c> entry (optional) maps strings to strings and whose other entries are tensors, names unique,
/// each with a <c>dtype</c>, a <c>shape</c> and <c>data_offsets</c> [begin, end] into the data that follows the
/// header. Each tensor's byte count, end − begin, is its element count times its dtype's size; the ranges, taken in
/// order, cover the data exactly, from 0 with no hole or overlap, and the data ends the file or stream (bytes after
/// it are an error).
/// </para>
/// <para>
/// A stream is read as its bytes arrive: the header grows in chunks as it comes in and the data is read tensor by
/// tensor, so nothing is allocated for a length the file only claims. A short or hostile stream fails after reading
/// what it holds, having allocated little more than that. A seekable stream's length is checked against the header
/// before the data is read.
/// </para>
/// </remarks>
public static class Safetensors
{
    /// <summary>
    /// Largest header accepted, in bytes (100,000,000, as the reference implementation). A header length field above
    /// it is rejected before the header is read.
    /// </summary>
    public const int MaxHeaderBytes = 100_000_000;

    /// <summary>Bytes read at a time: the first allocation for a header and the buffer the data passes through. A multiple of every dtype's size.</summary>
    private const int ChunkBytes = 1 << 16;

    /// <summary>The most elements a float[] can hold (Array.MaxLength, which netstandard2.1 does not have).</summary>
    private const long MaxElements = 0x7FFFFFC7;

    /// <summary>Loads a file into <paramref name="parameters"/>. Every tensor is validated before any float is written.</summary>
    /// <exception cref="SafetensorsException">The file is malformed or does not fit the model; see <see cref="Load(Stream, IReadOnlyList{TensorInfo}, Span{float}, SafetensorsOptions?)"/>.</exception>
    public static void Load(string path, IReadOnlyList<TensorInfo> tensors, Span<float> parameters, SafetensorsOptions? options = null)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        Load(stream, tensors, parameters, options);
    }

    /// <summary>
    /// Loads a safetensors stream into <paramref name="parameters"/>, laid out as <paramref name="tensors"/> says.
    /// F32 is read as is; F16, BF16 and F64 are converted. The whole stream is read and validated (header, names,
    /// shapes, dtypes, offsets, length, and unless <see cref="SafetensorsOptions.AllowNonFinite"/> is set, that every
    /// value is finite) into a staging buffer the size of the model before <paramref name="parameters"/> is touched,
    /// so a failed load leaves the model as it was. The stream is read from its current position to its end.
    /// </summary>
    /// <exception cref="SafetensorsException">The file is malformed or does not fit the model; the message names the tensor and what was expected and found.</exception>
    public static void Load(Stream stream, IReadOnlyList<TensorInfo> tensors, Span<float> parameters, SafetensorsOptions? options = null)
    {
        if (stream is null) throw new ArgumentNullException(nameof(stream));
        if (tensors is null) throw new ArgumentNullException(nameof(tensors));
        options ??= new SafetensorsOptions();
        int required = 0;
        foreach (TensorInfo t in tensors) required = Math.Max(required, t.Offset + t.Length);
        if (parameters.Length < required)
        {
            throw new ArgumentException($"Parameter buffer has {parameters.Length} floats; the tensor table needs {required}.", nameof(parameters));
        }

        Header header = ReadHeader(stream);

        // Match every model tensor to a file entry, checking shape (the entry's dtype and byte count are checked); an
        // int8 matrix brings its scale tensor.
        var targets = new Dictionary<Entry, List<TensorInfo>>();
        var scaleOf = new Dictionary<Entry, Entry>();
        foreach (TensorInfo tensor in tensors)
        {
            string fileName = options.MapName(tensor.Name);
            if (!header.ByName.TryGetValue(fileName, out Entry? entry))
            {
                throw new SafetensorsException($"Missing tensor '{fileName}' (model tensor '{tensor.Name}', shape {tensor.ShapeText}) in safetensors file.");
            }
            if (!SameShape(entry.Shape, tensor.Shape))
            {
                throw new SafetensorsException($"Tensor '{fileName}' has shape [{string.Join(", ", entry.Shape)}]; expected {tensor.ShapeText}.");
            }
            if (entry.DType == "I8" && !scaleOf.ContainsKey(entry)) scaleOf.Add(entry, Int8Scale(header, entry));
            if (!targets.TryGetValue(entry, out List<TensorInfo>? list)) targets.Add(entry, list = new List<TensorInfo>(1));
            list.Add(tensor);
        }
        var scaleEntries = new HashSet<Entry>(scaleOf.Values);
        if (!options.IgnoreUnexpected)
        {
            var unexpected = new List<string>();
            foreach (Entry entry in header.Ordered)
            {
                if (!targets.ContainsKey(entry) && !scaleEntries.Contains(entry) && entry.Name.StartsWith(options.Prefix, StringComparison.Ordinal)) unexpected.Add(entry.Name);
            }
            if (unexpected.Count > 0)
            {
                unexpected.Sort(StringComparer.Ordinal);
                throw new SafetensorsException($"Unexpected tensor(s) in safetensors file: {string.Join(", ", unexpected)}. Set IgnoreUnexpected to load anyway.");
            }
        }

        // The data, tensor by tensor in file order, into a copy of the parameters; tensors the model does not take are skipped.
        var staging = new float[required];
        parameters.Slice(0, required).CopyTo(staging);
        var reader = new DataReader(stream, header);
        var scales = new Dictionary<Entry, float[]>();
        foreach (Entry entry in header.Ordered)
        {
            bool isScale = scaleEntries.Contains(entry);
            if (targets.TryGetValue(entry, out List<TensorInfo>? list))
            {
                TensorInfo first = list[0];
                Span<float> read = staging.AsSpan(first.Offset, first.Length);
                reader.ReadInto(entry, read, checkFinite: !options.AllowNonFinite);
                for (int i = 1; i < list.Count; i++) read.CopyTo(staging.AsSpan(list[i].Offset, list[i].Length));
                // A renamed model tensor can also be an int8 matrix's scales: keep them as read, before any scaling.
                if (isScale) scales.Add(entry, CheckedScales(entry, read.ToArray()));
            }
            else if (isScale)
            {
                scales.Add(entry, CheckedScales(entry, reader.ReadArray(entry)));
            }
            else
            {
                reader.Skip(entry.ByteLength);
            }
        }
        reader.ExpectEnd();
        // Int8 matrices: q · scale of their row, in every model tensor they were read into.
        foreach (KeyValuePair<Entry, Entry> pair in scaleOf)
        {
            float[] rowScales = scales[pair.Value];
            int cols = pair.Key.Shape[1];
            foreach (TensorInfo t in targets[pair.Key])
            {
                Span<float> values = staging.AsSpan(t.Offset, t.Length);
                for (int r = 0; r < rowScales.Length; r++)
                {
                    Span<float> row = values.Slice(r * cols, cols);
                    for (int c = 0; c < row.Length; c++) row[c] *= rowScales[r];
                }
            }
        }
        staging.AsSpan().CopyTo(parameters);
    }

    /// <summary>Reads every tensor of a safetensors file as floats (F16, BF16 and F64 converted), keyed by name.</summary>
    /// <exception cref="SafetensorsException">The file is not a valid safetensors file.</exception>
    public static IReadOnlyDictionary<string, SafetensorsTensor> ReadAll(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return ReadAll(stream);
    }

    /// <summary>
    /// Reads every tensor of a safetensors stream as floats (F16, BF16 and F64 converted), keyed by name. Values are
    /// returned as stored, NaN and infinities included; the file is validated as <see cref="Load(Stream, IReadOnlyList{TensorInfo}, Span{float}, SafetensorsOptions?)"/> validates it.
    /// </summary>
    /// <exception cref="SafetensorsException">The stream is not a valid safetensors file.</exception>
    public static IReadOnlyDictionary<string, SafetensorsTensor> ReadAll(Stream stream)
    {
        if (stream is null) throw new ArgumentNullException(nameof(stream));
        Header header = ReadHeader(stream);
        var reader = new DataReader(stream, header);
        var result = new Dictionary<string, SafetensorsTensor>(StringComparer.Ordinal);
        foreach (Entry entry in header.Ordered)
        {
            result.Add(entry.Name, new SafetensorsTensor(entry.Shape, reader.ReadArray(entry)));
        }
        reader.ExpectEnd();
        return result;
    }

    /// <summary>Saves <paramref name="parameters"/> as F32 tensors to <paramref name="path"/>, atomically: a temporary file in the same folder is written, flushed and renamed over the target.</summary>
    public static void Save(string path, IReadOnlyList<TensorInfo> tensors, ReadOnlySpan<float> parameters, SafetensorsOptions? options = null)
    {
        if (path is null) throw new ArgumentNullException(nameof(path));
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full) ?? ".";
        string temp = Path.Combine(directory, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N").Substring(0, 8) + ".tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                Save(stream, tensors, parameters, options);
                stream.Flush(flushToDisk: true);
            }
            Portable.MoveOverwrite(temp, full);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>Writes <paramref name="parameters"/> as F32 tensors in safetensors format, named as <paramref name="options"/> maps them.</summary>
    public static void Save(Stream stream, IReadOnlyList<TensorInfo> tensors, ReadOnlySpan<float> parameters, SafetensorsOptions? options = null)
    {
        if (stream is null) throw new ArgumentNullException(nameof(stream));
        if (tensors is null) throw new ArgumentNullException(nameof(tensors));
        options ??= new SafetensorsOptions();
        var names = new HashSet<string>(StringComparer.Ordinal) { "__metadata__" };
        foreach (TensorInfo t in tensors)
        {
            if (t.Offset + t.Length > parameters.Length)
            {
                throw new ArgumentException($"Tensor '{t.Name}' needs floats up to {t.Offset + t.Length}; the parameter buffer has {parameters.Length}.", nameof(parameters));
            }
            string name = options.MapName(t.Name);
            if (!names.Add(name) || (options.Int8Weights && t.Shape.Count == 2 && !names.Add(name + ".scale")))
            {
                throw new ArgumentException($"Tensor '{t.Name}' is saved as '{name}', a name already taken; names in a safetensors file must be unique.", nameof(options));
            }
        }
        // Int8: every matrix quantized by row before anything is written (a non-finite weight cannot be).
        var quantized = new Dictionary<TensorInfo, (sbyte[] Q, float[] Scales)>();
        if (options.Int8Weights)
        {
            foreach (TensorInfo t in tensors)
            {
                if (t.Shape.Count == 2) quantized.Add(t, QuantizeRows(t, parameters.Slice(t.Offset, t.Length)));
            }
        }

        var headerStream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(headerStream))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("__metadata__");
            writer.WriteString("format", "pt");
            writer.WriteEndObject();
            long offset = 0;
            void Entry(string name, string dtype, IReadOnlyList<int> shape, long bytes)
            {
                writer.WriteStartObject(name);
                writer.WriteString("dtype", dtype);
                writer.WriteStartArray("shape");
                foreach (int d in shape) writer.WriteNumberValue(d);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                writer.WriteNumberValue(offset + bytes);
                writer.WriteEndArray();
                writer.WriteEndObject();
                offset += bytes;
            }
            foreach (TensorInfo t in tensors)
            {
                string name = options.MapName(t.Name);
                if (quantized.ContainsKey(t))
                {
                    Entry(name, "I8", t.Shape, t.Length);
                    Entry(name + ".scale", "F32", new[] { t.Shape[0] }, 4L * t.Shape[0]);
                }
                else
                {
                    Entry(name, "F32", t.Shape, 4L * t.Length);
                }
            }
            writer.WriteEndObject();
        }
        while (headerStream.Length % 8 != 0) headerStream.WriteByte((byte)' ');

        Span<byte> lengthBytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(lengthBytes, (ulong)headerStream.Length);
        stream.Write(lengthBytes);
        stream.Write(headerStream.GetBuffer(), 0, (int)headerStream.Length);

        var chunk = new byte[1 << 16];
        foreach (TensorInfo t in tensors)
        {
            ReadOnlySpan<float> values = parameters.Slice(t.Offset, t.Length);
            if (quantized.TryGetValue(t, out var q))
            {
                stream.Write(MemoryMarshal.AsBytes(q.Q.AsSpan()));
                values = q.Scales;
            }
            while (!values.IsEmpty)
            {
                int n = Math.Min(values.Length, chunk.Length / 4);
                if (BitConverter.IsLittleEndian)
                {
                    MemoryMarshal.AsBytes(values.Slice(0, n)).CopyTo(chunk);
                }
                else
                {
                    for (int i = 0; i < n; i++) Portable.WriteSingleLittleEndian(chunk.AsSpan(4 * i), values[i]);
                }
                stream.Write(chunk, 0, 4 * n);
                values = values.Slice(n);
            }
        }
    }


    /// <summary>A matrix [rows, cols] as int8 with one scale per row, as <see cref="SafetensorsOptions.Int8Weights"/> describes (Kernels.QuantizeInt8's rule).</summary>
    private static (sbyte[] Q, float[] Scales) QuantizeRows(TensorInfo t, ReadOnlySpan<float> values)
    {
        int rows = t.Shape[0], cols = t.Shape[1];
        var q = new sbyte[t.Length];
        var scales = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = values.Slice(r * cols, cols);
            float max = 0f;
            for (int c = 0; c < cols; c++)
            {
                if (!float.IsFinite(row[c]))
                    throw new ArgumentException($"Tensor '{t.Name}' holds {row[c].ToString(CultureInfo.InvariantCulture)} at [{r}, {c}]; Int8Weights can only store finite weights.", "parameters");
                max = Math.Max(max, Math.Abs(row[c]));
            }
            float scale = max / 127f;
            scales[r] = scale;
            if (scale == 0f) continue;
            for (int c = 0; c < cols; c++) q[r * cols + c] = (sbyte)Math.Min(127, Math.Max(-127, (int)Math.Round(row[c] / scale, MidpointRounding.ToEven)));
        }
        return (q, scales);
    }

    /// <summary>What a header says: the tensors by name and in data order, and the length of the data they cover.</summary>
    private sealed class Header
    {
        public Header(Dictionary<string, Entry> byName, List<Entry> ordered, long dataLength)
        {
            ByName = byName; Ordered = ordered; DataLength = dataLength;
        }
        public Dictionary<string, Entry> ByName { get; }
        public List<Entry> Ordered { get; }
        public long DataLength { get; }

        /// <summary>" (up to the end of tensor 'x')" for messages about the data's length.</summary>
        public string UpTo => Ordered.Count == 0 ? "" : $" (up to the end of tensor '{Ordered[Ordered.Count - 1].Name}')";
    }

    private sealed class Entry
    {
        public Entry(string name, string dtype, int elementSize, int[] shape, long count, long begin, long end)
        {
            Name = name; DType = dtype; ElementSize = elementSize; Shape = shape; Count = count; Begin = begin; End = end;
        }
        public string Name { get; }
        public string DType { get; }
        public int ElementSize { get; }
        public int[] Shape { get; }
        public long Count { get; }
        public long Begin { get; }
        public long End { get; }
        public long ByteLength => End - Begin;
    }

    /// <summary>Reads the header length and the header, and validates the header; a seekable stream's remaining length must be exactly the data's.</summary>
    private static Header ReadHeader(Stream stream)
    {
        Span<byte> lengthBytes = stackalloc byte[8];
        if (ReadUpTo(stream, lengthBytes) < 8)
        {
            throw new SafetensorsException("Truncated safetensors file: fewer than 8 bytes, no header length.");
        }
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength == 0 || headerLength > MaxHeaderBytes)
        {
            throw new SafetensorsException($"Safetensors header length {headerLength} is out of range (1 to {MaxHeaderBytes} bytes).");
        }
        long rest = -1;
        if (stream.CanSeek)
        {
            rest = stream.Length - stream.Position;
            if ((long)headerLength > rest)
            {
                throw new SafetensorsException($"Safetensors header length {headerLength} is larger than the rest of the file ({rest} bytes).");
            }
        }
        byte[] bytes = ReadGrowing(stream, (int)headerLength, lengthKnown: stream.CanSeek, out int read);
        if (read < (int)headerLength)
        {
            throw new SafetensorsException($"Truncated safetensors file: header of {headerLength} bytes is cut short after {read}.");
        }

        Header header;
        try
        {
            header = ParseHeader(bytes);
        }
        catch (InvalidOperationException ex)
        {
            // Escaped lone surrogates in a string only fail when the string is read.
            throw new SafetensorsException("Safetensors header is not valid JSON: " + ex.Message, ex);
        }

        if (rest >= 0)
        {
            long dataRest = rest - (long)headerLength;
            if (dataRest < header.DataLength)
            {
                throw new SafetensorsException($"Truncated safetensors file: header describes {header.DataLength} bytes of data{header.UpTo}, file has {dataRest}.");
            }
            if (dataRest > header.DataLength)
            {
                throw new SafetensorsException(TrailingMessage(header, $"{dataRest - header.DataLength} bytes"));
            }
        }
        return header;
    }

    private static string TrailingMessage(Header header, string what) =>
        $"Safetensors file has {what} after the {header.DataLength} bytes of data its header describes{header.UpTo}; the data must end the file.";

    private static readonly UTF8Encoding s_strictUtf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static Header ParseHeader(byte[] header)
    {
        try
        {
            s_strictUtf8.GetCharCount(header);
        }
        catch (DecoderFallbackException ex)
        {
            throw new SafetensorsException($"Safetensors header is not valid JSON: it is not valid UTF-8 (at byte {ex.Index}).", ex);
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException ex)
        {
            throw new SafetensorsException("Safetensors header is not valid JSON: " + ex.Message, ex);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new SafetensorsException("Safetensors header must be a JSON object.");
            }
            if (header[0] != (byte)'{')
            {
                throw new SafetensorsException($"Safetensors header must start with '{{' (found byte 0x{header[0]:X2}).");
            }
            var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
            bool metadataSeen = false;
            foreach (JsonProperty property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (metadataSeen) throw new SafetensorsException("__metadata__ appears twice in the safetensors header.");
                    metadataSeen = true;
                    CheckMetadata(property.Value);
                    continue;
                }
                Entry entry = ParseEntry(property);
                if (!entries.TryAdd(entry.Name, entry))
                {
                    throw new SafetensorsException($"Tensor '{entry.Name}' appears twice in the safetensors header.");
                }
            }

            // In data order, the tensors must tile the data from byte 0: each begins where the one before ends.
            var ordered = new List<Entry>(entries.Values);
            ordered.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin)
                                 : a.End != b.End ? a.End.CompareTo(b.End)
                                 : string.CompareOrdinal(a.Name, b.Name));
            long expected = 0;
            Entry? previous = null;
            foreach (Entry e in ordered)
            {
                if (e.Begin < expected)
                {
                    throw new SafetensorsException($"Tensors '{previous!.Name}' (bytes {previous.Begin}..{previous.End}) and '{e.Name}' (bytes {e.Begin}..{e.End}) overlap.");
                }
                if (e.Begin > expected)
                {
                    throw new SafetensorsException(previous is null
                        ? $"Tensor '{e.Name}' (bytes {e.Begin}..{e.End}) is the first in the data but does not start at byte 0; the tensors must cover the data without holes."
                        : $"Tensor '{e.Name}' (bytes {e.Begin}..{e.End}) does not start where '{previous.Name}' ends (byte {expected}); the tensors must cover the data without holes.");
                }
                expected = e.End;
                previous = e;
            }
            return new Header(entries, ordered, expected);
        }
    }

    private static void CheckMetadata(JsonElement metadata)
    {
        if (metadata.ValueKind == JsonValueKind.Null) return;
        if (metadata.ValueKind != JsonValueKind.Object)
        {
            throw new SafetensorsException($"__metadata__ in the safetensors header must be an object of strings; found {metadata.ValueKind}.");
        }
        foreach (JsonProperty item in metadata.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
            {
                throw new SafetensorsException($"__metadata__ entry '{item.Name}' must be a string; found {item.Value.ValueKind}.");
            }
            _ = item.Value.GetString();
        }
    }

    private static Entry ParseEntry(JsonProperty property)
    {
        string name = property.Name;
        JsonElement value = property.Value;
        JsonElement? dtypeElement = null, shapeElement = null, offsetsElement = null;
        if (value.ValueKind == JsonValueKind.Object)
        {
            foreach (JsonProperty field in value.EnumerateObject())
            {
                ref JsonElement? slot = ref dtypeElement;
                switch (field.Name)
                {
                    case "dtype": break;
                    case "shape": slot = ref shapeElement; break;
                    case "data_offsets": slot = ref offsetsElement; break;
                    default: continue; // other fields are ignored, as by the reference implementation
                }
                if (slot is not null)
                {
                    throw new SafetensorsException($"Tensor '{name}' has \"{field.Name}\" twice in the safetensors header.");
                }
                slot = field.Value;
            }
        }
        if (dtypeElement is not { ValueKind: JsonValueKind.String }
            || shapeElement is not { ValueKind: JsonValueKind.Array }
            || offsetsElement is not { ValueKind: JsonValueKind.Array })
        {
            throw new SafetensorsException($"Tensor '{name}' in the safetensors header needs \"dtype\" (string), \"shape\" (array) and \"data_offsets\" (array).");
        }
        string dtype = dtypeElement.Value.GetString()!;
        int elementSize = ElementSize(dtype);
        if (elementSize == 0)
        {
            throw new SafetensorsException($"Tensor '{name}' has dtype {dtype}; expected F32, F16, BF16, F64 or I8 (a matrix with a '.scale' tensor).");
        }

        // The element count in 64 bits, never wrapping: any zero dimension makes it 0, otherwise it must fit an array.
        var shape = new int[shapeElement.Value.GetArrayLength()];
        int k = 0;
        foreach (JsonElement d in shapeElement.Value.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out int dim) || dim < 0)
            {
                throw new SafetensorsException($"Tensor '{name}' has an invalid shape entry '{d}' (dimensions are integers from 0 to {int.MaxValue}).");
            }
            shape[k++] = dim;
        }
        long count = 1;
        if (Array.IndexOf(shape, 0) >= 0)
        {
            count = 0;
        }
        else
        {
            foreach (int dim in shape)
            {
                if (count > MaxElements / dim)
                {
                    throw new SafetensorsException($"Tensor '{name}' (shape [{string.Join(", ", shape)}]) has more than {MaxElements} elements, more than an array holds.");
                }
                count *= dim;
            }
        }

        if (offsetsElement.Value.GetArrayLength() != 2)
        {
            throw new SafetensorsException($"Tensor '{name}' has {offsetsElement.Value.GetArrayLength()} data_offsets; expected 2 (begin, end).");
        }
        long begin = -1, end = -1;
        foreach (JsonElement o in offsetsElement.Value.EnumerateArray())
        {
            if (o.ValueKind != JsonValueKind.Number || !o.TryGetInt64(out long v) || v < 0)
            {
                throw new SafetensorsException($"Tensor '{name}' has an invalid data offset '{o}' (offsets are integers from 0 to {long.MaxValue}).");
            }
            if (begin < 0) begin = v; else end = v;
        }
        if (end < begin)
        {
            throw new SafetensorsException($"Tensor '{name}' has data_offsets [{begin}, {end}]: end before begin.");
        }
        long bytes = count * elementSize; // at most MaxElements * 8: no overflow
        if (end - begin != bytes)
        {
            throw new SafetensorsException($"Tensor '{name}' ({dtype}, shape [{string.Join(", ", shape)}]) needs {bytes} bytes; data_offsets give {end - begin}.");
        }
        return new Entry(name, dtype, elementSize, shape, count, begin, end);
    }

    /// <summary>
    /// Reads the data region through one small buffer, in file order, keeping count of the bytes read so that a short
    /// stream is reported with what it held. Nothing here allocates for a length the header claims.
    /// </summary>
    private sealed class DataReader
    {
        private readonly Stream _stream;
        private readonly Header _header;
        private readonly byte[] _chunk;
        private long _position;

        public DataReader(Stream stream, Header header)
        {
            _stream = stream;
            _header = header;
            _chunk = new byte[(int)Math.Min(ChunkBytes, Math.Max(8, (header.DataLength + 7) & ~7L))];
        }

        /// <summary>Converts <paramref name="entry"/>'s data into <paramref name="destination"/> (its element count long), checking every value is finite when asked.</summary>
        public void ReadInto(Entry entry, Span<float> destination, bool checkFinite)
        {
            long remaining = entry.ByteLength;
            int done = 0;
            while (remaining > 0)
            {
                int n = (int)Math.Min(remaining, _chunk.Length); // a whole number of elements: the chunk is a multiple of 8
                ReadOnlySpan<byte> bytes = Next(n);
                Span<float> values = destination.Slice(done, n / entry.ElementSize);
                Convert(bytes, entry.DType, values);
                if (checkFinite) CheckFinite(entry, bytes, values, done);
                done += values.Length;
                remaining -= n;
            }
        }

        /// <summary><paramref name="entry"/>'s values in a new array that grows as the data arrives (sized up front only when the stream's length vouches for it).</summary>
        public float[] ReadArray(Entry entry)
        {
            var values = new float[_stream.CanSeek ? entry.Count : Math.Min(entry.Count, ChunkBytes / entry.ElementSize)];
            long remaining = entry.ByteLength;
            int done = 0;
            while (remaining > 0)
            {
                int n = (int)Math.Min(remaining, _chunk.Length);
                ReadOnlySpan<byte> bytes = Next(n);
                int elements = n / entry.ElementSize;
                if (done + elements > values.Length) Array.Resize(ref values, (int)Math.Min(entry.Count, Math.Max(2L * values.Length, done + elements)));
                Convert(bytes, entry.DType, values.AsSpan(done, elements));
                done += elements;
                remaining -= n;
            }
            return values;
        }

        public void Skip(long count)
        {
            if (_stream.CanSeek)
            {
                // The stream's length was checked against the header.
                _stream.Seek(count, SeekOrigin.Current);
                _position += count;
                return;
            }
            while (count > 0)
            {
                int n = (int)Math.Min(count, _chunk.Length);
                Next(n);
                count -= n;
            }
        }

        /// <summary>Fails when the stream holds more than the data the header describes (a seekable stream was checked up front).</summary>
        public void ExpectEnd()
        {
            if (_stream.CanSeek) return;
            if (_stream.Read(_chunk, 0, 1) > 0)
            {
                throw new SafetensorsException(TrailingMessage(_header, "more bytes"));
            }
        }

        private ReadOnlySpan<byte> Next(int count)
        {
            Span<byte> span = _chunk.AsSpan(0, count);
            int read = ReadUpTo(_stream, span);
            if (read < count)
            {
                throw new SafetensorsException($"Truncated safetensors file: header describes {_header.DataLength} bytes of data{_header.UpTo}, the stream ended after {_position + read}.");
            }
            _position += count;
            return span;
        }
    }

    /// <summary>Rejects a NaN or an infinity among <paramref name="values"/>, converted from <paramref name="source"/>, elements <paramref name="first"/>.. of <paramref name="entry"/>.</summary>
    private static void CheckFinite(Entry entry, ReadOnlySpan<byte> source, ReadOnlySpan<float> values, int first)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if ((BitConverter.SingleToInt32Bits(values[i]) & 0x7F800000) != 0x7F800000) continue;
            string found = float.IsNaN(values[i]) ? "NaN" : values[i] > 0 ? "+infinity" : "-infinity";
            if (entry.ElementSize == 8)
            {
                double stored = Portable.ReadDoubleLittleEndian(source.Slice(8 * i));
                if (!double.IsNaN(stored) && !double.IsInfinity(stored))
                {
                    found = $"the F64 value {stored.ToString("R", CultureInfo.InvariantCulture)}, too large for a float (it would load as {found}),";
                }
            }
            throw new SafetensorsException($"Tensor '{entry.Name}' holds {found} at element {first + i} (index [{string.Join(", ", Unravel(first + i, entry.Shape))}]). "
                + "Non-finite weights are rejected so that a checkpoint saved after training diverged does not load silently; set SafetensorsOptions.AllowNonFinite to load it anyway.");
        }
    }

    private static int[] Unravel(int flat, int[] shape)
    {
        var index = new int[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            index[d] = flat % shape[d];
            flat /= shape[d];
        }
        return index;
    }

    /// <summary>An int8 matrix's scales, each max |row| / 127: finite and not negative (NaN fails both tests).</summary>
    private static float[] CheckedScales(Entry entry, float[] values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!(values[i] >= 0f && values[i] <= float.MaxValue))
                throw new SafetensorsException($"Tensor '{entry.Name}' holds the scale {values[i].ToString("R", CultureInfo.InvariantCulture)} at row {i}; an int8 matrix's scales are finite and not negative.");
        }
        return values;
    }

    /// <summary>The scale tensor of an int8 matrix: <c>&lt;name&gt;.scale</c>, a float vector with one value per row.</summary>
    private static Entry Int8Scale(Header header, Entry matrix)
    {
        if (matrix.Shape.Length != 2)
        {
            throw new SafetensorsException($"Tensor '{matrix.Name}' is I8 with shape [{string.Join(", ", matrix.Shape)}]; int8 tensors are matrices [rows, columns] with one scale per row.");
        }
        string name = matrix.Name + ".scale";
        if (!header.ByName.TryGetValue(name, out Entry? scale))
        {
            throw new SafetensorsException($"Tensor '{matrix.Name}' is I8 but the file has no '{name}' (its scales, one per row: [{matrix.Shape[0]}]).");
        }
        if (scale.DType == "I8" || scale.Shape.Length != 1 || scale.Shape[0] != matrix.Shape[0])
        {
            throw new SafetensorsException($"Tensor '{name}' has dtype {scale.DType} and shape [{string.Join(", ", scale.Shape)}]; the scales of '{matrix.Name}' are floats of shape [{matrix.Shape[0]}].");
        }
        return scale;
    }

    private static int ElementSize(string dtype) => dtype switch
    {
        "F32" => 4,
        "F16" => 2,
        "BF16" => 2,
        "F64" => 8,
        "I8" => 1,
        _ => 0,
    };

    private static bool SameShape(int[] found, IReadOnlyList<int> expected)
    {
        if (found.Length != expected.Count) return false;
        for (int i = 0; i < found.Length; i++)
        {
            if (found[i] != expected[i]) return false;
        }
        return true;
    }

    private static void Convert(ReadOnlySpan<byte> source, string dtype, Span<float> destination)
    {
        switch (dtype)
        {
            case "F32":
                if (BitConverter.IsLittleEndian)
                {
                    MemoryMarshal.Cast<byte, float>(source).CopyTo(destination);
                }
                else
                {
                    for (int i = 0; i < destination.Length; i++) destination[i] = Portable.ReadSingleLittleEndian(source.Slice(4 * i));
                }
                break;
            case "F16":
                for (int i = 0; i < destination.Length; i++) destination[i] = Portable.HalfToSingle(BinaryPrimitives.ReadUInt16LittleEndian(source.Slice(2 * i)));
                break;
            case "BF16":
                for (int i = 0; i < destination.Length; i++)
                {
                    int bits = BinaryPrimitives.ReadUInt16LittleEndian(source.Slice(2 * i)) << 16;
                    destination[i] = BitConverter.Int32BitsToSingle(bits);
                }
                break;
            case "F64":
                for (int i = 0; i < destination.Length; i++) destination[i] = (float)Portable.ReadDoubleLittleEndian(source.Slice(8 * i));
                break;
            case "I8":
                for (int i = 0; i < destination.Length; i++) destination[i] = (sbyte)source[i];
                break;
        }
    }

    /// <summary>Reads into <paramref name="buffer"/> until it is full or the stream ends; returns the bytes read.</summary>
    private static int ReadUpTo(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer.Slice(total));
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    /// <summary>
    /// Reads <paramref name="count"/> bytes into an array that starts at one chunk and doubles only as bytes arrive,
    /// unless the stream's length has vouched for <paramref name="count"/>; <paramref name="read"/> is less than
    /// <paramref name="count"/> when the stream ended first.
    /// </summary>
    private static byte[] ReadGrowing(Stream stream, int count, bool lengthKnown, out int read)
    {
        var buffer = new byte[lengthKnown ? count : Math.Min(count, ChunkBytes)];
        read = 0;
        while (read < count)
        {
            if (read == buffer.Length) Array.Resize(ref buffer, (int)Math.Min(count, 2L * buffer.Length));
            int n = stream.Read(buffer, read, buffer.Length - read);
            if (n == 0) break;
            read += n;
        }
        return buffer;
    }
}
