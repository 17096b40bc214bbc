using System;

namespace RnnGen.CompilerServices;

public static partial class Kernels
{
    [ThreadStatic] private static byte[]? t_scratch;

    /// <summary>
    /// A scratch of <paramref name="bytes"/> bytes owned by the calling thread, for the int8 products' quantized inputs:
    /// allocated the first time a thread needs that many, then reused, so a model's products on any thread (the caller,
    /// or a worker running a part of a threaded call) allocate nothing per call. Its contents do not survive the next
    /// call on the same thread.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bytes"/> is negative.</exception>
    public static Span<byte> ThreadScratch(int bytes)
    {
        if (bytes < 0) ThrowRange(nameof(bytes), bytes, "a size of at least 0");
        byte[]? scratch = t_scratch;
        if (scratch is null || scratch.Length < bytes) t_scratch = scratch = new byte[bytes];
        return new Span<byte>(scratch, 0, bytes);
    }
}
