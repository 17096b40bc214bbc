using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;
using RnnGen.Generator.Model;

namespace RnnGen.Generator;

public sealed partial class RecurrentModelGenerator
{
    /// <summary><see cref="ModelSpec"/> → C# source. Pure: the same spec always gives the same text.</summary>
    internal static partial class Emitter
    {
        private const string Rt = "global::RnnGen.";
        /// <summary>Infrastructure only generated code calls (kernels, packed sequences, worker threads, the layout check).</summary>
        private const string Cs = "global::RnnGen.CompilerServices.";
        private const string Span = "global::System.Span<float>";
        private const string RoSpan = "global::System.ReadOnlySpan<float>";

        internal static readonly string Version =
            typeof(Emitter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
            ?? typeof(Emitter).Assembly.GetName().Version?.ToString() ?? "0.0.0";

        private sealed record Tensor(string Name, string Constant, int Offset, int[] Shape)
        {
            public int Length => Shape.Aggregate(1, (a, b) => a * b);
            public string ShapeText => "[" + string.Join(", ", Shape.Select(d => Num(d))) + "]";
        }

        public static string Emit(ModelSpec m)
        {
            List<Tensor> tensors = Layout(m);
            var w = new SourceWriter();
            Header(w, m, tensors);
            w.Line("#nullable enable");
            w.Line();
            bool hasNamespace = m.Namespace.Length > 0;
            if (hasNamespace) w.Open("namespace " + m.Namespace);
            foreach (ContainingType outer in m.ContainingTypes) w.Open("partial " + outer.Keyword + " " + outer.Name);

            Summary(w, m);
            w.Line($"[global::System.CodeDom.Compiler.GeneratedCode(\"RnnGen.Generator\", \"{Version}\")]");
            string kind = m.Vocabulary > 0 ? "Token" : "Vector";
            var interfaces = new List<string> { Rt + "I" + kind + (m.Bidirectional ? "SequenceModel" : "StreamingModel") };
            w.Open($"partial class {m.Name} : {string.Join(", ", interfaces)}");
            Constants(w, m, tensors);
            Fields(w, m);
            Construction(w, m, tensors);
            ParameterAccess(w, m, tensors);
            Forward(w, m);
            if (!m.Bidirectional) Step(w, m);
            Layers(w, m);
            if (m.Output > 0) Head(w, m);
            Packing(w, m);
            Workspace(w, m);
            Trainer(w, m);
            Shapes(w, m);
            w.Close();

            foreach (ContainingType _ in m.ContainingTypes) w.Close();
            if (hasNamespace) w.Close();
            return w.ToString();
        }

        // ---- layout -------------------------------------------------------------------------------------------

        private static List<Tensor> Layout(ModelSpec m)
        {
            var list = new List<Tensor>();
            int offset = 0;
            void Add(string name, string constant, params int[] shape)
            {
                var t = new Tensor(name, constant, offset, shape);
                list.Add(t);
                offset += t.Length;
            }
            if (m.Vocabulary > 0) Add("embedding.weight", "EmbeddingWeight", m.Vocabulary, m.Input);
            for (int layer = 0; layer < m.Layers; layer++)
            {
                for (int d = 0; d < m.Directions; d++)
                {
                    string suffix = "_l" + Num(layer) + (d == 1 ? "_reverse" : "");
                    string id = LayerId(layer, d);
                    Add("rnn.weight_ih" + suffix, "WeightIh" + id, m.GateWidth, m.LayerInputWidth(layer));
                    Add("rnn.weight_hh" + suffix, "WeightHh" + id, m.GateWidth, m.Hidden);
                    if (m.Bias)
                    {
                        Add("rnn.bias_ih" + suffix, "BiasIh" + id, m.GateWidth);
                        Add("rnn.bias_hh" + suffix, "BiasHh" + id, m.GateWidth);
                    }
                }
            }
            if (m.Output > 0)
            {
                Add("head.weight", "HeadWeight", m.Output, m.LayerOutputWidth);
                Add("head.bias", "HeadBias", m.Output);
            }
            return list;
        }

        /// <summary>The model's full type name as a reader writes it (no <c>@</c>), for messages.</summary>
        private static string DisplayName(ModelSpec m) => string.Join(".",
            new[] { m.Namespace }.Where(n => n.Length > 0)
                .Concat(m.ContainingTypes.Select(t => t.Name.TrimStart('@')))
                .Append(m.Name.TrimStart('@')));

        private static string LayerId(int layer, int direction) => "L" + Num(layer) + (direction == 1 ? "Reverse" : "");

        /// <summary>
        /// Shapes (inner, outer, panel rows) of the Y += X · M kernels. Forward, on the packed transposed weights: per
        /// layer the input projection and the recurrent product (their panels hold both), the head, and for token models
        /// the table of embedding × W_ihᵀ built at packing. Backward, on the trainer's panel copy of the weights.
        /// </summary>
        private static IEnumerable<(int Inner, int Outer, int PanelRows)> GemmPanelShapes(ModelSpec m)
        {
            var shapes = new List<(int, int, int)>();
            void Add((int, int, int) s) { if (!shapes.Contains(s)) shapes.Add(s); }
            for (int layer = 0; layer < m.Layers; layer++)
            {
                Add((m.LayerInputWidth(layer), m.GateWidth, PanelRows(m, layer)));
                Add((m.Hidden, m.GateWidth, PanelRows(m, layer)));
            }
            if (m.Output > 0) Add((m.LayerOutputWidth, m.Output, m.LayerOutputWidth));
            // Backward: dL/dX = dL/dY · W on the trainer's panel copy of the weights (panels of all gate rows).
            for (int layer = 0; layer < m.Layers; layer++) Add((m.GateWidth, m.LayerInputWidth(layer), m.GateWidth));
            Add((m.GateWidth, m.Hidden, m.GateWidth));
            if (m.Output > 0) Add((m.Output, m.LayerOutputWidth, m.Output));
            return shapes;
        }

        /// <summary>Shapes (rows, cols) of the weight-gradient kernels C += Aᵀ B.</summary>
        private static IEnumerable<(int Rows, int Cols)> GemmTNShapes(ModelSpec m)
        {
            var shapes = new List<(int, int)>();
            void Add((int, int) s) { if (!shapes.Contains(s)) shapes.Add(s); }
            for (int layer = 0; layer < m.Layers; layer++) Add((m.GateWidth, m.LayerInputWidth(layer)));
            Add((m.GateWidth, m.Hidden));
            if (m.Output > 0) Add((m.Output, m.LayerOutputWidth));
            return shapes;
        }

        private static string Num(long value) => value.ToString(CultureInfo.InvariantCulture);

        private static string CellName(ModelSpec m) => m.Cell switch
        {
            Cell.Lstm => "LSTM",
            Cell.Gru => "GRU",
            _ => m.Relu ? "RNN (ReLU)" : "RNN (tanh)",
        };

        private static string GateOrder(ModelSpec m) => m.Cell switch
        {
            Cell.Lstm => "i, f, g, o",
            Cell.Gru => "r, z, n",
            _ => "h",
        };

        // ---- header and docs ----------------------------------------------------------------------------------

        private static void Header(SourceWriter w, ModelSpec m, List<Tensor> tensors)
        {
            w.Line("// <auto-generated/>");
            w.Line($"// RnnGen {Version}: {m.Name}");
            w.Line("//");
            w.Line($"// Network: {(m.Vocabulary > 0 ? $"embedding [{Num(m.Vocabulary)}, {Num(m.Input)}] -> " : "")}{Num(m.Layers)} x {CellName(m)}"
                + $"{(m.Bidirectional ? " bidirectional" : "")}, input {Num(m.Input)}, hidden {Num(m.Hidden)}{(m.Bias ? "" : ", no bias")}"
                + (m.Output > 0 ? $" -> linear head [{Num(m.Output)}, {Num(m.LayerOutputWidth)}]" : ""));
            w.Line($"// Gate order (rows of each weight): {GateOrder(m)}, each {Num(m.Hidden)} rows.");
            switch (m.Cell)
            {
                case Cell.Lstm:
                    w.Line("//   i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)   f = sigmoid(W_if x + b_if + W_hf h + b_hf)");
                    w.Line("//   g = tanh(W_ig x + b_ig + W_hg h + b_hg)      o = sigmoid(W_io x + b_io + W_ho h + b_ho)");
                    w.Line("//   c' = f * c + i * g                           h' = o * tanh(c')");
                    break;
                case Cell.Gru:
                    w.Line("//   r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)   z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)");
                    w.Line("//   n = tanh(W_in x + b_in + r * (W_hn h + b_hn))");
                    w.Line("//   h' = (1 - z) * n + z * h");
                    break;
                default:
                    w.Line($"//   h' = {(m.Relu ? "relu" : "tanh")}(W_ih x{(m.Bias ? " + b_ih" : "")} + W_hh h{(m.Bias ? " + b_hh" : "")})");
                    break;
            }
            if (!m.Bias && m.Cell != Cell.Rnn) w.Line("//   (Bias = false: the b terms are absent.)");
            if (m.HasDropout) w.Line($"// Dropout {m.Dropout.ToString("R", CultureInfo.InvariantCulture)} on the outputs of {(m.Layers == 2 ? "layer 0" : $"layers 0 to {Num(m.Layers - 2)}")} in training (a trainer's Forward), as torch.nn.{(m.Cell == Cell.Lstm ? "LSTM" : m.Cell == Cell.Gru ? "GRU" : "RNN")}(dropout=p).");
            w.Line("//");
            w.Line($"// Parameters: {Num(m.ParameterCountLong)} floats, PyTorch state_dict order:");
            int nameWidth = tensors.Max(t => t.Name.Length);
            foreach (Tensor t in tensors)
            {
                w.Line($"//   {t.Name.PadRight(nameWidth)}  {t.ShapeText.PadRight(12)}  offset {Num(t.Offset)}");
            }
            w.Line("//");
            w.Line($"// State: {Num(m.StateSize)} floats: h [{Num(m.Layers * m.Directions)}, {Num(m.Hidden)}] (row = layer * {Num(m.Directions)} + direction)"
                + (m.Cell == Cell.Lstm ? $", then c in the same layout." : "."));
            w.Line();
        }

        private static void Summary(SourceWriter w, ModelSpec m)
        {
            w.Line("/// <summary>");
            w.Line($"/// {(m.Vocabulary > 0 ? $"Embedding [{Num(m.Vocabulary)}, {Num(m.Input)}], then " : "")}{Num(m.Layers)} layer(s) of {CellName(m)}"
                + $"{(m.Bidirectional ? ", bidirectional" : "")}, input {Num(m.Input)}, hidden {Num(m.Hidden)}"
                + (m.Output > 0 ? $", then a linear head to {Num(m.Output)} logits per step" : "") + ".");
            w.Line("/// Generated by RnnGen with PyTorch semantics; see the tensor table in the generated file's header.");
            w.Line("/// Instances are not thread-safe: use one model per thread (weights can be copied with Parameters).");
            w.Line("/// </summary>");
        }

        // ---- constants ----------------------------------------------------------------------------------------

        private static void Constants(SourceWriter w, ModelSpec m, List<Tensor> tensors)
        {
            w.Line("/// <summary>Width of each input vector" + (m.Vocabulary > 0 ? " (the embedding width)" : "") + ".</summary>");
            w.Line($"public const int InputSize = {Num(m.Input)};");
            w.Line("/// <summary>Hidden width of each layer and direction.</summary>");
            w.Line($"public const int HiddenSize = {Num(m.Hidden)};");
            w.Line("/// <summary>Number of stacked layers.</summary>");
            w.Line($"public const int NumLayers = {Num(m.Layers)};");
            w.Line("/// <summary>1, or 2 for a bidirectional model.</summary>");
            w.Line($"public const int NumDirections = {Num(m.Directions)};");
            w.Line("/// <summary>Per-step output width: " + (m.Output > 0 ? "the head's logits." : "NumDirections * HiddenSize (forward then reverse).") + "</summary>");
            w.Line($"public const int OutputSize = {Num(m.OutputWidth)};");
            w.Line("/// <summary>Floats in a state: h [NumLayers*NumDirections, HiddenSize]" + (m.Cell == Cell.Lstm ? ", then c in the same layout" : "") + ".</summary>");
            w.Line($"public const int StateSize = {Num(m.StateSize)};");
            w.Line("/// <summary>Number of learnable floats.</summary>");
            w.Line($"public const int ParameterCount = {Num(m.ParameterCountLong)};");
            w.Line("/// <summary>Vocabulary size of the embedding (0: the model takes vectors).</summary>");
            w.Line($"public const int VocabularySize = {Num(m.Vocabulary)};");
            if (m.HasDropout)
            {
                w.Line("/// <summary>Probability of zeroing each element of the outputs of layers 0 to NumLayers − 2 in a trainer's Forward (the attribute's Dropout); inference ignores it.</summary>");
                w.Line($"public const float DropoutProbability = {m.Dropout.ToString("R", CultureInfo.InvariantCulture)}f;");
            }
            w.Line();
            w.Line($"private const int GateSize = {Num(m.GateWidth)}; // {Num(m.Gates)} gate(s) x HiddenSize");
            w.Line($"private const int LayerWidth = {Num(m.LayerOutputWidth)}; // NumDirections x HiddenSize");
            foreach (Tensor t in tensors) w.Line($"private const int {t.Constant} = {Num(t.Offset)}; // {t.Name} {t.ShapeText}");
            w.Line();
            w.Line($"private static readonly {Rt}TensorInfo[] s_tensors = new {Rt}TensorInfo[]");
            w.Line("{");
            w.Indent();
            foreach (Tensor t in tensors)
            {
                w.Line($"new {Rt}TensorInfo(\"{t.Name}\", {t.Constant}, {string.Join(", ", t.Shape.Select(d => Num(d)))}),");
            }
            w.Unindent();
            w.Line("};");
            w.Line();
            w.Line("/// <summary>The tensor table: PyTorch state_dict names, shapes and offsets into <see cref=\"Parameters\"/>, in state_dict order.</summary>");
            w.Line($"public static global::System.Collections.Generic.IReadOnlyList<{Rt}TensorInfo> Tensors => s_tensors;");
            w.Line();
        }

        // ---- construction and parameters ----------------------------------------------------------------------

        private static void Construction(SourceWriter w, ModelSpec m, List<Tensor> tensors)
        {
            w.Line("/// <summary>Creates the model with PyTorch's default initialization from seed 0.</summary>");
            w.Line($"public {m.Name}() : this(0)");
            w.Line("{");
            w.Line("}");
            w.Line();
            w.Line("/// <summary>Creates the model with PyTorch's default initialization, deterministic from <paramref name=\"seed\"/>.</summary>");
            w.Open($"public {m.Name}(int seed)");
            // Once per model, not per call: the runtime loaded at run time may not be the one compiled against.
            w.Line($"{Cs}RuntimeLayout.EnsureCompatible({Num(RuntimeLayoutVersion)}, \"{DisplayName(m)}\");");
            w.Line("ResetParameters(seed);");
            w.Close();
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// Re-initializes every parameter as PyTorch does, deterministic from <paramref name=\"seed\"/>: recurrent weights and biases");
            w.Line("/// uniform in ±1/√HiddenSize" + (m.Vocabulary > 0 ? ", the embedding N(0, 1)" : "") + (m.Output > 0 ? ", the head uniform in ±1/√fan_in (nn.Linear)" : "") + ".");
            w.Line("/// </summary>");
            w.Open("public void ResetParameters(int seed)");
            w.Line($"var rng = new {Rt}Rng(seed);");
            w.Line($"{Span} p = _parameters;");
            if (m.Vocabulary > 0) w.Line("rng.FillNormal(p.Slice(EmbeddingWeight, VocabularySize * InputSize));");
            Tensor firstRnn = tensors.First(t => t.Name.StartsWith("rnn.", System.StringComparison.Ordinal));
            Tensor lastRnn = tensors.Last(t => t.Name.StartsWith("rnn.", System.StringComparison.Ordinal));
            w.Line("float bound = 1f / global::System.MathF.Sqrt(HiddenSize);");
            w.Line($"rng.FillUniform(p.Slice({firstRnn.Constant}, {lastRnn.Constant} + {Num(lastRnn.Length)} - {firstRnn.Constant}), -bound, bound);");
            if (m.Output > 0)
            {
                w.Line("float headBound = 1f / global::System.MathF.Sqrt(LayerWidth);");
                w.Line("rng.FillUniform(p.Slice(HeadWeight, OutputSize * LayerWidth), -headBound, headBound);");
                w.Line("rng.FillUniform(p.Slice(HeadBias, OutputSize), -headBound, headBound);");
            }
            w.Line("_packedStale = true;");
            w.Close();
            w.Line();
            Reserve(w, m);
        }

        private static void ParameterAccess(SourceWriter w, ModelSpec m, List<Tensor> tensors)
        {
            w.Line("/// <summary>All learnable values, flat, in PyTorch state_dict order (see <see cref=\"Tensors\"/>).</summary>");
            w.Line("/// <remarks>Inference reads a transposed copy of the weights, refreshed after any access to Parameters or Parameter(name) and after a load;");
            w.Line("/// get the span again after a Forward or Step before writing through it.</remarks>");
            w.Line($"public {Span} Parameters {{ get {{ _packedStale = true; return _parameters; }} }}");
            w.Line();
            w.Line("/// <summary>One tensor's values by PyTorch state_dict name, e.g. <c>rnn.weight_ih_l0</c>.</summary>");
            w.Line("/// <exception cref=\"global::System.ArgumentException\">The model has no tensor of that name.</exception>");
            w.Line($"public {Span} Parameter(string name) {{ _packedStale = true; return Slice(_parameters, name); }}");
            w.Line();
            w.Line("/// <summary>Gradients of every parameter, same flat layout as <see cref=\"Parameters\"/>. Backward adds to them (as PyTorch accumulates into .grad); clear with <see cref=\"ZeroGradients\"/>.</summary>");
            w.Line($"public {Span} Gradients => _gradients ??= new float[ParameterCount];");
            w.Line();
            w.Line("/// <summary>One tensor's gradient by PyTorch state_dict name.</summary>");
            w.Line("/// <exception cref=\"global::System.ArgumentException\">The model has no tensor of that name.</exception>");
            w.Line($"public {Span} Gradient(string name) => Slice(_gradients ??= new float[ParameterCount], name);");
            w.Line();
            w.Line("/// <summary>Sets every gradient to zero.</summary>");
            w.Line("public void ZeroGradients() => Gradients.Clear();");
            w.Line();
            w.Line($"private static {Span} Slice(float[] values, string name) => {Cs}TensorTable.Slice(s_tensors, values, name, \"{m.Name}\");");
            w.Line();
            w.Line("/// <summary>Loads weights from a safetensors file; the file is validated whole before any weight changes.</summary>");
            string stale = " _packedStale = true;";
            w.Line($"public void LoadSafetensors(string path, {Rt}SafetensorsOptions? options = null) {{ {Rt}Safetensors.Load(path, s_tensors, _parameters, options);{stale} }}");
            w.Line();
            w.Line("/// <summary>Loads weights from a safetensors stream; the data is validated whole before any weight changes.</summary>");
            w.Line($"public void LoadSafetensors(global::System.IO.Stream stream, {Rt}SafetensorsOptions? options = null) {{ {Rt}Safetensors.Load(stream, s_tensors, _parameters, options);{stale} }}");
            w.Line();
            w.Line("/// <summary>Saves weights as a safetensors file (F32), atomically: written to a temporary file, then renamed.</summary>");
            w.Line($"public void SaveSafetensors(string path, {Rt}SafetensorsOptions? options = null) => {Rt}Safetensors.Save(path, s_tensors, _parameters, options);");
            w.Line();
            w.Line("/// <summary>Saves weights to a stream in safetensors format (F32).</summary>");
            w.Line($"public void SaveSafetensors(global::System.IO.Stream stream, {Rt}SafetensorsOptions? options = null) => {Rt}Safetensors.Save(stream, s_tensors, _parameters, options);");
            w.Line();
            string cellName = m.Cell switch { Cell.Lstm => "Lstm", Cell.Gru => "Gru", _ => "Rnn" };
            w.Line($"{Rt}CellKind {Rt}IRecurrentModel.Cell => {Rt}CellKind.{cellName};");
            foreach (string name in new[] { "InputSize", "HiddenSize", "NumLayers", "NumDirections", "OutputSize", "StateSize", "ParameterCount", "VocabularySize" })
            {
                w.Line($"int {Rt}IRecurrentModel.{name} => {name};");
            }
            w.Line($"global::System.Collections.Generic.IReadOnlyList<{Rt}TensorInfo> {Rt}IRecurrentModel.TensorTable => s_tensors;");
            w.Line($"{Rt}ITrainer {Rt}IRecurrentModel.CreateTrainer(int maxSteps, int maxBatch) => CreateTrainer(maxSteps, maxBatch);");
            w.Line();
        }
    }
}
