using System;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RnnGen.CompilerServices;

public static partial class Kernels
{
    /// <summary>b += Σ_i A[i, :] for i &lt; <paramref name="count"/> (row stride given): the gradient of a bias.</summary>
    public static void SumRowsAdd(ReadOnlySpan<float> a, int aStride, int count, Span<float> b)
    {
        for (int i = 0; i < count; i++) TensorPrimitives.Add(a.Slice(i * aStride, b.Length), b, b);
    }

    /// <summary>destination [cols, rows] = sourceᵀ for a row-major source [rows, cols].</summary>
    internal static void Transpose(ReadOnlySpan<float> source, int rows, int cols, Span<float> destination)
    {
        if (source.Length < rows * cols) throw new ArgumentException($"source has {source.Length} floats; expected {rows * cols} ([{rows}, {cols}]).", nameof(source));
        if (destination.Length < rows * cols) throw new ArgumentException($"destination has {destination.Length} floats; expected {rows * cols} ([{cols}, {rows}]).", nameof(destination));
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = source.Slice(r * cols, cols);
            for (int c = 0; c < cols; c++) destination[c * rows + r] = row[c];
        }
    }

    /// <summary>
    /// A float array holding <paramref name="length"/> usable floats from <paramref name="start"/> on, where element
    /// <paramref name="start"/> sits on a 64-byte boundary (a cache line, one 512-bit vector). Blocks packed in whole
    /// multiples of 16 floats from there are read by vector loads that never straddle two cache lines: measured on the
    /// benchmark machine, a single-row product over 1 MB of panels took 9–11 µs aligned and 15–18 µs misaligned, a
    /// 32-row one ran at 144 instead of 116–120 GFLOP/s. The array lives on the pinned object heap, so the garbage
    /// collector never moves it off the boundary. Where there is no pinned heap (the netstandard2.1 build) it is an
    /// ordinary array and <paramref name="start"/> is 0.
    /// </summary>
    public static float[] AlignedArray(int length, out int start) => Aligned<float>(length, out start);

    /// <summary>
    /// <see cref="AlignedArray"/> for 16-bit values (the bfloat16 step weights): <paramref name="length"/> usable values
    /// from <paramref name="start"/> on, element <paramref name="start"/> on a 64-byte boundary.
    /// </summary>
    public static ushort[] AlignedHalfArray(int length, out int start) => Aligned<ushort>(length, out start);

    private static T[] Aligned<T>(int length, out int start) where T : unmanaged
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), length, "length must not be negative.");
#if NET5_0_OR_GREATER
        int perLine = 64 / Unsafe.SizeOf<T>();
        T[] array = GC.AllocateArray<T>(length + perLine - 1, pinned: true);
        start = AlignmentOffset(array);
        return array;
#else
        start = 0;
        return new T[length];
#endif
    }

#if NET5_0_OR_GREATER
    private static unsafe int AlignmentOffset<T>(T[] array) where T : unmanaged
    {
        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        return (int)((64 - (address & 63)) & 63) / sizeof(T);
    }
#endif

    /// <summary>
    /// Width in floats of the column panels of <see cref="PackPanels"/>: four 512-bit vectors. The generator bakes its own
    /// copy of this width into the code it emits; the two agree because both belong to <see cref="RuntimeLayout.Version"/>.
    /// </summary>
    internal const int PanelWidth = 64;

    /// <summary>Floats <see cref="PackPanels"/> needs for <paramref name="outputs"/> columns of <paramref name="panelRows"/> rows: whole panels.</summary>
    internal static int PanelSize(int outputs, int panelRows) => (outputs + PanelWidth - 1) / PanelWidth * PanelWidth * panelRows;

    /// <summary>
    /// Writes Wᵀ, for a row-major weight W [outputs, inputs] (PyTorch's layout), in the panel layout the generated matrix
    /// kernels read: Wᵀ's columns (the outputs) go in panels of <see cref="PanelWidth"/>, each panel
    /// [<paramref name="panelRows"/>, PanelWidth] row-major and the panels one after another, so a kernel walking down a
    /// panel reads memory in order (row-major Wᵀ rows of a few thousand floats put every row of a panel on its own page
    /// and in the same cache sets). Row k of Wᵀ goes to panel row <paramref name="firstRow"/> + k, so the weights that
    /// multiply the two parts of one input [x; h] can share panels. Columns of the last panel past
    /// <paramref name="outputs"/> are set to zero.
    /// </summary>
    /// <exception cref="ArgumentException">A length or row range does not fit.</exception>
    public static void PackPanels(ReadOnlySpan<float> weight, int outputs, int inputs, Span<float> destination, int firstRow, int panelRows)
    {
        if (outputs < 0 || inputs < 0) throw new ArgumentException($"outputs ({outputs}) and inputs ({inputs}) must not be negative.", nameof(outputs));
        if (firstRow < 0 || firstRow + inputs > panelRows) throw new ArgumentException($"rows {firstRow}..{firstRow + inputs} do not fit in panels of {panelRows} rows.", nameof(firstRow));
        if (weight.Length < outputs * inputs) throw new ArgumentException($"weight has {weight.Length} floats; expected {outputs * inputs} ([{outputs}, {inputs}]).", nameof(weight));
        int size = PanelSize(outputs, panelRows);
        if (destination.Length < size) throw new ArgumentException($"destination has {destination.Length} floats; expected {size} ({(outputs + PanelWidth - 1) / PanelWidth} panels of [{panelRows}, {PanelWidth}]).", nameof(destination));
        int padded = (outputs + PanelWidth - 1) / PanelWidth * PanelWidth;
        for (int c = 0; c < padded; c++)
        {
            Span<float> column = destination.Slice(c / PanelWidth * panelRows * PanelWidth + c % PanelWidth);
            if (c < outputs)
            {
                ReadOnlySpan<float> row = weight.Slice(c * inputs, inputs);
                for (int k = 0; k < inputs; k++) column[(firstRow + k) * PanelWidth] = row[k];
            }
            else
            {
                for (int k = 0; k < inputs; k++) column[(firstRow + k) * PanelWidth] = 0f;
            }
        }
    }

    /// <summary>
    /// Writes a row-major matrix M [rows, cols] (not transposed) in the same panel layout as <see cref="PackPanels"/>,
    /// with panels of <paramref name="rows"/> rows: the layout the generated backward kernels read the weights in
    /// (dL/dX = dL/dY · W). Columns of the last panel past <paramref name="cols"/> are set to zero.
    /// </summary>
    /// <exception cref="ArgumentException">A length does not fit.</exception>
    public static void PackRowPanels(ReadOnlySpan<float> matrix, int rows, int cols, Span<float> destination)
    {
        if (rows < 0 || cols < 0) throw new ArgumentException($"rows ({rows}) and cols ({cols}) must not be negative.", nameof(rows));
        if (matrix.Length < rows * cols) throw new ArgumentException($"matrix has {matrix.Length} floats; expected {rows * cols} ([{rows}, {cols}]).", nameof(matrix));
        int size = PanelSize(cols, rows);
        if (destination.Length < size) throw new ArgumentException($"destination has {destination.Length} floats; expected {size} ({(cols + PanelWidth - 1) / PanelWidth} panels of [{rows}, {PanelWidth}]).", nameof(destination));
        for (int p = 0; p * PanelWidth < cols; p++)
        {
            int width = Math.Min(PanelWidth, cols - p * PanelWidth);
            Span<float> panel = destination.Slice(p * rows * PanelWidth, rows * PanelWidth);
            for (int r = 0; r < rows; r++)
            {
                matrix.Slice(r * cols + p * PanelWidth, width).CopyTo(panel.Slice(r * PanelWidth, width));
                if (width < PanelWidth) panel.Slice(r * PanelWidth + width, PanelWidth - width).Clear();
            }
        }
    }

    /// <summary>
    /// <see cref="ToBFloat16Interleaved"/> of Wᵀ for a row-major weight W [outputs, inputs]: <paramref name="destination"/>
    /// is [inputs, outputs / 32 * 32] in the interleaved bfloat16 layout.
    /// </summary>
    public static void ToBFloat16InterleavedTransposed(ReadOnlySpan<float> weight, int outputs, int inputs, Span<ushort> destination)
    {
        int chunked = outputs / 32 * 32;
        if (weight.Length < outputs * inputs) throw new ArgumentException($"weight has {weight.Length} floats; expected {outputs * inputs} ([{outputs}, {inputs}]).", nameof(weight));
        if (destination.Length < inputs * chunked) throw new ArgumentException($"destination has {destination.Length} values; expected {inputs * chunked} ([{inputs}, {chunked}]).", nameof(destination));
        for (int c = 0; c < chunked; c += 32)
        {
            for (int j = 0; j < 16; j++)
            {
                ReadOnlySpan<float> low = weight.Slice((c + j) * inputs, inputs), high = weight.Slice((c + 16 + j) * inputs, inputs);
                for (int k = 0; k < inputs; k++)
                {
                    ushort lowHalf = ToBFloat16(low[k]);
                    destination[k * chunked + c + 2 * j] = lowHalf;
                    destination[k * chunked + c + 2 * j + 1] = HighBFloat16(high[k], lowHalf);
                }
            }
        }
    }

    /// <summary>
    /// Rounds a row-major [rows, cols] float matrix to bfloat16 in the interleaved layout the generated half-precision
    /// Step kernels read: each row's columns go in chunks of 32, and in a chunk the 32-bit lane j holds column j in its
    /// low half and column 16 + j in its high half, so one 512-bit load gives two vectors of 16 columns with one shift:
    /// the low column is the lane shifted left by 16 (<see cref="FromBFloat16"/>: the column rounded to nearest even),
    /// and the high column is the whole lane read as a float (<see cref="FromBFloat16Pair"/>), its high half chosen so
    /// that this float is the nearest to the column the low half allows — within half a bfloat16 unit, as rounding
    /// itself (a whole subnormal unit, 2⁻¹³³, next to zero). NaN stays NaN; an infinite high column reads as NaN unless
    /// its low neighbour is 0. Columns beyond the last full chunk are not stored (those kernels read them from the float
    /// copy). <paramref name="destination"/> is [rows, cols / 32 * 32].
    /// </summary>
    internal static void ToBFloat16Interleaved(ReadOnlySpan<float> source, int rows, int cols, Span<ushort> destination)
    {
        int chunked = cols / 32 * 32;
        if (source.Length < rows * cols) throw new ArgumentException($"source has {source.Length} floats; expected {rows * cols} ([{rows}, {cols}]).", nameof(source));
        if (destination.Length < rows * chunked) throw new ArgumentException($"destination has {destination.Length} values; expected {rows * chunked} ([{rows}, {chunked}]).", nameof(destination));
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = source.Slice(r * cols, cols);
            Span<ushort> outRow = destination.Slice(r * chunked, chunked);
            for (int c = 0; c < chunked; c += 32)
            {
                for (int j = 0; j < 16; j++)
                {
                    ushort lowHalf = ToBFloat16(row[c + j]);
                    outRow[c + 2 * j] = lowHalf;
                    outRow[c + 2 * j + 1] = HighBFloat16(row[c + 16 + j], lowHalf);
                }
            }
        }
    }

    /// <summary>x rounded to bfloat16 (round to nearest, ties to even), as its 16 bits; NaN stays a quiet NaN.</summary>
    internal static ushort ToBFloat16(float x)
    {
        uint bits = (uint)BitConverter.SingleToInt32Bits(x);
        if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return (ushort)((bits >> 16) | 0x40u);
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
    }

    /// <summary>The float a bfloat16 value stands for (exact).</summary>
    internal static float FromBFloat16(ushort x) => BitConverter.Int32BitsToSingle(x << 16);

    /// <summary>
    /// The float a 32-bit lane of the interleaved bfloat16 layout stands for in its high column: the lane, <paramref name="high"/>
    /// above <paramref name="low"/>, read as one float (see <see cref="ToBFloat16Interleaved"/>).
    /// </summary>
    internal static float FromBFloat16Pair(ushort low, ushort high) => BitConverter.Int32BitsToSingle((int)((uint)high << 16 | low));

    /// <summary>
    /// The high half h for which the float with bits h·2¹⁶ + <paramref name="low"/> is nearest to <paramref name="x"/>:
    /// the round-to-nearest-even bfloat16 of x or the one below it in magnitude, since the low bits only add magnitude.
    /// </summary>
    private static ushort HighBFloat16(float x, ushort low)
    {
        ushort nearest = ToBFloat16(x);
        if (!float.IsFinite(x) || (nearest & 0x7FFF) == 0) return nearest;   // NaN, ±inf and ±0 as rounding gives them
        ushort below = (ushort)(nearest - 1);  // one step down in magnitude, for either sign (never across zero: checked above)
        if ((nearest & 0x7F80) == 0x7F80) return below;                      // rounded up to infinity: the largest finite is nearer
        // Both candidates are within a factor of 2 of x, so these differences are exact (Sterbenz). Which one wins is
        // as good as random, so the choice is an add, not a branch (a mispredicted branch per weight tripled the repack).
        bool upper = MathF.Abs(FromBFloat16Pair(low, nearest) - x) <= MathF.Abs(FromBFloat16Pair(low, below) - x);
        return (ushort)(below + Unsafe.As<bool, byte>(ref upper));
    }

    /// <summary>y += x, element-wise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddTo(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Add(x, y, y);

    /// <summary>
    /// Backward through one LSTM step. <paramref name="gates"/> holds the step's activations [i | f | g | o],
    /// <paramref name="tanhC"/> tanh(c_t), <paramref name="cPrevious"/> c_{t-1}. <paramref name="dh"/> is dL/dh_t;
    /// <paramref name="dc"/> comes in as dL/dc_t from the next step and leaves as dL/dc_{t-1}.
    /// <paramref name="dGates"/> receives dL/d(pre-activation gates), which is both dL/d(W_ih x + b_ih) and dL/d(W_hh h + b_hh).
    /// </summary>
    /// <exception cref="ArgumentException">A span's length does not match <paramref name="dh"/>'s as described.</exception>
    public static void LstmCellBackward(ReadOnlySpan<float> gates, ReadOnlySpan<float> cPrevious, ReadOnlySpan<float> tanhC,
        ReadOnlySpan<float> dh, Span<float> dc, Span<float> dGates)
    {
        int n = dh.Length;
        CheckLength(gates.Length, 4 * n, nameof(gates), "4 * dh.Length");
        CheckLength(cPrevious.Length, n, nameof(cPrevious), "dh.Length");
        CheckLength(tanhC.Length, n, nameof(tanhC), "dh.Length");
        CheckLength(dc.Length, n, nameof(dc), "dh.Length");
        CheckLength(dGates.Length, 4 * n, nameof(dGates), "4 * dh.Length");
        int j = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var one = Vector<float>.One;
            for (; j <= n - Vector<float>.Count; j += Vector<float>.Count)
            {
                var i = SpanAccess.Load(gates, j);
                var f = SpanAccess.Load(gates, n + j);
                var g = SpanAccess.Load(gates, 2 * n + j);
                var o = SpanAccess.Load(gates, 3 * n + j);
                var tc = SpanAccess.Load(tanhC, j);
                var dhv = SpanAccess.Load(dh, j);
                var dcv = SpanAccess.Load(dc, j) + dhv * o * (one - tc * tc);
                SpanAccess.Store(dcv * g * i * (one - i), dGates, j);
                SpanAccess.Store(dcv * SpanAccess.Load(cPrevious, j) * f * (one - f), dGates, n + j);
                SpanAccess.Store(dcv * i * (one - g * g), dGates, 2 * n + j);
                SpanAccess.Store(dhv * tc * o * (one - o), dGates, 3 * n + j);
                SpanAccess.Store(dcv * f, dc, j);
            }
        }
        for (; j < n; j++)
        {
            float i = gates[j], f = gates[n + j], g = gates[2 * n + j], o = gates[3 * n + j], tc = tanhC[j];
            float dcv = dc[j] + dh[j] * o * (1f - tc * tc);
            dGates[j] = dcv * g * i * (1f - i);
            dGates[n + j] = dcv * cPrevious[j] * f * (1f - f);
            dGates[2 * n + j] = dcv * i * (1f - g * g);
            dGates[3 * n + j] = dh[j] * tc * o * (1f - o);
            dc[j] = dcv * f;
        }
    }

    /// <summary>
    /// Backward through one GRU step. <paramref name="gates"/> holds the activations [r | z | n], <paramref name="hidden"/>
    /// W_hh h_{t-1} + b_hh (its n part is what r multiplies), <paramref name="hPrevious"/> h_{t-1}, <paramref name="dh"/> dL/dh_t.
    /// <paramref name="dGatesInput"/> receives dL/d(W_ih x + b_ih), <paramref name="dGatesHidden"/> dL/d(W_hh h + b_hh), and
    /// <paramref name="dhPrevious"/> the direct part of dL/dh_{t-1} (z ⊙ dh), to which Wᵀ dGatesHidden is then added.
    /// </summary>
    /// <exception cref="ArgumentException">A span's length does not match <paramref name="dh"/>'s as described.</exception>
    public static void GruCellBackward(ReadOnlySpan<float> gates, ReadOnlySpan<float> hidden, ReadOnlySpan<float> hPrevious,
        ReadOnlySpan<float> dh, Span<float> dGatesInput, Span<float> dGatesHidden, Span<float> dhPrevious)
    {
        int n = dh.Length;
        CheckLength(gates.Length, 3 * n, nameof(gates), "3 * dh.Length");
        CheckLength(hidden.Length, 3 * n, nameof(hidden), "3 * dh.Length");
        CheckLength(hPrevious.Length, n, nameof(hPrevious), "dh.Length");
        CheckLength(dGatesInput.Length, 3 * n, nameof(dGatesInput), "3 * dh.Length");
        CheckLength(dGatesHidden.Length, 3 * n, nameof(dGatesHidden), "3 * dh.Length");
        CheckLength(dhPrevious.Length, n, nameof(dhPrevious), "dh.Length");
        int j = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var one = Vector<float>.One;
            for (; j <= n - Vector<float>.Count; j += Vector<float>.Count)
            {
                var r = SpanAccess.Load(gates, j);
                var z = SpanAccess.Load(gates, n + j);
                var nn = SpanAccess.Load(gates, 2 * n + j);
                var d = SpanAccess.Load(dh, j);
                var dn = d * (one - z) * (one - nn * nn);
                var dz = d * (SpanAccess.Load(hPrevious, j) - nn) * z * (one - z);
                var dr = dn * SpanAccess.Load(hidden, 2 * n + j) * r * (one - r);
                SpanAccess.Store(dr, dGatesInput, j);
                SpanAccess.Store(dz, dGatesInput, n + j);
                SpanAccess.Store(dn, dGatesInput, 2 * n + j);
                SpanAccess.Store(dr, dGatesHidden, j);
                SpanAccess.Store(dz, dGatesHidden, n + j);
                SpanAccess.Store(dn * r, dGatesHidden, 2 * n + j);
                SpanAccess.Store(d * z, dhPrevious, j);
            }
        }
        for (; j < n; j++)
        {
            float r = gates[j], z = gates[n + j], nn = gates[2 * n + j];
            float d = dh[j];
            float dn = d * (1f - z) * (1f - nn * nn);
            float dz = d * (hPrevious[j] - nn) * z * (1f - z);
            float dr = dn * hidden[2 * n + j] * r * (1f - r);
            dGatesInput[j] = dr;
            dGatesInput[n + j] = dz;
            dGatesInput[2 * n + j] = dn;
            dGatesHidden[j] = dr;
            dGatesHidden[n + j] = dz;
            dGatesHidden[2 * n + j] = dn * r;
            dhPrevious[j] = d * z;
        }
    }

    /// <summary>Backward through tanh: dGates = dh ⊙ (1 - h²), with h the step's output.</summary>
    /// <exception cref="ArgumentException">A span's length does not match <paramref name="dh"/>'s as described.</exception>
    public static void TanhBackward(ReadOnlySpan<float> h, ReadOnlySpan<float> dh, Span<float> dGates)
    {
        int n = dh.Length;
        CheckLength(h.Length, n, nameof(h), "dh.Length");
        CheckLength(dGates.Length, n, nameof(dGates), "dh.Length");
        int j = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var one = Vector<float>.One;
            for (; j <= n - Vector<float>.Count; j += Vector<float>.Count)
            {
                var hv = SpanAccess.Load(h, j);
                SpanAccess.Store(SpanAccess.Load(dh, j) * (one - hv * hv), dGates, j);
            }
        }
        for (; j < n; j++) dGates[j] = dh[j] * (1f - h[j] * h[j]);
    }

    /// <summary>Backward through ReLU: dGates = dh where h &gt; 0, else 0 (PyTorch's derivative at 0).</summary>
    /// <exception cref="ArgumentException">A span's length does not match <paramref name="dh"/>'s as described.</exception>
    public static void ReluBackward(ReadOnlySpan<float> h, ReadOnlySpan<float> dh, Span<float> dGates)
    {
        int n = dh.Length;
        CheckLength(h.Length, n, nameof(h), "dh.Length");
        CheckLength(dGates.Length, n, nameof(dGates), "dh.Length");
        for (int j = 0; j < n; j++) dGates[j] = h[j] > 0f ? dh[j] : 0f;
    }

    private static void CheckLength(int actual, int expected, string name, string what)
    {
        if (actual != expected) throw new ArgumentException($"{name} has {actual} floats; expected {expected} ({what}).", name);
    }
}
