using System;
using System.Linq;
using Xunit;

namespace RnnGen.Tests;

public class BatchingTests
{
    [Fact]
    public void Bucketing_groups_similar_lengths_and_covers_every_sequence_once()
    {
        int[] lengths = { 5, 1, 9, 5, 3, 9, 2, 7 };
        int[][] batches = Batching.BucketByLength(lengths, 3);
        Assert.Equal(new[] { new[] { 2, 5, 7 }, new[] { 0, 3, 4 }, new[] { 6, 1 } }, batches);

        int[][] shuffled = Batching.BucketByLength(lengths, 3, new Rng(1));
        Assert.Equal(Enumerable.Range(0, lengths.Length), shuffled.SelectMany(b => b).OrderBy(i => i));
        foreach (int[] batch in shuffled)
        {
            int[] sorted = batch.Select(i => lengths[i]).ToArray();
            Assert.Equal(sorted.OrderByDescending(l => l), sorted);
        }
        Assert.Equal(shuffled, Batching.BucketByLength(lengths, 3, new Rng(1)));
    }

    [Fact]
    public void Pad_then_forward_equals_each_sequence_alone_and_unpad_returns_it()
    {
        var model = new StreamingLstm(2);
        var rng = new Rng(5);
        var sequences = new[] { 3, 7, 1, 5 }.Select(n => { var s = new float[n * StreamingLstm.InputSize]; rng.FillUniform(s, -1, 1); return s; }).ToList();
        int[] pick = { 1, 3, 0 };
        var padded = new float[7 * 3 * StreamingLstm.InputSize];
        var lengths = new int[3];
        int steps = Batching.Pad(sequences, pick, StreamingLstm.InputSize, padded, lengths);
        Assert.Equal(7, steps);
        Assert.Equal(new[] { 7, 5, 3 }, lengths);

        var output = new float[steps * 3 * StreamingLstm.OutputSize];
        model.Forward(padded, 3, lengths, output);
        for (int b = 0; b < 3; b++)
        {
            var alone = new float[lengths[b] * StreamingLstm.OutputSize];
            model.Forward(sequences[pick[b]], alone);
            var back = new float[lengths[b] * StreamingLstm.OutputSize];
            Batching.Unpad(output, steps, 3, StreamingLstm.OutputSize, b, lengths[b], back);
            Numeric.AssertClose(alone, back, 1e-5f, $"sequence {pick[b]}");
            var input = new float[lengths[b] * StreamingLstm.InputSize];
            Batching.Unpad(padded, steps, 3, StreamingLstm.InputSize, b, lengths[b], input);
            Assert.Equal(sequences[pick[b]], input);
        }
    }

    [Fact]
    public void PadTokens_lays_out_time_major_and_batch_first()
    {
        var sequences = new[] { new[] { 1, 2, 3 }, new[] { 4 } };
        var padded = new int[6];
        var lengths = new int[2];
        Assert.Equal(3, Batching.PadTokens(sequences, new[] { 0, 1 }, padded, lengths, padId: -1));
        Assert.Equal(new[] { 1, 4, 2, -1, 3, -1 }, padded);
        Batching.PadTokens(sequences, new[] { 0, 1 }, padded, lengths, padId: 0, batchFirst: true);
        Assert.Equal(new[] { 1, 2, 3, 4, 0, 0 }, padded);
        Assert.Equal(new[] { 3, 1 }, lengths);
    }

    [Fact]
    public void Pad_rejects_bad_buffers()
    {
        var sequences = new[] { new float[4], new float[5] };
        Assert.Contains("multiple of width 2", Assert.Throws<ArgumentException>(() => Batching.Pad(sequences, new[] { 0, 1 }, 2, new float[100], new int[2])).Message);
        Assert.Contains("expected at least 8", Assert.Throws<ArgumentException>(() => Batching.Pad(sequences, new[] { 0, 0 }, 2, new float[7], new int[2])).Message);
        Assert.Contains("lengths has 1", Assert.Throws<ArgumentException>(() => Batching.Pad(sequences, new[] { 0, 0 }, 2, new float[8], new int[1])).Message);
    }
}
