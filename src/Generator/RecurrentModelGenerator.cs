using System.Collections.Immutable;
using System.Globalization;
using Microsoft.CodeAnalysis;
using RnnGen.Generator.Model;

namespace RnnGen.Generator;

/// <summary>
/// Expands every <c>[RecurrentModel]</c> partial class into a fixed-shape recurrent network:
/// parse (attribute → <see cref="ModelSpec"/>), validate (diagnostics), emit (spec → C# wiring).
/// </summary>
/// <remarks>
/// Parse → model → emit wiring. The generator emits a model's wiring, not its kernels: the constants and tensor table,
/// the parameter layout, one tiny <c>struct</c> per weight shape (implementing the runtime's <c>IMatrixShape</c> with
/// members that return constants), the wiring of layers, directions, head and trainer, the argument checks and the
/// docs. The matrix products — forward products on packed panels (<c>GemmP</c>), weight-gradient products
/// (<c>GemmTN</c>), the single-stream matrix-vector product (<c>MatVecT</c>) and its bfloat16 form — are written once
/// in the runtime (<c>RnnGen.CompilerServices.Kernels</c>) as C# generic over the shape type, and the JIT compiles one
/// specialized copy per shape: for a struct type argument <c>default(TShape).Rows</c> folds to a constant, so every
/// loop bound is a constant and <c>if (Vector512.IsHardwareAccelerated)</c> and every branch on a shape constant fold
/// away. Cells, activations and packing do not depend on sizes and are plain runtime code.
/// </remarks>
[Generator(LanguageNames.CSharp)]
public sealed partial class RecurrentModelGenerator : IIncrementalGenerator
{
    internal const string AttributeMetadataName = "RnnGen.RecurrentModelAttribute";

    /// <summary>
    /// The runtime layout this generator emits for: the panel layout of the packed weights (its own copy of the panel
    /// width is <see cref="Emitter.PanelWidth"/>), the bfloat16 interleaving, and the <c>RnnGen.CompilerServices</c> members
    /// generated code calls. Equal to <c>RnnGen.CompilerServices.RuntimeLayout.Version</c> of the runtime built with it;
    /// raise both together.
    /// </summary>
    internal const int RuntimeLayoutVersion = 4;

    internal const string RuntimeLayoutMetadataName = "RnnGen.CompilerServices.RuntimeLayout";

    /// <summary>Names of the tracked pipeline steps, for incremental-caching tests.</summary>
    public static class TrackingNames
    {
        /// <summary>The attribute parsed into a model and diagnostics.</summary>
        public const string Parse = nameof(Parse);
        /// <summary>The model alone (diagnostics removed), what emission depends on.</summary>
        public const string Models = nameof(Models);
        /// <summary>The models paired with what the target compilation offers.</summary>
        public const string ModelsWithTarget = nameof(ModelsWithTarget);
        /// <summary>The diagnostics alone.</summary>
        public const string Diagnostics = nameof(Diagnostics);
        /// <summary>What the target compilation offers (vector types, runtime layout) and asks for (bounds-checked kernels).</summary>
        public const string Target = nameof(Target);
        /// <summary>Each model's runtime layout check: no diagnostic, or RNNG0012 when the referenced runtime has another layout.</summary>
        public const string RuntimeLayoutChecks = nameof(RuntimeLayoutChecks);
    }

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<ParseResult> results = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                AttributeMetadataName,
                predicate: static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.ClassDeclarationSyntax,
                transform: static (ctx, ct) => Parser.Parse(ctx, ct))
            .WithTrackingName(TrackingNames.Parse);

        IncrementalValuesProvider<EquatableArray<DiagnosticInfo>> diagnostics = results
            .Select(static (r, _) => r.Diagnostics)
            .Where(static d => d.Count > 0)
            .WithTrackingName(TrackingNames.Diagnostics);

        context.RegisterSourceOutput(diagnostics, static (spc, list) =>
        {
            foreach (DiagnosticInfo info in list) spc.ReportDiagnostic(info.ToDiagnostic());
        });

        // The step's output is the small equatable TargetInfo (the runtime's layout version), so an edit that does not
        // change the referenced runtime leaves it Unchanged.
        IncrementalValueProvider<TargetInfo> target = context.CompilationProvider
            .Select(static (compilation, _) => Parser.ReadTarget(compilation))
            .WithTrackingName(TrackingNames.Target);

        IncrementalValuesProvider<(ModelSpec Model, TargetInfo Target)> models = results
            .Where(static r => r.Model is not null)
            .Select(static (r, _) => r.Model!)
            .WithTrackingName(TrackingNames.Models)
            .Combine(target)
            .WithTrackingName(TrackingNames.ModelsWithTarget);

        // A runtime of another layout (or one from before the check) would lack the kernels the generated code calls, or
        // run them on weights packed differently: report it on each model's attribute and generate nothing for it.
        IncrementalValuesProvider<EquatableArray<DiagnosticInfo>> layoutChecks = results
            .Where(static r => r.Model is not null)
            .Combine(target)
            .Select(static (pair, _) => CheckRuntimeLayout(pair.Left, pair.Right))
            .WithTrackingName(TrackingNames.RuntimeLayoutChecks);

        context.RegisterSourceOutput(layoutChecks, static (spc, list) =>
        {
            foreach (DiagnosticInfo info in list) spc.ReportDiagnostic(info.ToDiagnostic());
        });

        context.RegisterSourceOutput(models, static (spc, pair) =>
        {
            if (!pair.Target.RuntimeMatches) return;
            spc.AddSource(pair.Model.HintName, Emitter.Emit(pair.Model));
        });
    }

    /// <summary>RNNG0012 on the model's attribute when the referenced runtime's layout is not the generator's; else nothing.</summary>
    private static EquatableArray<DiagnosticInfo> CheckRuntimeLayout(ParseResult result, TargetInfo target)
    {
        if (target.RuntimeMatches) return EquatableArray<DiagnosticInfo>.Empty;
        string found = target.RuntimeLayout == 0
            ? "has no " + RuntimeLayoutMetadataName + " (it is older than this generator)"
            : "is layout " + target.RuntimeLayout.ToString(CultureInfo.InvariantCulture);
        return new EquatableArray<DiagnosticInfo>(ImmutableArray.Create(new DiagnosticInfo(
            DiagnosticDescriptors.RuntimeLayoutMismatch.Id,
            result.AttributeLocation,
            new EquatableArray<string>(ImmutableArray.Create(result.Model!.Name, found, RuntimeLayoutVersion.ToString(CultureInfo.InvariantCulture))))));
    }
}
