using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using RnnGen.Generator.Model;

namespace RnnGen.Generator;

public sealed partial class RecurrentModelGenerator
{
    /// <summary>Attribute and symbols → <see cref="ParseResult"/>. Never throws on user input.</summary>
    internal static class Parser
    {
        /// <summary>Largest Input, Hidden and Output accepted.</summary>
        public const int MaxWidth = 16384;
        /// <summary>Largest number of layers accepted.</summary>
        public const int MaxLayers = 64;
        /// <summary>Largest vocabulary and head width accepted.</summary>
        public const int MaxVocabulary = 1 << 20;
        /// <summary>Largest parameter count (one flat float array, with room for alignment).</summary>
        public const long MaxParameters = int.MaxValue - 1024;

        /// <summary>What the emitted code needs of the compilation: the layout version of the runtime it references.</summary>
        public static TargetInfo ReadTarget(Compilation compilation) => new TargetInfo(ReadRuntimeLayout(compilation));

        /// <summary>The referenced runtime's <c>RuntimeLayout.Version</c> constant, or 0 when it has none (a runtime older than the check).</summary>
        private static int ReadRuntimeLayout(Compilation compilation)
            => compilation.GetTypeByMetadataName(RuntimeLayoutMetadataName)?.GetMembers("Version")
                .OfType<IFieldSymbol>()
                .FirstOrDefault(f => f.IsConst)?.ConstantValue is int version ? version : 0;

        public static ParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            var diagnostics = ImmutableArray.CreateBuilder<DiagnosticInfo>();
            var classSyntax = (ClassDeclarationSyntax)context.TargetNode;
            var symbol = (INamedTypeSymbol)context.TargetSymbol;
            AttributeData attribute = context.Attributes[0];

            // Code being typed ('partial class {'): no name to generate into, and the compiler already reports it.
            if (classSyntax.Identifier.IsMissing) return Nothing;
            // The attribute on two parts of one partial class (already CS0579): this runs once per part, each time with the
            // applications in that part's file. Generate from the part that holds the class's first application only, or
            // the same hint name would be added twice and fail the whole generator.
            if (!HoldsFirstApplication(symbol, classSyntax)) return Nothing;
            var attributeSyntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
            LocationInfo? classLocation = LocationInfo.From(classSyntax.Identifier.GetLocation());
            LocationInfo? attributeLocation = LocationInfo.From(attributeSyntax?.GetLocation()) ?? classLocation;

            void Report(DiagnosticDescriptor descriptor, LocationInfo? location, params string[] args)
                => diagnostics.Add(new DiagnosticInfo(descriptor.Id, location, new EquatableArray<string>(args.ToImmutableArray())));

            LocationInfo? ArgumentLocation(string name)
            {
                if (attributeSyntax?.ArgumentList is { } list)
                {
                    foreach (AttributeArgumentSyntax argument in list.Arguments)
                    {
                        if (argument.NameEquals?.Name.Identifier.ValueText == name) return LocationInfo.From(argument.GetLocation());
                    }
                }
                return attributeLocation;
            }

            // The class itself.
            if (!classSyntax.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                Report(DiagnosticDescriptors.NotPartial, classLocation, symbol.Name);
            }
            if (symbol.IsStatic || symbol.IsAbstract)
            {
                Report(DiagnosticDescriptors.StaticClass, classLocation, symbol.Name, symbol.IsStatic ? "static" : "abstract");
            }
            if (symbol.TypeParameters.Length > 0)
            {
                Report(DiagnosticDescriptors.GenericNotSupported, classLocation, symbol.Name, "is generic");
            }

            var containing = new List<ContainingType>();
            for (INamedTypeSymbol? outer = symbol.ContainingType; outer is not null; outer = outer.ContainingType)
            {
                if (outer.TypeParameters.Length > 0)
                {
                    Report(DiagnosticDescriptors.GenericNotSupported, classLocation, symbol.Name, "is nested in generic type '" + outer.Name + "'");
                }
                bool isPartial = outer.DeclaringSyntaxReferences
                    .Select(r => r.GetSyntax(cancellationToken))
                    .OfType<TypeDeclarationSyntax>()
                    .Any(t => t.Modifiers.Any(SyntaxKind.PartialKeyword));
                if (!isPartial)
                {
                    Report(DiagnosticDescriptors.ContainingTypeNotPartial, classLocation, symbol.Name, outer.Name);
                }
                string keyword = outer.IsRecord
                    ? (outer.TypeKind == TypeKind.Struct ? "record struct" : "record")
                    : outer.TypeKind switch { TypeKind.Struct => "struct", TypeKind.Interface => "interface", _ => "class" };
                containing.Insert(0, new ContainingType(keyword, Identifier(outer.Name)));
            }

            // The attribute's arguments (named properties; defaults as documented on the attribute).
            int cell = 0, input = 0, hidden = 0, layers = 1, vocabulary = 0, output = 0, nonlinearity = 0, weights = 0;
            bool bidirectional = false, bias = true, nonlinearitySet = false, batchFirst = false;
            float dropout = 0f;
            foreach (KeyValuePair<string, TypedConstant> pair in attribute.NamedArguments)
            {
                if (pair.Value.Kind == TypedConstantKind.Error || pair.Value.Value is null) continue;
                object value = pair.Value.Value;
                switch (pair.Key)
                {
                    case "Cell": cell = Convert.ToInt32(value, CultureInfo.InvariantCulture); break;
                    case "Input": input = (int)value; break;
                    case "Hidden": hidden = (int)value; break;
                    case "Layers": layers = (int)value; break;
                    case "Bidirectional": bidirectional = (bool)value; break;
                    case "Bias": bias = (bool)value; break;
                    case "Nonlinearity": nonlinearity = Convert.ToInt32(value, CultureInfo.InvariantCulture); nonlinearitySet = true; break;
                    case "Vocabulary": vocabulary = (int)value; break;
                    case "Output": output = (int)value; break;
                    case "BatchFirst": batchFirst = (bool)value; break;
                    case "Weights": weights = Convert.ToInt32(value, CultureInfo.InvariantCulture); break;
                    case "Dropout": dropout = Convert.ToSingle(value, CultureInfo.InvariantCulture); break;
                }
            }

            if (cell is < 0 or > 2)
            {
                Report(DiagnosticDescriptors.UnknownEnumValue, ArgumentLocation("Cell"), "Cell", Invariant(cell), "RnnGen.CellKind");
            }
            if (nonlinearity is < 0 or > 1)
            {
                Report(DiagnosticDescriptors.UnknownEnumValue, ArgumentLocation("Nonlinearity"), "Nonlinearity", Invariant(nonlinearity), "RnnGen.Nonlinearity");
            }
            if (weights is < 0 or > 2)
            {
                Report(DiagnosticDescriptors.UnknownEnumValue, ArgumentLocation("Weights"), "Weights", Invariant(weights), "RnnGen.WeightPrecision");
            }
            // StepWeights, replaced by Weights: no longer a property (the compiler reports CS0117), so found in the syntax,
            // to say what it became (and for the code fix that renames it).
            if (attributeSyntax?.ArgumentList is { } arguments)
            {
                foreach (AttributeArgumentSyntax argument in arguments.Arguments)
                {
                    if (argument.NameEquals?.Name.Identifier.ValueText == "StepWeights") Report(DiagnosticDescriptors.StepWeightsReplaced, LocationInfo.From(argument.GetLocation()));
                }
            }
            if (nonlinearitySet && cell is 1 or 2)
            {
                Report(DiagnosticDescriptors.NonlinearityNotRnn, ArgumentLocation("Nonlinearity"),
                    nonlinearity == 1 ? "Relu" : "Tanh", cell == 1 ? "Lstm" : "Gru");
            }

            void Positive(string name, int value, int max)
            {
                if (value <= 0) Report(DiagnosticDescriptors.SizeNotPositive, ArgumentLocation(name), name, Invariant(value));
                else if (value > max) Report(DiagnosticDescriptors.SizeTooLarge, ArgumentLocation(name), name, Invariant(value), Invariant(max));
            }

            void NonNegative(string name, int value, int max)
            {
                if (value < 0) Report(DiagnosticDescriptors.SizeNegative, ArgumentLocation(name), name, Invariant(value));
                else if (value > max) Report(DiagnosticDescriptors.SizeTooLarge, ArgumentLocation(name), name, Invariant(value), Invariant(max));
            }

            Positive("Input", input, MaxWidth);
            Positive("Hidden", hidden, MaxWidth);
            Positive("Layers", layers, MaxLayers);
            NonNegative("Vocabulary", vocabulary, MaxVocabulary);
            NonNegative("Output", output, MaxVocabulary);

            if (!(dropout >= 0f && dropout < 1f))
            {
                Report(DiagnosticDescriptors.DropoutOutOfRange, ArgumentLocation("Dropout"), Invariant(dropout));
            }
            else if (dropout > 0f && layers == 1)
            {
                Report(DiagnosticDescriptors.DropoutOneLayer, ArgumentLocation("Dropout"), Invariant(dropout));
            }

            if (diagnostics.Count > 0)
            {
                return new ParseResult(null, new EquatableArray<DiagnosticInfo>(diagnostics.ToImmutable()));
            }

            string ns = symbol.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : "";
            string accessibility = symbol.DeclaredAccessibility switch
            {
                Accessibility.Public => "public",
                Accessibility.Internal => "internal",
                Accessibility.Private => "private",
                Accessibility.Protected => "protected",
                Accessibility.ProtectedOrInternal => "protected internal",
                Accessibility.ProtectedAndInternal => "private protected",
                _ => "internal",
            };
            var model = new ModelSpec(
                ns,
                Identifier(symbol.Name),
                accessibility,
                new EquatableArray<ContainingType>(containing.ToImmutableArray()),
                (Cell)cell,
                input,
                hidden,
                layers,
                bidirectional,
                bias,
                cell == 0 && nonlinearity == 1,
                vocabulary,
                output,
                batchFirst,
                (Precision)weights,
                dropout);

            if (model.ParameterCountLong > MaxParameters)
            {
                Report(DiagnosticDescriptors.TooManyParameters, attributeLocation, symbol.Name,
                    Invariant(model.ParameterCountLong), Invariant(MaxParameters));
                return new ParseResult(null, new EquatableArray<DiagnosticInfo>(diagnostics.ToImmutable()));
            }
            return new ParseResult(model, EquatableArray<DiagnosticInfo>.Empty, attributeLocation);
        }

        private static readonly ParseResult Nothing = new(null, EquatableArray<DiagnosticInfo>.Empty);

        private static bool HoldsFirstApplication(INamedTypeSymbol symbol, ClassDeclarationSyntax part)
        {
            foreach (AttributeData candidate in symbol.GetAttributes())
            {
                if (candidate.AttributeClass?.ToDisplayString() != AttributeMetadataName) continue;
                SyntaxReference? first = candidate.ApplicationSyntaxReference;
                return first is null || (first.SyntaxTree == part.SyntaxTree && part.Span.Contains(first.Span));
            }
            return true;
        }

        /// <summary>A type name as C# source must spell it: a class may be called <c>@event</c>.</summary>
        private static string Identifier(string name)
            => SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None || SyntaxFacts.GetContextualKeywordKind(name) != SyntaxKind.None
                ? "@" + name
                : name;

        private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);

        /// <summary>A float as the shortest text that reads back to it ("0.3", "NaN", "Infinity").</summary>
        private static string Invariant(float value) => value.ToString("R", CultureInfo.InvariantCulture);
    }
}
