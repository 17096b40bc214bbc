using System;
using RnnGen.CompilerServices;
using Xunit;

namespace RnnGen.Tests;

/// <summary>The fused activation kernels against the scalar definitions, and NaN propagation (so training can detect it).</summary>
public class KernelTests
{
    private static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    /// <summary>
    /// Every width from 1 to 48 (each vector width's full blocks plus every tail length): the cell kernels write only
    /// inside their spans, each a slice of a larger array whose guard elements must keep their sentinel, and compute the
    /// scalar definitions. A loop bound off by one in any tail writes a guard (and, in the bounds-checked build, throws).
    /// </summary>
    [Fact]
    public void Cell_kernels_stay_inside_their_spans_at_every_width()
    {
        const int guard = 16;
        const float sentinel = 12345f;
        var rng = new Rng(7);
        Span<float> Guarded(float[] array, int length)
        {
            for (int i = 0; i < array.Length; i++) array[i] = i < guard || i >= guard + length ? sentinel : rng.NextSingle() * 4 - 2;
            return array.AsSpan(guard, length);
        }
        void AssertGuards(float[] array, int length, string what)
        {
            for (int i = 0; i < array.Length; i++)
            {
                if (i < guard || i >= guard + length) Assert.True(array[i] == sentinel, $"{what}: guard element {i - guard} was written");
            }
        }
        for (int n = 1; n <= 48; n++)
        {
            float[] a = new float[4 * n + 2 * guard], b = new float[3 * n + 2 * guard], c = new float[n + 2 * guard], h = new float[n + 2 * guard], t = new float[n + 2 * guard];

            Span<float> x = Guarded(c, n);
            float[] before = x.ToArray();
            Kernels.Tanh(x);
            AssertGuards(c, n, $"Tanh({n})");
            for (int j = 0; j < n; j++) Assert.Equal(MathF.Tanh(before[j]), x[j], 2e-7f);

            Span<float> gates = Guarded(a, 4 * n), cell = Guarded(c, n), hidden = Guarded(h, n), tanhC = Guarded(t, n);
            float[] g0 = gates.ToArray(), c0 = cell.ToArray();
            Kernels.LstmCell(gates, cell, hidden, tanhC);
            foreach ((float[] array, int length, string name) in new[] { (a, 4 * n, "gates"), (c, n, "c"), (h, n, "h"), (t, n, "tanhC") }) AssertGuards(array, length, $"LstmCell({n}) {name}");
            for (int j = 0; j < n; j++)
            {
                float cn = Sigmoid(g0[n + j]) * c0[j] + Sigmoid(g0[j]) * MathF.Tanh(g0[2 * n + j]);
                Assert.Equal(cn, cell[j], 1e-5f);
            }

            Span<float> gatesX = Guarded(b, 3 * n), gatesH = Guarded(a, 3 * n), state = Guarded(h, n);
            Kernels.GruCell(gatesX, gatesH, state);
            foreach ((float[] array, int length, string name) in new[] { (b, 3 * n, "gatesX"), (a, 3 * n, "gatesH"), (h, n, "h") }) AssertGuards(array, length, $"GruCell({n}) {name}");
        }
    }

    [Fact]
    public void Fused_lstm_cell_matches_the_definition_across_the_range()
    {
        const int n = 37; // vector paths and the scalar tail
        var rng = new Rng(3);
        var gates = new float[4 * n];
        var c = new float[n];
        rng.FillUniform(gates, -12f, 12f);
        rng.FillUniform(c, -3f, 3f);
        gates[0] = 1e-4f; gates[2 * n] = -3e-5f; gates[5] = 90f; gates[n + 6] = -95f; // tiny values and overflow territory
        gates[7] = float.NegativeInfinity; gates[n + 8] = float.PositiveInfinity; gates[2 * n + 9] = float.NegativeInfinity; // saturate, not NaN
        float[] g0 = (float[])gates.Clone(), c0 = (float[])c.Clone();
        var h = new float[n];
        var tanhC = new float[n];
        Kernels.LstmCell(gates, c, h, tanhC);
        for (int j = 0; j < n; j++)
        {
            float i = Sigmoid(g0[j]), f = Sigmoid(g0[n + j]), g = MathF.Tanh(g0[2 * n + j]), o = Sigmoid(g0[3 * n + j]);
            float cn = f * c0[j] + i * g;
            Assert.Equal(i, gates[j], 2e-7f);
            Assert.Equal(g, gates[2 * n + j], 2e-7f);
            Assert.Equal(cn, c[j], 2e-6f);
            Assert.Equal(MathF.Tanh(cn), tanhC[j], 2e-7f);
            Assert.Equal(o * MathF.Tanh(cn), h[j], 2e-7f);
        }
        float tiny = MathF.Tanh(-3e-5f);
        Assert.True(Math.Abs(gates[2 * n] - tiny) <= 2e-7f * Math.Abs(tiny), "tanh keeps relative precision near zero");
    }

    [Fact]
    public void Tanh_keeps_relative_precision_near_zero_and_saturates()
    {
        float[] x = { 1e-6f, -2e-3f, 0.3f, 0.62f, 0.63f, -5f, 20f, 100f, -100f, 0f, -0f, 1e-30f, 0.9f, 3f, -0.7f, 8f, 1e-8f };
        float[] y = (float[])x.Clone();
        Kernels.Tanh(y);
        for (int i = 0; i < x.Length; i++)
        {
            float expected = MathF.Tanh(x[i]);
            Assert.True(Math.Abs(y[i] - expected) <= 2e-7f * Math.Max(1e-30f, Math.Abs(expected)) + 1e-38f || Math.Abs(y[i] - expected) <= 1.2e-7f * Math.Abs(expected) + 1e-37f,
                $"tanh({x[i]:R}) = {y[i]:R}, expected {expected:R}");
        }
    }

    [Fact]
    public void NaN_propagates_through_every_cell_kernel()
    {
        const int n = 20;
        var gates = new float[4 * n];
        gates[3] = float.NaN;
        gates[n + 17] = float.NaN;
        var c = new float[n];
        var h = new float[n];
        var t = new float[n];
        Kernels.LstmCell(gates, c, h, t);
        Assert.True(float.IsNaN(h[3]) && float.IsNaN(h[17]), "LSTM h is NaN where a gate was NaN");

        var gx = new float[3 * n];
        var gh = new float[3 * n];
        gx[2] = float.NaN;
        gh[2 * n + 18] = float.NaN;
        var hg = new float[n];
        Kernels.GruCell(gx, gh, hg);
        Assert.True(float.IsNaN(hg[2]) && float.IsNaN(hg[18]), "GRU h is NaN where a gate was NaN");

        var x = new float[n];
        x[1] = float.NaN;
        x[19] = float.NaN;
        Kernels.Tanh(x);
        Assert.True(float.IsNaN(x[1]) && float.IsNaN(x[19]));
    }

    [Fact]
    public void Cell_backward_kernels_match_their_definitions_and_check_lengths()
    {
        const int n = 21; // vectors of 8 or 16 plus a scalar tail
        var rng = new Rng(11);
        static void Close(double expected, float actual) => Assert.True(Math.Abs(expected - actual) <= 1e-6 + 1e-5 * Math.Abs(expected), $"expected {expected}, got {actual}");
        float[] Values(int length, float low, float high) { var v = new float[length]; rng.FillUniform(v, low, high); return v; }
        float[] gates = Values(4 * n, 0.01f, 0.99f), cPrevious = Values(n, -2, 2), tanhC = Values(n, -0.99f, 0.99f), dh = Values(n, -1, 1), dc = Values(n, -1, 1);
        float[] dcIn = (float[])dc.Clone();
        var dGates = new float[4 * n];
        Kernels.LstmCellBackward(gates, cPrevious, tanhC, dh, dc, dGates);
        for (int j = 0; j < n; j++)
        {
            double i = gates[j], f = gates[n + j], g = gates[2 * n + j], o = gates[3 * n + j], tc = tanhC[j];
            double dcv = dcIn[j] + dh[j] * o * (1 - tc * tc);
            Close(dcv * g * i * (1 - i), dGates[j]);
            Close(dcv * cPrevious[j] * f * (1 - f), dGates[n + j]);
            Close(dcv * i * (1 - g * g), dGates[2 * n + j]);
            Close(dh[j] * tc * o * (1 - o), dGates[3 * n + j]);
            Close(dcv * f, dc[j]);
        }

        float[] gru = Values(3 * n, 0.01f, 0.99f), hidden = Values(3 * n, -2, 2), hPrevious = Values(n, -1, 1);
        float[] dInput = new float[3 * n], dHidden = new float[3 * n], dhPrevious = new float[n];
        Kernels.GruCellBackward(gru, hidden, hPrevious, dh, dInput, dHidden, dhPrevious);
        for (int j = 0; j < n; j++)
        {
            double r = gru[j], z = gru[n + j], nn = gru[2 * n + j], d = dh[j];
            double dn = d * (1 - z) * (1 - nn * nn), dz = d * (hPrevious[j] - nn) * z * (1 - z), dr = dn * hidden[2 * n + j] * r * (1 - r);
            Close(dr, dInput[j]);
            Close(dz, dInput[n + j]);
            Close(dn, dInput[2 * n + j]);
            Close(dr, dHidden[j]);
            Close(dz, dHidden[n + j]);
            Close(dn * r, dHidden[2 * n + j]);
            Close(d * z, dhPrevious[j]);
        }

        float[] h = Values(n, -1, 1), dTanh = new float[n], dRelu = new float[n];
        Kernels.TanhBackward(h, dh, dTanh);
        Kernels.ReluBackward(h, dh, dRelu);
        for (int j = 0; j < n; j++)
        {
            Close(dh[j] * (1 - (double)h[j] * h[j]), dTanh[j]);
            Assert.Equal(h[j] > 0 ? dh[j] : 0f, dRelu[j]);
        }

        var shortGates = Assert.Throws<ArgumentException>(() => Kernels.LstmCellBackward(new float[4 * n - 1], cPrevious, tanhC, dh, dc, dGates));
        Assert.Equal("gates", shortGates.ParamName);
        Assert.Contains("83 floats; expected 84", shortGates.Message);
        Assert.Equal("dhPrevious", Assert.Throws<ArgumentException>(() => Kernels.GruCellBackward(gru, hidden, hPrevious, dh, dInput, dHidden, new float[n + 1])).ParamName);
        Assert.Equal("dGates", Assert.Throws<ArgumentException>(() => Kernels.TanhBackward(h, dh, new float[n - 1])).ParamName);
        Assert.Equal("h", Assert.Throws<ArgumentException>(() => Kernels.ReluBackward(new float[2], dh, dRelu)).ParamName);
    }
}
