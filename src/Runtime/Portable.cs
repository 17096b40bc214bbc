using System;
using System.Buffers.Binary;
using System.IO;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace RnnGen;

/// <summary>
/// The few operations whose BCL form is newer than netstandard2.1 (Unity's profile). The net8.0 build forwards to the
/// BCL; the netstandard2.1 build runs the portable code, which gives bit-identical results (tests compare the two).
/// The portable methods are compiled into both builds so that the tests on modern .NET can check them directly.
/// </summary>
internal static class Portable
{
    /// <summary>The high 64 bits of the 128-bit product a · b (and the low 64 bits in <paramref name="low"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong MultiplyHigh(ulong a, ulong b, out ulong low)
    {
#if NET8_0_OR_GREATER
        UInt128 product = (UInt128)a * b;
        low = (ulong)product;
        return (ulong)(product >> 64);
#else
        return MultiplyHighPortable(a, b, out low);
#endif
    }

    /// <summary>Schoolbook 64 x 64 → 128 multiply on 32-bit halves; no partial sum can overflow.</summary>
    public static ulong MultiplyHighPortable(ulong a, ulong b, out ulong low)
    {
        ulong aLow = (uint)a, aHigh = a >> 32, bLow = (uint)b, bHigh = b >> 32;
        ulong lowLow = aLow * bLow;
        ulong lowHigh = aLow * bHigh;
        ulong highLow = aHigh * bLow;
        ulong highHigh = aHigh * bHigh;
        ulong middle = (lowLow >> 32) + (uint)lowHigh + (uint)highLow;
        low = (middle << 32) | (uint)lowLow;
        return highHigh + (lowHigh >> 32) + (highLow >> 32) + (middle >> 32);
    }

    /// <summary>An IEEE 754 binary16 value, given as its bits, widened to float (exact; NaN stays NaN, made quiet).</summary>
    public static float HalfToSingle(ushort bits)
    {
#if NET8_0_OR_GREATER
        return (float)BitConverter.UInt16BitsToHalf(bits);
#else
        return HalfToSinglePortable(bits);
#endif
    }

    /// <summary>binary16 → binary32 by moving the fields: every half is exactly representable as a float.</summary>
    public static float HalfToSinglePortable(ushort bits)
    {
        uint sign = (uint)(bits & 0x8000) << 16;
        int exponent = (bits >> 10) & 0x1F;
        uint mantissa = bits & 0x3FFu;
        if (exponent == 0x1F)
        {
            // ±∞, or NaN with its payload kept and the quiet bit set, as .NET's (float)Half does.
            return BitConverter.Int32BitsToSingle((int)(sign | 0x7F800000u | (mantissa != 0 ? 0x400000u : 0u) | (mantissa << 13)));
        }
        if (exponent == 0)
        {
            // Zero or subnormal: mantissa · 2^-24, exact in float.
            float magnitude = mantissa * (1f / 16777216f);
            return sign != 0 ? -magnitude : magnitude;
        }
        return BitConverter.Int32BitsToSingle((int)(sign | (uint)(exponent + 112) << 23 | (mantissa << 13)));
    }

    /// <summary>A little-endian float.</summary>
    public static float ReadSingleLittleEndian(ReadOnlySpan<byte> source)
        => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadInt32LittleEndian(source));

    /// <summary>A little-endian double.</summary>
    public static double ReadDoubleLittleEndian(ReadOnlySpan<byte> source)
        => BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64LittleEndian(source));

    /// <summary>Writes a float little-endian.</summary>
    public static void WriteSingleLittleEndian(Span<byte> destination, float value)
        => BinaryPrimitives.WriteInt32LittleEndian(destination, BitConverter.SingleToInt32Bits(value));

    /// <summary>destination = max(x, 0) element-wise; NaN stays NaN and -0 becomes +0 (IEEE 754:2019 maximum).</summary>
    public static void MaxWithZero(ReadOnlySpan<float> x, Span<float> destination)
    {
#if NET8_0_OR_GREATER
        TensorPrimitives.Max(x, 0f, destination);
#else
        for (int i = 0; i < x.Length; i++)
        {
            float value = x[i];
            destination[i] = value > 0f || float.IsNaN(value) ? value : 0f;
        }
#endif
    }

    /// <summary>Whether every value is finite; false for an empty span, as TensorPrimitives.IsFiniteAll.</summary>
    public static bool AllFinite(ReadOnlySpan<float> values)
    {
#if NET8_0_OR_GREATER
        return TensorPrimitives.IsFiniteAll(values);
#else
        if (values.IsEmpty) return false;
        foreach (float value in values)
        {
            if (!float.IsFinite(value)) return false;
        }
        return true;
#endif
    }

    /// <summary>Renames <paramref name="source"/> over <paramref name="destination"/>, replacing it if it exists.</summary>
    public static void MoveOverwrite(string source, string destination)
    {
#if NET8_0_OR_GREATER
        File.Move(source, destination, overwrite: true);
#else
        // File.Replace renames over the target in one step (rename(2) on Unix, ReplaceFile on Windows); it needs the
        // target to exist, so a first save (or a target removed meanwhile) is a plain move.
        if (File.Exists(destination))
        {
            try
            {
                File.Replace(source, destination, destinationBackupFileName: null);
                return;
            }
            catch (FileNotFoundException) when (!File.Exists(destination) && File.Exists(source))
            {
            }
        }
        File.Move(source, destination);
#endif
    }
}
