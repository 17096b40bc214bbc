using System;
using RnnGen.CompilerServices;
using Xunit;

namespace RnnGen.Tests;

// The packed layout the generated forward kernels read (Kernels.PackPanels) and the bfloat16 copy built from the
// weights as stored (Kernels.ToBFloat16InterleavedTransposed). The models' parity tests check the kernels that read them.
public class PanelLayoutTests
{
    [Fact]
    public void Panels_hold_the_transpose_column_by_column_with_rows_from_the_given_offset()
    {
        const int outputs = 150, inputs = 7, firstRow = 3, panelRows = 12; // panels of 64, 64 and 22 (+ 42 padding) columns
        var weight = new float[outputs * inputs];
        for (int i = 0; i < weight.Length; i++) weight[i] = i + 1;
        int size = Kernels.PanelSize(outputs, panelRows);
        Assert.Equal(3 * 64 * panelRows, size);
        var panels = new float[size];
        panels.AsSpan().Fill(float.NaN);
        Kernels.PackPanels(weight, outputs, inputs, panels, firstRow, panelRows);
        for (int c = 0; c < 3 * 64; c++)
        {
            for (int r = 0; r < panelRows; r++)
            {
                float value = panels[c / 64 * panelRows * 64 + r * 64 + c % 64];
                int k = r - firstRow;
                if (k < 0 || k >= inputs) Assert.True(float.IsNaN(value), $"row {r} outside the weight was written"); // left for the other weight
                else if (c < outputs) Assert.Equal(weight[c * inputs + k], value);
                else Assert.Equal(0f, value); // padding columns of the last panel are zero
            }
        }
    }

    [Fact]
    public void Aligned_arrays_start_on_a_cache_line_and_stay_there()
    {
        for (int length = 1; length < 40; length += 7)
        {
            float[] array = Kernels.AlignedArray(length, out int start);
            Assert.True(array.Length >= start + length, $"array of {array.Length} cannot hold {length} floats from {start}");
            GC.Collect(); // pinned: a collection must not move it off the boundary
            Assert.Equal(0, Address(array, start) & 63);
        }
    }

    private static long Address(Array array, int index, int elementSize = sizeof(float))
    {
        var handle = System.Runtime.InteropServices.GCHandle.Alloc(array, System.Runtime.InteropServices.GCHandleType.Pinned);
        try { return (long)handle.AddrOfPinnedObject() + index * elementSize; }
        finally { handle.Free(); }
    }

    [Fact]
    public void The_bfloat16_copy_starts_on_a_cache_line()
    {
        ushort[] array = Kernels.AlignedHalfArray(100, out int start);
        Assert.True(array.Length >= start + 100);
        Assert.Equal(0, Address(array, start, sizeof(ushort)) & 63);
        var model = new HalfLstm(1);
        model.Step(new float[HalfLstm.InputSize], new float[HalfLstm.StateSize], new float[HalfLstm.OutputSize]);
        var flags = System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance;
        var half = (ushort[])typeof(HalfLstm).GetField("_packedHalf", flags)!.GetValue(model)!;
        int halfStart = (int)typeof(HalfLstm).GetField("_packedHalfStart", flags)!.GetValue(model)!;
        Assert.Equal(0, Address(half, halfStart, sizeof(ushort)) & 63);
    }

    [Fact]
    public void A_models_packed_weights_start_on_a_cache_line()
    {
        var model = new StreamingLstm(1);
        model.Step(new float[StreamingLstm.InputSize], new float[StreamingLstm.StateSize], new float[StreamingLstm.OutputSize]);
        var flags = System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance;
        var packed = (float[])typeof(StreamingLstm).GetField("_packed", flags)!.GetValue(model)!;
        int start = (int)typeof(StreamingLstm).GetField("_packedStart", flags)!.GetValue(model)!;
        Assert.Equal(0, Address(packed, start) & 63);
    }

    [Fact]
    public void Packing_rejects_what_does_not_fit_and_says_why()
    {
        var weight = new float[10 * 4];
        var ex = Assert.Throws<ArgumentException>(() => Kernels.PackPanels(weight, 10, 4, new float[64 * 5], 2, 5));
        Assert.Contains("rows 2..6 do not fit in panels of 5 rows", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Kernels.PackPanels(weight, 10, 4, new float[64 * 4 - 1], 0, 4));
        Assert.Contains("expected 256", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Kernels.PackPanels(new float[39], 10, 4, new float[256], 0, 4));
        Assert.Contains("weight has 39 floats; expected 40", ex.Message);
    }

    [Fact]
    public void Row_panels_hold_the_matrix_itself_with_the_last_panel_padded()
    {
        const int rows = 9, cols = 70; // one full panel and 6 columns (+ 58 padding)
        var matrix = new float[rows * cols];
        for (int i = 0; i < matrix.Length; i++) matrix[i] = i + 1;
        var panels = new float[Kernels.PanelSize(cols, rows)];
        panels.AsSpan().Fill(float.NaN);
        Kernels.PackRowPanels(matrix, rows, cols, panels);
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < 128; c++)
            {
                float value = panels[c / 64 * rows * 64 + r * 64 + c % 64];
                Assert.Equal(c < cols ? matrix[r * cols + c] : 0f, value);
            }
        }
        var ex = Assert.Throws<ArgumentException>(() => Kernels.PackRowPanels(matrix, rows, cols, new float[panels.Length - 1]));
        Assert.Contains($"expected {panels.Length}", ex.Message);
    }

    [Fact]
    public void Transposed_bfloat16_copy_equals_the_interleaved_copy_of_the_transpose()
    {
        const int outputs = 72, inputs = 5; // two chunks of 32 and 8 columns left to the float copy
        var weight = new float[outputs * inputs];
        var rng = new Rng(3);
        rng.FillUniform(weight, -2, 2);
        var transposed = new float[inputs * outputs];
        Kernels.Transpose(weight, outputs, inputs, transposed);
        var expected = new ushort[inputs * 64];
        Kernels.ToBFloat16Interleaved(transposed, inputs, outputs, expected);
        var actual = new ushort[inputs * 64];
        Kernels.ToBFloat16InterleavedTransposed(weight, outputs, inputs, actual);
        Assert.Equal(expected, actual);
        var ex = Assert.Throws<ArgumentException>(() => Kernels.ToBFloat16InterleavedTransposed(weight, outputs, inputs, new ushort[inputs * 64 - 1]));
        Assert.Contains("expected 320", ex.Message);
    }
}
