using System;
using System.Collections.Generic;

namespace RnnGen;

/// <summary>One named parameter tensor of a generated model: its PyTorch state_dict name, shape and place in the flat parameter buffer.</summary>
public sealed class TensorInfo
{
    private readonly int[] _shape;

    /// <summary>Creates a tensor description.</summary>
    /// <param name="name">PyTorch state_dict name, e.g. <c>rnn.weight_ih_l0</c>.</param>
    /// <param name="offset">Offset, in floats, of the first element in the flat parameter buffer.</param>
    /// <param name="shape">Shape, outermost dimension first (row-major).</param>
    public TensorInfo(string name, int offset, params int[] shape)
    {
        Name = name ?? throw new ArgumentNullException(nameof(name));
        if (offset < 0) throw new ArgumentOutOfRangeException(nameof(offset), offset, "Offset must be non-negative.");
        _shape = (int[])(shape ?? throw new ArgumentNullException(nameof(shape))).Clone();
        long length = 1;
        foreach (int d in _shape)
        {
            if (d <= 0) throw new ArgumentOutOfRangeException(nameof(shape), d, "Every dimension must be positive.");
            length *= d;
        }
        if (length > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(shape), "Tensor is too large.");
        Offset = offset;
        Length = (int)length;
    }

    /// <summary>PyTorch state_dict name, e.g. <c>rnn.weight_hh_l1_reverse</c>.</summary>
    public string Name { get; }

    /// <summary>Offset, in floats, of the first element in the flat parameter buffer.</summary>
    public int Offset { get; }

    /// <summary>Number of elements (product of <see cref="Shape"/>).</summary>
    public int Length { get; }

    /// <summary>Shape, outermost dimension first.</summary>
    public IReadOnlyList<int> Shape => _shape;

    /// <summary>The shape as text, e.g. <c>[256, 128]</c>.</summary>
    public string ShapeText => "[" + string.Join(", ", _shape) + "]";

    /// <inheritdoc />
    public override string ToString() => $"{Name} {ShapeText} @ {Offset}";
}
