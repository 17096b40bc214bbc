using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
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
public static class Safetensors
{
    /// <summary>Largest header accepted, in bytes (as the reference implementation).</summary>
    public const int MaxHeaderBytes = 100_000_000;

    /// <summary>Loads a file into <paramref name="parameters"/>. Every tensor is validated before any float is written.</summary>
    public static void Load(string path, IReadOnlyList<TensorInfo> tensors, Span<float> parameters, SafetensorsOptions? options = null)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        Load(stream, tensors, parameters, options);
    }

    /// <summary>
    /// Loads a safetensors stream into <paramref name="parameters"/>, laid out as <paramref name="tensors"/> says.
    /// F32 is read as is; F16, BF16 and F64 are converted. The whole file is validated (header, names, shapes,
    /// dtypes, offsets, length) and converted into a staging buffer before <paramref name="parameters"/> is touched,
    /// so a failed load leaves the model as it was.
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

        (Dictionary<string, Entry> entries, byte[] data) = ReadFile(stream);

        // Match every model tensor to a file entry, checking dtype and shape.
        var matched = new List<(TensorInfo Tensor, Entry Entry)>(tensors.Count);
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (TensorInfo tensor in tensors)
        {
            string fileName = options.MapName(tensor.Name);
            if (!entries.TryGetValue(fileName, out Entry? entry))
            {
                throw new SafetensorsException($"Missing tensor '{fileName}' (model tensor '{tensor.Name}', shape {tensor.ShapeText}) in safetensors file.");
            }
            if (!SameShape(entry.Shape, tensor.Shape))
            {
                throw new SafetensorsException($"Tensor '{fileName}' has shape [{string.Join(", ", entry.Shape)}]; expected {tensor.ShapeText}.");
            }
            used.Add(fileName);
            matched.Add((tensor, entry));
        }
        if (!options.IgnoreUnexpected)
        {
            var unexpected = new List<string>();
            foreach (string name in entries.Keys)
            {
                if (!used.Contains(name) && name.StartsWith(options.Prefix, StringComparison.Ordinal)) unexpected.Add(name);
            }
            if (unexpected.Count > 0)
            {
                unexpected.Sort(StringComparer.Ordinal);
                throw new SafetensorsException($"Unexpected tensor(s) in safetensors file: {string.Join(", ", unexpected)}. Set IgnoreUnexpected to load anyway.");
            }
        }

        var staging = new float[required];
        parameters.Slice(0, required).CopyTo(staging);
        foreach ((TensorInfo tensor, Entry entry) in matched)
        {
            Convert(data.AsSpan((int)entry.Begin, (int)(entry.End - entry.Begin)), entry.DType, staging.AsSpan(tensor.Offset, tensor.Length));
        }
        staging.AsSpan().CopyTo(parameters);
    }

    /// <summary>Reads every tensor of a safetensors file as floats (F16, BF16 and F64 converted), keyed by name.</summary>
    public static IReadOnlyDictionary<string, SafetensorsTensor> ReadAll(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return ReadAll(stream);
    }

    /// <summary>Reads every tensor of a safetensors stream as floats (F16, BF16 and F64 converted), keyed by name.</summary>
    /// <exception cref="SafetensorsException">The stream is not a valid safetensors file.</exception>
    public static IReadOnlyDictionary<string, SafetensorsTensor> ReadAll(Stream stream)
    {
        if (stream is null) throw new ArgumentNullException(nameof(stream));
        (Dictionary<string, Entry> entries, byte[] data) = ReadFile(stream);
        var result = new Dictionary<string, SafetensorsTensor>(StringComparer.Ordinal);
        foreach (Entry entry in entries.Values)
        {
            long count = 1;
            foreach (int d in entry.Shape) count *= d;
            var values = new float[count];
            Convert(data.AsSpan((int)entry.Begin, (int)(entry.End - entry.Begin)), entry.DType, values);
            result.Add(entry.Name, new SafetensorsTensor(entry.Shape, values));
        }
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
            if (!names.Add(name))
            {
                throw new ArgumentException($"Tensor '{t.Name}' is saved as '{name}', a name already taken; names in a safetensors file must be unique.", nameof(options));
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
            foreach (TensorInfo t in tensors)
            {
                writer.WriteStartObject(options.MapName(t.Name));
                writer.WriteString("dtype", "F32");
                writer.WriteStartArray("shape");
                foreach (int d in t.Shape) writer.WriteNumberValue(d);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                writer.WriteNumberValue(offset + 4L * t.Length);
                writer.WriteEndArray();
                writer.WriteEndObject();
                offset += 4L * t.Length;
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

    private static (Dictionary<string, Entry> Entries, byte[] Data) ReadFile(Stream stream)
    {
        Span<byte> lengthBytes = stackalloc byte[8];
        if (!TryReadExactly(stream, lengthBytes))
        {
            throw new SafetensorsException("Truncated safetensors file: fewer than 8 bytes, no header length.");
        }
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength == 0 || headerLength > MaxHeaderBytes)
        {
            throw new SafetensorsException($"Safetensors header length {headerLength} is out of range (1 to {MaxHeaderBytes} bytes).");
        }
        if (stream.CanSeek && (long)headerLength > stream.Length - stream.Position)
        {
            throw new SafetensorsException($"Safetensors header length {headerLength} is larger than the rest of the file ({stream.Length - stream.Position} bytes).");
        }
        var header = new byte[(int)headerLength];
        if (!TryReadExactly(stream, header))
        {
            throw new SafetensorsException($"Truncated safetensors file: header of {headerLength} bytes is cut short.");
        }
        Dictionary<string, Entry> entries;
        try
        {
            entries = ParseHeader(header);
        }
        catch (InvalidOperationException ex)
        {
            // Strings that are not valid UTF-8, or escape lone surrogates, only fail when read as names or values.
            throw new SafetensorsException("Safetensors header is not valid JSON: " + ex.Message, ex);
        }

        // The data region, up to the furthest offset any tensor uses.
        long dataLength = 0;
        string last = "";
        foreach (Entry e in entries.Values)
        {
            if (e.End > dataLength) { dataLength = e.End; last = $" (up to the end of tensor '{e.Name}')"; }
        }
        if (stream.CanSeek && dataLength > stream.Length - stream.Position)
        {
            throw new SafetensorsException($"Truncated safetensors file: header describes {dataLength} bytes of data{last}, file has {stream.Length - stream.Position}.");
        }
        if (dataLength > int.MaxValue)
        {
            throw new SafetensorsException($"Safetensors data region of {dataLength} bytes is larger than supported (2 GiB).");
        }
        var data = new byte[dataLength];
        if (!TryReadExactly(stream, data))
        {
            throw new SafetensorsException($"Truncated safetensors file: header describes {dataLength} bytes of data{last}, the stream ended before that.");
        }
        return (entries, data);
    }

    private sealed class Entry
    {
        public Entry(string name, string dtype, int[] shape, long begin, long end)
        {
            Name = name; DType = dtype; Shape = shape; Begin = begin; End = end;
        }
        public string Name { get; }
        public string DType { get; }
        public int[] Shape { get; }
        public long Begin { get; }
        public long End { get; }
    }

    private static Dictionary<string, Entry> ParseHeader(byte[] header)
    {
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
            var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
            foreach (JsonProperty property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__") continue;
                Entry entry = ParseEntry(property);
                if (!entries.TryAdd(entry.Name, entry))
                {
                    throw new SafetensorsException($"Tensor '{entry.Name}' appears twice in the safetensors header.");
                }
            }

            var ordered = new List<Entry>(entries.Values);
            ordered.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
            for (int i = 1; i < ordered.Count; i++)
            {
                if (ordered[i].Begin < ordered[i - 1].End)
                {
                    throw new SafetensorsException($"Tensors '{ordered[i - 1].Name}' (bytes {ordered[i - 1].Begin}..{ordered[i - 1].End}) and '{ordered[i].Name}' (bytes {ordered[i].Begin}..{ordered[i].End}) overlap.");
                }
            }
            return entries;
        }
    }

    private static Entry ParseEntry(JsonProperty property)
    {
        string name = property.Name;
        JsonElement value = property.Value;
        if (value.ValueKind != JsonValueKind.Object
            || !value.TryGetProperty("dtype", out JsonElement dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String
            || !value.TryGetProperty("shape", out JsonElement shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
            || !value.TryGetProperty("data_offsets", out JsonElement offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array)
        {
            throw new SafetensorsException($"Tensor '{name}' in the safetensors header needs \"dtype\" (string), \"shape\" (array) and \"data_offsets\" (array).");
        }
        string dtype = dtypeElement.GetString()!;
        int elementSize = ElementSize(dtype);
        if (elementSize == 0)
        {
            throw new SafetensorsException($"Tensor '{name}' has dtype {dtype}; expected F32, F16, BF16 or F64.");
        }
        var shape = new int[shapeElement.GetArrayLength()];
        long count = 1;
        int k = 0;
        foreach (JsonElement d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out int dim) || dim < 0)
            {
                throw new SafetensorsException($"Tensor '{name}' has an invalid shape entry '{d}'.");
            }
            shape[k++] = dim;
            count *= dim;
            if (count > int.MaxValue) throw new SafetensorsException($"Tensor '{name}' is too large.");
        }
        if (offsetsElement.GetArrayLength() != 2)
        {
            throw new SafetensorsException($"Tensor '{name}' has {offsetsElement.GetArrayLength()} data_offsets; expected 2 (begin, end).");
        }
        long[] offsets = new long[2];
        k = 0;
        foreach (JsonElement o in offsetsElement.EnumerateArray())
        {
            if (o.ValueKind != JsonValueKind.Number || !o.TryGetInt64(out long v) || v < 0)
            {
                throw new SafetensorsException($"Tensor '{name}' has an invalid data offset '{o}'.");
            }
            offsets[k++] = v;
        }
        if (offsets[1] < offsets[0])
        {
            throw new SafetensorsException($"Tensor '{name}' has data_offsets [{offsets[0]}, {offsets[1]}]: end before begin.");
        }
        if (offsets[1] - offsets[0] != count * elementSize)
        {
            throw new SafetensorsException($"Tensor '{name}' ({dtype}, shape [{string.Join(", ", shape)}]) needs {count * elementSize} bytes; data_offsets give {offsets[1] - offsets[0]}.");
        }
        return new Entry(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static int ElementSize(string dtype) => dtype switch
    {
        "F32" => 4,
        "F16" => 2,
        "BF16" => 2,
        "F64" => 8,
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
        }
    }

    private static bool TryReadExactly(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer.Slice(total));
            if (n == 0) return false;
            total += n;
        }
        return true;
    }
}
