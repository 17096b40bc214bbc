using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
#if NET8_0_OR_GREATER
using System.Runtime.Intrinsics;
#endif

namespace RnnGen.CompilerServices;

/// <summary>
/// The shape of a weight matrix a product kernel runs over, as constants: a generated model declares one tiny struct per
/// shape (<c>struct Shape128x1024r384 : IMatrixShape { public int Rows => 128; ... }</c>) and calls the kernels with it
/// as the type argument. For a struct type argument the JIT compiles a separate copy of each kernel and folds
/// <c>default(TShape).Rows</c> to a constant, so every loop bound, tail and branch on a shape is resolved at compile
/// time, as if the kernel had been written for that shape. Instance members, not static abstract ones, so that the
/// netstandard2.1 build (C# 9, Unity) takes the same code.
/// </summary>
/// <remarks>Infrastructure for generated code; not for user code; may change between versions.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IMatrixShape
{
    /// <summary>Rows of the matrix: the inner dimension of a forward product, the rows of a weight gradient.</summary>
    int Rows { get; }

    /// <summary>Columns of the matrix: the outputs of a forward product, the columns of a weight gradient.</summary>
    int Cols { get; }

    /// <summary>
    /// Rows of each column panel of the packed layout (<see cref="Kernels.PackPanels"/>): the rows of the whole packed
    /// block, of which the kernel may read a slice of <see cref="Rows"/> (the recurrent half of [W_ih | W_hh]ᵀ).
    /// </summary>
    int PanelRows { get; }
}

/// <summary>
/// A count known to the JIT: the number of rows or vectors of a register tile, as a type whose size in bytes is the
/// count. The kernels read it as <c>Unsafe.SizeOf&lt;TCount&gt;()</c>, which the JIT turns into a constant while it
/// reads the IL: the branches of the accumulators past the count are never imported, let alone inlined and compiled
/// (a property returning the count would be folded only after inlining; compiling the dead branches first cost 15-20 %
/// of a kernel's JIT time, measured).
/// </summary>
internal interface ICount
{
}

[StructLayout(LayoutKind.Sequential, Size = 1)] internal struct N1 : ICount { }
[StructLayout(LayoutKind.Sequential, Size = 2)] internal struct N2 : ICount { }
[StructLayout(LayoutKind.Sequential, Size = 3)] internal struct N3 : ICount { }
[StructLayout(LayoutKind.Sequential, Size = 4)] internal struct N4 : ICount { }
[StructLayout(LayoutKind.Sequential, Size = 5)] internal struct N5 : ICount { }
[StructLayout(LayoutKind.Sequential, Size = 6)] internal struct N6 : ICount { }
[StructLayout(LayoutKind.Sequential, Size = 7)] internal struct N7 : ICount { }
[StructLayout(LayoutKind.Sequential, Size = 8)] internal struct N8 : ICount { }
[StructLayout(LayoutKind.Sequential, Size = 9)] internal struct N9 : ICount { }
[StructLayout(LayoutKind.Sequential, Size = 10)] internal struct N10 : ICount { }
[StructLayout(LayoutKind.Sequential, Size = 11)] internal struct N11 : ICount { }
[StructLayout(LayoutKind.Sequential, Size = 12)] internal struct N12 : ICount { }
[StructLayout(LayoutKind.Sequential, Size = 13)] internal struct N13 : ICount { }
[StructLayout(LayoutKind.Sequential, Size = 14)] internal struct N14 : ICount { }
[StructLayout(LayoutKind.Sequential, Size = 15)] internal struct N15 : ICount { }
[StructLayout(LayoutKind.Sequential, Size = 16)] internal struct N16 : ICount { }

#if NET8_0_OR_GREATER
/// <summary>
/// The operations the kernels need on one vector width, so that each kernel is written once and instantiated per width
/// (<see cref="Ops512"/>, <see cref="Ops256"/>, <see cref="Ops128"/>): every member is a one-line forward to the
/// width's own intrinsic, inlined, and the instantiation compiles to the code a kernel written for that width gets.
/// </summary>
internal interface IVectorOps<TV> where TV : struct
{
    /// <summary>Floats per vector.</summary>
    int Count { get; }

    TV Load(ReadOnlySpan<float> s, nuint i);

    void Store(TV value, Span<float> s, nuint i);

    TV Create(float value);

    /// <summary>a * b + c, in one rounding where the hardware has FMA.</summary>
    TV MultiplyAdd(TV a, TV b, TV c);

    /// <summary>
    /// <see cref="Count"/> pairs of bfloat16 weights from ushort <paramref name="i"/> of <paramref name="s"/> (read as
    /// uint lanes): <paramref name="low"/> holds each lane's low half widened to float (the lane shifted left by 16),
    /// <paramref name="high"/> its high half (the lane itself read as a float; the packing chose the high half for it).
    /// </summary>
    void LoadBFloat16Pairs(ReadOnlySpan<ushort> s, nuint i, out TV low, out TV high);
}

internal readonly struct Ops512 : IVectorOps<Vector512<float>>
{
    public int Count => 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Load(ReadOnlySpan<float> s, nuint i) => SpanAccess.Load512(s, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(Vector512<float> value, Span<float> s, nuint i) => SpanAccess.Store512(value, s, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Create(float value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Kernels.MultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void LoadBFloat16Pairs(ReadOnlySpan<ushort> s, nuint i, out Vector512<float> low, out Vector512<float> high)
    {
#if RNNGEN_BOUNDS_CHECKED
        Vector512<uint> pairs = Vector512.Create<uint>(MemoryMarshal.Cast<ushort, uint>(s.Slice(checked((int)i), 32)));
#else
        Vector512<uint> pairs = Vector512.LoadUnsafe(ref Unsafe.As<ushort, uint>(ref Unsafe.Add(ref MemoryMarshal.GetReference(s), i)));
#endif
        low = (pairs << 16).AsSingle();
        high = pairs.AsSingle();
    }
}

internal readonly struct Ops256 : IVectorOps<Vector256<float>>
{
    public int Count => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Load(ReadOnlySpan<float> s, nuint i) => SpanAccess.Load256(s, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(Vector256<float> value, Span<float> s, nuint i) => SpanAccess.Store256(value, s, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Create(float value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Kernels.MultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void LoadBFloat16Pairs(ReadOnlySpan<ushort> s, nuint i, out Vector256<float> low, out Vector256<float> high)
    {
#if RNNGEN_BOUNDS_CHECKED
        Vector256<uint> pairs = Vector256.Create<uint>(MemoryMarshal.Cast<ushort, uint>(s.Slice(checked((int)i), 16)));
#else
        Vector256<uint> pairs = Vector256.LoadUnsafe(ref Unsafe.As<ushort, uint>(ref Unsafe.Add(ref MemoryMarshal.GetReference(s), i)));
#endif
        low = (pairs << 16).AsSingle();
        high = pairs.AsSingle();
    }
}

internal readonly struct Ops128 : IVectorOps<Vector128<float>>
{
    public int Count => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Load(ReadOnlySpan<float> s, nuint i) => SpanAccess.Load128(s, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(Vector128<float> value, Span<float> s, nuint i) => SpanAccess.Store128(value, s, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Create(float value) => Vector128.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Kernels.MultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void LoadBFloat16Pairs(ReadOnlySpan<ushort> s, nuint i, out Vector128<float> low, out Vector128<float> high)
    {
#if RNNGEN_BOUNDS_CHECKED
        Vector128<uint> pairs = Vector128.Create<uint>(MemoryMarshal.Cast<ushort, uint>(s.Slice(checked((int)i), 8)));
#else
        Vector128<uint> pairs = Vector128.LoadUnsafe(ref Unsafe.As<ushort, uint>(ref Unsafe.Add(ref MemoryMarshal.GetReference(s), i)));
#endif
        low = (pairs << 16).AsSingle();
        high = pairs.AsSingle();
    }
}
#endif
