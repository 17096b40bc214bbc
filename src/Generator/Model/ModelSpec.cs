namespace RnnGen.Generator.Model;

/// <summary>Cell kinds, numbered as <c>RnnGen.CellKind</c>.</summary>
internal enum Cell
{
    Rnn = 0,
    Lstm = 1,
    Gru = 2,
}

/// <summary>The precision of the weight copies inference reads, numbered as <c>RnnGen.WeightPrecision</c>.</summary>
internal enum Precision
{
    Single = 0,
    BFloat16 = 1,
    Int8 = 2,
}

/// <summary>A type that contains the model class (for nested models), emitted as a partial declaration.</summary>
internal sealed record ContainingType(string Keyword, string Name);

/// <summary>
/// What the generator needs to know of the consuming compilation: the layout version of the referenced runtime
/// (<c>RnnGen.CompilerServices.RuntimeLayout.Version</c>; 0 when the runtime has none), to refuse a mismatch. Nothing
/// else: the kernels are the runtime's, so the same model text serves every target framework (vector or not) and the
/// bounds-checked build.
/// </summary>
internal sealed record TargetInfo(int RuntimeLayout = RnnGen.Generator.RecurrentModelGenerator.RuntimeLayoutVersion)
{
    /// <summary>The referenced runtime lays out what generated code shares with it as this generator does.</summary>
    public bool RuntimeMatches => RuntimeLayout == RnnGen.Generator.RecurrentModelGenerator.RuntimeLayoutVersion;
}

/// <summary>
/// Everything the emitter needs to write one model, as values: immutable, structurally equal, no symbols or syntax.
/// </summary>
internal sealed record ModelSpec(
    string Namespace,
    string Name,
    string Accessibility,
    EquatableArray<ContainingType> ContainingTypes,
    Cell Cell,
    int Input,
    int Hidden,
    int Layers,
    bool Bidirectional,
    bool Bias,
    bool Relu,
    int Vocabulary,
    int Output,
    bool BatchFirst,
    Precision Weights,
    float Dropout = 0f)
{
    public int Directions => Bidirectional ? 2 : 1;

    /// <summary>
    /// Inference reads a bfloat16 copy of the layer weights where a product reads its weights once per row: single-stream
    /// Step, and Forward's recurrent product while one sequence runs (the products over many rows reuse each weight
    /// across the rows and stay on the float copy).
    /// </summary>
    public bool Half => Weights == Precision.BFloat16;

    /// <summary>
    /// Inference reads int8 copies of the layer and head weights in every product of one row: single-stream Step, a
    /// multi-agent Step of one agent, and Forward's products while one sequence runs (its recurrent products, and all of
    /// a one-step Forward's). Products over several rows reuse each weight across them and are limited by arithmetic, not
    /// by reading weights; there the float panels' AVX-512 product measured faster than the int8 one (configuration 2 at
    /// batch 32: 0.93x ORT float against 1.37x int8), so they stay float, as with bfloat16.
    /// </summary>
    public bool Int8 => Weights == Precision.Int8;

    /// <summary>Training drops elements of the outputs of layers 0 to Layers − 2 (the parser allows Dropout &gt; 0 only with Layers &gt; 1).</summary>
    public bool HasDropout => Dropout > 0f && Layers > 1;

    /// <summary>Gates per hidden unit: 1 (RNN), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n).</summary>
    public int Gates => Cell switch { Cell.Lstm => 4, Cell.Gru => 3, _ => 1 };

    public int GateWidth => Gates * Hidden;

    public int LayerOutputWidth => Directions * Hidden;

    public int OutputWidth => Output > 0 ? Output : LayerOutputWidth;

    public int StateSize => Layers * Directions * Hidden * (Cell == Cell.Lstm ? 2 : 1);

    public int LayerInputWidth(int layer) => layer == 0 ? Input : LayerOutputWidth;

    /// <summary>
    /// Hint name of the generated file: the metadata-style full name (<c>Ns.Outer+Inner.g.cs</c>). Nested types are
    /// joined with '+', so a nested model can never share a hint name with a namespace-level one (N.M vs N+M); the '@'
    /// of escaped keywords (<c>@event</c>) is dropped, as hint names may not contain it.
    /// </summary>
    public string HintName
    {
        get
        {
            var prefix = Namespace.Length > 0 ? Namespace + "." : "";
            foreach (ContainingType t in ContainingTypes) prefix += t.Name + "+";
            return (prefix + Name).Replace("@", "") + ".g.cs";
        }
    }

    /// <summary>The parameter count, in 64-bit so the parser can check it fits.</summary>
    public long ParameterCountLong
    {
        get
        {
            long count = (long)Vocabulary * Input;
            for (int layer = 0; layer < Layers; layer++)
            {
                long perDirection = (long)GateWidth * LayerInputWidth(layer) + (long)GateWidth * Hidden + (Bias ? 2L * GateWidth : 0);
                count += perDirection * Directions;
            }
            if (Output > 0) count += (long)Output * LayerOutputWidth + Output;
            return count;
        }
    }
}

/// <summary>
/// The parser's result: a model to emit (null when an error stops emission), the diagnostics to report, and where the
/// attribute is (for the diagnostics that need the target compilation as well, as the runtime layout check).
/// </summary>
internal sealed record ParseResult(ModelSpec? Model, EquatableArray<DiagnosticInfo> Diagnostics, LocationInfo? AttributeLocation = null);
