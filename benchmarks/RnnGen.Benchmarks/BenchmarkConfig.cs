using System;
using System.Globalization;
using System.Linq;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace RnnGen.Benchmarks;

/// <summary>
/// The suite's configuration: one in-process job (3 warm-up and 10 measured iterations), medians, allocations, a
/// tokens/s column for training, and a filter that leaves out every peer that is not installed or did not pass its
/// equality check. Groups are picked with BenchmarkDotNet's own <c>--filter</c> (e.g. <c>'*Streaming*'</c>).
/// </summary>
/// <remarks>
/// In-process, because the set-up (weights, ONNX export, equality checks) runs once in this process and every benchmark
/// reads its results, and because a per-benchmark child build would compile the generator and ~1 GB of native
/// dependencies again. Everything measured is single-threaded: ours by construction, ONNX Runtime with one intra-op
/// and one inter-op thread, TorchSharp with torch.set_num_threads(1).
/// </remarks>
public sealed class BenchmarkConfig : ManualConfig
{
    public BenchmarkConfig()
    {
        Add(DefaultConfig.Instance);
        AddJob(Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithWarmupCount(3)
            .WithIterationCount(10)
            .WithId("InProcess"));
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(StatisticColumn.Median, new TokensPerSecondColumn());
        HideColumns(Column.Error, Column.RatioSD);
        AddFilter(new SimpleFilter(IsRunnable));
        WithOrderer(new BenchmarkDotNet.Order.DefaultOrderer(BenchmarkDotNet.Order.SummaryOrderPolicy.Declared, BenchmarkDotNet.Order.MethodOrderPolicy.Declared));
    }

    /// <summary>Our own methods always run; a peer's only where it is installed and agreed with ours on that case.</summary>
    public static bool IsRunnable(BenchmarkCase benchmark)
    {
        string method = benchmark.Descriptor.WorkloadMethod.Name;
        Peer? peer = method.StartsWith("OrtInt8", StringComparison.Ordinal) ? Peer.OrtInt8
            : method.StartsWith("Ort", StringComparison.Ordinal) ? Peer.Ort
            : method.StartsWith("TorchSharp", StringComparison.Ordinal) ? Peer.TorchSharp
            : method.StartsWith("HandWritten", StringComparison.Ordinal) ? Peer.HandWritten
            : null;
        return peer is null || Fixture.IsUsable(peer.Value, CaseKey(benchmark));
    }

    /// <summary>The check that covers a benchmark case: class name, then its parameter value if it has one.</summary>
    public static string CaseKey(BenchmarkCase benchmark)
    {
        string key = benchmark.Descriptor.Type.Name;
        var parameter = benchmark.Parameters.Items.FirstOrDefault();
        return parameter is null ? key : key + "/" + Convert.ToString(parameter.Value, CultureInfo.InvariantCulture);
    }
}

/// <summary>Tokens per second of a training row: batch * T positions divided by the median time of one call.</summary>
public sealed class TokensPerSecondColumn : IColumn
{
    public string Id => nameof(TokensPerSecondColumn);
    public string ColumnName => "Tokens/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Training only: batch * T sequence positions processed per second (from the median)";

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => summary.BenchmarksCases.Any(b => b.Descriptor.Type == typeof(Training));

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        if (benchmarkCase.Descriptor.Type != typeof(Training)) return "-";
        var statistics = summary[benchmarkCase]?.ResultStatistics;
        if (statistics is null) return "?";
        var model = (TrainingModel)benchmarkCase.Parameters["Model"];
        double perSecond = TrainingData.TokensPerStepOf(model) / (statistics.Median / 1e9);
        return perSecond.ToString("N0", CultureInfo.InvariantCulture);
    }
}
