using System;
using System.Runtime.Intrinsics;
using Xunit;

namespace RnnGen.Tests;

/// <summary>
/// <c>.ci/run</c> runs this suite again with wider instruction sets switched off (<c>DOTNET_EnableAVX512=0</c>,
/// <c>DOTNET_EnableAVX2=0</c>, <c>DOTNET_EnableHWIntrinsic=0</c>) so that each of the kernels' paths is
/// checked, and sets <c>RNNGEN_EXPECT_VECTOR_PATH</c> to the path that run is meant to take. If a runtime ignored the
/// switch (a renamed knob, say), the suite would pass on the default path and prove nothing about the others: this test
/// fails instead. Without the variable (a plain <c>dotnet test</c>) it is skipped.
/// </summary>
public class VectorPathTests
{
    private const string Variable = "RNNGEN_EXPECT_VECTOR_PATH";

    /// <summary>The widest path the kernels take on this process: they test the same properties in the same order.</summary>
    internal static string ActivePath() =>
        Vector512.IsHardwareAccelerated ? "512"
        : Vector256.IsHardwareAccelerated ? "256"
        : Vector128.IsHardwareAccelerated ? "128"
        : "scalar";

    public sealed class WhenExpectedPathIsSetFactAttribute : FactAttribute
    {
        public WhenExpectedPathIsSetFactAttribute()
        {
            if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Variable))) Skip = Variable + " is not set (only .ci/run's instruction-set runs set it)";
        }
    }

    [WhenExpectedPathIsSetFact]
    public void The_kernels_take_the_path_this_run_switched_to()
    {
        string expected = Environment.GetEnvironmentVariable(Variable)!;
        Assert.Contains(expected, new[] { "512", "256", "128", "scalar" });
        Assert.Equal(expected, ActivePath());
    }
}
