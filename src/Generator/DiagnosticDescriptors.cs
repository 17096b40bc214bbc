using System;
using Microsoft.CodeAnalysis;

namespace RnnGen.Generator;

/// <summary>Every diagnostic the generator reports. Ids are stable; each has a page under docs/diagnostics.</summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "RnnGen";
    private const string HelpBase = "https://github.com/rnngen/rnngen/blob/main/docs/diagnostics/";

    public static readonly DiagnosticDescriptor NotPartial = Create(
        "RNNG0001",
        "Model class must be partial",
        "Class '{0}' has [RecurrentModel] but is not declared partial; add the 'partial' modifier so the generator can add the network to it");

    public static readonly DiagnosticDescriptor GenericNotSupported = Create(
        "RNNG0002",
        "Model class cannot be generic or nested in a generic type",
        "Class '{0}' {1}; a [RecurrentModel] class must be a non-generic class in non-generic types");

    public static readonly DiagnosticDescriptor ContainingTypeNotPartial = Create(
        "RNNG0003",
        "Type containing a model class must be partial",
        "Class '{0}' is nested in '{1}', which is not declared partial; add the 'partial' modifier to '{1}'");

    public static readonly DiagnosticDescriptor SizeNotPositive = Create(
        "RNNG0004",
        "Size must be positive",
        "RecurrentModel.{0} must be at least 1; found {1}");

    public static readonly DiagnosticDescriptor SizeNegative = Create(
        "RNNG0005",
        "Size must not be negative",
        "RecurrentModel.{0} must be 0 (none) or positive; found {1}");

    public static readonly DiagnosticDescriptor NonlinearityNotRnn = Create(
        "RNNG0006",
        "Nonlinearity applies only to the Rnn cell",
        "RecurrentModel.Nonlinearity is set to {0}, but Cell is {1}; Nonlinearity only applies to Cell = CellKind.Rnn (remove it)");

    public static readonly DiagnosticDescriptor SizeTooLarge = Create(
        "RNNG0007",
        "Size beyond the supported maximum",
        "RecurrentModel.{0} is {1}; the largest supported value is {2}");

    public static readonly DiagnosticDescriptor UnknownEnumValue = Create(
        "RNNG0008",
        "Unknown enum value",
        "RecurrentModel.{0} has value {1}, which is not a member of {2}");

    public static readonly DiagnosticDescriptor TooManyParameters = Create(
        "RNNG0009",
        "Model has too many parameters",
        "Model '{0}' would have {1} parameters; at most {2} are supported (one flat float buffer)");

    public static readonly DiagnosticDescriptor StaticClass = Create(
        "RNNG0010",
        "Model class cannot be static or abstract",
        "Class '{0}' is {1}; a [RecurrentModel] class is instantiated, so it cannot be static or abstract");

    public static readonly DiagnosticDescriptor StepWeightsReplaced = Create(
        "RNNG0011",
        "StepWeights was replaced by Weights",
        "RecurrentModel.StepWeights was replaced by RecurrentModel.Weights, which sets the precision of every inference path (Forward, Step, multi-agent Step, the head), not single-stream Step alone; rename it to Weights");

    public static readonly DiagnosticDescriptor RuntimeLayoutMismatch = Create(
        "RNNG0012",
        "Referenced RnnGen runtime does not match the generator",
        "Model '{0}' is not generated: the referenced RnnGen.Runtime {1}, but this generator emits code for runtime layout {2}; use the same RnnGen package version for the generator and the runtime (one PackageReference to RnnGen brings both)");

    public static readonly DiagnosticDescriptor DropoutOutOfRange = Create(
        "RNNG0013",
        "Dropout must be at least 0 and less than 1",
        "RecurrentModel.Dropout is {0}; it is the probability of zeroing an element, at least 0 and less than 1 (0 for none)");

    public static readonly DiagnosticDescriptor DropoutOneLayer = Create(
        "RNNG0014",
        "Dropout applies only between layers",
        "RecurrentModel.Dropout is {0}, but the model has one layer; dropout is applied to every layer's output but the last, so it needs Layers > 1 (remove it, or add layers)");

    public static DiagnosticDescriptor ById(string id) => id switch
    {
        "RNNG0001" => NotPartial,
        "RNNG0002" => GenericNotSupported,
        "RNNG0003" => ContainingTypeNotPartial,
        "RNNG0004" => SizeNotPositive,
        "RNNG0005" => SizeNegative,
        "RNNG0006" => NonlinearityNotRnn,
        "RNNG0007" => SizeTooLarge,
        "RNNG0008" => UnknownEnumValue,
        "RNNG0009" => TooManyParameters,
        "RNNG0010" => StaticClass,
        "RNNG0011" => StepWeightsReplaced,
        "RNNG0012" => RuntimeLayoutMismatch,
        "RNNG0013" => DropoutOutOfRange,
        "RNNG0014" => DropoutOneLayer,
        _ => throw new ArgumentOutOfRangeException(nameof(id), id, "Unknown diagnostic id."),
    };

    private static DiagnosticDescriptor Create(string id, string title, string message) => new(
        id,
        title,
        message,
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpBase + id + ".md",
        customTags: WellKnownDiagnosticTags.NotConfigurable);
}
