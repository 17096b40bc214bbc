using System;
using Xunit;

namespace RnnGen.Tests;

/// <summary>
/// The portable code the netstandard2.1 build runs in place of newer BCL APIs, checked bit for bit against those APIs.
/// (NetStandardTargetTests in RnnGen.Generator.Tests also runs the netstandard2.1 build itself.)
/// </summary>
public class PortableTests
{
    [Fact]
    public void MultiplyHighPortable_EqualsUInt128Product()
    {
        var rng = new Rng(12345);
        ulong[] edges = { 0, 1, 2, 0xFFFFFFFF, 0x100000000, 0xFFFFFFFFFFFFFFFF, 0x8000000000000000, 0x7FFFFFFFFFFFFFFF, 0xDEADBEEFCAFEBABE };
        void Check(ulong a, ulong b)
        {
            UInt128 product = (UInt128)a * b;
            ulong high = Portable.MultiplyHighPortable(a, b, out ulong low);
            Assert.Equal((ulong)(product >> 64), high);
            Assert.Equal((ulong)product, low);
            Assert.Equal(high, Portable.MultiplyHigh(a, b, out ulong low2));
            Assert.Equal(low, low2);
        }
        foreach (ulong a in edges)
        {
            foreach (ulong b in edges) Check(a, b);
        }
        for (int i = 0; i < 100_000; i++) Check(rng.NextUInt64(), rng.NextUInt64());
    }

    [Fact]
    public void HalfToSinglePortable_EqualsHalfConversion_ForEveryBitPattern()
    {
        for (int bits = 0; bits <= ushort.MaxValue; bits++)
        {
            float expected = (float)BitConverter.UInt16BitsToHalf((ushort)bits);
            float actual = Portable.HalfToSinglePortable((ushort)bits);
            Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual),
                $"0x{bits:X4}: Half gives 0x{BitConverter.SingleToInt32Bits(expected):X8}, portable 0x{BitConverter.SingleToInt32Bits(actual):X8}");
        }
    }

    [Fact]
    public void Rng_NextInt_SequenceIsPinned()
    {
        // Pinned values: a change in NextInt's arithmetic (on either target) changes initialization and sampling.
        var rng = new Rng(2024);
        var values = new int[8];
        for (int i = 0; i < values.Length; i++) values[i] = rng.NextInt(1000 + i * 7919);
        Assert.Equal(ExpectedNextInt, values);
    }

    private static readonly int[] ExpectedNextInt = { 55, 6975, 1213, 3954, 25279, 9940, 19130, 14503 };
}
