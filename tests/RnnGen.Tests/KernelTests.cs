using System;
using Xunit;

namespace RnnGen.Tests;

/// <summary>The fused activation kernels against the scalar definitions, and NaN propagation (so training can detect it).</summary>
public class KernelTests
{
    private static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

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
}
