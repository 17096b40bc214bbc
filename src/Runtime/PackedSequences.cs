using System;

namespace RnnGen;

/// <summary>
/// How a batch of sequences of unequal lengths is laid out for computation, as PyTorch's PackedSequence: sequences
/// sorted by length (longest first, ties in their original order), and at each time step t only the
/// <see cref="BatchSize"/>(t) sequences still running, as a prefix of that order. Packed row (t, j) is row
/// <see cref="Offset"/>(t) + j. Used by generated models; buffers are allocated once for a capacity and reused.
/// </summary>
public sealed class PackedSequences
{
    private int[] _lengths = Array.Empty<int>();
    private int[] _order = Array.Empty<int>();
    private int[] _sortedLengths = Array.Empty<int>();
    private int[] _batchSizes = Array.Empty<int>();
    private int[] _offsets = Array.Empty<int>();
    private int[] _counts = Array.Empty<int>();
    private bool _isPart;

    /// <summary>Creates an empty layout with room for <paramref name="maxSteps"/> steps and <paramref name="maxBatch"/> sequences.</summary>
    public PackedSequences(int maxSteps = 0, int maxBatch = 0) => Reserve(maxSteps, maxBatch);

    /// <summary>Steps of the padded batch (the longest sequence may be shorter).</summary>
    public int Steps { get; private set; }

    /// <summary>Number of sequences.</summary>
    public int Batch { get; private set; }

    /// <summary>
    /// Sequences of the padded tensors and states this layout reads and writes: <see cref="Batch"/>, or for a part made
    /// by <see cref="SetPart"/> the whole batch's (the part's sequences keep their indices in it).
    /// </summary>
    public int PaddedBatch { get; private set; }

    /// <summary>Number of packed rows: the sum of the lengths.</summary>
    public int Rows { get; private set; }

    /// <summary>
    /// True when every sequence has length <see cref="Steps"/> and the layout covers the whole batch: packed row (t, j)
    /// is then time-major row t * Batch + j. Always false for a part (<see cref="SetPart"/>).
    /// </summary>
    public bool IsDense { get; private set; }

    /// <summary>Sorted position → original sequence index.</summary>
    public ReadOnlySpan<int> Order => _order.AsSpan(0, Batch);

    /// <summary>Length of each sequence, by original index (for a part: by its position in the part's <see cref="Order"/>).</summary>
    public ReadOnlySpan<int> Lengths => _lengths.AsSpan(0, Batch);

    /// <summary>Length of the sequence at sorted position <paramref name="j"/>.</summary>
    public int SortedLength(int j) => _sortedLengths[j];

    /// <summary>Number of sequences still running at step <paramref name="t"/>.</summary>
    public int BatchSize(int t) => _batchSizes[t];

    /// <summary>First packed row of step <paramref name="t"/>.</summary>
    public int Offset(int t) => _offsets[t];

    /// <summary>Most elements an array holds (Array.MaxLength).</summary>
    private const int MaxArrayLength = 0x7FFFFFC7;

    /// <summary>
    /// Grows the buffers (never shrinks) so that <see cref="Set"/> for these sizes does not allocate. All or nothing:
    /// the new buffers are allocated before any is swapped in, so a Reserve that throws leaves the layout as it was.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative or more than an array holds.</exception>
    public void Reserve(int maxSteps, int maxBatch)
    {
        if (maxSteps < 0 || maxSteps > MaxArrayLength - 1) throw new ArgumentOutOfRangeException(nameof(maxSteps), maxSteps, $"Expected 0 to {MaxArrayLength - 1}.");
        if (maxBatch < 0 || maxBatch > MaxArrayLength) throw new ArgumentOutOfRangeException(nameof(maxBatch), maxBatch, $"Expected 0 to {MaxArrayLength}.");
        bool growBatch = maxBatch > _order.Length, growSteps = maxSteps > _batchSizes.Length;
        int[] lengths = growBatch ? new int[maxBatch] : _lengths;
        int[] order = growBatch ? new int[maxBatch] : _order;
        int[] sortedLengths = growBatch ? new int[maxBatch] : _sortedLengths;
        int[] batchSizes = growSteps ? new int[maxSteps] : _batchSizes;
        int[] offsets = growSteps ? new int[maxSteps] : _offsets;
        int[] counts = growSteps ? new int[maxSteps + 1] : _counts;
        _lengths = lengths;
        _order = order;
        _sortedLengths = sortedLengths;
        _batchSizes = batchSizes;
        _offsets = offsets;
        _counts = counts;
    }

    /// <summary>Steps the buffers can hold without growing.</summary>
    public int StepCapacity => _batchSizes.Length;

    /// <summary>Sequences the buffers can hold without growing.</summary>
    public int BatchCapacity => _order.Length;

    /// <summary>
    /// Lays out <paramref name="batch"/> sequences padded to <paramref name="steps"/> steps. <paramref name="lengths"/>
    /// may be in any order (as <c>enforce_sorted=False</c>); empty means every sequence has <paramref name="steps"/> steps.
    /// Grows the buffers if needed.
    /// </summary>
    /// <exception cref="ArgumentException">A length is not in 1..steps, or there are not <paramref name="batch"/> of them.</exception>
    public void Set(int steps, int batch, ReadOnlySpan<int> lengths)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "A batch needs at least one step.");
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, "A batch needs at least one sequence.");
        if (!lengths.IsEmpty && lengths.Length != batch)
        {
            throw new ArgumentException($"lengths has {lengths.Length} entries; expected {batch} (one per sequence of the batch) or none.", nameof(lengths));
        }
        long rows = lengths.IsEmpty ? (long)steps * batch : 0; // in 64 bits: the packed rows must fit an int
        for (int b = 0; b < lengths.Length; b++)
        {
            if (lengths[b] < 1 || lengths[b] > steps)
            {
                throw new ArgumentException($"lengths[{b}] is {lengths[b]}; expected 1 to {steps} (the padded number of steps).", nameof(lengths));
            }
            rows += lengths[b];
        }
        if (rows > int.MaxValue) throw new ArgumentException($"The lengths add up to {rows} packed rows; at most {int.MaxValue} fit.", lengths.IsEmpty ? nameof(batch) : nameof(lengths));
        Reserve(steps, batch);
        Steps = steps;
        Batch = batch;
        PaddedBatch = batch;
        _isPart = false;
        bool dense = true;
        for (int b = 0; b < batch; b++)
        {
            int length = lengths.IsEmpty ? steps : lengths[b];
            _lengths[b] = length;
            dense &= length == steps;
        }
        IsDense = dense;

        // Stable counting sort by length, longest first.
        Span<int> counts = _counts.AsSpan(0, steps + 1);
        counts.Clear();
        for (int b = 0; b < batch; b++) counts[_lengths[b]]++;
        int position = 0;
        for (int length = steps; length >= 1; length--)
        {
            int count = counts[length];
            counts[length] = position;
            position += count;
        }
        for (int b = 0; b < batch; b++)
        {
            int j = counts[_lengths[b]]++;
            _order[j] = b;
            _sortedLengths[j] = _lengths[b];
        }

        SetSteps();
    }

    /// <summary>
    /// Lays out part <paramref name="part"/> of <paramref name="parts"/> of a batch already laid out in
    /// <paramref name="whole"/>, for running the parts on different threads: the sequences at sorted positions
    /// part, part + parts, part + 2 parts, … of <paramref name="whole"/> (so every part gets long and short ones), in
    /// that order. The part reads and writes the same padded tensors and states as the whole (<see cref="PaddedBatch"/>),
    /// only at its own sequences' positions, so parts can run at the same time on the same spans. Every sequence's
    /// results are those of the whole batch: each is computed by the same operations in either layout.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="parts"/> is less than 1 or more than the whole batch, or <paramref name="part"/> is not in [0, parts).</exception>
    public void SetPart(PackedSequences whole, int part, int parts)
    {
        if (whole is null) throw new ArgumentNullException(nameof(whole));
        if (parts < 1 || parts > whole.Batch) throw new ArgumentOutOfRangeException(nameof(parts), parts, $"Expected 1 to {whole.Batch} (the whole batch) parts.");
        if ((uint)part >= (uint)parts) throw new ArgumentOutOfRangeException(nameof(part), part, $"Expected 0 to {parts - 1}.");
        int batch = (whole.Batch - part + parts - 1) / parts;
        Reserve(whole.Steps, batch);
        Steps = whole.Steps;
        Batch = batch;
        PaddedBatch = whole.PaddedBatch;
        _isPart = true;
        IsDense = false;
        for (int i = 0; i < batch; i++)
        {
            int j = part + i * parts;
            _order[i] = whole._order[j];
            _sortedLengths[i] = whole._sortedLengths[j];
            _lengths[i] = _sortedLengths[i];
        }
        SetSteps();
    }

    /// <summary>
    /// Cuts the batch, in length order, into <paramref name="parts"/> runs of whole sequences with about equal numbers of
    /// valid steps, and returns the first sequence (its position in length order) of run <paramref name="part"/>;
    /// <paramref name="part"/> = <paramref name="parts"/> gives <see cref="Batch"/>. A run may be empty. Used to run one
    /// layout's recurrence in parts on different threads: a run's rows at each step are the steps of its own sequences.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="parts"/> is less than 1, or <paramref name="part"/> is not in [0, parts].</exception>
    public int SequencePartStart(int part, int parts)
    {
        if (parts < 1) throw new ArgumentOutOfRangeException(nameof(parts), parts, "Expected at least 1 part.");
        if ((uint)part > (uint)parts) throw new ArgumentOutOfRangeException(nameof(part), part, $"Expected 0 to {parts}.");
        if (part == 0) return 0;
        if (part == parts) return Batch;
        long target = (long)Rows * part / parts, sum = 0;
        int j = 0;
        while (j < Batch && sum + _sortedLengths[j] <= target) sum += _sortedLengths[j++];
        // The cut nearest the target: before sequence j (sum rows) or after it.
        if (j < Batch && sum + _sortedLengths[j] - target < target - sum) j++;
        return j;
    }

    /// <summary>Batch size and first packed row of every step, from the sorted lengths.</summary>
    private void SetSteps()
    {
        int rows = 0;
        int running = Batch;
        for (int t = 0; t < Steps; t++)
        {
            while (running > 0 && _sortedLengths[running - 1] <= t) running--;
            _batchSizes[t] = running;
            _offsets[t] = rows;
            rows += running;
        }
        Rows = rows;
    }
    /// <summary>
    /// Copies the valid steps of a padded tensor ([Steps, Batch, width] time-major, or [Batch, Steps, width] when
    /// <paramref name="batchFirst"/>) into packed rows [Rows, width]. Padded positions are not read.
    /// </summary>
    public void Gather(ReadOnlySpan<float> padded, int width, bool batchFirst, Span<float> packed)
    {
        for (int t = 0; t < Steps; t++)
        {
            int n = _batchSizes[t], offset = _offsets[t];
            for (int j = 0; j < n; j++)
            {
                padded.Slice(PaddedIndex(t, _order[j], batchFirst) * width, width).CopyTo(packed.Slice((offset + j) * width, width));
            }
        }
    }

    /// <summary>Copies the valid token ids of a padded [Steps, Batch] (or [Batch, Steps]) batch into packed order, checking each is in [0, vocabulary).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A token at a valid position is outside the vocabulary.</exception>
    public void GatherTokens(ReadOnlySpan<int> padded, bool batchFirst, Span<int> packed, int vocabulary)
    {
        for (int t = 0; t < Steps; t++)
        {
            int n = _batchSizes[t], offset = _offsets[t];
            for (int j = 0; j < n; j++)
            {
                int b = _order[j];
                int token = padded[PaddedIndex(t, b, batchFirst)];
                if ((uint)token >= (uint)vocabulary)
                {
                    throw new ArgumentOutOfRangeException("tokens", token, PaddedBatch == 1
                        ? $"Token at step {t} is {token}; expected 0 to {vocabulary - 1}."
                        : $"Token at step {t} of sequence {b} is {token}; expected 0 to {vocabulary - 1}.");
                }
                packed[offset + j] = token;
            }
        }
    }

    /// <summary>
    /// Writes packed rows [Rows, width] into a padded tensor (layout as <see cref="Gather"/>), with zeros at padded
    /// positions. A part (<see cref="SetPart"/>) writes only its own sequences' positions.
    /// </summary>
    public void Scatter(ReadOnlySpan<float> packed, int width, bool batchFirst, Span<float> padded)
    {
        if (_isPart)
        {
            for (int j = 0; j < Batch; j++)
            {
                for (int t = _sortedLengths[j]; t < Steps; t++) padded.Slice(PaddedIndex(t, _order[j], batchFirst) * width, width).Clear();
            }
        }
        else if (!IsDense) padded.Slice(0, Steps * Batch * width).Clear();
        for (int t = 0; t < Steps; t++)
        {
            int n = _batchSizes[t], offset = _offsets[t];
            for (int j = 0; j < n; j++)
            {
                packed.Slice((offset + j) * width, width).CopyTo(padded.Slice(PaddedIndex(t, _order[j], batchFirst) * width, width));
            }
        }
    }

    /// <summary>
    /// Copies row <paramref name="stateRow"/> of a state [stateRows, PaddedBatch, width] (PyTorch's h layout) into sorted order
    /// [Batch, width]; an empty <paramref name="state"/> gives zeros.
    /// </summary>
    public void GatherState(ReadOnlySpan<float> state, int stateRow, int width, Span<float> sorted)
    {
        if (state.IsEmpty)
        {
            sorted.Slice(0, Batch * width).Clear();
            return;
        }
        for (int j = 0; j < Batch; j++)
        {
            state.Slice((stateRow * PaddedBatch + _order[j]) * width, width).CopyTo(sorted.Slice(j * width, width));
        }
    }

    /// <summary>Writes sorted rows [Batch, width] into row <paramref name="stateRow"/> of a state [stateRows, PaddedBatch, width]; nothing when <paramref name="state"/> is empty.</summary>
    public void ScatterState(ReadOnlySpan<float> sorted, int stateRow, int width, Span<float> state)
    {
        if (state.IsEmpty) return;
        for (int j = 0; j < Batch; j++)
        {
            sorted.Slice(j * width, width).CopyTo(state.Slice((stateRow * PaddedBatch + _order[j]) * width, width));
        }
    }

    private int PaddedIndex(int t, int b, bool batchFirst) => batchFirst ? b * Steps + t : t * PaddedBatch + b;
}
