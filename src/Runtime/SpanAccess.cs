using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
#if NET8_0_OR_GREATER
using System.Runtime.Intrinsics;
#endif

namespace RnnGen;

/// <summary>
/// Vector loads and stores of the runtime's kernels. By default they read and write through a ref to the span's first
/// element with no bounds checks (the kernels check their lengths once at entry). Built with RNNGEN_BOUNDS_CHECKED
/// (<c>-p:RnnGenBoundsChecked=true</c>), every access goes through an exact-length slice instead, so a kernel that steps
/// outside its span throws rather than touching memory the span does not own: a test mode.
/// </summary>
internal static partial class SpanAccess
{
    /// <summary>
    /// Whether this build checks every kernel access against its span. A field, not a const: a const would be compiled
    /// into the tests that read it, which must see the runtime they actually load.
    /// </summary>
    public static readonly bool BoundsChecked =
#if RNNGEN_BOUNDS_CHECKED
        true;
#else
        false;
#endif

    /// <summary>A <see cref="Vector{T}"/> from element <paramref name="offset"/> of <paramref name="source"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Load(ReadOnlySpan<float> source, int offset)
#if RNNGEN_BOUNDS_CHECKED
        => MemoryMarshal.Cast<float, Vector<float>>(source.Slice(offset, Vector<float>.Count))[0];
#else
        => Unsafe.ReadUnaligned<Vector<float>>(ref Unsafe.As<float, byte>(ref Unsafe.Add(ref MemoryMarshal.GetReference(source), offset)));
#endif

    /// <summary>Stores <paramref name="value"/> at element <paramref name="offset"/> of <paramref name="destination"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector<float> value, Span<float> destination, int offset)
#if RNNGEN_BOUNDS_CHECKED
        => MemoryMarshal.Cast<float, Vector<float>>(destination.Slice(offset, Vector<float>.Count))[0] = value;
#else
        => Unsafe.WriteUnaligned(ref Unsafe.As<float, byte>(ref Unsafe.Add(ref MemoryMarshal.GetReference(destination), offset)), value);
#endif

    /// <summary>The <see cref="Vector{T}"/> at element <paramref name="index"/> of <paramref name="array"/>, by reference.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref Vector<float> VectorAt(float[] array, int index)
#if RNNGEN_BOUNDS_CHECKED
        => ref MemoryMarshal.Cast<float, Vector<float>>(array.AsSpan(index, Vector<float>.Count))[0];
#elif NET8_0_OR_GREATER
        => ref Unsafe.As<float, Vector<float>>(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(array), index));
#else
        => ref Unsafe.As<float, Vector<float>>(ref Unsafe.Add(ref MemoryMarshal.GetReference(array.AsSpan()), index));
#endif

    // Scalars and sub-spans for the product kernels (Kernels.Products.cs), the same two ways.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Get(ReadOnlySpan<float> s, nuint i)
#if RNNGEN_BOUNDS_CHECKED
        => s[checked((int)i)];
#else
        => Unsafe.Add(ref MemoryMarshal.GetReference(s), i);
#endif

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref float At(Span<float> s, nuint i)
#if RNNGEN_BOUNDS_CHECKED
        => ref s[checked((int)i)];
#else
        => ref Unsafe.Add(ref MemoryMarshal.GetReference(s), i);
#endif

    /// <summary>The span from element <paramref name="i"/> on (no check: the kernels checked their lengths at entry).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ReadOnlySpan<float> From(ReadOnlySpan<float> s, nuint i)
#if RNNGEN_BOUNDS_CHECKED
        => s.Slice(checked((int)i));
#else
        => MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref MemoryMarshal.GetReference(s), i), s.Length - (int)i);
#endif

    /// <summary>The span from element <paramref name="i"/> on (no check: the kernels checked their lengths at entry).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Span<float> From(Span<float> s, nuint i)
#if RNNGEN_BOUNDS_CHECKED
        => s.Slice(checked((int)i));
#else
        => MemoryMarshal.CreateSpan(ref Unsafe.Add(ref MemoryMarshal.GetReference(s), i), s.Length - (int)i);
#endif

    /// <summary>The span from element <paramref name="i"/> on (no check: the kernels checked their lengths at entry).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ReadOnlySpan<ushort> From(ReadOnlySpan<ushort> s, nuint i)
#if RNNGEN_BOUNDS_CHECKED
        => s.Slice(checked((int)i));
#else
        => MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref MemoryMarshal.GetReference(s), i), s.Length - (int)i);
#endif

    /// <summary>The ushorts at <paramref name="i"/> and <paramref name="i"/> + 1 read as one uint (little-endian: the first in the low half).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Pair(ReadOnlySpan<ushort> s, nuint i)
#if RNNGEN_BOUNDS_CHECKED
        => MemoryMarshal.Cast<ushort, uint>(s.Slice(checked((int)i), 2))[0];
#else
        => Unsafe.ReadUnaligned<uint>(ref Unsafe.As<ushort, byte>(ref Unsafe.Add(ref MemoryMarshal.GetReference(s), i)));
#endif

#if NET8_0_OR_GREATER
    /// <summary>16 floats from element <paramref name="offset"/> of <paramref name="source"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load512(ReadOnlySpan<float> source, nuint offset)
#if RNNGEN_BOUNDS_CHECKED
        => Vector512.Create(source.Slice(checked((int)offset), 16));
#else
        => Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(source), offset);
#endif

    /// <summary>Stores 16 floats at element <paramref name="offset"/> of <paramref name="destination"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store512(Vector512<float> value, Span<float> destination, nuint offset)
#if RNNGEN_BOUNDS_CHECKED
        => value.CopyTo(destination.Slice(checked((int)offset), 16));
#else
        => value.StoreUnsafe(ref MemoryMarshal.GetReference(destination), offset);
#endif

    /// <summary>8 floats from element <paramref name="offset"/> of <paramref name="source"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load256(ReadOnlySpan<float> source, nuint offset)
#if RNNGEN_BOUNDS_CHECKED
        => Vector256.Create(source.Slice(checked((int)offset), 8));
#else
        => Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(source), offset);
#endif

    /// <summary>Stores 8 floats at element <paramref name="offset"/> of <paramref name="destination"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store256(Vector256<float> value, Span<float> destination, nuint offset)
#if RNNGEN_BOUNDS_CHECKED
        => value.CopyTo(destination.Slice(checked((int)offset), 8));
#else
        => value.StoreUnsafe(ref MemoryMarshal.GetReference(destination), offset);
#endif

    /// <summary>4 floats from element <paramref name="offset"/> of <paramref name="source"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Load128(ReadOnlySpan<float> source, nuint offset)
#if RNNGEN_BOUNDS_CHECKED
        => Vector128.Create(source.Slice(checked((int)offset), 4));
#else
        => Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(source), offset);
#endif

    /// <summary>Stores 4 floats at element <paramref name="offset"/> of <paramref name="destination"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store128(Vector128<float> value, Span<float> destination, nuint offset)
#if RNNGEN_BOUNDS_CHECKED
        => value.CopyTo(destination.Slice(checked((int)offset), 4));
#else
        => value.StoreUnsafe(ref MemoryMarshal.GetReference(destination), offset);
#endif
#endif
}
