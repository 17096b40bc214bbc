using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
#if NET8_0_OR_GREATER
using System.Runtime.Intrinsics;
#endif

namespace RnnGen;

/// <summary>The int8 kernels' byte and int accesses, checked or not as the rest of <see cref="SpanAccess"/>.</summary>
internal static partial class SpanAccess
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static sbyte Get(ReadOnlySpan<sbyte> s, nuint i)
#if RNNGEN_BOUNDS_CHECKED
        => s[checked((int)i)];
#else
        => Unsafe.Add(ref MemoryMarshal.GetReference(s), i);
#endif

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte Get(ReadOnlySpan<byte> s, nuint i)
#if RNNGEN_BOUNDS_CHECKED
        => s[checked((int)i)];
#else
        => Unsafe.Add(ref MemoryMarshal.GetReference(s), i);
#endif

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref byte At(Span<byte> s, nuint i)
#if RNNGEN_BOUNDS_CHECKED
        => ref s[checked((int)i)];
#else
        => ref Unsafe.Add(ref MemoryMarshal.GetReference(s), i);
#endif

    /// <summary>The span from byte <paramref name="i"/> on (no check: the kernels checked their lengths at entry).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ReadOnlySpan<sbyte> From(ReadOnlySpan<sbyte> s, nuint i)
#if RNNGEN_BOUNDS_CHECKED
        => s.Slice(checked((int)i));
#else
        => MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref MemoryMarshal.GetReference(s), i), s.Length - (int)i);
#endif

    /// <summary>The span from byte <paramref name="i"/> on (no check: the kernels checked their lengths at entry).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ReadOnlySpan<byte> From(ReadOnlySpan<byte> s, nuint i)
#if RNNGEN_BOUNDS_CHECKED
        => s.Slice(checked((int)i));
#else
        => MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref MemoryMarshal.GetReference(s), i), s.Length - (int)i);
#endif

    /// <summary>The span from byte <paramref name="i"/> on (no check: the kernels checked their lengths at entry).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Span<byte> From(Span<byte> s, nuint i)
#if RNNGEN_BOUNDS_CHECKED
        => s.Slice(checked((int)i));
#else
        => MemoryMarshal.CreateSpan(ref Unsafe.Add(ref MemoryMarshal.GetReference(s), i), s.Length - (int)i);
#endif

    /// <summary>The four bytes at <paramref name="i"/> read as one int (little-endian).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Quad(ReadOnlySpan<byte> s, nuint i)
#if RNNGEN_BOUNDS_CHECKED
        => MemoryMarshal.Cast<byte, int>(s.Slice(checked((int)i), 4))[0];
#else
        => Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref MemoryMarshal.GetReference(s), i));
#endif

#if NET8_0_OR_GREATER
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<sbyte> LoadBytes256(ReadOnlySpan<sbyte> s, nuint i)
#if RNNGEN_BOUNDS_CHECKED
        => Vector256.Create(s.Slice(checked((int)i), 32));
#else
        => Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(s), i);
#endif

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<sbyte> LoadBytes128(ReadOnlySpan<sbyte> s, nuint i)
#if RNNGEN_BOUNDS_CHECKED
        => Vector128.Create(s.Slice(checked((int)i), 16));
#else
        => Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(s), i);
#endif

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> LoadInts256(ReadOnlySpan<int> s, nuint i)
#if RNNGEN_BOUNDS_CHECKED
        => Vector256.Create(s.Slice(checked((int)i), 8));
#else
        => Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(s), i);
#endif

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBytes128(Vector128<byte> value, Span<byte> s, nuint i)
#if RNNGEN_BOUNDS_CHECKED
        => value.CopyTo(s.Slice(checked((int)i), 16));
#else
        => value.StoreUnsafe(ref MemoryMarshal.GetReference(s), i);
#endif
#endif
}
