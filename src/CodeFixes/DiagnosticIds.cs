namespace RnnGen.CodeFixes;

/// <summary>
/// The ids of the generator's diagnostics this assembly fixes. The code fixes cannot reference the generator (it is a
/// separate analyzer assembly), so the ids are repeated here; the tests run the real generator to keep them honest.
/// </summary>
internal static class DiagnosticIds
{
    /// <summary>Model class must be partial.</summary>
    public const string NotPartial = "RNNG0001";

    /// <summary>Type containing a model class must be partial.</summary>
    public const string ContainingTypeNotPartial = "RNNG0003";

    /// <summary>Input, Hidden or Layers must be at least 1.</summary>
    public const string SizeNotPositive = "RNNG0004";

    /// <summary>Vocabulary or Output must not be negative.</summary>
    public const string SizeNegative = "RNNG0005";

    /// <summary>Nonlinearity applies only to the Rnn cell.</summary>
    public const string NonlinearityNotRnn = "RNNG0006";

    /// <summary>A size beyond its cap.</summary>
    public const string SizeTooLarge = "RNNG0007";

    /// <summary>Model class cannot be static or abstract.</summary>
    public const string StaticClass = "RNNG0010";

    /// <summary>StepWeights was replaced by Weights.</summary>
    public const string StepWeightsReplaced = "RNNG0011";

    /// <summary>Dropout must be at least 0 and less than 1.</summary>
    public const string DropoutOutOfRange = "RNNG0013";

    /// <summary>Dropout applies only between layers (it is set on a one-layer model).</summary>
    public const string DropoutOneLayer = "RNNG0014";
}

/// <summary>The attribute's size properties and the largest value the generator accepts for each.</summary>
internal static class SizeLimits
{
    /// <summary>Largest Input and Hidden.</summary>
    public const int MaxWidth = 16384;

    /// <summary>Largest Layers.</summary>
    public const int MaxLayers = 64;

    /// <summary>Largest Vocabulary and Output.</summary>
    public const int MaxVocabulary = 1 << 20;

    /// <summary>The cap of a size property, or null for a name that is not one.</summary>
    public static int? MaxOf(string property) => property switch
    {
        "Input" or "Hidden" => MaxWidth,
        "Layers" => MaxLayers,
        "Vocabulary" or "Output" => MaxVocabulary,
        _ => null,
    };

    /// <summary>Input, Hidden and Layers: at least 1.</summary>
    public static bool IsPositiveSize(string property) => property is "Input" or "Hidden" or "Layers";

    /// <summary>Vocabulary and Output: 0 (none) or more.</summary>
    public static bool IsOptionalSize(string property) => property is "Vocabulary" or "Output";
}
