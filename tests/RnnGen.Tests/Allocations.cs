using System;
using System.Collections.Generic;
using Xunit;

namespace RnnGen.Tests;

/// <summary>Allocation checks for hot paths (one helper for every test project: RnnGen.Samples.Tests links this file).</summary>
internal static class Allocations
{
    /// <summary>
    /// Asserts that <paramref name="run"/> allocates nothing per call: after one warm-up call (JIT, static
    /// initialization), windows of <paramref name="calls"/> calls are measured with
    /// <c>GC.GetAllocatedBytesForCurrentThread</c>, and one of up to three windows must allocate 0 bytes. An allocation
    /// by the code under test shows in every window; what the runtime charges once to the calling thread shows in one
    /// window only (a window now and then counted 4–8 KB for code that allocates nothing: 2 of 24 suite runs, three
    /// different tests, only while the threaded tests kept both cores busy; a GC started by another thread was ruled
    /// out). The message lists every window.
    /// </summary>
    public static void AssertNone(string what, Action run, int calls)
    {
        run();
        var windows = new List<long>();
        for (int window = 0; window < 3; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < calls; i++) run();
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated == 0) return;
            windows.Add(allocated);
        }
        Assert.Fail($"{what}: every window of {calls} warm calls allocated ({string.Join(", ", windows)} bytes).");
    }

    /// <summary>
    /// Asserts that a first call allocates nothing, where only a first call will do (a fresh instance, a repack after a
    /// change): <paramref name="prepare"/> sets up a new first call outside the window, <paramref name="run"/> is
    /// measured, up to three times, and one time must allocate 0 bytes (for the same reason as <see cref="AssertNone"/>).
    /// </summary>
    public static void AssertNoneOnce(string what, Action prepare, Action run)
    {
        var tries = new List<long>();
        for (int attempt = 0; attempt < 3; attempt++)
        {
            prepare();
            long before = GC.GetAllocatedBytesForCurrentThread();
            run();
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated == 0) return;
            tries.Add(allocated);
        }
        Assert.Fail($"{what}: every try allocated ({string.Join(", ", tries)} bytes).");
    }
}
