using System;
using RnnGen.CompilerServices;
using Xunit;

namespace RnnGen.Tests;

// Each bfloat16 model has a float twin of the same shape. Gate widths: 160 (5 full chunks of 32 columns), 60 (one
// chunk and 28 columns read from the float copy), 48 (one chunk and 16).
[RecurrentModel(Cell = CellKind.Lstm, Input = 12, Hidden = 40, Layers = 2, Output = 5, Weights = WeightPrecision.BFloat16)]
public partial class HalfLstm { }

[RecurrentModel(Cell = CellKind.Lstm, Input = 12, Hidden = 40, Layers = 2, Output = 5)]
public partial class HalfLstmTwin { }

[RecurrentModel(Cell = CellKind.Gru, Vocabulary = 9, Input = 6, Hidden = 20, Weights = WeightPrecision.BFloat16)]
public partial class HalfGru { }

[RecurrentModel(Cell = CellKind.Gru, Vocabulary = 9, Input = 6, Hidden = 20)]
public partial class HalfGruTwin { }

[RecurrentModel(Cell = CellKind.Rnn, Input = 7, Hidden = 48, Weights = WeightPrecision.BFloat16)]
public partial class HalfRnn { }

[RecurrentModel(Cell = CellKind.Rnn, Input = 7, Hidden = 48)]
public partial class HalfRnnTwin { }

// Gate width 24: no full chunk of 32, so every weight is read from the float copy.
[RecurrentModel(Cell = CellKind.Gru, Input = 5, Hidden = 8, Output = 3, Weights = WeightPrecision.BFloat16)]
public partial class HalfTiny { }

[RecurrentModel(Cell = CellKind.Gru, Input = 5, Hidden = 8, Output = 3)]
public partial class HalfTinyTwin { }

/// <summary>
/// <c>Weights = WeightPrecision.BFloat16</c>: Step equals the float model whose recurrent-layer weights were rounded
/// to bfloat16 (the columns past the last full chunk of 32, and token layers' input weights, which Step reads from the
/// float copy, are not rounded); it differs from the unrounded model by the rounding only; it allocates nothing;
/// Forward and multi-agent Step stay float.
/// </summary>
public class HalfPrecisionStepTests
{
    [Fact]
    public void Bfloat16_step_equals_float_step_on_rounded_weights()
    {
        Check(new HalfLstm(3), new HalfLstmTwin(3), new HalfLstmTwin(3), 4 * HalfLstm.HiddenSize, tokens: false);
        Check(new HalfGru(4), new HalfGruTwin(4), new HalfGruTwin(4), 3 * HalfGru.HiddenSize, tokens: true);
        Check(new HalfRnn(5), new HalfRnnTwin(5), new HalfRnnTwin(5), HalfRnn.HiddenSize, tokens: false);
    }

    private static void Check(IRecurrentModel half, IRecurrentModel rounded, IRecurrentModel exact, int gateSize, bool tokens)
    {
        half.Parameters.CopyTo(rounded.Parameters);
        half.Parameters.CopyTo(exact.Parameters);
        int chunked = gateSize / 32 * 32;
        for (int layer = 0; layer < half.NumLayers; layer++)
        {
            if (!(tokens && layer == 0)) Round(rounded.Parameter($"rnn.weight_ih_l{layer}"), gateSize, chunked);
            Round(rounded.Parameter($"rnn.weight_hh_l{layer}"), gateSize, chunked);
        }

        var rng = new Rng(21);
        var state = new float[half.StateSize];
        var roundedState = new float[half.StateSize];
        var exactState = new float[half.StateSize];
        var output = new float[half.OutputSize];
        var roundedOutput = new float[half.OutputSize];
        var exactOutput = new float[half.OutputSize];
        var x = new float[half.InputSize];
        float largest = 0f;
        for (int t = 0; t < 8; t++)
        {
            if (tokens)
            {
                int token = rng.NextInt(half.VocabularySize);
                ((ITokenStreamingModel)half).Step(token, state, output);
                ((ITokenStreamingModel)rounded).Step(token, roundedState, roundedOutput);
                ((ITokenStreamingModel)exact).Step(token, exactState, exactOutput);
            }
            else
            {
                rng.FillUniform(x, -1f, 1f);
                ((IVectorStreamingModel)half).Step(x, state, output);
                ((IVectorStreamingModel)rounded).Step(x, roundedState, roundedOutput);
                ((IVectorStreamingModel)exact).Step(x, exactState, exactOutput);
            }
            Numeric.AssertClose(roundedOutput, output, 1e-5f, $"{half.GetType().Name} step {t} output");
            Numeric.AssertClose(roundedState, state, 1e-5f, $"{half.GetType().Name} step {t} state");
            for (int i = 0; i < output.Length; i++) largest = Math.Max(largest, Math.Abs(output[i] - exactOutput[i]));
        }
        // The rounding is real (the half path ran) and small: bfloat16 keeps 8 significant bits.
        Assert.InRange(largest, 1e-6f, 2e-2f);
    }

    [Fact]
    public void A_gate_width_below_one_chunk_reads_every_weight_from_the_float_copy()
    {
        var model = new HalfTiny(9);
        var twin = new HalfTinyTwin(9);
        var state = new float[HalfTiny.StateSize];
        var twinState = new float[HalfTinyTwin.StateSize];
        var output = new float[HalfTiny.OutputSize];
        var twinOutput = new float[HalfTinyTwin.OutputSize];
        var x = new float[HalfTiny.InputSize];
        var rng = new Rng(4);
        for (int t = 0; t < 5; t++)
        {
            rng.FillUniform(x, -1f, 1f);
            model.Step(x, state, output);
            twin.Step(x, twinState, twinOutput);
            // The float copy's columns go through scalar code here (no FMA): equal up to rounding.
            Numeric.AssertClose(twinOutput, output, 1e-5f, $"step {t} output");
            Numeric.AssertClose(twinState, state, 1e-5f, $"step {t} state");
        }
        // Stale after a change: the next Step repacks, and must not allocate doing it.
        Allocations.AssertNoneOnce("the Step that repacks", () => model.Parameters[0] += 0.5f, () => model.Step(x, state, output));
        twin.Parameters[0] = model.Parameters[0];
        Array.Copy(state, twinState, state.Length);
        model.Step(x, state, output);
        twin.Step(x, twinState, twinOutput);
        Numeric.AssertClose(twinOutput, output, 1e-5f, "after the parameter change");
        Numeric.AssertClose(twinState, state, 1e-5f, "state after the parameter change");
    }

    [Fact]
    public void Bfloat16_rounding_is_to_nearest_even_and_keeps_specials()
    {
        Assert.Equal(0x3F80, Kernels.ToBFloat16(1f));
        Assert.Equal(1f + 1f / 128, Kernels.FromBFloat16(Kernels.ToBFloat16(1f + 1f / 128)));                 // exact
        Assert.Equal(1f, Kernels.FromBFloat16(Kernels.ToBFloat16(1f + 1f / 256)));                            // tie: to even (down)
        Assert.Equal(1f + 2f / 128, Kernels.FromBFloat16(Kernels.ToBFloat16(1f + 3f / 256)));                 // tie: to even (up)
        Assert.Equal(1f + 1f / 128, Kernels.FromBFloat16(Kernels.ToBFloat16(1f + 1f / 256 + 1f / 65536)));   // above the tie
        Assert.Equal(-2.5f, Kernels.FromBFloat16(Kernels.ToBFloat16(-2.5f)));
        Assert.True(float.IsPositiveInfinity(Kernels.FromBFloat16(Kernels.ToBFloat16(float.PositiveInfinity))));
        Assert.True(float.IsNaN(Kernels.FromBFloat16(Kernels.ToBFloat16(float.NaN))));
        Assert.True(float.IsNaN(Kernels.FromBFloat16(Kernels.ToBFloat16(BitConverter.Int32BitsToSingle(0x7F800001)))));  // a NaN whose payload is in the low bits
    }

    [Fact]
    public void Interleaved_layout_puts_column_j_low_and_16_plus_j_high()
    {
        var source = new float[2 * 40];
        for (int i = 0; i < source.Length; i++) source[i] = i;
        var packed = new ushort[2 * 32];
        Kernels.ToBFloat16Interleaved(source, 2, 40, packed);
        for (int r = 0; r < 2; r++)
        {
            for (int j = 0; j < 16; j++)
            {
                ushort low = packed[r * 32 + 2 * j], high = packed[r * 32 + 2 * j + 1];
                Assert.Equal(source[r * 40 + j], Kernels.FromBFloat16(low));                     // small integers are exact
                float expected = source[r * 40 + 16 + j];
                Assert.InRange((double)Kernels.FromBFloat16Pair(low, high), expected - HalfUnit(expected), expected + HalfUnit(expected));
            }
        }
        var ex = Assert.Throws<ArgumentException>(() => Kernels.ToBFloat16Interleaved(source, 2, 40, new ushort[63]));
        Assert.Contains("expected 64", ex.Message);
    }

    [Fact]
    public void The_high_half_is_chosen_so_the_whole_lane_is_the_nearest_float_to_the_weight()
    {
        // For each weight, every possible high half is tried against the low half beside it: the packed one must give
        // the smallest error, and that error is at most half a bfloat16 unit (as plain rounding).
        var rng = new Rng(8);
        var source = new float[32];
        var packed = new ushort[32];
        for (int trial = 0; trial < 40; trial++)
        {
            float scale = trial % 4 == 0 ? 1e-30f : trial % 4 == 1 ? 1e30f : 1f;
            rng.FillUniform(source, -2f, 2f);
            for (int i = 0; i < 32; i++) source[i] *= scale;
            if (trial == 0) { source[16] = 0f; source[17] = -0f; source[18] = 1f; source[19] = -1f; source[20] = 3e38f; source[21] = 1.5e-42f; /* subnormal */ }
            Kernels.ToBFloat16Interleaved(source, 1, 32, packed);
            for (int j = 0; j < 16; j++)
            {
                ushort low = packed[2 * j];
                float x = source[16 + j];
                double chosen = Math.Abs((double)Kernels.FromBFloat16Pair(low, packed[2 * j + 1]) - x);
                double best = double.PositiveInfinity;
                for (int high = 0; high <= ushort.MaxValue; high++)
                {
                    float value = Kernels.FromBFloat16Pair(low, (ushort)high);
                    if (float.IsFinite(value)) best = Math.Min(best, Math.Abs((double)value - x));
                }
                Assert.True(chosen == best, $"trial {trial}, column {16 + j}: {x:R} packed with error {chosen:R}, the best high half gives {best:R}");
                Assert.True(chosen <= HalfUnit(x), $"trial {trial}, column {16 + j}: error {chosen:R} above half a bfloat16 unit of {x:R}");
            }
        }

        // Non-finite weights: NaN stays NaN in either half; infinity reads as itself in a low half, and in a high half
        // as itself only beside a zero (the low bits would turn it into a NaN).
        Array.Clear(source);
        source[0] = 1f; source[1] = 0f; source[2] = float.NaN;
        source[16] = float.PositiveInfinity; source[17] = float.NegativeInfinity; source[18] = float.NaN; source[19] = float.NaN;
        source[3] = float.PositiveInfinity;
        Kernels.ToBFloat16Interleaved(source, 1, 32, packed);
        Assert.True(float.IsNaN(Kernels.FromBFloat16Pair(packed[0], packed[1])), "+inf beside a nonzero low half");
        Assert.Equal(float.NegativeInfinity, Kernels.FromBFloat16Pair(packed[2], packed[3]));
        Assert.True(float.IsNaN(Kernels.FromBFloat16(packed[4])) && float.IsNaN(Kernels.FromBFloat16Pair(packed[4], packed[5])));
        Assert.Equal(float.PositiveInfinity, Kernels.FromBFloat16(packed[6]));
        Assert.True(float.IsNaN(Kernels.FromBFloat16Pair(packed[6], packed[7])));

        // A finite weight whose rounding goes up to infinity: the largest finite high half is the nearest lane.
        Array.Clear(source);
        source[0] = 1f; source[16] = float.MaxValue;
        Kernels.ToBFloat16Interleaved(source, 1, 32, packed);
        Assert.Equal(0x7F80, Kernels.ToBFloat16(float.MaxValue));
        Assert.Equal(0x7F7F, packed[1]);
        Assert.True(float.IsFinite(Kernels.FromBFloat16Pair(packed[0], packed[1])));
    }

    /// <summary>
    /// Half a bfloat16 unit in the last place of x (8 significant bits); next to zero a whole subnormal unit, 2⁻¹³³, since
    /// the low half's bits keep the high column's smallest magnitudes away from zero.
    /// </summary>
    private static double HalfUnit(float x) => Math.Max(x == 0f ? 0 : Math.Pow(2, Math.Floor(Math.Log2(Math.Abs((double)x))) - 8), Math.Pow(2, -133));

    [Fact]
    public void Bfloat16_step_allocates_nothing_and_follows_parameter_changes()
    {
        var model = new HalfLstm(7);
        var twin = new HalfLstmTwin(7);
        var state = new float[HalfLstm.StateSize];
        var output = new float[HalfLstm.OutputSize];
        var x = new float[HalfLstm.InputSize];
        new Rng(2).FillUniform(x, -1f, 1f);
        Allocations.AssertNone("bfloat16 Step", () => model.Step(x, state, output), 100);

        // New weights reach the bfloat16 copy: all-zero layer weights leave only the biases, exactly as the float model.
        model.Parameters.Clear();
        twin.Parameters.Clear();
        new Rng(3).FillUniform(model.Parameter("head.bias"), -1f, 1f);
        model.Parameter("head.bias").CopyTo(twin.Parameter("head.bias"));
        var twinState = new float[HalfLstmTwin.StateSize];
        var twinOutput = new float[HalfLstmTwin.OutputSize];
        Array.Clear(state);
        model.Step(x, state, output);
        twin.Step(x, twinState, twinOutput);
        Numeric.AssertClose(twinOutput, output, 1e-5f, "after the parameter change");
    }

    [Fact]
    public void Training_does_not_rebuild_the_bfloat16_copy_and_the_next_step_sees_the_trained_weights()
    {
        var model = new HalfLstm(5);
        var twin = new HalfLstmTwin(5);
        var trainer = model.CreateTrainer(4, 2);
        var xs = new float[4 * 2 * HalfLstm.InputSize];
        new Rng(6).FillUniform(xs, -1f, 1f);
        var ys = new float[4 * 2 * HalfLstm.OutputSize];
        trainer.Forward(xs, 2, default, ys, default, default);
        var halfStale = typeof(HalfLstm).GetField("_halfStale", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        Assert.True((bool)halfStale.GetValue(model)!, "the trainer's forward pass left the bfloat16 copy to the next Step");

        // A step after training reads the current weights: build the copy, change the weights (as an optimizer would),
        // run the trainer again, and compare the next step with the float twin.
        model.Step(xs.AsSpan(0, HalfLstm.InputSize), new float[HalfLstm.StateSize], new float[HalfLstm.OutputSize]);
        model.Parameters.Clear();
        new Rng(3).FillUniform(model.Parameter("head.bias"), -1f, 1f);
        trainer.Forward(xs, 2, default, ys, default, default);
        twin.Parameters.Clear();
        model.Parameter("head.bias").CopyTo(twin.Parameter("head.bias"));
        var state = new float[HalfLstm.StateSize];
        var output = new float[HalfLstm.OutputSize];
        var twinOutput = new float[HalfLstmTwin.OutputSize];
        model.Step(xs.AsSpan(0, HalfLstm.InputSize), state, output);
        Assert.False((bool)halfStale.GetValue(model)!);
        twin.Step(xs.AsSpan(0, HalfLstm.InputSize), new float[HalfLstmTwin.StateSize], twinOutput);
        Numeric.AssertClose(twinOutput, output, 1e-5f, "after training changed the weights");
    }

    /// <summary>
    /// Replaces rows [0, chunkedRows) of a [gateRows, k] weight by what the kernels read from the packed copy (row c of W
    /// is gate column c): in each chunk of 32 rows, row j is the low half of a lane and row 16 + j the whole lane.
    /// </summary>
    private static void Round(Span<float> weight, int gateRows, int chunkedRows)
    {
        int k = weight.Length / gateRows;
        var packed = new ushort[k * chunkedRows];
        Kernels.ToBFloat16InterleavedTransposed(weight.Slice(0, chunkedRows * k).ToArray(), chunkedRows, k, packed);
        for (int c = 0; c < chunkedRows; c += 32)
        {
            for (int j = 0; j < 16; j++)
            {
                for (int i = 0; i < k; i++)
                {
                    ushort low = packed[i * chunkedRows + c + 2 * j], high = packed[i * chunkedRows + c + 2 * j + 1];
                    weight[(c + j) * k + i] = Kernels.FromBFloat16(low);
                    weight[(c + 16 + j) * k + i] = Kernels.FromBFloat16Pair(low, high);
                }
            }
        }
    }
}
