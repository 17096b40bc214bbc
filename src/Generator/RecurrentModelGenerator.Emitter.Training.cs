using RnnGen.Generator.Model;

namespace RnnGen.Generator;

public sealed partial class RecurrentModelGenerator
{
    internal static partial class Emitter
    {
        private const string Argument = "global::System.ArgumentException";

        /// <summary>The nested Trainer: Forward that keeps activations, and backpropagation through time.</summary>
        private static void Trainer(SourceWriter w, ModelSpec m)
        {
            bool tokens = m.Vocabulary > 0;
            int rows = m.Layers * m.Directions;
            w.Line("/// <summary>");
            w.Line("/// Creates a trainer: a Forward that keeps every activation backpropagation needs, for sequences of up to");
            w.Line("/// <paramref name=\"maxSteps\"/> steps, and a Backward that adds parameter gradients to <see cref=\"Gradients\"/>.");
            w.Line("/// Every buffer is allocated here, once.");
            w.Line("/// </summary>");
            w.Line("/// <param name=\"maxSteps\">Longest sequence the trainer will see.</param>");
            w.Line("/// <param name=\"maxBatch\">Largest batch the trainer will see.</param>");
            w.Line($"public Trainer CreateTrainer(int maxSteps, int maxBatch = 1) => new Trainer(this, maxSteps, maxBatch);");
            w.Line();
            w.Line("/// <summary>");
            w.Line($"/// Training for <see cref=\"{m.Name}\"/>: <see cref=\"Forward({(tokens ? "global::System.ReadOnlySpan{int}" : "global::System.ReadOnlySpan{float}")}, global::System.Span{{float}}, global::System.ReadOnlySpan{{float}}, global::System.Span{{float}})\"/>");
            w.Line("/// computes and remembers a sequence; <see cref=\"Backward(global::System.ReadOnlySpan{float}, global::System.Span{float}, global::System.ReadOnlySpan{float}, global::System.Span{float})\"/>");
            w.Line("/// takes dL/doutput (and optionally dL/dfinalState) and adds dL/dparameters to the model's Gradients, as PyTorch's autograd");
            w.Line("/// accumulates into .grad. Allocation-free after construction. Not thread-safe; shares the model's scratch buffers.");
            w.Line("/// </summary>");
            w.Open($"public sealed class Trainer : {Rt}I{(tokens ? "Token" : "Vector")}Trainer");
            w.Line($"private readonly {m.Name} _model;");
            w.Line("private readonly Workspace _workspace;");
            w.Line(tokens ? "private readonly int[] _tokens; // the sequence of the last Forward" : "private readonly float[] _input; // the sequence of the last Forward");
            w.Line("private readonly float[] _initialState = new float[StateSize];");
            w.Line("private readonly float[] _zeros = new float[HiddenSize];");
            w.Line("private readonly float[] _gradLayerEven; // [MaxSteps, LayerWidth]: dL/d(outputs of layers 0, 2, ...)");
            w.Line("private readonly float[] _gradLayerOdd; // [MaxSteps, LayerWidth]: dL/d(outputs of layers 1, 3, ...)");
            if (tokens) w.Line("private readonly float[] _gradInput; // [MaxSteps, InputSize]: dL/d(embedded inputs)");
            w.Line("private readonly float[] _gradGates; // [MaxSteps, GateSize]: dL/d(pre-activation gates) of one layer and direction");
            if (m.Cell == Cell.Gru) w.Line("private readonly float[] _gradHiddenGates = new float[GateSize]; // dL/d(W_hh h + b_hh) of one step");
            w.Line("private readonly float[] _dh = new float[HiddenSize];");
            w.Line("private readonly float[] _dhNext = new float[HiddenSize]; // dL/dh_{t-1}, carried backwards in time");
            if (m.Cell == Cell.Lstm) w.Line("private readonly float[] _dcNext = new float[HiddenSize]; // dL/dc_{t-1}, carried backwards in time");
            w.Line("private bool _hasInitialState;");
            w.Line("private int _steps;");
            w.Line();
            w.Open($"internal Trainer({m.Name} model, int maxSteps, int maxBatch)");
            w.Line("if (maxSteps < 1) throw new global::System.ArgumentOutOfRangeException(nameof(maxSteps), maxSteps, \"maxSteps must be at least 1.\");");
            w.Line("if (maxBatch < 1) throw new global::System.ArgumentOutOfRangeException(nameof(maxBatch), maxBatch, \"maxBatch must be at least 1.\");");
            w.Line("if ((long)maxSteps * maxBatch * global::System.Math.Max(GateSize, global::System.Math.Max(LayerWidth, InputSize)) > int.MaxValue) throw new global::System.ArgumentOutOfRangeException(nameof(maxSteps), maxSteps, \"maxSteps * maxBatch is too large for this model's buffers.\");");
            w.Line("_model = model;");
            w.Line("model._gradients ??= new float[ParameterCount];");
            w.Line("MaxSteps = maxSteps;");
            w.Line("MaxBatch = maxBatch;");
            w.Line("_workspace = new Workspace(maxSteps, training: true);");
            w.Line(tokens ? "_tokens = new int[maxSteps];" : "_input = new float[maxSteps * InputSize];");
            w.Line("_gradLayerEven = new float[maxSteps * LayerWidth];");
            w.Line(m.Layers > 1 ? "_gradLayerOdd = new float[maxSteps * LayerWidth];" : "_gradLayerOdd = global::System.Array.Empty<float>();");
            if (tokens) w.Line("_gradInput = new float[maxSteps * InputSize];");
            w.Line("_gradGates = new float[maxSteps * GateSize];");
            w.Close();
            w.Line();
            w.Line("/// <summary>The model whose parameters this trainer reads and whose gradients it writes.</summary>");
            w.Line($"public {m.Name} Model => _model;");
            w.Line();
            w.Line("/// <summary>Longest sequence this trainer accepts.</summary>");
            w.Line("public int MaxSteps { get; }");
            w.Line();
            w.Line("/// <summary>Largest batch this trainer accepts.</summary>");
            w.Line("public int MaxBatch { get; }");
            w.Line();
            w.Line("/// <summary>Number of steps of the last Forward (0 before the first).</summary>");
            w.Line("public int Steps => _steps;");
            w.Line();

            string input = InputName(m);
            string copy = tokens ? "tokens.CopyTo(_tokens);" : "input.CopyTo(_input);";
            string source = tokens ? "new global::System.ReadOnlySpan<int>(_tokens, 0, steps)" : $"new {RoSpan}(_input, 0, steps * InputSize)";
            ForwardOverloads(w, m, "Runs one sequence (batch 1) like the model's Forward and keeps what Backward needs.",
                $"if (steps > MaxSteps) throw new {Argument}(\"{input} has \" + steps + \" steps; this trainer was created for at most \" + MaxSteps + \" (CreateTrainer(maxSteps)).\", nameof({input}));\n"
                + copy + "\n"
                + "_hasInitialState = !initialState.IsEmpty;\n"
                + "if (_hasInitialState) initialState.CopyTo(_initialState);\n"
                + $"_model.ForwardCore({source}, steps, output, _hasInitialState ? _initialState : default, finalState, _workspace);\n"
                + "_steps = steps;");

            Backward(w, m);
            for (int layer = m.Layers - 1; layer >= 0; layer--)
            {
                for (int d = 0; d < m.Directions; d++) BackwardLayer(w, m, layer, d);
            }
            w.Close();
            w.Line();
        }

        private static void Backward(SourceWriter w, ModelSpec m)
        {
            bool tokens = m.Vocabulary > 0;
            string inputDoc = tokens ? "[steps, InputSize]: receives dL/d(embedded inputs), or empty. The embedding's gradient goes to Gradients either way."
                                     : "[steps, InputSize]: receives dL/dinput, or empty when not needed (saves work).";
            w.Line("/// <summary>Backpropagation through time for the last Forward, with no gradient flowing into the final state.</summary>");
            w.Line("/// <param name=\"outputGrad\">[steps, OutputSize]: dL/doutput.</param>");
            w.Line($"/// <param name=\"inputGrad\">{inputDoc}</param>");
            w.Line($"public void Backward({RoSpan} outputGrad, {Span} inputGrad) => Backward(outputGrad, inputGrad, default, default);");
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// Backpropagation through time for the last Forward: adds dL/dparameters to the model's Gradients (accumulating,");
            w.Line("/// like PyTorch's .grad), and writes dL/dinput and dL/dinitialState when asked.");
            w.Line("/// </summary>");
            w.Line("/// <param name=\"outputGrad\">[steps, OutputSize]: dL/doutput.</param>");
            w.Line($"/// <param name=\"inputGrad\">{inputDoc}</param>");
            w.Line("/// <param name=\"finalStateGrad\">StateSize floats: dL/dfinalState (e.g. from a decoder that started from this state), or empty for zeros.</param>");
            w.Line("/// <param name=\"initialStateGrad\">StateSize floats: receives dL/dinitialState (to carry into an encoder or an earlier window), or empty.</param>");
            w.Line("/// <exception cref=\"global::System.InvalidOperationException\">No Forward has run on this trainer.</exception>");
            w.Line("/// <exception cref=\"global::System.ArgumentException\">A span length does not match the last Forward.</exception>");
            w.Open($"public void Backward({RoSpan} outputGrad, {Span} inputGrad, {RoSpan} finalStateGrad, {Span} initialStateGrad)");
            w.Line("int steps = _steps;");
            w.Line("if (steps == 0) throw new global::System.InvalidOperationException(\"Backward needs a Forward on this trainer first.\");");
            w.Line($"if (outputGrad.Length != steps * OutputSize) throw new {Argument}(\"outputGrad has \" + outputGrad.Length + \" floats; expected \" + (steps * OutputSize) + \" ([\" + steps + \", \" + OutputSize + \"], as the last Forward).\", nameof(outputGrad));");
            w.Line($"if (!inputGrad.IsEmpty && inputGrad.Length != steps * InputSize) throw new {Argument}(\"inputGrad has \" + inputGrad.Length + \" floats; expected \" + (steps * InputSize) + \" ([\" + steps + \", \" + InputSize + \"]) or none.\", nameof(inputGrad));");
            w.Line($"if (!finalStateGrad.IsEmpty && finalStateGrad.Length != StateSize) throw new {Argument}(\"finalStateGrad has \" + finalStateGrad.Length + \" floats; expected \" + StateSize + \" (StateSize) or none.\", nameof(finalStateGrad));");
            w.Line($"if (!initialStateGrad.IsEmpty && initialStateGrad.Length != StateSize) throw new {Argument}(\"initialStateGrad has \" + initialStateGrad.Length + \" floats; expected \" + StateSize + \" (StateSize) or none.\", nameof(initialStateGrad));");
            w.Line($"{RoSpan} p = _model._parameters;");
            w.Line($"{Span} g = _model._gradients;");
            string top = $"new {Span}({GradLayer(m.Layers - 1)}, 0, steps * LayerWidth)";
            w.Line($"{Span} gradTop = {top};");
            if (m.Output > 0)
            {
                w.Comment("Head: dL/dh_t = W_headᵀ dy_t; dW_head += dy_t h_tᵀ; db_head += dy_t.");
                w.Line("gradTop.Clear();");
                w.Line($"{RoSpan} top = _workspace.Layer[{Num(m.Layers - 1)}];");
                w.Open("for (int t = 0; t < steps; t++)");
                w.Line($"{RoSpan} dy = outputGrad.Slice(t * OutputSize, OutputSize);");
                w.Line($"{Rt}Kernels.MultiplyTransposedAdd(p.Slice(HeadWeight, OutputSize * LayerWidth), dy, gradTop.Slice(t * LayerWidth, LayerWidth));");
                w.Line($"{Rt}Kernels.OuterAdd(g.Slice(HeadWeight, OutputSize * LayerWidth), dy, top.Slice(t * LayerWidth, LayerWidth));");
                w.Line($"{Rt}Kernels.AddTo(dy, g.Slice(HeadBias, OutputSize));");
                w.Close();
            }
            else
            {
                w.Line("outputGrad.CopyTo(gradTop);");
            }
            for (int layer = m.Layers - 1; layer >= 0; layer--)
            {
                w.Comment($"Layer {Num(layer)}: from dL/d(its outputs) to dL/d(its inputs).");
                string gradOut = $"new {Span}({GradLayer(layer)}, 0, steps * LayerWidth)";
                string gradIn;
                if (layer > 0)
                {
                    gradIn = $"gradIn{Num(layer)}";
                    w.Line($"{Span} {gradIn} = new {Span}({GradLayer(layer - 1)}, 0, steps * LayerWidth);");
                    w.Line($"{gradIn}.Clear();");
                }
                else if (tokens)
                {
                    gradIn = "gradEmbedded";
                    w.Line($"{Span} gradEmbedded = new {Span}(_gradInput, 0, steps * InputSize);");
                    w.Line("gradEmbedded.Clear();");
                }
                else
                {
                    gradIn = "inputGrad";
                    w.Line("inputGrad.Clear();");
                }
                for (int d = 0; d < m.Directions; d++)
                {
                    w.Line($"BackwardLayer{LayerId(layer, d)}({gradOut}, {gradIn}, finalStateGrad, initialStateGrad);");
                }
            }
            if (tokens)
            {
                w.Comment("Embedding: each step's input gradient goes to its token's row.");
                w.Open("for (int t = 0; t < steps; t++)");
                w.Line($"{Rt}Kernels.AddTo(gradEmbedded.Slice(t * InputSize, InputSize), g.Slice(EmbeddingWeight + _tokens[t] * InputSize, InputSize));");
                w.Close();
                w.Line("if (!inputGrad.IsEmpty) gradEmbedded.CopyTo(inputGrad);");
            }
            w.Close();
            w.Line();
        }

        private static string GradLayer(int layer) => layer % 2 == 0 ? "_gradLayerEven" : "_gradLayerOdd";

        private static void BackwardLayer(SourceWriter w, ModelSpec m, int layer, int d)
        {
            bool tokens = m.Vocabulary > 0;
            string id = LayerId(layer, d);
            int row = layer * m.Directions + d;
            int cols = m.LayerInputWidth(layer);
            string hOffset = d == 1 ? " + HiddenSize" : "";
            w.Line($"/// <summary>Backward through layer {Num(layer)}, {(d == 0 ? "forward" : "reverse")} direction: reverse of its time order, then its input weights for all steps at once.</summary>");
            w.Open($"private void BackwardLayer{id}({RoSpan} gradOutput, {Span} gradInput, {RoSpan} finalStateGrad, {Span} initialStateGrad)");
            w.Line("int steps = _steps;");
            w.Line($"{RoSpan} p = _model._parameters;");
            w.Line($"{Span} g = _model._gradients;");
            w.Line($"{RoSpan} activations = _workspace.Projection[{Num(row)}];");
            w.Line($"{RoSpan} y = _workspace.Layer[{Num(layer)}];");
            w.Line($"{Span} gradGates = _gradGates;");
            w.Line($"{Span} dh = _dh;");
            w.Line($"{Span} dhNext = _dhNext;");
            if (m.Cell == Cell.Lstm) w.Line($"{Span} dcNext = _dcNext;");
            w.Open("if (finalStateGrad.IsEmpty)");
            w.Line("dhNext.Clear();");
            if (m.Cell == Cell.Lstm) w.Line("dcNext.Clear();");
            w.Close();
            w.Open("else");
            w.Line($"finalStateGrad.Slice({StateOffset(m, row, false)}, HiddenSize).CopyTo(dhNext);");
            if (m.Cell == Cell.Lstm) w.Line($"finalStateGrad.Slice({StateOffset(m, row, true)}, HiddenSize).CopyTo(dcNext);");
            w.Close();
            w.Line($"{RoSpan} h0 = _hasInitialState ? new {Span}(_initialState, {StateOffset(m, row, false)}, HiddenSize) : _zeros;");
            if (m.Cell == Cell.Lstm) w.Line($"{RoSpan} c0 = _hasInitialState ? new {Span}(_initialState, {StateOffset(m, row, true)}, HiddenSize) : _zeros;");
            w.Line($"{RoSpan} weightHh = p.Slice(WeightHh{id}, GateSize * HiddenSize);");
            w.Line($"{Span} gradWeightHh = g.Slice(WeightHh{id}, GateSize * HiddenSize);");
            w.Open("for (int k = 0; k < steps; k++)");
            if (d == 0)
            {
                w.Line("int t = steps - 1 - k;");
                w.Line("int previous = t - 1;");
            }
            else
            {
                w.Line("int t = k;");
                w.Line("int previous = t + 1;");
            }
            w.Line("bool first = k == steps - 1; // the step that started from the initial state");
            w.Line($"{RoSpan} hPrevious = first ? h0 : y.Slice(previous * LayerWidth{hOffset}, HiddenSize);");
            w.Line($"{Rt}Kernels.Add(gradOutput.Slice(t * LayerWidth{hOffset}, HiddenSize), dhNext, dh);");
            w.Line($"{Span} dGates = gradGates.Slice(t * GateSize, GateSize);");
            string dHidden = "dGates";
            switch (m.Cell)
            {
                case Cell.Lstm:
                    w.Line($"{RoSpan} cPrevious = first ? c0 : new {Span}(_workspace.CellStates[{Num(row)}], previous * HiddenSize, HiddenSize);");
                    w.Line($"{Rt}Kernels.LstmCellBackward(activations.Slice(t * GateSize, GateSize), cPrevious, new {Span}(_workspace.TanhCellStates[{Num(row)}], t * HiddenSize, HiddenSize), dh, dcNext, dGates);");
                    w.Line("dhNext.Clear();");
                    break;
                case Cell.Gru:
                    w.Line($"{Rt}Kernels.GruCellBackward(activations.Slice(t * GateSize, GateSize), new {Span}(_workspace.HiddenGates[{Num(row)}], t * GateSize, GateSize), hPrevious, dh, dGates, _gradHiddenGates, dhNext);");
                    dHidden = "_gradHiddenGates";
                    break;
                default:
                    w.Line($"{Rt}Kernels.{(m.Relu ? "Relu" : "Tanh")}Backward(y.Slice(t * LayerWidth{hOffset}, HiddenSize), dh, dGates);");
                    w.Line("dhNext.Clear();");
                    break;
            }
            w.Comment("Recurrent weights: dW_hh += dgates_h h_{t-1}ᵀ; dh_{t-1} += W_hhᵀ dgates_h.");
            w.Line($"{Rt}Kernels.OuterAdd(gradWeightHh, {dHidden}, hPrevious);");
            if (m.Bias) w.Line($"{Rt}Kernels.AddTo({dHidden}, g.Slice(BiasHh{id}, GateSize));");
            w.Line($"{Rt}Kernels.MultiplyTransposedAdd(weightHh, {dHidden}, dhNext);");
            w.Close();
            w.Open("if (!initialStateGrad.IsEmpty)");
            w.Line($"dhNext.CopyTo(initialStateGrad.Slice({StateOffset(m, row, false)}, HiddenSize));");
            if (m.Cell == Cell.Lstm) w.Line($"dcNext.CopyTo(initialStateGrad.Slice({StateOffset(m, row, true)}, HiddenSize));");
            w.Close();
            w.Comment("Input weights for every step: dW_ih += dgates_x x_tᵀ; db_ih += dgates_x; dx_t += W_ihᵀ dgates_x.");
            w.Line($"{RoSpan} weightIh = p.Slice(WeightIh{id}, GateSize * {Num(cols)});");
            w.Line($"{Span} gradWeightIh = g.Slice(WeightIh{id}, GateSize * {Num(cols)});");
            w.Open("for (int t = 0; t < steps; t++)");
            w.Line($"{RoSpan} dGates = gradGates.Slice(t * GateSize, GateSize);");
            string x = layer > 0
                ? $"new {Span}(_workspace.Layer[{Num(layer - 1)}], t * LayerWidth, LayerWidth)"
                : tokens ? "p.Slice(EmbeddingWeight + _tokens[t] * InputSize, InputSize)" : $"new {RoSpan}(_input, t * InputSize, InputSize)";
            w.Line($"{Rt}Kernels.OuterAdd(gradWeightIh, dGates, {x});");
            if (m.Bias) w.Line($"{Rt}Kernels.AddTo(dGates, g.Slice(BiasIh{id}, GateSize));");
            w.Line($"if (!gradInput.IsEmpty) {Rt}Kernels.MultiplyTransposedAdd(weightIh, dGates, gradInput.Slice(t * {Num(cols)}, {Num(cols)}));");
            w.Close();
            w.Close();
            w.Line();
        }
    }
}
