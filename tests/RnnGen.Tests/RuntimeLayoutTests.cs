using System;
using System.ComponentModel;
using System.Linq;
using System.Reflection;
using RnnGen.CompilerServices;
using RnnGen.Tests.BatchGolden;
using Xunit;

namespace RnnGen.Tests;

/// <summary>
/// The run-time half of the layout check: a model generated for another runtime layout fails at construction with a
/// message that says what to do; one generated for this runtime constructs and runs. And what generated code needs is
/// kept out of users' way.
/// </summary>
public class RuntimeLayoutTests
{
    [Fact]
    public void EnsureCompatible_accepts_this_runtime_s_layout()
    {
        RuntimeLayout.EnsureCompatible(RuntimeLayout.Version, "Models.Tagger");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(RuntimeLayout.Version + 1)]
    public void EnsureCompatible_rejects_another_layout_and_says_what_to_do(int generatedVersion)
    {
        var error = Assert.Throws<InvalidOperationException>(() => RuntimeLayout.EnsureCompatible(generatedVersion, "Models.Tagger"));
        Assert.StartsWith(
            $"Model 'Models.Tagger' was generated for RnnGen runtime layout {generatedVersion}, but the RnnGen.Runtime loaded (",
            error.Message, StringComparison.Ordinal);
        Assert.Contains($") is layout {RuntimeLayout.Version}: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("Use the same RnnGen package version for the generator and the runtime (one PackageReference to RnnGen brings both)",
            error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_generated_for_this_runtime_constructs_and_runs()
    {
        // Both constructors: the parameterless one chains to the seeded one, which holds the check.
        var model = new RnnUni();
        var seeded = new RnnUni(7);
        Assert.Equal(RnnUni.ParameterCount, model.Parameters.Length);

        var output = new float[RnnUni.OutputSize];
        seeded.Forward(new float[RnnUni.InputSize], output, new float[RnnUni.StateSize], new float[RnnUni.StateSize]);
        Assert.Contains(output, v => v != 0f);
    }

    [Fact]
    public void The_compiler_services_are_hidden_from_IntelliSense_and_everything_else_public_is_not()
    {
        Type[] exported = typeof(RuntimeLayout).Assembly.GetExportedTypes();
        Type[] services = exported.Where(t => t.Namespace == "RnnGen.CompilerServices").ToArray();
        Assert.Equal(
            new[] { "IMatrixShape", "IPartitionedForward`1", "Kernels", "PackedSequences", "RuntimeLayout", "TensorTable", "WorkerThreads" },
            services.Select(t => t.Name).OrderBy(n => n, StringComparer.Ordinal));
        foreach (Type type in services)
        {
            Assert.Equal(EditorBrowsableState.Never, type.GetCustomAttribute<EditorBrowsableAttribute>()?.State);
        }
        // The user API is in RnnGen and shown; nothing else is exported.
        Assert.All(exported.Where(t => t.Namespace != "RnnGen.CompilerServices"), t =>
        {
            Assert.Equal("RnnGen", t.Namespace);
            Assert.Null(t.GetCustomAttribute<EditorBrowsableAttribute>());
        });
    }
}
