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
            Workspace(w, m);
            Trainer(w, m);
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

        private static void Fields(SourceWriter w, ModelSpec m)
        {
            w.Line("private readonly float[] _parameters = new float[ParameterCount];");
            w.Line("private float[]? _gradients; // allocated by the first use of Gradients or CreateTrainer");
            w.Line("private readonly float[] _h = new float[HiddenSize]; // running hidden state of one layer and direction");
            if (m.Cell == Cell.Lstm)
            {
                w.Line("private readonly float[] _c = new float[HiddenSize]; // running cell state");
                w.Line("private readonly float[] _tanhC = new float[HiddenSize]; // tanh(c) of one step when not caching");
            }
            if (m.Cell == Cell.Gru) w.Line("private readonly float[] _gatesHidden = new float[GateSize]; // W_hh h + b_hh of one step when not caching");
            if (!m.Bidirectional)
            {
                w.Line("private readonly float[] _gates = new float[GateSize]; // Step's gates");
                w.Line("private readonly float[] _state = new float[StateSize]; // Step's own state");
            }
            w.Line("private Workspace _workspace = new Workspace(0, training: false); // Forward's per-sequence buffers, grown on demand");
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
            w.Line("if (maxSteps > _workspace.Capacity) _workspace = new Workspace(maxSteps, training: false);");
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
            w.Line($"public {Span} Parameter(string name) => Slice(_parameters, name);");
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
            w.Open($"private static {Span} Slice(float[] values, string name)");
            w.Line("switch (name)");
            w.Line("{");
            w.Indent();
            foreach (Tensor t in tensors) w.Line($"case \"{t.Name}\": return new {Span}(values, {t.Constant}, {Num(t.Length)});");
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
            w.Line($"{Rt}ITrainer {Rt}IRecurrentModel.CreateTrainer(int maxSteps, int maxBatch) => CreateTrainer(maxSteps, maxBatch);");
            w.Line();
        }

        // ---- Forward ----------------------------------------------------------------------------------------

        private static string InputType(ModelSpec m) => m.Vocabulary > 0 ? "global::System.ReadOnlySpan<int>" : RoSpan;

        private static string InputName(ModelSpec m) => m.Vocabulary > 0 ? "tokens" : "input";

        private static string InputDoc(ModelSpec m) => m.Vocabulary > 0
            ? "<param name=\"tokens\">Token ids, one per step, each in [0, VocabularySize).</param>"
            : "<param name=\"input\">[steps, InputSize] row-major; steps = input.Length / InputSize.</param>";

        /// <summary>The public Forward pair (with and without state), shared by the model and its trainer.</summary>
        private static void ForwardOverloads(SourceWriter w, ModelSpec m, string summary, string body)
        {
            string input = InputName(m);
            w.Line($"/// <summary>{summary} Starts from a zero state.</summary>");
            w.Line("/// " + InputDoc(m));
            w.Line("/// <param name=\"output\">[steps, OutputSize] row-major" + (m.Bidirectional ? ", forward then reverse halves at each step" : "") + ".</param>");
            w.Line($"public void Forward({InputType(m)} {input}, {Span} output) => Forward({input}, output, default, default);");
            w.Line();
            w.Line($"/// <summary>{summary} Starts from a given state and returns the final state.</summary>");
            w.Line("/// " + InputDoc(m));
            w.Line("/// <param name=\"output\">[steps, OutputSize] row-major" + (m.Bidirectional ? ", forward then reverse halves at each step" : "") + ".</param>");
            w.Line("/// <param name=\"initialState\">StateSize floats (h [NumLayers*NumDirections, HiddenSize]" + (m.Cell == Cell.Lstm ? " then c" : "") + "), or empty for zeros.</param>");
            w.Line("/// <param name=\"finalState\">StateSize floats to receive the state after the last step (for a reverse direction: after its last step, at time 0), or empty. May be the same span as <paramref name=\"initialState\"/>.</param>");
            w.Line("/// <exception cref=\"global::System.ArgumentException\">A span length does not match the model.</exception>");
            w.Open($"public void Forward({InputType(m)} {input}, {Span} output, {RoSpan} initialState, {Span} finalState)");
            w.Line($"int steps = CheckSequence({input}, output.Length, initialState.Length, finalState.Length);");
            foreach (string line in body.Split('\n')) w.Line(line);
            w.Close();
            w.Line();
        }

        private static void Forward(SourceWriter w, ModelSpec m)
        {
            bool tokens = m.Vocabulary > 0;
            string input = InputName(m);
            ForwardOverloads(w, m, "Runs one sequence (batch 1).",
                $"if (steps > _workspace.Capacity) _workspace = new Workspace(steps, training: false);\nForwardCore({input}, steps, output, initialState, finalState, _workspace);");

            w.Line("/// <summary>Checks the spans of a Forward call and returns the number of steps.</summary>");
            w.Open($"private static int CheckSequence({InputType(m)} {input}, int outputLength, int initialLength, int finalLength)");
            if (tokens)
            {
                w.Line("if (tokens.IsEmpty) throw new global::System.ArgumentException(\"tokens is empty; expected at least one step.\", nameof(tokens));");
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
            w.Line("if (outputLength != steps * OutputSize) throw new global::System.ArgumentException(\"output has \" + outputLength + \" floats; expected \" + (steps * OutputSize) + \" ([\" + steps + \", \" + OutputSize + \"]).\", \"output\");");
            w.Line("if (initialLength != 0 && initialLength != StateSize) throw new global::System.ArgumentException(\"initialState has \" + initialLength + \" floats; expected \" + StateSize + \" (StateSize) or none.\", \"initialState\");");
            w.Line("if (finalLength != 0 && finalLength != StateSize) throw new global::System.ArgumentException(\"finalState has \" + finalLength + \" floats; expected \" + StateSize + \" (StateSize) or none.\", \"finalState\");");
            w.Line("return steps;");
            w.Close();
            w.Line();

            w.Line("/// <summary>Layer by layer over the whole sequence; the workspace decides whether activations are kept for Backward.</summary>");
            w.Open($"private void ForwardCore({InputType(m)} x, int steps, {Span} output, {RoSpan} initialState, {Span} finalState, Workspace ws)");
            for (int layer = 0; layer < m.Layers; layer++)
            {
                string source = layer == 0 ? "x" : $"ws.Layer[{Num(layer - 1)}]";
                string target = $"ws.Layer[{Num(layer)}]";
                if (layer == m.Layers - 1 && m.Output == 0)
                {
                    w.Line($"{Span} top = ws.Training ? ws.Layer[{Num(layer)}] : output;");
                    target = "top";
                }
                for (int d = 0; d < m.Directions; d++)
                {
                    w.Line($"RunLayer{LayerId(layer, d)}({source}, steps, {target}, initialState, finalState, ws);");
                }
            }
            if (m.Output > 0)
            {
                w.Comment("Linear head at every step: y_t = W_head h_t + b_head.");
                w.Line($"{RoSpan} top = ws.Layer[{Num(m.Layers - 1)}];");
                w.Line($"{RoSpan} p = _parameters;");
                w.Open("for (int t = 0; t < steps; t++)");
                w.Line($"{Span} y = output.Slice(t * OutputSize, OutputSize);");
                w.Line("p.Slice(HeadBias, OutputSize).CopyTo(y);");
                w.Line($"{MatVecName(m.Output, m.LayerOutputWidth)}(p.Slice(HeadWeight, OutputSize * LayerWidth), top.Slice(t * LayerWidth, LayerWidth), y);");
                w.Close();
            }
            else
            {
                w.Line("if (ws.Training) top.Slice(0, steps * OutputSize).CopyTo(output);");
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

        private static string StateOffset(ModelSpec m, int row, bool cell) => Num(((cell ? m.Layers * m.Directions : 0) + row) * m.Hidden);

        private static void Layers(SourceWriter w, ModelSpec m)
        {
            bool tokens = m.Vocabulary > 0;
            for (int layer = 0; layer < m.Layers; layer++)
            {
                for (int d = 0; d < m.Directions; d++)
                {
                    string id = LayerId(layer, d);
                    int cols = m.LayerInputWidth(layer);
                    int row = layer * m.Directions + d;
                    bool firstLayerTokens = layer == 0 && tokens;
                    w.Line($"/// <summary>Layer {Num(layer)}, {(d == 0 ? "forward" : "reverse")} direction: x [steps, {Num(cols)}] → y[:, {Num(d * m.Hidden)}..{Num((d + 1) * m.Hidden)}) of [steps, LayerWidth]; state row {Num(row)}.</summary>");
                    string xType = firstLayerTokens ? "global::System.ReadOnlySpan<int>" : RoSpan;
                    w.Open($"private void RunLayer{id}({xType} x, int steps, {Span} y, {RoSpan} initialState, {Span} finalState, Workspace ws)");
                    w.Line($"{RoSpan} p = _parameters;");
                    w.Line($"{Span} projection = ws.Projection[{Num(row)}];");
                    w.Comment($"Input projection for every step: W_ih x_t + b_ih{(m.Cell == Cell.Gru ? "" : " + b_hh")}.");
                    w.Open("for (int t = 0; t < steps; t++)");
                    string xRow = firstLayerTokens ? "p.Slice(EmbeddingWeight + x[t] * InputSize, InputSize)" : $"x.Slice(t * {Num(cols)}, {Num(cols)})";
                    InputProjection(w, m, layer, d, "projection.Slice(t * GateSize, GateSize)", xRow);
                    w.Close();
                    w.Comment("Recurrence from the initial state (zeros when none is given); each step's gates are computed in place.");
                    w.Line($"{Span} h = _h;");
                    if (m.Cell == Cell.Lstm) w.Line($"{Span} c = _c;");
                    w.Open("if (initialState.IsEmpty)");
                    w.Line("h.Clear();");
                    if (m.Cell == Cell.Lstm) w.Line("c.Clear();");
                    w.Close();
                    w.Open("else");
                    w.Line($"initialState.Slice({StateOffset(m, row, false)}, HiddenSize).CopyTo(h);");
                    if (m.Cell == Cell.Lstm) w.Line($"initialState.Slice({StateOffset(m, row, true)}, HiddenSize).CopyTo(c);");
                    w.Close();
                    w.Open("for (int s = 0; s < steps; s++)");
                    w.Line(d == 0 ? "int t = s;" : "int t = steps - 1 - s;");
                    w.Line($"{Span} gates = projection.Slice(t * GateSize, GateSize);");
                    string whh = $"p.Slice(WeightHh{id}, GateSize * HiddenSize)";
                    switch (m.Cell)
                    {
                        case Cell.Lstm:
                            w.Line($"{Span} tanhC = ws.Training ? new {Span}(ws.TanhCellStates[{Num(row)}], t * HiddenSize, HiddenSize) : _tanhC;");
                            w.Line($"CellStep({whh}, gates, h, c, tanhC);");
                            w.Line($"if (ws.Training) c.CopyTo(new {Span}(ws.CellStates[{Num(row)}], t * HiddenSize, HiddenSize));");
                            break;
                        case Cell.Gru:
                            w.Line($"{Span} hidden = ws.Training ? new {Span}(ws.HiddenGates[{Num(row)}], t * GateSize, GateSize) : _gatesHidden;");
                            w.Line($"CellStep({whh}, {(m.Bias ? $"p.Slice(BiasHh{id}, GateSize)" : "default")}, gates, h, hidden);");
                            break;
                        default:
                            w.Line($"CellStep({whh}, gates, h);");
                            break;
                    }
                    w.Line($"h.CopyTo(y.Slice(t * LayerWidth{(d == 1 ? " + HiddenSize" : "")}, HiddenSize));");
                    w.Close();
                    w.Open("if (!finalState.IsEmpty)");
                    w.Line($"h.CopyTo(finalState.Slice({StateOffset(m, row, false)}, HiddenSize));");
                    if (m.Cell == Cell.Lstm) w.Line($"c.CopyTo(finalState.Slice({StateOffset(m, row, true)}, HiddenSize));");
                    w.Close();
                    w.Close();
                    w.Line();
                }
            }
        }

        // ---- the cell -----------------------------------------------------------------------------------------

        private static void CellStep(SourceWriter w, ModelSpec m)
        {
            string matVec = MatVecName(m.GateWidth, m.Hidden);
            switch (m.Cell)
            {
                case Cell.Lstm:
                    w.Line("/// <summary>One LSTM step: gates (holding W_ih x + b_ih + b_hh) += W_hh h; then c = f*c + i*g, h = o*tanh(c). Gates end as activations.</summary>");
                    w.Open($"private static void CellStep({RoSpan} weightHh, {Span} gates, {Span} h, {Span} c, {Span} tanhC)");
                    w.Line($"{matVec}(weightHh, h, gates);");
                    w.Line($"{Rt}Kernels.LstmCell(gates, c, h, tanhC);");
                    w.Close();
                    break;
                case Cell.Gru:
                    w.Line("/// <summary>One GRU step: gates hold W_ih x + b_ih; hidden gets W_hh h + b_hh, kept apart for n = tanh(x_n + r*(W_hn h + b_hn)). Gates end as activations r, z, n.</summary>");
                    w.Open($"private static void CellStep({RoSpan} weightHh, {RoSpan} biasHh, {Span} gates, {Span} h, {Span} hidden)");
                    w.Line(m.Bias ? "biasHh.CopyTo(hidden);" : "hidden.Clear();");
                    w.Line($"{matVec}(weightHh, h, hidden);");
                    w.Line($"{Rt}Kernels.GruCell(gates, hidden, h);");
                    w.Close();
                    break;
                default:
                    w.Line($"/// <summary>One RNN step: h = {(m.Relu ? "relu" : "tanh")}(W_ih x + b_ih + W_hh h + b_hh). Gates end as the new h.</summary>");
                    w.Open($"private static void CellStep({RoSpan} weightHh, {Span} gates, {Span} h)");
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

            w.Line("/// <summary>The state that <see cref=\"Step(" + (tokens ? "int" : "global::System.ReadOnlySpan{float}") + ", global::System.Span{float})\"/> advances: StateSize floats, h" + (m.Cell == Cell.Lstm ? " then c" : "") + ". Read or set it freely.</summary>");
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
                    : $"state.Slice({StateOffset(m, layer - 1, false)}, HiddenSize)";
                InputProjection(w, m, layer, 0, "gates", x);
                string id = LayerId(layer, 0);
                string whh = $"p.Slice(WeightHh{id}, GateSize * HiddenSize)";
                string h = $"state.Slice({StateOffset(m, layer, false)}, HiddenSize)";
                switch (m.Cell)
                {
                    case Cell.Lstm:
                        w.Line($"CellStep({whh}, gates, {h}, state.Slice({StateOffset(m, layer, true)}, HiddenSize), _tanhC);");
                        break;
                    case Cell.Gru:
                        w.Line($"CellStep({whh}, {(m.Bias ? $"p.Slice(BiasHh{id}, GateSize)" : "default")}, gates, {h}, _gatesHidden);");
                        break;
                    default:
                        w.Line($"CellStep({whh}, gates, {h});");
                        break;
                }
                w.Close();
            }
            string top = $"state.Slice({StateOffset(m, m.Layers - 1, false)}, HiddenSize)";
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

        // ---- per-sequence buffers -----------------------------------------------------------------------------

        private static void Workspace(SourceWriter w, ModelSpec m)
        {
            int rows = m.Layers * m.Directions;
            w.Line("/// <summary>");
            w.Line("/// Per-sequence buffers. For inference, all layers and directions share one projection buffer and layers alternate");
            w.Line("/// between two output buffers; for training, every layer and direction keeps its own, plus what Backward needs.");
            w.Line("/// </summary>");
            w.Open("private sealed class Workspace");
            w.Line("public readonly int Capacity;");
            w.Line("public readonly bool Training;");
            w.Line("/// <summary>Per layer and direction, [Capacity, GateSize]: W_ih x_t + biases, then in place the gate activations.</summary>");
            w.Line("public readonly float[][] Projection;");
            w.Line("/// <summary>Per layer, [Capacity, LayerWidth]: the layer's outputs h_t (forward then reverse).</summary>");
            w.Line("public readonly float[][] Layer;");
            if (m.Cell == Cell.Lstm)
            {
                w.Line("/// <summary>Training only, per layer and direction, [Capacity, HiddenSize]: c_t.</summary>");
                w.Line("public readonly float[][] CellStates;");
                w.Line("/// <summary>Training only, per layer and direction, [Capacity, HiddenSize]: tanh(c_t).</summary>");
                w.Line("public readonly float[][] TanhCellStates;");
            }
            if (m.Cell == Cell.Gru)
            {
                w.Line("/// <summary>Training only, per layer and direction, [Capacity, GateSize]: W_hh h_{t-1} + b_hh.</summary>");
                w.Line("public readonly float[][] HiddenGates;");
            }
            w.Line();
            w.Open("public Workspace(int capacity, bool training)");
            w.Line("Capacity = capacity;");
            w.Line("Training = training;");
            w.Line($"Projection = new float[{Num(rows)}][];");
            w.Line($"Layer = new float[{Num(m.Layers)}][];");
            if (m.Cell == Cell.Lstm)
            {
                w.Line($"CellStates = new float[{Num(rows)}][];");
                w.Line($"TanhCellStates = new float[{Num(rows)}][];");
            }
            if (m.Cell == Cell.Gru) w.Line($"HiddenGates = new float[{Num(rows)}][];");
            w.Open("if (training)");
            w.Open($"for (int i = 0; i < {Num(rows)}; i++)");
            w.Line("Projection[i] = new float[capacity * GateSize];");
            if (m.Cell == Cell.Lstm)
            {
                w.Line("CellStates[i] = new float[capacity * HiddenSize];");
                w.Line("TanhCellStates[i] = new float[capacity * HiddenSize];");
            }
            if (m.Cell == Cell.Gru) w.Line("HiddenGates[i] = new float[capacity * GateSize];");
            w.Close();
            w.Line($"for (int l = 0; l < {Num(m.Layers)}; l++) Layer[l] = new float[capacity * LayerWidth];");
            w.Close();
            w.Open("else");
            w.Line("float[] projection = new float[capacity * GateSize];");
            w.Line($"for (int i = 0; i < {Num(rows)}; i++) Projection[i] = projection;");
            if (m.Cell == Cell.Lstm)
            {
                w.Line($"for (int i = 0; i < {Num(rows)}; i++) CellStates[i] = TanhCellStates[i] = global::System.Array.Empty<float>();");
            }
            if (m.Cell == Cell.Gru) w.Line($"for (int i = 0; i < {Num(rows)}; i++) HiddenGates[i] = global::System.Array.Empty<float>();");
            // Inner layers alternate between two buffers; the top layer writes into the output unless a head reads it.
            int buffers = System.Math.Min(2, m.Output > 0 ? m.Layers : m.Layers - 1);
            if (buffers == 0)
            {
                w.Line("Layer[0] = global::System.Array.Empty<float>(); // the only layer writes straight into the output");
            }
            else
            {
                w.Line("float[] even = new float[capacity * LayerWidth];");
                w.Line(buffers == 2 ? "float[] odd = new float[capacity * LayerWidth];" : "float[] odd = even;");
                w.Line($"for (int l = 0; l < {Num(m.Layers)}; l++) Layer[l] = l % 2 == 0 ? even : odd;");
            }
            w.Close();
            w.Close();
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
