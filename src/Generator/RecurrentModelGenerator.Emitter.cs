using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;
using RnnGen.Generator.Model;

namespace RnnGen.Generator;

public sealed partial class RecurrentModelGenerator
{
    /// <summary><see cref="ModelSpec"/> → C# source. Pure: the same spec always gives the same text.</summary>
    internal static class Emitter
    {
        private const string Rt = "global::RnnGen.";
        private const string Span = "global::System.Span<float>";
        private const string RoSpan = "global::System.ReadOnlySpan<float>";
        private const string Unsafe = "global::System.Runtime.CompilerServices.Unsafe";
        private const string Marshal = "global::System.Runtime.InteropServices.MemoryMarshal";
        private const string Intrinsics = "global::System.Runtime.Intrinsics.";

        internal static readonly string Version =
            typeof(Emitter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
            ?? typeof(Emitter).Assembly.GetName().Version?.ToString() ?? "0.0.0";

        private sealed record Tensor(string Name, string Constant, int Offset, int[] Shape)
        {
            public int Length => Shape.Aggregate(1, (a, b) => a * b);
            public string ShapeText => "[" + string.Join(", ", Shape.Select(d => Num(d))) + "]";
        }

        public static string Emit(ModelSpec m, TargetInfo target)
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
            CellStep(w, m);
            foreach ((int rows, int cols) in MatVecShapes(m)) MatVec(w, rows, cols, target);
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

        private static string LayerId(int layer, int direction) => "L" + Num(layer) + (direction == 1 ? "Reverse" : "");

        private static IEnumerable<(int Rows, int Cols)> MatVecShapes(ModelSpec m)
        {
            var shapes = new List<(int, int)>();
            void Add((int, int) s) { if (!shapes.Contains(s)) shapes.Add(s); }
            Add((m.GateWidth, m.Input));
            Add((m.GateWidth, m.Hidden));
            if (m.Layers > 1) Add((m.GateWidth, m.LayerOutputWidth));
            if (m.Output > 0) Add((m.Output, m.LayerOutputWidth));
            return shapes;
        }

        private static string MatVecName(int rows, int cols) => "MatVecAdd" + Num(rows) + "x" + Num(cols);

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
                    w.Line($"//   h' = {(m.Relu ? "relu" : "tanh")}(W_ih x + b_ih + W_hh h + b_hh)");
                    break;
            }
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

        private static int LayerBuffers(ModelSpec m)
        {
            // Layer l writes into buffer l % 2 unless it is the last layer and there is no head.
            int writers = m.Output > 0 ? m.Layers : m.Layers - 1;
            return System.Math.Min(2, writers);
        }

        private static void Fields(SourceWriter w, ModelSpec m)
        {
            w.Line("private readonly float[] _parameters = new float[ParameterCount];");
            w.Line("private readonly float[] _gates = new float[GateSize]; // pre-activations of one step, then activations");
            if (m.Cell == Cell.Gru) w.Line("private readonly float[] _gatesHidden = new float[GateSize]; // W_hh h + b_hh of one step");
            w.Line("private readonly float[] _h = new float[HiddenSize];");
            if (m.Cell == Cell.Lstm)
            {
                w.Line("private readonly float[] _c = new float[HiddenSize];");
                w.Line("private readonly float[] _tanhC = new float[HiddenSize];");
            }
            if (!m.Bidirectional) w.Line("private readonly float[] _state = new float[StateSize]; // Step's own state");
            w.Line("private float[] _projection = global::System.Array.Empty<float>(); // [capacity, GateSize]: W_ih x_t + biases of one layer and direction");
            for (int i = 0; i < LayerBuffers(m); i++)
            {
                w.Line($"private float[] _layer{Num(i)} = global::System.Array.Empty<float>(); // [capacity, LayerWidth]: outputs of an inner layer");
            }
            w.Line("private int _capacity;");
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
            w.Close();
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// Makes room for sequences of up to <paramref name=\"maxSteps\"/> steps so that Forward never allocates.");
            w.Line("/// Forward grows the buffers itself when a longer sequence comes; call this up front to keep the hot path allocation-free.");
            w.Line("/// </summary>");
            w.Open("public void Reserve(int maxSteps)");
            w.Line("if (maxSteps <= _capacity) return;");
            w.Line("if (maxSteps > int.MaxValue / GateSize) throw new global::System.ArgumentOutOfRangeException(nameof(maxSteps), maxSteps, \"Too many steps for one sequence.\");");
            w.Line("_projection = new float[maxSteps * GateSize];");
            for (int i = 0; i < LayerBuffers(m); i++) w.Line($"_layer{Num(i)} = new float[maxSteps * LayerWidth];");
            w.Line("_capacity = maxSteps;");
            w.Close();
            w.Line();
        }

        private static void ParameterAccess(SourceWriter w, ModelSpec m, List<Tensor> tensors)
        {
            w.Line("/// <summary>All learnable values, flat, in PyTorch state_dict order (see <see cref=\"Tensors\"/>).</summary>");
            w.Line($"public {Span} Parameters => _parameters;");
            w.Line();
            w.Line("/// <summary>One tensor's values by PyTorch state_dict name, e.g. <c>rnn.weight_ih_l0</c>.</summary>");
            w.Line("/// <exception cref=\"global::System.ArgumentException\">The model has no tensor of that name.</exception>");
            w.Open($"public {Span} Parameter(string name)");
            w.Line("switch (name)");
            w.Line("{");
            w.Indent();
            foreach (Tensor t in tensors) w.Line($"case \"{t.Name}\": return new {Span}(_parameters, {t.Constant}, {Num(t.Length)});");
            w.Line($"default: throw new global::System.ArgumentException(\"Unknown tensor '\" + name + \"'; {m.Name} has: {string.Join(", ", tensors.Select(t => t.Name))}.\", nameof(name));");
            w.Unindent();
            w.Line("}");
            w.Close();
            w.Line();
            w.Line("/// <summary>Loads weights from a safetensors file; the file is validated whole before any weight changes.</summary>");
            w.Line($"public void LoadSafetensors(string path, {Rt}SafetensorsOptions? options = null) => {Rt}Safetensors.Load(path, s_tensors, _parameters, options);");
            w.Line();
            w.Line("/// <summary>Loads weights from a safetensors stream; the data is validated whole before any weight changes.</summary>");
            w.Line($"public void LoadSafetensors(global::System.IO.Stream stream, {Rt}SafetensorsOptions? options = null) => {Rt}Safetensors.Load(stream, s_tensors, _parameters, options);");
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
            w.Line();
        }

        // ---- Forward ------------------------------------------------------------------------------------------

        private static void Forward(SourceWriter w, ModelSpec m)
        {
            bool tokens = m.Vocabulary > 0;
            string inputType = tokens ? "global::System.ReadOnlySpan<int>" : RoSpan;
            string inputName = tokens ? "tokens" : "input";
            string inputDoc = tokens
                ? "<param name=\"tokens\">Token ids, one per step, each in [0, VocabularySize).</param>"
                : "<param name=\"input\">[steps, InputSize] row-major; steps = input.Length / InputSize.</param>";

            w.Line("/// <summary>Runs one sequence (batch 1) from a zero state.</summary>");
            w.Line("/// " + inputDoc);
            w.Line("/// <param name=\"output\">[steps, OutputSize] row-major" + (m.Bidirectional ? ", forward then reverse halves at each step" : "") + ".</param>");
            w.Line($"public void Forward({inputType} {inputName}, {Span} output) => Forward({inputName}, output, default, default);");
            w.Line();
            w.Line("/// <summary>Runs one sequence (batch 1) from a given state and returns the final state.</summary>");
            w.Line("/// " + inputDoc);
            w.Line("/// <param name=\"output\">[steps, OutputSize] row-major" + (m.Bidirectional ? ", forward then reverse halves at each step" : "") + ".</param>");
            w.Line("/// <param name=\"initialState\">StateSize floats (h [NumLayers*NumDirections, HiddenSize]" + (m.Cell == Cell.Lstm ? " then c" : "") + "), or empty for zeros.</param>");
            w.Line("/// <param name=\"finalState\">StateSize floats to receive the state after the last step (for the reverse direction: after its last step, at time 0), or empty. May be the same span as <paramref name=\"initialState\"/>.</param>");
            w.Line("/// <exception cref=\"global::System.ArgumentException\">A span length does not match the model.</exception>");
            w.Open($"public void Forward({inputType} {inputName}, {Span} output, {RoSpan} initialState, {Span} finalState)");
            if (tokens)
            {
                w.Line($"if (tokens.IsEmpty) throw new global::System.ArgumentException(\"tokens is empty; expected at least one step.\", nameof(tokens));");
                w.Line("int steps = tokens.Length;");
                w.Open("for (int t = 0; t < steps; t++)");
                w.Line("if ((uint)tokens[t] >= VocabularySize) throw new global::System.ArgumentOutOfRangeException(nameof(tokens), tokens[t], \"Token at step \" + t + \" is \" + tokens[t] + \"; expected 0 to \" + (VocabularySize - 1) + \".\");");
                w.Close();
            }
            else
            {
                w.Line("if (input.IsEmpty || input.Length % InputSize != 0) throw new global::System.ArgumentException(\"input has \" + input.Length + \" floats; expected a positive multiple of InputSize (\" + InputSize + \"), laid out [steps, InputSize].\", nameof(input));");
                w.Line("int steps = input.Length / InputSize;");
            }
            w.Line("if (output.Length != steps * OutputSize) throw new global::System.ArgumentException(\"output has \" + output.Length + \" floats; expected \" + (steps * OutputSize) + \" ([\" + steps + \", \" + OutputSize + \"]).\", nameof(output));");
            w.Line("if (!initialState.IsEmpty && initialState.Length != StateSize) throw new global::System.ArgumentException(\"initialState has \" + initialState.Length + \" floats; expected \" + StateSize + \" (StateSize) or none.\", nameof(initialState));");
            w.Line("if (!finalState.IsEmpty && finalState.Length != StateSize) throw new global::System.ArgumentException(\"finalState has \" + finalState.Length + \" floats; expected \" + StateSize + \" (StateSize) or none.\", nameof(finalState));");
            w.Line("Reserve(steps);");
            for (int layer = 0; layer < m.Layers; layer++)
            {
                string source = layer == 0 ? inputName : $"_layer{Num((layer - 1) % 2)}";
                bool lastWritesOutput = layer == m.Layers - 1 && m.Output == 0;
                string target = lastWritesOutput ? "output" : $"_layer{Num(layer % 2)}";
                for (int d = 0; d < m.Directions; d++)
                {
                    w.Line($"RunLayer{LayerId(layer, d)}({source}, steps, {target}, initialState, finalState);");
                }
            }
            if (m.Output > 0)
            {
                w.Line($"{RoSpan} top = _layer{Num((m.Layers - 1) % 2)};");
                w.Line($"{RoSpan} p = _parameters;");
                w.Open("for (int t = 0; t < steps; t++)");
                w.Line($"{Span} y = output.Slice(t * OutputSize, OutputSize);");
                w.Line("p.Slice(HeadBias, OutputSize).CopyTo(y);");
                w.Line($"{MatVecName(m.Output, m.LayerOutputWidth)}(p.Slice(HeadWeight, OutputSize * LayerWidth), top.Slice(t * LayerWidth, LayerWidth), y);");
                w.Close();
            }
            w.Close();
            w.Line();
        }

        /// <summary>Writes the statements that set <c>gates</c> to W_ih x + b_ih (+ b_hh except for GRU).</summary>
        private static void InputProjection(SourceWriter w, ModelSpec m, int layer, int d, string gates, string x)
        {
            string id = LayerId(layer, d);
            if (!m.Bias) w.Line($"{gates}.Clear();");
            else if (m.Cell == Cell.Gru) w.Line($"p.Slice(BiasIh{id}, GateSize).CopyTo({gates});");
            else w.Line($"{Rt}Kernels.Add(p.Slice(BiasIh{id}, GateSize), p.Slice(BiasHh{id}, GateSize), {gates});");
            int cols = m.LayerInputWidth(layer);
            w.Line($"{MatVecName(m.GateWidth, cols)}(p.Slice(WeightIh{id}, GateSize * {Num(cols)}), {x}, {gates});");
        }

        private static void Layers(SourceWriter w, ModelSpec m)
        {
            bool tokens = m.Vocabulary > 0;
            for (int layer = 0; layer < m.Layers; layer++)
            {
                for (int d = 0; d < m.Directions; d++)
                {
                    string id = LayerId(layer, d);
                    int cols = m.LayerInputWidth(layer);
                    int stateRow = layer * m.Directions + d;
                    bool firstLayerTokens = layer == 0 && tokens;
                    w.Line($"/// <summary>Layer {Num(layer)}, {(d == 0 ? "forward" : "reverse")} direction: x [steps, {Num(cols)}] → y[:, {Num(d * m.Hidden)}..{Num((d + 1) * m.Hidden)}) of [steps, LayerWidth]; state row {Num(stateRow)}.</summary>");
                    string xType = firstLayerTokens ? "global::System.ReadOnlySpan<int>" : RoSpan;
                    w.Open($"private void RunLayer{id}({xType} x, int steps, {Span} y, {RoSpan} initialState, {Span} finalState)");
                    w.Line($"{RoSpan} p = _parameters;");
                    w.Line($"{Span} projection = _projection;");
                    w.Comment($"Input projection for every step: W_ih x_t + b_ih{(m.Cell == Cell.Gru ? "" : " + b_hh")}.");
                    w.Open("for (int t = 0; t < steps; t++)");
                    w.Line($"{Span} g = projection.Slice(t * GateSize, GateSize);");
                    string xRow = firstLayerTokens ? "p.Slice(EmbeddingWeight + x[t] * InputSize, InputSize)" : $"x.Slice(t * {Num(cols)}, {Num(cols)})";
                    InputProjection(w, m, layer, d, "g", xRow);
                    w.Close();
                    w.Comment("Recurrence from the initial state (zeros when none is given).");
                    w.Line($"{Span} h = _h;");
                    if (m.Cell == Cell.Lstm) w.Line($"{Span} c = _c;");
                    w.Open("if (initialState.IsEmpty)");
                    w.Line("h.Clear();");
                    if (m.Cell == Cell.Lstm) w.Line("c.Clear();");
                    w.Close();
                    w.Open("else");
                    w.Line($"initialState.Slice({Num(stateRow * m.Hidden)}, HiddenSize).CopyTo(h);");
                    if (m.Cell == Cell.Lstm) w.Line($"initialState.Slice({Num((m.Layers * m.Directions + stateRow) * m.Hidden)}, HiddenSize).CopyTo(c);");
                    w.Close();
                    w.Open("for (int s = 0; s < steps; s++)");
                    w.Line(d == 0 ? "int t = s;" : "int t = steps - 1 - s;");
                    w.Line($"{Span} gates = _gates;");
                    w.Line("projection.Slice(t * GateSize, GateSize).CopyTo(gates);");
                    w.Line(CellCall(m, id, "gates", "h", "c"));
                    w.Line($"h.CopyTo(y.Slice(t * LayerWidth{(d == 1 ? " + HiddenSize" : "")}, HiddenSize));");
                    w.Close();
                    w.Open("if (!finalState.IsEmpty)");
                    w.Line($"h.CopyTo(finalState.Slice({Num(stateRow * m.Hidden)}, HiddenSize));");
                    if (m.Cell == Cell.Lstm) w.Line($"c.CopyTo(finalState.Slice({Num((m.Layers * m.Directions + stateRow) * m.Hidden)}, HiddenSize));");
                    w.Close();
                    w.Close();
                    w.Line();
                }
            }
        }

        private static string CellCall(ModelSpec m, string id, string gates, string h, string c)
        {
            string bias = m.Bias && m.Cell == Cell.Gru ? $"p.Slice(BiasHh{id}, GateSize)" : "default";
            string cellState = m.Cell == Cell.Lstm ? $", {c}" : "";
            return $"CellStep(p.Slice(WeightHh{id}, GateSize * HiddenSize), {bias}, {gates}, {h}{cellState});";
        }

        // ---- the cell -----------------------------------------------------------------------------------------

        private static void CellStep(SourceWriter w, ModelSpec m)
        {
            string matVec = MatVecName(m.GateWidth, m.Hidden);
            switch (m.Cell)
            {
                case Cell.Lstm:
                    w.Line("/// <summary>One LSTM step: gates (holding W_ih x + b_ih + b_hh) += W_hh h; then c = f*c + i*g, h = o*tanh(c).</summary>");
                    w.Open($"private void CellStep({RoSpan} weightHh, {RoSpan} biasHh, {Span} gates, {Span} h, {Span} c)");
                    w.Line($"{matVec}(weightHh, h, gates);");
                    w.Line($"{Rt}Kernels.LstmCell(gates, c, h, _tanhC);");
                    w.Close();
                    break;
                case Cell.Gru:
                    w.Line("/// <summary>One GRU step: gates hold W_ih x + b_ih; hidden part W_hh h + b_hh kept apart for n = tanh(x_n + r*(W_hn h + b_hn)).</summary>");
                    w.Open($"private void CellStep({RoSpan} weightHh, {RoSpan} biasHh, {Span} gates, {Span} h)");
                    w.Line($"{Span} hidden = _gatesHidden;");
                    w.Line(m.Bias ? "biasHh.CopyTo(hidden);" : "hidden.Clear();");
                    w.Line($"{matVec}(weightHh, h, hidden);");
                    w.Line($"{Rt}Kernels.GruCell(gates, hidden, h);");
                    w.Close();
                    break;
                default:
                    w.Line($"/// <summary>One RNN step: h = {(m.Relu ? "relu" : "tanh")}(W_ih x + b_ih + W_hh h + b_hh).</summary>");
                    w.Open($"private void CellStep({RoSpan} weightHh, {RoSpan} biasHh, {Span} gates, {Span} h)");
                    w.Line($"{matVec}(weightHh, h, gates);");
                    w.Line($"{Rt}Kernels.{(m.Relu ? "Relu" : "Tanh")}(gates);");
                    w.Line("gates.CopyTo(h);");
                    w.Close();
                    break;
            }
            w.Line();
        }

        // ---- Step ---------------------------------------------------------------------------------------------

        private static void Step(SourceWriter w, ModelSpec m)
        {
            bool tokens = m.Vocabulary > 0;
            string xParam = tokens ? "int token" : $"{RoSpan} x";
            string xArg = tokens ? "token" : "x";
            string xDoc = tokens ? "<param name=\"token\">The step's token id, in [0, VocabularySize).</param>" : "<param name=\"x\">InputSize floats.</param>";

            w.Line("/// <summary>The state that <see cref=\"Step(" + (tokens ? "int" : "global::System.ReadOnlySpan{float}") + ", global::System.Span{float})\"/> advances: StateSize floats, h then" + (m.Cell == Cell.Lstm ? " c" : " nothing else") + ". Read or set it freely.</summary>");
            w.Line($"public {Span} State => _state;");
            w.Line();
            w.Line("/// <summary>Sets the model's own streaming state to zeros.</summary>");
            w.Line("public void ResetState() => global::System.Array.Clear(_state, 0, StateSize);");
            w.Line();
            w.Line("/// <summary>Advances the model's own state (<see cref=\"State\"/>) by one step.</summary>");
            w.Line("/// " + xDoc);
            w.Line("/// <param name=\"output\">OutputSize floats.</param>");
            w.Line($"public void Step({xParam}, {Span} output) => Step({xArg}, _state, output);");
            w.Line();
            w.Line("/// <summary>Advances a caller-owned state by one step, so one model's weights can drive many independent streams.</summary>");
            w.Line("/// " + xDoc);
            w.Line("/// <param name=\"state\">StateSize floats, updated in place.</param>");
            w.Line("/// <param name=\"output\">OutputSize floats.</param>");
            w.Line("/// <exception cref=\"global::System.ArgumentException\">A span length does not match the model.</exception>");
            w.Open($"public void Step({xParam}, {Span} state, {Span} output)");
            if (tokens)
            {
                w.Line("if ((uint)token >= VocabularySize) throw new global::System.ArgumentOutOfRangeException(nameof(token), token, \"Expected a token id from 0 to \" + (VocabularySize - 1) + \".\");");
            }
            else
            {
                w.Line("if (x.Length != InputSize) throw new global::System.ArgumentException(\"x has \" + x.Length + \" floats; expected \" + InputSize + \" (InputSize).\", nameof(x));");
            }
            w.Line("if (state.Length != StateSize) throw new global::System.ArgumentException(\"state has \" + state.Length + \" floats; expected \" + StateSize + \" (StateSize).\", nameof(state));");
            w.Line("if (output.Length != OutputSize) throw new global::System.ArgumentException(\"output has \" + output.Length + \" floats; expected \" + OutputSize + \" (OutputSize).\", nameof(output));");
            w.Line($"{RoSpan} p = _parameters;");
            w.Line($"{Span} gates = _gates;");
            for (int layer = 0; layer < m.Layers; layer++)
            {
                w.Comment($"Layer {Num(layer)}" + (layer == 0 ? "" : $": its input is layer {Num(layer - 1)}'s new h."));
                w.Open("");
                string x = layer == 0
                    ? (tokens ? "p.Slice(EmbeddingWeight + token * InputSize, InputSize)" : "x")
                    : $"state.Slice({Num((layer - 1) * m.Hidden)}, HiddenSize)";
                InputProjection(w, m, layer, 0, "gates", x);
                string h = $"state.Slice({Num(layer * m.Hidden)}, HiddenSize)";
                string c = $"state.Slice({Num((m.Layers + layer) * m.Hidden)}, HiddenSize)";
                w.Line(CellCall(m, LayerId(layer, 0), "gates", h, c));
                w.Close();
            }
            string top = $"state.Slice({Num((m.Layers - 1) * m.Hidden)}, HiddenSize)";
            if (m.Output > 0)
            {
                w.Line("p.Slice(HeadBias, OutputSize).CopyTo(output);");
                w.Line($"{MatVecName(m.Output, m.LayerOutputWidth)}(p.Slice(HeadWeight, OutputSize * LayerWidth), {top}, output);");
            }
            else
            {
                w.Line($"{top}.CopyTo(output);");
            }
            w.Close();
            w.Line();
        }

        // ---- specialized matrix-vector kernels ----------------------------------------------------------------

        /// <summary>
        /// y += W x for a row-major W [rows, cols]: four rows at a time, each with its own accumulators; the columns
        /// split at generation time into full vectors of the path's width, then at most one narrower vector of each
        /// smaller width, then scalars, so no element is read twice and nothing is read past a row.
        /// </summary>
        private static void MatVec(SourceWriter w, int rows, int cols, TargetInfo target)
        {
            w.Line($"/// <summary>y[r] += Σ_k W[r, k] x[k] for W [{Num(rows)}, {Num(cols)}] row-major. Callers pass spans of at least those sizes.</summary>");
            w.Open($"private static void {MatVecName(rows, cols)}({RoSpan} w, {RoSpan} x, {Span} y)");
            w.Line($"ref float wRef = ref {Marshal}.GetReference(w);");
            w.Line($"ref float xRef = ref {Marshal}.GetReference(x);");
            w.Line($"ref float yRef = ref {Marshal}.GetReference(y);");
            var widths = new List<int>();
            if (target.HasVector512 && cols >= 16) widths.Add(16);
            if (target.HasVector128 && cols >= 8) widths.Add(8);
            if (target.HasVector128 && cols >= 4) widths.Add(4);
            bool first = true;
            foreach (int width in widths)
            {
                w.Open($"{(first ? "if" : "else if")} ({Intrinsics}{VectorType(width)}.IsHardwareAccelerated)");
                MatVecPath(w, rows, cols, width);
                w.Close();
                first = false;
            }
            if (!first) w.Open("else");
            w.Open($"for (int r = 0; r < {Num(rows)}; r++)");
            w.Line("float sum = 0f;");
            w.Line($"for (int k = 0; k < {Num(cols)}; k++) sum += {Unsafe}.Add(ref wRef, r * {Num(cols)} + k) * {Unsafe}.Add(ref xRef, k);");
            w.Line($"{Unsafe}.Add(ref yRef, r) += sum;");
            w.Close();
            if (!first) w.Close();
            w.Close();
            w.Line();
        }

        private static string VectorType(int width) => width switch { 16 => "Vector512", 8 => "Vector256", _ => "Vector128" };

        private static void MatVecPath(SourceWriter w, int rows, int cols, int width)
        {
            int blocked = rows - rows % 4;
            if (blocked > 0)
            {
                w.Open($"for (nuint r = 0; r < {Num(blocked)}; r += 4)");
                MatVecRows(w, cols, width, 4, "r");
                w.Close();
            }
            for (int r = blocked; r < rows; r++)
            {
                w.Open("");
                MatVecRows(w, cols, width, 1, Num(r));
            w.Close();
            }
        }

        private static void MatVecRows(SourceWriter w, int cols, int width, int count, string row)
        {
            string v = Intrinsics + VectorType(width);
            w.Line($"ref float w0 = ref {Unsafe}.Add(ref wRef, (nuint)({row}) * {Num(cols)});");
            for (int i = 1; i < count; i++) w.Line($"ref float w{Num(i)} = ref {Unsafe}.Add(ref w0, {Num(i * cols)});");
            for (int i = 0; i < count; i++) w.Line($"var a{Num(i)} = {v}<float>.Zero;");
            int full = cols / width * width;
            int chunks = full / width;
            if (chunks <= 4)
            {
                for (int k = 0; k < full; k += width) FmaChunk(w, v, Num(k), count);
            }
            else
            {
                w.Open($"for (nuint k = 0; k < {Num(full)}; k += {Num(width)})");
                FmaChunk(w, v, "k", count);
                w.Close();
            }
            for (int i = 0; i < count; i++) w.Line($"float s{Num(i)} = {v}.Sum(a{Num(i)});");
            int offset = full;
            foreach (int narrow in new[] { 8, 4 })
            {
                if (narrow < width && cols - offset >= narrow)
                {
                    string nv = Intrinsics + VectorType(narrow);
                    w.Line($"var x{Num(offset)} = {nv}.LoadUnsafe(ref xRef, {Num(offset)});");
                    for (int i = 0; i < count; i++) w.Line($"s{Num(i)} += {nv}.Sum({nv}.LoadUnsafe(ref w{Num(i)}, {Num(offset)}) * x{Num(offset)});");
                    offset += narrow;
                }
            }
            for (; offset < cols; offset++)
            {
                w.Line($"float x{Num(offset)} = {Unsafe}.Add(ref xRef, {Num(offset)});");
                for (int i = 0; i < count; i++) w.Line($"s{Num(i)} += {Unsafe}.Add(ref w{Num(i)}, {Num(offset)}) * x{Num(offset)};");
            }
            for (int i = 0; i < count; i++)
            {
                string index = count == 1 ? row : $"{row} + {Num(i)}";
                w.Line($"{Unsafe}.Add(ref yRef, {index}) += s{Num(i)};");
            }
        }

        private static void FmaChunk(SourceWriter w, string v, string k, int count)
        {
            string xv = "x_" + (k == "k" ? "k" : k);
            w.Line($"var {xv} = {v}.LoadUnsafe(ref xRef, {k});");
            for (int i = 0; i < count; i++)
            {
                w.Line($"a{Num(i)} = {Rt}Kernels.MultiplyAdd({v}.LoadUnsafe(ref w{Num(i)}, {k}), {xv}, a{Num(i)});");
            }
        }
    }
}
