using System;
using System.Collections.Generic;

namespace RnnGen;

/// <summary>
/// Turns lists of variable-length sequences into the padded batches generated models take (time-major
/// [steps, batch, ...] or batch-first [batch, steps, ...], plus lengths) and back, and groups sequences of similar
/// length into batches so little work is spent on padding. The pad and unpad methods allocate nothing.
/// </summary>
public static class Batching
{
    /// <summary>
    /// Groups sequence indices into batches of at most <paramref name="batchSize"/> by length (longest first, ties in
    /// index order), so each batch holds sequences of similar length; with <paramref name="rng"/> the order of the
    /// sequences is shuffled first (so ties vary between epochs) and the order of the batches is shuffled too.
    /// </summary>
    public static int[][] BucketByLength(ReadOnlySpan<int> lengths, int batchSize, Rng? rng = null)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batchSize must be at least 1.");
        var indices = new int[lengths.Length];
        for (int i = 0; i < indices.Length; i++) indices[i] = i;
        if (rng is not null) Shuffle(indices, rng);
        // Longest first; equal lengths keep their (possibly shuffled) order: the position breaks ties.
        var keys = new long[indices.Length];
        for (int i = 0; i < indices.Length; i++) keys[i] = ((long)-lengths[indices[i]] << 32) | (uint)i;
        Array.Sort(keys, indices);
        int count = (int)(((long)indices.Length + batchSize - 1) / batchSize); // in 64 bits: batchSize may be up to int.MaxValue
        var batches = new int[count][];
        for (int b = 0; b < count; b++)
        {
            int start = b * batchSize;
            batches[b] = indices.AsSpan(start, Math.Min(batchSize, indices.Length - start)).ToArray();
        }
        if (rng is not null) Shuffle(batches, rng);
        return batches;
    }

    /// <summary>
    /// Pads the selected vector sequences (each [length, width], row-major) into <paramref name="padded"/> with zeros
    /// and writes their lengths; returns the number of steps (the longest length).
    /// </summary>
    /// <exception cref="ArgumentException">A buffer is too small, a sequence is empty or not a whole number of rows.</exception>
    public static int Pad(IReadOnlyList<float[]> sequences, ReadOnlySpan<int> indices, int width, Span<float> padded, Span<int> lengths, bool batchFirst = false)
    {
        if (width < 1) throw new ArgumentOutOfRangeException(nameof(width), width, "width must be at least 1.");
        int batch = indices.Length;
        if (lengths.Length < batch) throw new ArgumentException($"lengths has {lengths.Length} entries; expected at least {batch} (one per selected sequence).", nameof(lengths));
        int steps = 0;
        for (int b = 0; b < batch; b++)
        {
            float[] sequence = sequences[indices[b]];
            if (sequence.Length == 0 || sequence.Length % width != 0)
            {
                throw new ArgumentException($"Sequence {indices[b]} has {sequence.Length} floats; expected a positive multiple of width {width}.", nameof(sequences));
            }
            lengths[b] = sequence.Length / width;
            steps = Math.Max(steps, lengths[b]);
        }
        // In 64 bits, so a product too large for any span is refused instead of wrapping to a small one.
        long size = (long)steps * batch * width;
        if (padded.Length < size)
        {
            throw new ArgumentException($"padded has {padded.Length} floats; expected at least {size} ([{steps}, {batch}, {width}]).", nameof(padded));
        }
        padded.Slice(0, (int)size).Clear();
        for (int b = 0; b < batch; b++)
        {
            float[] sequence = sequences[indices[b]];
            for (int t = 0; t < lengths[b]; t++)
            {
                sequence.AsSpan(t * width, width).CopyTo(padded.Slice(Index(t, b, steps, batch, batchFirst) * width, width));
            }
        }
        return steps;
    }

    /// <summary>
    /// Pads the selected token sequences into <paramref name="padded"/> ([steps, batch] or [batch, steps]) with
    /// <paramref name="padId"/> and writes their lengths; returns the number of steps (the longest length).
    /// </summary>
    public static int PadTokens(IReadOnlyList<int[]> sequences, ReadOnlySpan<int> indices, Span<int> padded, Span<int> lengths, int padId = 0, bool batchFirst = false)
    {
        int batch = indices.Length;
        if (lengths.Length < batch) throw new ArgumentException($"lengths has {lengths.Length} entries; expected at least {batch} (one per selected sequence).", nameof(lengths));
        int steps = 0;
        for (int b = 0; b < batch; b++)
        {
            int length = sequences[indices[b]].Length;
            if (length == 0) throw new ArgumentException($"Sequence {indices[b]} is empty; every sequence needs at least one step.", nameof(sequences));
            lengths[b] = length;
            steps = Math.Max(steps, length);
        }
        long size = (long)steps * batch; // in 64 bits: see Pad
        if (padded.Length < size)
        {
            throw new ArgumentException($"padded has {padded.Length} entries; expected at least {size} ([{steps}, {batch}]).", nameof(padded));
        }
        padded.Slice(0, (int)size).Fill(padId);
        for (int b = 0; b < batch; b++)
        {
            int[] sequence = sequences[indices[b]];
            for (int t = 0; t < sequence.Length; t++) padded[Index(t, b, steps, batch, batchFirst)] = sequence[t];
        }
        return steps;
    }

    /// <summary>Copies the first <paramref name="length"/> steps of sequence <paramref name="b"/> out of a padded tensor into <paramref name="destination"/> ([length, width]).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative or out of range.</exception>
    /// <exception cref="ArgumentException">A span is too short for the sizes given.</exception>
    public static void Unpad(ReadOnlySpan<float> padded, int steps, int batch, int width, int b, int length, Span<float> destination, bool batchFirst = false)
    {
        if (steps < 0) throw new ArgumentOutOfRangeException(nameof(steps), steps, "steps must not be negative.");
        if (width < 0) throw new ArgumentOutOfRangeException(nameof(width), width, "width must not be negative.");
        if ((uint)b >= (uint)batch) throw new ArgumentOutOfRangeException(nameof(b), b, $"Expected a sequence index from 0 to {batch - 1}.");
        if (length < 0 || length > steps) throw new ArgumentOutOfRangeException(nameof(length), length, $"Expected a length from 0 to {steps}.");
        // In 64 bits, so a product too large for any span is refused instead of wrapping to a small one.
        long paddedSize = (long)steps * batch * width, size = (long)length * width;
        if (padded.Length < paddedSize) throw new ArgumentException($"padded has {padded.Length} floats; expected {paddedSize} ([{steps}, {batch}, {width}]).", nameof(padded));
        if (destination.Length < size) throw new ArgumentException($"destination has {destination.Length} floats; expected at least {size} ([{length}, {width}]).", nameof(destination));
        for (int t = 0; t < length; t++)
        {
            padded.Slice(Index(t, b, steps, batch, batchFirst) * width, width).CopyTo(destination.Slice(t * width, width));
        }
    }

    private static int Index(int t, int b, int steps, int batch, bool batchFirst) => batchFirst ? b * steps + t : t * batch + b;

    private static void Shuffle<T>(T[] items, Rng rng)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
