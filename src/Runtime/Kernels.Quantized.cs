using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
#if NET8_0_OR_GREATER
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
#endif

// AvxVnni carries [RequiresPreviewFeatures] in the net8.0 reference assemblies (not in .NET 9 and later, where it is
// stable); the attribute is for the analyzer only, and the instruction is the same whatever the runtime.
#pragma warning disable CA2252

namespace RnnGen.CompilerServices;

// Reduced-precision products from int8 weights (issue 20): the weight quantization and its packed layout, the
// single-stream product (dynamic: x quantized per call, exact int32 dot products) and the batched product. The layout
// and the kernels are described on QuantizeInt8. (A weight-only form, int8 widened to float, measured slower and was
// removed: design-notes, "Int8 products: dynamic vs weight-only".)
public static partial class Kernels
{
    /// <summary>Columns per panel of the int8 layout: a panel's quad row is 64 columns x 4 bytes = 256 bytes (four cache lines).</summary>
    private const int Int8PanelWidth = 64;

    /// <summary>Vectors of accumulators per register block of the int8 products: eight (one 64-column panel with 256-bit vectors) in the 16 registers of AVX2, twice that where AVX-512 gives the 256-bit code 32.</summary>
    private const int Int8BlockVectors = 8;

    /// <summary>
    /// Bytes of the int8 copy <see cref="QuantizeInt8"/> writes for a weight [<paramref name="outputs"/>, <paramref name="inputs"/>]:
    /// ⌈outputs / 64⌉ panels of ⌈inputs / 4⌉ quad rows of 256 bytes, then ⌈outputs / 64⌉ · 64 int32 column sums.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, or the copy would not fit in an array.</exception>
    public static int QuantizeInt8Size(int outputs, int inputs)
    {
        if (outputs < 0) ThrowRange(nameof(outputs), outputs, "an output count of at least 0");
        if (inputs < 0) ThrowRange(nameof(inputs), inputs, "an input count of at least 0");
        long size = Int8Length(outputs, inputs);
        if (size > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(outputs), $"The int8 copy of a [{outputs}, {inputs}] weight, {size} bytes, does not fit in an array.");
        return (int)size;
    }

    /// <summary>Bytes of the quantized input <see cref="MatVecTInt8{TShape}"/> needs as scratch: ⌈<paramref name="inputs"/> / 4⌉ · 4.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inputs"/> is negative or too large.</exception>
    public static int QuantizeInt8InputSize(int inputs)
    {
        if (inputs < 0 || inputs > int.MaxValue - 3) ThrowRange(nameof(inputs), inputs, "an input count in [0, int.MaxValue - 3]");
        return (inputs + 3) / 4 * 4;
    }

    /// <summary>The int8 copy's bytes in 64-bit arithmetic: the panels' quad rows, then the column sums.</summary>
    private static long Int8Length(long outputs, long inputs)
    {
        long panels = (outputs + Int8PanelWidth - 1) / Int8PanelWidth;
        return panels * ((inputs + 3) / 4) * (4 * Int8PanelWidth) + panels * Int8PanelWidth * 4;
    }

    /// <summary>Byte offset of the column sums in the int8 copy (a multiple of 4).</summary>
    private static long Int8SumsOffset(long outputs, long inputs)
        => (outputs + Int8PanelWidth - 1) / Int8PanelWidth * ((inputs + 3) / 4) * (4 * Int8PanelWidth);

    /// <summary>
    /// Quantizes a weight W [<paramref name="outputs"/>, <paramref name="inputs"/>] (row-major, PyTorch's layout) to
    /// int8, symmetric, one scale per output row: scale[c] = max_k |W[c, k]| / 127 and q[c, k] = W[c, k] / scale[c]
    /// rounded to the nearest integer (ties to even) and clamped to [-127, 127]; a row of zeros gets scale 0 and q 0.
    /// </summary>
    /// <remarks>
    /// The layout of <paramref name="destination"/> (<see cref="QuantizeInt8Size"/> bytes) serves every int8 kernel:
    /// Wᵀ in panels of 64 columns (outputs), each panel ⌈inputs / 4⌉ quad rows of 256 bytes, a quad row holding for each
    /// of its 64 columns the four weights of four consecutive inputs: q[c, k] at byte
    /// (c / 64) · ⌈inputs / 4⌉ · 256 + (k / 4) · 256 + (c % 64) · 4 + k % 4. So a 32-bit lane holds four weights of one
    /// output, and one VNNI instruction (vpdpbusd) or vpmaddubsw + vpmaddwd adds a four-input dot product into that
    /// output's int32 lane. Inputs
    /// past the last and columns past the last (to the panel's end) are zero. After the panels, at byte
    /// <c>⌈outputs / 64⌉ · ⌈inputs / 4⌉ · 256</c>, ⌈outputs / 64⌉ · 64 int32 column sums Σ_k q[c, k] (zero past the last
    /// output): VNNI multiplies unsigned by signed bytes, so the dynamic product stores x as q_x + 128 and subtracts
    /// 128 · Σ_k q[c, k] from each sum.
    /// </remarks>
    /// <exception cref="ArgumentException">A span is too short (named), or a size is negative.</exception>
    public static void QuantizeInt8(ReadOnlySpan<float> weight, int outputs, int inputs, Span<sbyte> destination, Span<float> scales)
    {
        int size = QuantizeInt8Size(outputs, inputs);
        if (weight.Length < (long)outputs * inputs) ThrowLength(nameof(weight), weight.Length, (long)outputs * inputs, " weights");
        if (destination.Length < size) ThrowLength(nameof(destination), destination.Length, size, " bytes");
        if (scales.Length < outputs) ThrowLength(nameof(scales), scales.Length, outputs, " scales");
        int quads = (inputs + 3) / 4;
        long panelBytes = (long)quads * 4 * Int8PanelWidth;
        destination.Slice(0, size).Clear();
        Span<int> sums = MemoryMarshal.Cast<sbyte, int>(destination.Slice((int)Int8SumsOffset(outputs, inputs)));
        for (int c = 0; c < outputs; c++)
        {
            ReadOnlySpan<float> row = weight.Slice(c * inputs, inputs);
            float max = 0f;
            foreach (float v in row) max = Math.Max(max, Math.Abs(v));
            float scale = max / 127f;
            scales[c] = scale;
            if (scale == 0f) continue;
            long panel = (long)(c / Int8PanelWidth) * panelBytes + (c % Int8PanelWidth) * 4;
            int sum = 0;
            for (int k = 0; k < inputs; k++)
            {
                int q = (int)Math.Round(row[k] / scale, MidpointRounding.ToEven);
                q = Math.Min(127, Math.Max(-127, q));
                destination[(int)(panel + (long)(k / 4) * 4 * Int8PanelWidth + k % 4)] = (sbyte)q;
                sum += q;
            }
            sums[c] = sum;
        }
    }

    // ---- MatVecTInt8: y += W x with x quantized per call ---------------------------------------------------------

    /// <summary>
    /// y[c] += Σ_k x[k] W[c, k] from the int8 copy <paramref name="wq"/> of W (<see cref="QuantizeInt8"/>, Rows = inputs,
    /// Cols = outputs of <typeparamref name="TShape"/>; PanelRows is not read) and its <paramref name="scales"/>, by
    /// dynamic quantization: x is quantized into <paramref name="scratch"/> (<see cref="QuantizeInt8InputSize"/> bytes)
    /// with scale s_x = max |x| / 127, q_x[k] = x[k] · (127 / max |x|) rounded to even; the products are summed exactly
    /// in int32 and dequantized once per output: y[c] = y[c] + (s_x · scale[c]) · (float)Σ_k q_x[k] q[c, k] (the same
    /// bits on every path: VNNI, AVX2, SSSE3, NEON dot product, scalar).
    /// </summary>
    [MethodImpl(HotPath)]
    public static void MatVecTInt8<TShape>(ReadOnlySpan<sbyte> wq, ReadOnlySpan<float> scales, ReadOnlySpan<float> x, Span<float> y, Span<byte> scratch)
        where TShape : struct, IMatrixShape
    {
        int rows = default(TShape).Rows, cols = default(TShape).Cols;
        CheckInt8<TShape>(wq.Length, scales.Length);
        if (x.Length < rows) ThrowLength(nameof(x), x.Length, rows, "");
        if (y.Length < cols) ThrowLength(nameof(y), y.Length, cols, "");
        if (scratch.Length < (long)(rows + 3) / 4 * 4) ThrowLength(nameof(scratch), scratch.Length, (long)(rows + 3) / 4 * 4, " bytes");
        ReadOnlySpan<int> sums = Int8Sums<TShape>(wq);
#if NET8_0_OR_GREATER
        if (AvxVnni.IsSupported) Int8Product<TShape, Vector256<int>, Vnni256>(wq, sums, scales, x, y, scratch);
        else if (Avx2.IsSupported) Int8Product<TShape, Vector256<int>, Madd256>(wq, sums, scales, x, y, scratch);
        else if (Ssse3.IsSupported) Int8Product<TShape, Vector128<int>, Madd128>(wq, sums, scales, x, y, scratch);
        else if (Dp.IsSupported) Int8Product<TShape, Vector128<int>, Dot128>(wq, sums, scales, x, y, scratch);
        else
#endif
        {
            float sx = QuantizeInput(x, (nuint)rows, scratch, false);
            Int8Scalar<TShape>(wq, scales, scratch, sx, y);
        }
    }

    /// <summary>The int32 column sums after the panels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ReadOnlySpan<int> Int8Sums<TShape>(ReadOnlySpan<sbyte> wq) where TShape : struct, IMatrixShape
    {
        int rows = default(TShape).Rows, cols = default(TShape).Cols;
        int start = (int)Int8SumsOffset(cols, rows);
        return MemoryMarshal.Cast<sbyte, int>(wq.Slice(start, (cols + Int8PanelWidth - 1) / Int8PanelWidth * Int8PanelWidth * 4));
    }

    /// <summary>Throws unless the shape is valid and the int8 copy and scales cover it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CheckInt8<TShape>(int length, int scalesLength) where TShape : struct, IMatrixShape
    {
        int rows = default(TShape).Rows, cols = default(TShape).Cols;
        if (rows < 0 || cols < 0) ThrowShape(typeof(TShape), rows, cols, default(TShape).PanelRows);
        long needed = Int8Length(cols, rows);
        if (length < needed) ThrowLength("wq", length, needed, " bytes of int8 weights");
        if (scalesLength < cols) ThrowLength("scales", scalesLength, cols, " scales");
    }

    /// <summary>
    /// Quantizes x[0, rows) into the quads of <paramref name="xq"/> (inputs past rows to the quad's end as 0) and
    /// returns s_x: q = x · (127 / max |x|) rounded to even, stored as q + 128 when <paramref name="offset"/> (for
    /// VNNI's unsigned operand), else as the signed byte.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float QuantizeInput(ReadOnlySpan<float> x, nuint rows, Span<byte> xq, bool offset)
    {
        if (rows == 0) return 0f;
        float max = MaxAbs(x, rows);
        float inv = max > 0f ? 127f / max : 0f;
        int bias = offset ? 128 : 0;
        nuint k = 0;
#if NET8_0_OR_GREATER
        if (Avx512F.IsSupported)
        {
            Vector512<float> scale = Vector512.Create(inv);
            Vector512<int> add = Vector512.Create(bias);
            for (; k + 16 <= rows; k += 16)
            {
                Vector512<int> q = Avx512F.ConvertToVector512Int32(SpanAccess.Load512(x, k) * scale) + add;
                SpanAccess.StoreBytes128(Avx512F.ConvertToVector128Byte(q), xq, k);
            }
        }
        else if (Avx.IsSupported)
        {
            Vector256<float> scale = Vector256.Create(inv);
            Vector256<int> add = Vector256.Create(bias);
            for (; k + 16 <= rows; k += 16)
            {
                Vector256<int> q0 = Avx.ConvertToVector256Int32(SpanAccess.Load256(x, k) * scale) + add;
                Vector256<int> q1 = Avx.ConvertToVector256Int32(SpanAccess.Load256(x, k + 8) * scale) + add;
                Vector256<ushort> words = Vector256.Narrow(q0.AsUInt32(), q1.AsUInt32());
                SpanAccess.StoreBytes128(Vector128.Narrow(words.GetLower(), words.GetUpper()), xq, k);
            }
        }
#endif
        for (; k < rows; k++) SpanAccess.At(xq, k) = (byte)((int)MathF.Round(SpanAccess.Get(x, k) * inv, MidpointRounding.ToEven) + bias);
        for (; (k & 3) != 0; k++) SpanAccess.At(xq, k) = (byte)bias;
        return max / 127f;
    }

    /// <summary>max |x[k]| for k below <paramref name="rows"/> (short vectors: inline rather than through TensorPrimitives' dispatch).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float MaxAbs(ReadOnlySpan<float> x, nuint rows)
    {
        nuint k = 0;
        float max = 0f;
#if NET8_0_OR_GREATER
        if (Vector256.IsHardwareAccelerated && rows >= 8)
        {
            Vector256<float> m = Vector256.Abs(SpanAccess.Load256(x, 0));
            for (k = 8; k + 8 <= rows; k += 8) m = Vector256.Max(m, Vector256.Abs(SpanAccess.Load256(x, k)));
            if (k < rows) m = Vector256.Max(m, Vector256.Abs(SpanAccess.Load256(x, rows - 8))); // the tail, overlapping
            Vector128<float> h = Vector128.Max(m.GetLower(), m.GetUpper());
            h = Vector128.Max(h, Vector128.Shuffle(h, Vector128.Create(2, 3, 0, 1)));
            return Math.Max(h.ToScalar(), h.GetElement(1));
        }
#endif
        for (; k < rows; k++) max = Math.Max(max, Math.Abs(SpanAccess.Get(x, k)));
        return max;
    }

    /// <summary>Every column in scalar code: exact int32 sums, dequantized as the vector paths do.</summary>
    internal static void Int8Scalar<TShape>(ReadOnlySpan<sbyte> wq, ReadOnlySpan<float> scales, ReadOnlySpan<byte> xq, float sx, Span<float> y)
        where TShape : struct, IMatrixShape
    {
        nuint rows = (nuint)default(TShape).Rows, cols = (nuint)default(TShape).Cols, panelBytes = (rows + 3) / 4 * (4 * Int8PanelWidth);
        for (nuint c = 0; c < cols; c++)
        {
            nuint column = (c / Int8PanelWidth) * panelBytes + (c % Int8PanelWidth) * 4;
            int sum = 0;
            for (nuint k = 0; k < rows; k++) sum += (sbyte)SpanAccess.Get(xq, k) * SpanAccess.Get(wq, column + (k >> 2) * (4 * Int8PanelWidth) + (k & 3));
            SpanAccess.At(y, c) = SpanAccess.At(y, c) + sx * SpanAccess.Get(scales, c) * sum;
        }
    }

#if NET8_0_OR_GREATER
    /// <summary>Quantizes x, then every column in blocks of up to eight vectors of int32 accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // into the entry, which is compiled fully optimized
    internal static void Int8Product<TShape, TI, TOps>(ReadOnlySpan<sbyte> wq, ReadOnlySpan<int> sums, ReadOnlySpan<float> scales, ReadOnlySpan<float> x, Span<float> y, Span<byte> xq)
        where TShape : struct, IMatrixShape where TI : struct where TOps : struct, IInt8DotOps<TI>
    {
        float sx = QuantizeInput(x, (nuint)default(TShape).Rows, xq, default(TOps).UnsignedInput);
        Int8Blocks<TShape, TI, TOps>(wq, sums, scales, xq, sx, y);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Int8Blocks<TShape, TI, TOps>(ReadOnlySpan<sbyte> wq, ReadOnlySpan<int> sums, ReadOnlySpan<float> scales, ReadOnlySpan<byte> xq, float sx, Span<float> y)
        where TShape : struct, IMatrixShape where TI : struct where TOps : struct, IInt8DotOps<TI>
    {
        nuint w = (nuint)default(TOps).Count;
        int vectors = (int)(((nuint)default(TShape).Cols + w - 1) / w);
        int perBlock = Avx512F.VL.IsSupported ? 2 * Int8BlockVectors : Int8BlockVectors; // EVEX: 32 vector registers
        int full = vectors / perBlock, rest = vectors % perBlock;
        for (int b = 0; b < full; b++) Int8Block<TShape, TI, TOps>(perBlock, wq, sums, scales, xq, sx, y, (nuint)(b * perBlock) * w);
        if (rest > 0) Int8Block<TShape, TI, TOps>(rest, wq, sums, scales, xq, sx, y, (nuint)(full * perBlock) * w);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Int8Block<TShape, TI, TOps>(int vectors, ReadOnlySpan<sbyte> wq, ReadOnlySpan<int> sums, ReadOnlySpan<float> scales, ReadOnlySpan<byte> xq, float sx, Span<float> y, nuint c0)
        where TShape : struct, IMatrixShape where TI : struct where TOps : struct, IInt8DotOps<TI>
    {
        switch (vectors)
        {
            case 1: Int8Block<TShape, TI, TOps, N1>(wq, sums, scales, xq, sx, y, c0); break;
            case 2: Int8Block<TShape, TI, TOps, N2>(wq, sums, scales, xq, sx, y, c0); break;
            case 3: Int8Block<TShape, TI, TOps, N3>(wq, sums, scales, xq, sx, y, c0); break;
            case 4: Int8Block<TShape, TI, TOps, N4>(wq, sums, scales, xq, sx, y, c0); break;
            case 5: Int8Block<TShape, TI, TOps, N5>(wq, sums, scales, xq, sx, y, c0); break;
            case 6: Int8Block<TShape, TI, TOps, N6>(wq, sums, scales, xq, sx, y, c0); break;
            case 7: Int8Block<TShape, TI, TOps, N7>(wq, sums, scales, xq, sx, y, c0); break;
            case 8: Int8Block<TShape, TI, TOps, N8>(wq, sums, scales, xq, sx, y, c0); break;
            case 9: Int8Block<TShape, TI, TOps, N9>(wq, sums, scales, xq, sx, y, c0); break;
            case 10: Int8Block<TShape, TI, TOps, N10>(wq, sums, scales, xq, sx, y, c0); break;
            case 11: Int8Block<TShape, TI, TOps, N11>(wq, sums, scales, xq, sx, y, c0); break;
            case 12: Int8Block<TShape, TI, TOps, N12>(wq, sums, scales, xq, sx, y, c0); break;
            case 13: Int8Block<TShape, TI, TOps, N13>(wq, sums, scales, xq, sx, y, c0); break;
            case 14: Int8Block<TShape, TI, TOps, N14>(wq, sums, scales, xq, sx, y, c0); break;
            case 15: Int8Block<TShape, TI, TOps, N15>(wq, sums, scales, xq, sx, y, c0); break;
            default: Int8Block<TShape, TI, TOps, N16>(wq, sums, scales, xq, sx, y, c0); break;
        }
    }

    /// <summary>Byte offset in the int8 layout of the lane of column <paramref name="c"/> in quad row 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nuint Int8Offset(nuint c, nuint panelBytes) => (c >> 6) * panelBytes + (c & 63) * 4;

    /// <summary>
    /// <typeparamref name="TVectors"/> vectors of columns from <paramref name="c0"/>: int32 accumulators over every quad
    /// of inputs (one broadcast of the quad's four bytes, one multiply-add per vector), then dequantized into y.
    /// </summary>
    [MethodImpl(HotPath)]
    private static void Int8Block<TShape, TI, TOps, TVectors>(ReadOnlySpan<sbyte> wq, ReadOnlySpan<int> sums, ReadOnlySpan<float> scales, ReadOnlySpan<byte> xq, float sx, Span<float> y, nuint c0)
        where TShape : struct, IMatrixShape where TI : struct where TOps : struct, IInt8DotOps<TI> where TVectors : struct, ICount
    {
        TOps o = default;
        nuint quads = ((nuint)default(TShape).Rows + 3) / 4, panelBytes = quads * (4 * Int8PanelWidth), w = (nuint)o.Count;
        nuint o0 = Int8Offset(c0, panelBytes), o1 = Int8Offset(c0 + 1 * w, panelBytes), o2 = Int8Offset(c0 + 2 * w, panelBytes), o3 = Int8Offset(c0 + 3 * w, panelBytes);
        nuint o4 = Int8Offset(c0 + 4 * w, panelBytes), o5 = Int8Offset(c0 + 5 * w, panelBytes), o6 = Int8Offset(c0 + 6 * w, panelBytes), o7 = Int8Offset(c0 + 7 * w, panelBytes);
        nuint o8 = Int8Offset(c0 + 8 * w, panelBytes), o9 = Int8Offset(c0 + 9 * w, panelBytes), o10 = Int8Offset(c0 + 10 * w, panelBytes), o11 = Int8Offset(c0 + 11 * w, panelBytes);
        nuint o12 = Int8Offset(c0 + 12 * w, panelBytes), o13 = Int8Offset(c0 + 13 * w, panelBytes), o14 = Int8Offset(c0 + 14 * w, panelBytes), o15 = Int8Offset(c0 + 15 * w, panelBytes);
        TI a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        TI a8 = default, a9 = default, a10 = default, a11 = default, a12 = default, a13 = default, a14 = default, a15 = default;
        for (nuint q = 0; q < quads; q++)
        {
            TI xb = o.Broadcast(xq, q * 4);
            ReadOnlySpan<sbyte> row = SpanAccess.From(wq, q * (4 * Int8PanelWidth));
            a0 = o.Dot(a0, xb, o.LoadWeights(row, o0));
            if (Unsafe.SizeOf<TVectors>() > 1) a1 = o.Dot(a1, xb, o.LoadWeights(row, o1));
            if (Unsafe.SizeOf<TVectors>() > 2) a2 = o.Dot(a2, xb, o.LoadWeights(row, o2));
            if (Unsafe.SizeOf<TVectors>() > 3) a3 = o.Dot(a3, xb, o.LoadWeights(row, o3));
            if (Unsafe.SizeOf<TVectors>() > 4) a4 = o.Dot(a4, xb, o.LoadWeights(row, o4));
            if (Unsafe.SizeOf<TVectors>() > 5) a5 = o.Dot(a5, xb, o.LoadWeights(row, o5));
            if (Unsafe.SizeOf<TVectors>() > 6) a6 = o.Dot(a6, xb, o.LoadWeights(row, o6));
            if (Unsafe.SizeOf<TVectors>() > 7) a7 = o.Dot(a7, xb, o.LoadWeights(row, o7));
            if (Unsafe.SizeOf<TVectors>() > 8) a8 = o.Dot(a8, xb, o.LoadWeights(row, o8));
            if (Unsafe.SizeOf<TVectors>() > 9) a9 = o.Dot(a9, xb, o.LoadWeights(row, o9));
            if (Unsafe.SizeOf<TVectors>() > 10) a10 = o.Dot(a10, xb, o.LoadWeights(row, o10));
            if (Unsafe.SizeOf<TVectors>() > 11) a11 = o.Dot(a11, xb, o.LoadWeights(row, o11));
            if (Unsafe.SizeOf<TVectors>() > 12) a12 = o.Dot(a12, xb, o.LoadWeights(row, o12));
            if (Unsafe.SizeOf<TVectors>() > 13) a13 = o.Dot(a13, xb, o.LoadWeights(row, o13));
            if (Unsafe.SizeOf<TVectors>() > 14) a14 = o.Dot(a14, xb, o.LoadWeights(row, o14));
            if (Unsafe.SizeOf<TVectors>() > 15) a15 = o.Dot(a15, xb, o.LoadWeights(row, o15));
        }
        nuint cols = (nuint)default(TShape).Cols;
        if (c0 + (nuint)Unsafe.SizeOf<TVectors>() * w <= cols)
        {
            o.FinishFull(a0, sums, scales, sx, y, c0);
            if (Unsafe.SizeOf<TVectors>() > 1) o.FinishFull(a1, sums, scales, sx, y, c0 + 1 * w);
            if (Unsafe.SizeOf<TVectors>() > 2) o.FinishFull(a2, sums, scales, sx, y, c0 + 2 * w);
            if (Unsafe.SizeOf<TVectors>() > 3) o.FinishFull(a3, sums, scales, sx, y, c0 + 3 * w);
            if (Unsafe.SizeOf<TVectors>() > 4) o.FinishFull(a4, sums, scales, sx, y, c0 + 4 * w);
            if (Unsafe.SizeOf<TVectors>() > 5) o.FinishFull(a5, sums, scales, sx, y, c0 + 5 * w);
            if (Unsafe.SizeOf<TVectors>() > 6) o.FinishFull(a6, sums, scales, sx, y, c0 + 6 * w);
            if (Unsafe.SizeOf<TVectors>() > 7) o.FinishFull(a7, sums, scales, sx, y, c0 + 7 * w);
            if (Unsafe.SizeOf<TVectors>() > 8) o.FinishFull(a8, sums, scales, sx, y, c0 + 8 * w);
            if (Unsafe.SizeOf<TVectors>() > 9) o.FinishFull(a9, sums, scales, sx, y, c0 + 9 * w);
            if (Unsafe.SizeOf<TVectors>() > 10) o.FinishFull(a10, sums, scales, sx, y, c0 + 10 * w);
            if (Unsafe.SizeOf<TVectors>() > 11) o.FinishFull(a11, sums, scales, sx, y, c0 + 11 * w);
            if (Unsafe.SizeOf<TVectors>() > 12) o.FinishFull(a12, sums, scales, sx, y, c0 + 12 * w);
            if (Unsafe.SizeOf<TVectors>() > 13) o.FinishFull(a13, sums, scales, sx, y, c0 + 13 * w);
            if (Unsafe.SizeOf<TVectors>() > 14) o.FinishFull(a14, sums, scales, sx, y, c0 + 14 * w);
            if (Unsafe.SizeOf<TVectors>() > 15) o.FinishFull(a15, sums, scales, sx, y, c0 + 15 * w);
        }
        else
        {
            o.Finish(a0, sums, scales, sx, y, c0, cols);
            if (Unsafe.SizeOf<TVectors>() > 1) o.Finish(a1, sums, scales, sx, y, c0 + 1 * w, cols);
            if (Unsafe.SizeOf<TVectors>() > 2) o.Finish(a2, sums, scales, sx, y, c0 + 2 * w, cols);
            if (Unsafe.SizeOf<TVectors>() > 3) o.Finish(a3, sums, scales, sx, y, c0 + 3 * w, cols);
            if (Unsafe.SizeOf<TVectors>() > 4) o.Finish(a4, sums, scales, sx, y, c0 + 4 * w, cols);
            if (Unsafe.SizeOf<TVectors>() > 5) o.Finish(a5, sums, scales, sx, y, c0 + 5 * w, cols);
            if (Unsafe.SizeOf<TVectors>() > 6) o.Finish(a6, sums, scales, sx, y, c0 + 6 * w, cols);
            if (Unsafe.SizeOf<TVectors>() > 7) o.Finish(a7, sums, scales, sx, y, c0 + 7 * w, cols);
            if (Unsafe.SizeOf<TVectors>() > 8) o.Finish(a8, sums, scales, sx, y, c0 + 8 * w, cols);
            if (Unsafe.SizeOf<TVectors>() > 9) o.Finish(a9, sums, scales, sx, y, c0 + 9 * w, cols);
            if (Unsafe.SizeOf<TVectors>() > 10) o.Finish(a10, sums, scales, sx, y, c0 + 10 * w, cols);
            if (Unsafe.SizeOf<TVectors>() > 11) o.Finish(a11, sums, scales, sx, y, c0 + 11 * w, cols);
            if (Unsafe.SizeOf<TVectors>() > 12) o.Finish(a12, sums, scales, sx, y, c0 + 12 * w, cols);
            if (Unsafe.SizeOf<TVectors>() > 13) o.Finish(a13, sums, scales, sx, y, c0 + 13 * w, cols);
            if (Unsafe.SizeOf<TVectors>() > 14) o.Finish(a14, sums, scales, sx, y, c0 + 14 * w, cols);
            if (Unsafe.SizeOf<TVectors>() > 15) o.Finish(a15, sums, scales, sx, y, c0 + 15 * w, cols);
        }
    }
#endif

    // ---- GemmPInt8: Y = bias + X Wᵀ, or Y += X Wᵀ, each row of X quantized on its own -----------------------------------

    /// <summary>Rows of X per register tile of <see cref="GemmPInt8{TShape}"/>: 4 rows x 2 vectors of int32 accumulators share each weight load (8 + 2 + 1 of AVX2's 16 registers).</summary>
    private const int Int8TileRows = 4;

    /// <summary>Rows of X quantized together by <see cref="GemmPInt8{TShape}"/> (eight tiles of four), each column pair's weights reused across them.</summary>
    private const int Int8BlockRows = 32;

    /// <summary>Bytes of scratch <see cref="GemmPInt8{TShape}"/> needs: a block of rows of quantized x (<see cref="Int8BlockRows"/> · ⌈<paramref name="inputs"/> / 4⌉ · 4).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inputs"/> is negative or too large.</exception>
    public static int GemmPInt8ScratchSize(int inputs)
    {
        if (inputs < 0 || inputs > int.MaxValue / Int8BlockRows - 3) ThrowRange(nameof(inputs), inputs, $"an input count in [0, {int.MaxValue / Int8BlockRows - 3}]");
        return Int8BlockRows * ((inputs + 3) / 4 * 4);
    }

    /// <summary>
    /// Y[i, :] += X[i, :] · Wᵀ, or Y[i, :] = bias + X[i, :] · Wᵀ when a bias [Cols] is given, for i &lt; <paramref name="n"/>,
    /// from the int8 copy of W (<see cref="QuantizeInt8"/>): each row of X quantized dynamically with its own scale, as
    /// <see cref="MatVecTInt8{TShape}"/> does, a block of 32 rows at a time into <paramref name="scratch"/>
    /// (<see cref="GemmPInt8ScratchSize"/> bytes); register tiles of four rows by two vectors share each weight load, and
    /// each pair of column vectors runs over the whole block while its weights stay in L1.
    /// Every row gets the bits <see cref="MatVecTInt8{TShape}"/> gives it (a bias is copied into the row first).
    /// </summary>
    [MethodImpl(HotPath)]
    public static void GemmPInt8<TShape>(ReadOnlySpan<sbyte> wq, ReadOnlySpan<float> scales, ReadOnlySpan<float> bias, ReadOnlySpan<float> x, int xStride, int n, Span<float> y, int yStride, Span<byte> scratch)
        where TShape : struct, IMatrixShape
    {
        int rows = default(TShape).Rows, cols = default(TShape).Cols;
        CheckInt8<TShape>(wq.Length, scales.Length);
        if (!bias.IsEmpty && bias.Length < cols) ThrowLength(nameof(bias), bias.Length, cols, " (or none)");
        CheckRows(x.Length, n, xStride, rows, nameof(x), nameof(xStride));
        CheckRows(y.Length, n, yStride, cols, nameof(y), nameof(yStride));
        long scratchBytes = Int8BlockRows * ((long)(rows + 3) / 4 * 4);
        if (scratch.Length < scratchBytes) ThrowLength(nameof(scratch), scratch.Length, scratchBytes, " bytes");
        if (!bias.IsEmpty)
        {
            for (int i = 0; i < n; i++) bias.Slice(0, cols).CopyTo(y.Slice(i * yStride, cols));
        }
        ReadOnlySpan<int> sums = Int8Sums<TShape>(wq);
        nuint xs = (nuint)xStride, ys = (nuint)yStride, count = (nuint)n;
#if NET8_0_OR_GREATER
        if (AvxVnni.IsSupported) Int8Gemm<TShape, Vector256<int>, Vnni256>(wq, sums, scales, x, xs, count, y, ys, scratch);
        else if (Avx2.IsSupported) Int8Gemm<TShape, Vector256<int>, Madd256>(wq, sums, scales, x, xs, count, y, ys, scratch);
        else if (Ssse3.IsSupported) Int8Gemm<TShape, Vector128<int>, Madd128>(wq, sums, scales, x, xs, count, y, ys, scratch);
        else if (Dp.IsSupported) Int8Gemm<TShape, Vector128<int>, Dot128>(wq, sums, scales, x, xs, count, y, ys, scratch);
        else
#endif
        {
            for (nuint i = 0; i < count; i++)
            {
                Span<float> yi = SpanAccess.From(y, i * ys);
                float sx = QuantizeInput(SpanAccess.From(x, i * xs), (nuint)rows, scratch, false);
                Int8Scalar<TShape>(wq, scales, scratch, sx, yi);
            }
        }
    }

#if NET8_0_OR_GREATER
    /// <summary>Blocks of 32 rows; in each, every pair of column vectors over the block's tiles of four rows (then the one to three left).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // into the entry, which is compiled fully optimized
    internal static void Int8Gemm<TShape, TI, TOps>(ReadOnlySpan<sbyte> wq, ReadOnlySpan<int> sums, ReadOnlySpan<float> scales, ReadOnlySpan<float> x, nuint xs, nuint count, Span<float> y, nuint ys, Span<byte> scratch)
        where TShape : struct, IMatrixShape where TI : struct where TOps : struct, IInt8DotOps<TI>
    {
        nuint rows = (nuint)default(TShape).Rows, rowBytes = (rows + 3) / 4 * 4;
        nuint w = (nuint)default(TOps).Count, cols = (nuint)default(TShape).Cols;
        nuint vectors = (cols + w - 1) / w, pairs = vectors / 2 * 2;
        bool unsigned = default(TOps).UnsignedInput;
        Span<float> sx = stackalloc float[Int8BlockRows];
        // Blocks of rows: each block's rows are quantized once, then every pair of column vectors runs over the block's
        // tiles of four rows, so that pair's weights (16 columns by all the inputs) stay in L1 while the tiles pass
        // (a tile by tile order streamed the whole weight once per four rows: 1.4x ORT at batch 32). Every row gets the
        // bits MatVecTInt8 gives it whatever the blocking: the sums are exact integers.
        for (nuint b0 = 0; b0 < count; b0 += Int8BlockRows)
        {
            nuint bn = count - b0 < Int8BlockRows ? count - b0 : Int8BlockRows;
            for (nuint r = 0; r < bn; r++) sx[(int)r] = QuantizeInput(SpanAccess.From(x, (b0 + r) * xs), rows, SpanAccess.From(scratch, r * rowBytes), unsigned);
            if (bn == 1)
            {
                Int8Blocks<TShape, TI, TOps>(wq, sums, scales, scratch, sx[0], SpanAccess.From(y, b0 * ys));
                continue;
            }
            for (nuint v = 0; v < vectors; v += 2)
            {
                bool two = v < pairs;
                for (nuint t = 0; t < bn; t += Int8TileRows)
                {
                    nuint tile = bn - t < Int8TileRows ? bn - t : Int8TileRows;
                    ReadOnlySpan<byte> xq = SpanAccess.From((ReadOnlySpan<byte>)scratch, t * rowBytes);
                    int k = (int)t;
                    float s0 = sx[k], s1 = sx[k + 1], s2 = sx[k + 2], s3 = sx[k + 3]; // past the block's rows: unused
                    switch (tile)
                    {
                        case 1:
                            if (two) Int8Tile<TShape, TI, TOps, N1, N2>(wq, sums, scales, xq, s0, s1, s2, s3, y, ys, b0 + t, v * w);
                            else Int8Tile<TShape, TI, TOps, N1, N1>(wq, sums, scales, xq, s0, s1, s2, s3, y, ys, b0 + t, v * w);
                            break;
                        case 2:
                            if (two) Int8Tile<TShape, TI, TOps, N2, N2>(wq, sums, scales, xq, s0, s1, s2, s3, y, ys, b0 + t, v * w);
                            else Int8Tile<TShape, TI, TOps, N2, N1>(wq, sums, scales, xq, s0, s1, s2, s3, y, ys, b0 + t, v * w);
                            break;
                        case 3:
                            if (two) Int8Tile<TShape, TI, TOps, N3, N2>(wq, sums, scales, xq, s0, s1, s2, s3, y, ys, b0 + t, v * w);
                            else Int8Tile<TShape, TI, TOps, N3, N1>(wq, sums, scales, xq, s0, s1, s2, s3, y, ys, b0 + t, v * w);
                            break;
                        default:
                            if (two) Int8Tile<TShape, TI, TOps, N4, N2>(wq, sums, scales, xq, s0, s1, s2, s3, y, ys, b0 + t, v * w);
                            else Int8Tile<TShape, TI, TOps, N4, N1>(wq, sums, scales, xq, s0, s1, s2, s3, y, ys, b0 + t, v * w);
                            break;
                    }
                }
            }
        }
    }

    /// <summary>
    /// One register tile: <typeparamref name="TRows"/> rows of Y from row <paramref name="i"/> (their quantized x one
    /// after the other in <paramref name="xq"/>) by <typeparamref name="TVectors"/> vectors from column <paramref name="c0"/>,
    /// over every quad of inputs; accumulator a{r}{v} is row r, vector v.
    /// </summary>
    [MethodImpl(HotPath)]
    private static void Int8Tile<TShape, TI, TOps, TRows, TVectors>(ReadOnlySpan<sbyte> wq, ReadOnlySpan<int> sums, ReadOnlySpan<float> scales, ReadOnlySpan<byte> xq, float s0, float s1, float s2, float s3, Span<float> y, nuint ys, nuint i, nuint c0)
        where TShape : struct, IMatrixShape where TI : struct where TOps : struct, IInt8DotOps<TI> where TRows : struct, ICount where TVectors : struct, ICount
    {
        TOps o = default;
        nuint quads = ((nuint)default(TShape).Rows + 3) / 4, rowBytes = quads * 4, panelBytes = quads * (4 * Int8PanelWidth), w = (nuint)o.Count;
        nuint o0 = Int8Offset(c0, panelBytes), o1 = Int8Offset(c0 + w, panelBytes);
        ReadOnlySpan<byte> x0 = xq, x1 = Unsafe.SizeOf<TRows>() > 1 ? SpanAccess.From(xq, rowBytes) : default;
        ReadOnlySpan<byte> x2 = Unsafe.SizeOf<TRows>() > 2 ? SpanAccess.From(xq, 2 * rowBytes) : default, x3 = Unsafe.SizeOf<TRows>() > 3 ? SpanAccess.From(xq, 3 * rowBytes) : default;
        TI a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
        for (nuint q = 0; q < quads; q++)
        {
            ReadOnlySpan<sbyte> row = SpanAccess.From(wq, q * (4 * Int8PanelWidth));
            TI m0 = o.LoadWeights(row, o0), m1 = Unsafe.SizeOf<TVectors>() > 1 ? o.LoadWeights(row, o1) : default;
            TI b = o.Broadcast(x0, q * 4);
            a00 = o.Dot(a00, b, m0); if (Unsafe.SizeOf<TVectors>() > 1) a01 = o.Dot(a01, b, m1);
            if (Unsafe.SizeOf<TRows>() > 1) { b = o.Broadcast(x1, q * 4); a10 = o.Dot(a10, b, m0); if (Unsafe.SizeOf<TVectors>() > 1) a11 = o.Dot(a11, b, m1); }
            if (Unsafe.SizeOf<TRows>() > 2) { b = o.Broadcast(x2, q * 4); a20 = o.Dot(a20, b, m0); if (Unsafe.SizeOf<TVectors>() > 1) a21 = o.Dot(a21, b, m1); }
            if (Unsafe.SizeOf<TRows>() > 3) { b = o.Broadcast(x3, q * 4); a30 = o.Dot(a30, b, m0); if (Unsafe.SizeOf<TVectors>() > 1) a31 = o.Dot(a31, b, m1); }
        }
        nuint cols = (nuint)default(TShape).Cols;
        Span<float> y0 = SpanAccess.From(y, i * ys);
        o.Finish(a00, sums, scales, s0, y0, c0, cols); if (Unsafe.SizeOf<TVectors>() > 1) o.Finish(a01, sums, scales, s0, y0, c0 + w, cols);
        if (Unsafe.SizeOf<TRows>() > 1) { Span<float> y1 = SpanAccess.From(y0, ys); o.Finish(a10, sums, scales, s1, y1, c0, cols); if (Unsafe.SizeOf<TVectors>() > 1) o.Finish(a11, sums, scales, s1, y1, c0 + w, cols); }
        if (Unsafe.SizeOf<TRows>() > 2) { Span<float> y2 = SpanAccess.From(y0, 2 * ys); o.Finish(a20, sums, scales, s2, y2, c0, cols); if (Unsafe.SizeOf<TVectors>() > 1) o.Finish(a21, sums, scales, s2, y2, c0 + w, cols); }
        if (Unsafe.SizeOf<TRows>() > 3) { Span<float> y3 = SpanAccess.From(y0, 3 * ys); o.Finish(a30, sums, scales, s3, y3, c0, cols); if (Unsafe.SizeOf<TVectors>() > 1) o.Finish(a31, sums, scales, s3, y3, c0 + w, cols); }
    }
#endif
}

#if NET8_0_OR_GREATER
/// <summary>
/// The int32 dot products of one instruction set for the dynamic int8 product: a vector of int32 lanes, each lane one
/// output's four weights of one quad of inputs (the layout of <see cref="Kernels.QuantizeInt8"/>).
/// </summary>
internal interface IInt8DotOps<TI> where TI : struct
{
    /// <summary>int32 lanes (outputs) per vector.</summary>
    int Count { get; }

    /// <summary>Whether x is stored as q + 128 (VNNI multiplies unsigned by signed bytes) and the column sums corrected for it.</summary>
    bool UnsignedInput { get; }

    /// <summary>The four bytes of x at <paramref name="i"/> in every lane.</summary>
    TI Broadcast(ReadOnlySpan<byte> xq, nuint i);

    /// <summary>The lanes' weights at byte <paramref name="i"/> of <paramref name="w"/>.</summary>
    TI LoadWeights(ReadOnlySpan<sbyte> w, nuint i);

    /// <summary>acc + in each lane the dot product of x's four bytes and the lane's four weights.</summary>
    TI Dot(TI acc, TI x, TI w);

    /// <summary>y[c] = y[c] + (sx · scale[c]) · (float)sum[c] for the lanes' columns from <paramref name="c"/> below <paramref name="cols"/>.</summary>
    void Finish(TI acc, ReadOnlySpan<int> sums, ReadOnlySpan<float> scales, float sx, Span<float> y, nuint c, nuint cols);

    /// <summary><see cref="Finish"/> for a vector whose columns all lie below the last: no test, no tail.</summary>
    void FinishFull(TI acc, ReadOnlySpan<int> sums, ReadOnlySpan<float> scales, float sx, Span<float> y, nuint c);
}

/// <summary>AVX-VNNI: vpdpbusd, x as unsigned bytes q + 128, the column sums subtracted at the end.</summary>
internal readonly struct Vnni256 : IInt8DotOps<Vector256<int>>
{
    public int Count => 8;

    public bool UnsignedInput => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<int> Broadcast(ReadOnlySpan<byte> xq, nuint i) => Vector256.Create(SpanAccess.Quad(xq, i));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<int> LoadWeights(ReadOnlySpan<sbyte> w, nuint i) => SpanAccess.LoadBytes256(w, i).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<int> Dot(Vector256<int> acc, Vector256<int> x, Vector256<int> w) => AvxVnni.MultiplyWideningAndAdd(acc, x.AsByte(), w.AsSByte());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Finish(Vector256<int> acc, ReadOnlySpan<int> sums, ReadOnlySpan<float> scales, float sx, Span<float> y, nuint c, nuint cols)
        => Int8Finish.Finish256(acc - (SpanAccess.LoadInts256(sums, c) << 7), scales, sx, y, c, cols);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void FinishFull(Vector256<int> acc, ReadOnlySpan<int> sums, ReadOnlySpan<float> scales, float sx, Span<float> y, nuint c)
        => Int8Finish.Full256(acc - (SpanAccess.LoadInts256(sums, c) << 7), scales, sx, y, c);
}

/// <summary>AVX2: vpmaddubsw on |x| and the weights with x's sign (no pair can saturate: 2 · 127 · 127 &lt; 32767), then vpmaddwd by ones.</summary>
internal readonly struct Madd256 : IInt8DotOps<Vector256<int>>
{
    public int Count => 8;

    public bool UnsignedInput => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<int> Broadcast(ReadOnlySpan<byte> xq, nuint i) => Vector256.Create(SpanAccess.Quad(xq, i));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<int> LoadWeights(ReadOnlySpan<sbyte> w, nuint i) => SpanAccess.LoadBytes256(w, i).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<int> Dot(Vector256<int> acc, Vector256<int> x, Vector256<int> w)
    {
        Vector256<short> pairs = Avx2.MultiplyAddAdjacent(Avx2.Abs(x.AsSByte()), Avx2.Sign(w.AsSByte(), x.AsSByte()));
        return acc + Avx2.MultiplyAddAdjacent(pairs, Vector256.Create((short)1));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Finish(Vector256<int> acc, ReadOnlySpan<int> sums, ReadOnlySpan<float> scales, float sx, Span<float> y, nuint c, nuint cols)
        => Int8Finish.Finish256(acc, scales, sx, y, c, cols);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void FinishFull(Vector256<int> acc, ReadOnlySpan<int> sums, ReadOnlySpan<float> scales, float sx, Span<float> y, nuint c)
        => Int8Finish.Full256(acc, scales, sx, y, c);
}

/// <summary>SSSE3: the 128-bit form of <see cref="Madd256"/>.</summary>
internal readonly struct Madd128 : IInt8DotOps<Vector128<int>>
{
    public int Count => 4;

    public bool UnsignedInput => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<int> Broadcast(ReadOnlySpan<byte> xq, nuint i) => Vector128.Create(SpanAccess.Quad(xq, i));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<int> LoadWeights(ReadOnlySpan<sbyte> w, nuint i) => SpanAccess.LoadBytes128(w, i).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<int> Dot(Vector128<int> acc, Vector128<int> x, Vector128<int> w)
    {
        Vector128<short> pairs = Ssse3.MultiplyAddAdjacent(Ssse3.Abs(x.AsSByte()), Ssse3.Sign(w.AsSByte(), x.AsSByte()));
        return acc + Sse2.MultiplyAddAdjacent(pairs, Vector128.Create((short)1));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Finish(Vector128<int> acc, ReadOnlySpan<int> sums, ReadOnlySpan<float> scales, float sx, Span<float> y, nuint c, nuint cols)
        => Int8Finish.Finish128(acc, scales, sx, y, c, cols);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void FinishFull(Vector128<int> acc, ReadOnlySpan<int> sums, ReadOnlySpan<float> scales, float sx, Span<float> y, nuint c)
        => Int8Finish.Full128(acc, scales, sx, y, c);
}

/// <summary>ARM64 dot product (sdot): signed by signed bytes into int32 lanes.</summary>
internal readonly struct Dot128 : IInt8DotOps<Vector128<int>>
{
    public int Count => 4;

    public bool UnsignedInput => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<int> Broadcast(ReadOnlySpan<byte> xq, nuint i) => Vector128.Create(SpanAccess.Quad(xq, i));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<int> LoadWeights(ReadOnlySpan<sbyte> w, nuint i) => SpanAccess.LoadBytes128(w, i).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<int> Dot(Vector128<int> acc, Vector128<int> x, Vector128<int> w) => Dp.DotProduct(acc, x.AsSByte(), w.AsSByte());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Finish(Vector128<int> acc, ReadOnlySpan<int> sums, ReadOnlySpan<float> scales, float sx, Span<float> y, nuint c, nuint cols)
        => Int8Finish.Finish128(acc, scales, sx, y, c, cols);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void FinishFull(Vector128<int> acc, ReadOnlySpan<int> sums, ReadOnlySpan<float> scales, float sx, Span<float> y, nuint c)
        => Int8Finish.Full128(acc, scales, sx, y, c);
}

/// <summary>
/// The dequantization of a vector of int32 sums: whole vectors with no test, the last partial vector lane by lane in a
/// method of its own (the same operations, unfused), so that the lane extraction never touches the main path's registers.
/// </summary>
internal static class Int8Finish
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Full256(Vector256<int> acc, ReadOnlySpan<float> scales, float sx, Span<float> y, nuint c)
    {
        Vector256<float> s = SpanAccess.Load256(scales, c) * Vector256.Create(sx);
        SpanAccess.Store256(SpanAccess.Load256(y, c) + s * Vector256.ConvertToSingle(acc), y, c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Full128(Vector128<int> acc, ReadOnlySpan<float> scales, float sx, Span<float> y, nuint c)
    {
        Vector128<float> s = SpanAccess.Load128(scales, c) * Vector128.Create(sx);
        SpanAccess.Store128(SpanAccess.Load128(y, c) + s * Vector128.ConvertToSingle(acc), y, c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Finish256(Vector256<int> acc, ReadOnlySpan<float> scales, float sx, Span<float> y, nuint c, nuint cols)
    {
        if (c + 8 <= cols) Full256(acc, scales, sx, y, c);
        else Tail(acc.GetLower(), acc.GetUpper(), scales, sx, y, c, cols);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Finish128(Vector128<int> acc, ReadOnlySpan<float> scales, float sx, Span<float> y, nuint c, nuint cols)
    {
        if (c + 4 <= cols) Full128(acc, scales, sx, y, c);
        else Tail(acc, default, scales, sx, y, c, cols);
    }

    /// <summary>Columns c.. below <paramref name="cols"/> (at most eight) from the lanes of <paramref name="low"/> then <paramref name="high"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Tail(Vector128<int> low, Vector128<int> high, ReadOnlySpan<float> scales, float sx, Span<float> y, nuint c, nuint cols)
    {
        for (nuint j = 0; c + j < cols; j++)
        {
            int sum = j < 4 ? low.GetElement((int)j) : high.GetElement((int)j - 4);
            SpanAccess.At(y, c + j) = SpanAccess.At(y, c + j) + sx * SpanAccess.Get(scales, c + j) * sum;
        }
    }
}

#endif
