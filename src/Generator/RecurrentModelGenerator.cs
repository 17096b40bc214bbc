using Microsoft.CodeAnalysis;
using RnnGen.Generator.Model;

namespace RnnGen.Generator;

/// <summary>
/// Expands every <c>[RecurrentModel]</c> partial class into a fixed-shape recurrent network:
/// parse (attribute → <see cref="ModelSpec"/>), validate (diagnostics), emit (spec → C#).
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class RecurrentModelGenerator : IIncrementalGenerator
{
    internal const string AttributeMetadataName = "RnnGen.RecurrentModelAttribute";

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
        /// <summary>What the target compilation offers (vector types) and asks for (bounds-checked kernels).</summary>
        public const string Target = nameof(Target);
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

        // The parse options carry the preprocessor symbols (RNNGEN_BOUNDS_CHECKED); the step's output is the small
        // equatable TargetInfo, so an edit that changes neither the vector types nor the symbols leaves it Unchanged.
        IncrementalValueProvider<TargetInfo> target = context.CompilationProvider
            .Combine(context.ParseOptionsProvider)
            .Select(static (pair, _) => Parser.ReadTarget(pair.Left, pair.Right))
            .WithTrackingName(TrackingNames.Target);

        IncrementalValuesProvider<(ModelSpec Model, TargetInfo Target)> models = results
            .Where(static r => r.Model is not null)
            .Select(static (r, _) => r.Model!)
            .WithTrackingName(TrackingNames.Models)
            .Combine(target)
            .WithTrackingName(TrackingNames.ModelsWithTarget);

        context.RegisterSourceOutput(models, static (spc, pair) =>
        {
            spc.AddSource(pair.Model.HintName, Emitter.Emit(pair.Model, pair.Target));
        });
    }
}
