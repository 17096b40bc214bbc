// The PyTorch-fixture checks for ARM64, run under emulation by run.sh: the test project's own tests (linked source, see
// the .csproj), called here without a test host. Prints the vector path the generated kernels take, one line per failed
// case, and last a line "N passed, N failed"; exits 1 if any failed or none ran.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Numerics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using Xunit;
using Xunit.Sdk;

namespace RnnGen.Tests;

internal static class Program
{
    /// <summary>
    /// The tests run, by class and method; a theory runs once per fixture case. PyTorch parity: single-sequence Forward,
    /// padded batches (forward and gradients), backpropagation through time, streaming and multi-agent Step; Step and
    /// multi-agent Step also against Forward and per-agent Step (the blocked matrix products at every row remainder included); the
    /// runtime's product kernels against their definitions at every path (ProductKernelTests); the vector-path
    /// check (RNNGEN_EXPECT_VECTOR_PATH, set by run.sh). Every fixture in tests/golden/fixtures and batch/ (about 35 s
    /// under emulation on the 2-core machine); the realistic-size ones in large/ are left to the native runs, to keep
    /// the step short.
    /// </summary>
    private static readonly (Type Class, string Method)[] Selected =
    {
        (typeof(VectorPathTests), nameof(VectorPathTests.The_kernels_take_the_path_this_run_switched_to)),
        (typeof(ForwardParityTests), nameof(ForwardParityTests.Forward_matches_pytorch_outputs_and_final_state)),
        (typeof(ForwardParityTests), nameof(ForwardParityTests.Forward_with_state_in_place_carries_it)),
        (typeof(BatchTests), nameof(BatchTests.Batched_forward_matches_pytorch_packed_sequences)),
        (typeof(GradientParityTests), nameof(GradientParityTests.Backward_matches_pytorch_gradients)),
        (typeof(GradientParityTests), nameof(GradientParityTests.Backward_with_final_state_gradient_matches_pytorch)),
        (typeof(BatchTests), nameof(BatchTests.Batched_backward_matches_pytorch_gradients)),
        (typeof(StepAndAllocationTests), nameof(StepAndAllocationTests.Golden_unidirectional_cases_stream_like_pytorch)),
        (typeof(StepAndAllocationTests), nameof(StepAndAllocationTests.Step_over_a_sequence_equals_Forward)),
        (typeof(BatchTests), nameof(BatchTests.Multi_agent_step_matches_pytorch_packed_sequences)),
        (typeof(BatchTests), nameof(BatchTests.Multi_agent_step_equals_per_agent_step)),
        (typeof(BatchTests), nameof(BatchTests.Token_multi_agent_step_equals_per_agent_step)),
        (typeof(BatchTests), nameof(BatchTests.A_batch_equals_one_call_per_sequence)),
        (typeof(BatchTests), nameof(BatchTests.Blocked_matrix_products_match_step_by_step_for_every_row_remainder)),
        (typeof(ProductKernelTests), nameof(ProductKernelTests.GemmP_matches_its_definition)),
        (typeof(ProductKernelTests), nameof(ProductKernelTests.GemmTN_matches_its_definition_for_every_row_range)),
        (typeof(ProductKernelTests), nameof(ProductKernelTests.MatVecT_matches_its_definition_in_both_block_orders)),
        (typeof(ProductKernelTests), nameof(ProductKernelTests.MatVecTHalf_matches_its_definition)),
        (typeof(ProductKernelTests), nameof(ProductKernelTests.The_products_reject_spans_too_short_naming_the_parameter)),
    };

    private static int Main()
    {
        Console.WriteLine($"process: {RuntimeInformation.ProcessArchitecture} on {RuntimeInformation.OSArchitecture}, {RuntimeInformation.FrameworkDescription}");
        Console.WriteLine($"vector path: {VectorPathTests.ActivePath()} (Vector512 {Vector512.IsHardwareAccelerated}, Vector256 {Vector256.IsHardwareAccelerated}, " +
            $"Vector128 {Vector128.IsHardwareAccelerated}, Vector<float> {Vector<float>.Count} lanes; AdvSimd {AdvSimd.IsSupported}, AdvSimd.Arm64 {AdvSimd.Arm64.IsSupported})");

        int passed = 0, failed = 0;
        foreach ((Type type, string name) in Selected)
        {
            MethodInfo method = type.GetMethod(name) ?? throw new InvalidOperationException($"{type.Name}.{name} not found.");
            FactAttribute fact = method.GetCustomAttribute<FactAttribute>() ?? throw new InvalidOperationException($"{type.Name}.{name} is not a test.");
            if (fact.Skip is not null) { Console.WriteLine($"skipped {type.Name}.{name}: {fact.Skip}"); continue; }
            List<object?[]> rows = method.GetCustomAttributes<DataAttribute>().SelectMany(d => d.GetData(method)).ToList();
            if (rows.Count == 0) rows.Add(Array.Empty<object?>());

            var clock = Stopwatch.StartNew();
            int before = failed;
            foreach (object?[] row in rows)
            {
                string label = row.Length == 0 ? $"{type.Name}.{name}" : $"{type.Name}.{name}({string.Join(", ", row)})";
                try
                {
                    method.Invoke(method.IsStatic ? null : Activator.CreateInstance(type), row);
                    passed++;
                }
                catch (TargetInvocationException e) when (e.InnerException is not null)
                {
                    failed++;
                    Console.WriteLine($"FAILED {label}: {e.InnerException.GetType().Name}: {e.InnerException.Message}");
                }
            }
            Console.WriteLine($"{type.Name}.{name}: {rows.Count - (failed - before)}/{rows.Count} in {clock.Elapsed.TotalSeconds:F1} s");
        }

        Console.WriteLine($"{passed} passed, {failed} failed");
        return failed == 0 && passed > 0 ? 0 : 1;
    }
}
