using System.Collections.Generic;
using System.Linq;
using RnnGen.Generator.Model;

namespace RnnGen.Generator;

public sealed partial class RecurrentModelGenerator
{
    internal static partial class Emitter
    {
        /// <summary>The nested Trainer: Forward that keeps activations, and backpropagation through time on packed batches.</summary>
        private static void Trainer(SourceWriter w, ModelSpec m)
        {
            bool tokens = m.Vocabulary > 0;
            w.Line("/// <summary>");
            w.Line("/// Creates a trainer: a Forward that keeps every activation backpropagation needs, for batches of up to");
            w.Line("/// <paramref name=\"maxBatch\"/> sequences of up to <paramref name=\"maxSteps\"/> steps, and a Backward that adds");
            if (m.Bidirectional)
            {
                w.Line("/// parameter gradients to <see cref=\"Gradients\"/>. Every buffer is allocated here, once (with Threads above 1 the");
                w.Line("/// reverse direction's backward gets its own; set Threads first, or the first threaded Backward allocates them).");
            }
            else
            {
                w.Line("/// parameter gradients to <see cref=\"Gradients\"/>. Every buffer is allocated here, once (with Threads above 1, one");
                w.Line("/// weight-gradient scratch block per extra part; set Threads first, or the first threaded Backward allocates them).");
            }
            w.Line("/// </summary>");
            w.Line("/// <param name=\"maxSteps\">Longest (padded) sequence the trainer will see.</param>");
            w.Line("/// <param name=\"maxBatch\">Largest batch the trainer will see.</param>");
            w.Line("/// <exception cref=\"global::System.ArgumentOutOfRangeException\">A count is less than 1, or the buffers would hold more than an array can.</exception>");
            w.Line("public Trainer CreateTrainer(int maxSteps, int maxBatch = 1) => new Trainer(this, maxSteps, maxBatch);");
            w.Line();
            string seeForward = $"Forward({(tokens ? "global::System.ReadOnlySpan{int}" : "global::System.ReadOnlySpan{float}")}, int, global::System.ReadOnlySpan{{int}}, global::System.Span{{float}}, global::System.ReadOnlySpan{{float}}, global::System.Span{{float}})";
            w.Line("/// <summary>");
            w.Line($"/// Training for <see cref=\"{m.Name}\"/>: <see cref=\"{seeForward}\"/> computes and remembers a sequence or a batch;");
            w.Line("/// <see cref=\"Backward(global::System.ReadOnlySpan{float}, global::System.Span{float}, global::System.ReadOnlySpan{float}, global::System.Span{float})\"/>");
            w.Line("/// takes dL/doutput (and optionally dL/dfinalState) in the same layouts and adds dL/dparameters to the model's Gradients,");
            w.Line("/// as PyTorch's autograd accumulates into .grad. Padded steps contribute nothing. Allocation-free after construction.");
            w.Line("/// Not thread-safe.");
            w.Line("/// </summary>");
            w.Open($"public sealed class Trainer : {Rt}I{(tokens ? "Token" : "Vector")}Trainer");
            w.Line($"private readonly {m.Name} _model;");
            w.Line("private readonly Workspace _workspace;");
            w.Line("private readonly float[] _initialState; // [maxBatch * StateSize]: the initial states of the last Forward");
            if (m.Output > 0) w.Line("private readonly float[] _gradOutput; // [rows, OutputSize]: packed dL/doutput");
            w.Line("private readonly float[] _gradLayerEven; // [rows, LayerWidth]: dL/d(outputs of layers 0, 2, ...)");
            w.Line("private readonly float[] _gradLayerOdd; // [rows, LayerWidth]: dL/d(outputs of layers 1, 3, ...)");
            w.Line("private readonly float[] _gradInput; // [rows, InputSize]: packed dL/d(layer-0 input)");
            w.Line($"private readonly float[] _weightPanels; // the weights in panels for dL/dX = dL/dY · W, built by Backward, from _weightPanelsStart on (64-byte aligned)");
            w.Line("private readonly int _weightPanelsStart;");
            w.Line("private bool _weightPanelsStale = true; // set by every Forward: the weights may have changed since the last Backward");
            w.Line("private readonly Buffers _buffers; // what one direction's backward works in (both directions', one after the other, on one thread)");
            if (m.Bidirectional)
            {
                w.Line("private Buffers? _buffersReverse; // the reverse direction's own, once its directions run apart (model.Threads > 1)");
                w.Line("private DirectionsRunner? _runner; // runs a layer's reverse direction on the model's worker thread");
            }
            else
            {
                w.Line("private float[][] _partScratch = global::System.Array.Empty<float[]>(); // GemmScratch of parts 1, 2, ... of a threaded Backward (model.Threads > 1)");
                w.Line("private int[] _partScratchStart = global::System.Array.Empty<int>();");
                w.Line("private PartsRunner? _runner; // runs parts of a layer's backward on the model's worker threads");
            }
            w.Line("private bool _hasInitialState;");
            w.Line("private bool _ready;");
            if (m.HasDropout)
            {
                w.Line($"private {Rt}Rng _dropoutRng = new {Rt}Rng(0); // draws the dropout masks (Seed)");
                w.Line("private int _seed;");
                w.Line("private float[]? _injectedMasks; // keep flags for the next Forward (SetDropoutMasks, tests)");
            }
            w.Line();
            w.Open($"internal Trainer({m.Name} model, int maxSteps, int maxBatch)");
            w.Line("if (maxSteps < 1) throw new global::System.ArgumentOutOfRangeException(nameof(maxSteps), maxSteps, \"maxSteps must be at least 1.\");");
            w.Line("if (maxBatch < 1) throw new global::System.ArgumentOutOfRangeException(nameof(maxBatch), maxBatch, \"maxBatch must be at least 1.\");");
            w.Line("CheckRows(maxSteps, maxBatch, nameof(maxSteps), nameof(maxBatch)); // every buffer below is at most maxSteps x maxBatch rows of WidestRow, or maxBatch states");
            w.Comment("The model is touched last (its gradients), once every buffer of the trainer is allocated.");
            w.Line("_model = model;");
            w.Line("MaxSteps = maxSteps;");
            w.Line("MaxBatch = maxBatch;");
            w.Line("int rows = maxSteps * maxBatch;");
            w.Line(m.Bidirectional
                ? "_workspace = new Workspace(maxSteps, maxBatch, training: true, directionsApart: true); // two running states: the directions may run apart"
                : "_workspace = new Workspace(maxSteps, maxBatch, training: true);");
            w.Line("_initialState = new float[maxBatch * StateSize];");
            if (m.Output > 0) w.Line("_gradOutput = new float[rows * OutputSize];");
            w.Line("_gradLayerEven = new float[rows * LayerWidth];");
            w.Line(m.Layers > 1 ? "_gradLayerOdd = new float[rows * LayerWidth];" : "_gradLayerOdd = global::System.Array.Empty<float>();");
            w.Line("_gradInput = new float[rows * InputSize];");
            w.Line($"_weightPanels = {Cs}Kernels.AlignedArray(WeightPanelsSize, out _weightPanelsStart);");
            w.Line("_buffers = new Buffers(maxSteps, maxBatch);");
            w.Line(m.Bidirectional ? "if (model.Threads > 1) _buffersReverse = new Buffers(maxSteps, maxBatch);" : "if (model.Threads > 1) AllocatePartScratch(model.Threads);");
            w.Line("model._gradients ??= new float[ParameterCount];");
            w.Close();
            w.Line();
            w.Line("/// <summary>The model whose parameters this trainer reads and whose gradients it writes.</summary>");
            w.Line($"public {m.Name} Model => _model;");
            w.Line();
            w.Line("/// <summary>Longest (padded) sequence this trainer accepts.</summary>");
            w.Line("public int MaxSteps { get; }");
            w.Line();
            w.Line("/// <summary>Largest batch this trainer accepts.</summary>");
            w.Line("public int MaxBatch { get; }");
            w.Line();
            w.Line("/// <summary>Padded steps of the last Forward (0 before the first).</summary>");
            w.Line("public int Steps => _ready ? _workspace.Layout.Steps : 0;");
            w.Line();
            w.Line("/// <summary>Batch of the last Forward (0 before the first).</summary>");
            w.Line("public int Batch => _ready ? _workspace.Layout.Batch : 0;");
            w.Line();
            if (m.HasDropout) Dropout(w, m);

            string input = InputName(m);
            ForwardOverloads(w, m, "Runs the network like the model's Forward and keeps what Backward needs.",
                $"if (steps > MaxSteps) throw new {ArgumentException}(\"{input} has \" + steps + \" steps; this trainer was created for at most \" + MaxSteps + \" (CreateTrainer(maxSteps)).\", nameof({input}));\n"
                + $"if (BATCH > MaxBatch) throw new {ArgumentException}(\"batch is \" + BATCH + \"; this trainer was created for at most \" + MaxBatch + \" (CreateTrainer(maxSteps, maxBatch)).\", \"batch\");\n"
                + "_ready = false;\n"
                + "_model._packedStale = true; // training changes weights between calls: always read them fresh\n"
                + "_weightPanelsStale = true;\n"
                + "_workspace.Layout.Set(steps, BATCH, LENGTHS);\n"
                + (m.HasDropout ? "DrawDropoutMasks();\n" : "")
                + "_hasInitialState = !initialState.IsEmpty;\n"
                + "if (_hasInitialState) initialState.CopyTo(_initialState);\n"
                + $"_model.ForwardCore({input}, output, _hasInitialState ? new {RoSpan}(_initialState, 0, initialState.Length) : default, finalState, _workspace);\n"
                + "_ready = true;");

            Backward(w, m);
            if (m.Output > 0) BackwardHead(w, m);
            PackWeightPanels(w, m);
            if (tokens) AggregateTokens(w);
            for (int layer = m.Layers - 1; layer >= 0; layer--)
            {
                BackwardLayer(w, m, layer);
            }
            if (m.Bidirectional) BackwardDirections(w, m);
            else BackwardParts(w, m);
            BackwardBuffers(w, m);
            w.Close();
            w.Line();
        }

        /// <summary>The trainer's dropout: the seed, the masks' draw before each Forward, and the test hooks.</summary>
        private static void Dropout(SourceWriter w, ModelSpec m)
        {
            w.Line("/// <summary>");
            w.Line("/// The seed of the generator the dropout masks are drawn from (default 0). Setting it restarts the generator, so the");
            w.Line("/// Forwards that follow draw the same masks as after any other setting of the same seed: a run is reproducible from");
            w.Line("/// its seed, and the masks do not depend on the model's Threads (they are drawn before any work is split).");
            w.Line("/// </summary>");
            w.Open("public int Seed");
            w.Line("get => _seed;");
            w.Line($"set {{ _seed = value; _dropoutRng = new {Rt}Rng(value); }}");
            w.Close();
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// Draws this Forward's masks: for each layer but the last, one element per packed output (the valid steps only, so");
            w.Line("/// padded positions take no draw), 0 with probability DropoutProbability, else 1/(1 − DropoutProbability). Drawn on");
            w.Line("/// the calling thread in packed order (step by step, sequences by decreasing length), layer after layer; or the keep");
            w.Line("/// flags SetDropoutMasks gave, scaled the same way.");
            w.Line("/// </summary>");
            w.Open("private void DrawDropoutMasks()");
            w.Line($"{Cs}PackedSequences layout = _workspace.Layout;");
            w.Line("int n = layout.Rows * LayerWidth;");
            w.Open("if (_injectedMasks is null)");
            w.Line($"for (int l = 0; l < NumLayers - 1; l++) {Cs}Kernels.DropoutMask(_dropoutRng, DropoutProbability, new {Span}(_workspace.DropoutMask[l], 0, n));");
            w.Line("return;");
            w.Close();
            w.Line("float[] keep = _injectedMasks;");
            w.Line("_injectedMasks = null;");
            w.Line("int padded = layout.Steps * layout.Batch * LayerWidth;");
            w.Line("if (keep.Length != (long)padded * (NumLayers - 1)) throw new global::System.InvalidOperationException(\"SetDropoutMasks gave \" + keep.Length + \" flags; this Forward needs \" + ((long)padded * (NumLayers - 1)) + \" ((NumLayers - 1) x steps x batch x LayerWidth).\");");
            w.Line($"float scale = {Cs}Kernels.DropoutScale(DropoutProbability);");
            w.Open("for (int l = 0; l < NumLayers - 1; l++)");
            w.Line($"{Span} mask = new {Span}(_workspace.DropoutMask[l], 0, n);");
            w.Line($"layout.Gather(new {RoSpan}(keep, l * padded, padded), LayerWidth, {Bool(m.BatchFirst)}, mask);");
            w.Line("for (int i = 0; i < n; i++) mask[i] = mask[i] != 0f ? scale : 0f;");
            w.Close();
            w.Close();
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// Test hook: the next Forward uses these keep flags (non-zero keeps, 0 drops) instead of drawing masks: NumLayers − 1");
            w.Line($"/// blocks, one per layer but the last, each laid out as that Forward's layer outputs ({(m.BatchFirst ? "[batch, steps" : "[steps, batch")}, LayerWidth], forward then reverse).");
            w.Line("/// </summary>");
            w.Line($"internal void SetDropoutMasks({RoSpan} keep) => _injectedMasks = keep.ToArray();");
            w.Line();
            w.Line("/// <summary>The scaled mask (0 or 1/(1 − DropoutProbability)) of layer <paramref name=\"layer\"/>'s outputs in the last Forward, in packed rows [rows, LayerWidth].</summary>");
            w.Line($"internal {RoSpan} DropoutMask(int layer) => new {RoSpan}(_workspace.DropoutMask[layer], 0, _workspace.Layout.Rows * LayerWidth);");
            w.Line();
        }

        /// <summary>The scratch of one direction's backward, so that a bidirectional layer's two directions can run at once.</summary>
        private static void BackwardBuffers(SourceWriter w, ModelSpec m)
        {
            bool tokens = m.Vocabulary > 0, lstm = m.Cell == Cell.Lstm, gru = m.Cell == Cell.Gru;
            // (element type, name, length, what it holds), declared and allocated from the one list.
            var arrays = new List<(string Type, string Name, string Length, string Doc)>();
            void Add(bool when, string type, string name, string length, string doc) { if (when) arrays.Add((type, name, length, doc)); }
            Add(true, "float", "H0", "maxBatch * HiddenSize", "[maxBatch, HiddenSize]: the layer's initial h, in length order");
            Add(lstm, "float", "C0", "maxBatch * HiddenSize", "[maxBatch, HiddenSize]: the layer's initial c, in length order");
            Add(true, "float", "GradGates", "rows * GateSize", "[rows, GateSize]: dL/d(pre-activation gates)");
            Add(gru, "float", "GradHiddenGates", "rows * GateSize", "[rows, GateSize]: dL/d(W_hh h + b_hh)");
            Add(SharedBiasGradient(m), "float", "BiasGrad", "GateSize", "[GateSize]: Σ dL/d(gates), which is both dL/db_ih and dL/db_hh");
            Add(true, "float", "Dh", "maxBatch * HiddenSize", "[maxBatch, HiddenSize]: dL/dh_t of one step");
            Add(true, "float", "DhNext", "maxBatch * HiddenSize", "[maxBatch, HiddenSize]: dL/dh_{t-1}, carried backwards in time");
            Add(true, "float", "HPrevious", "rows * HiddenSize", "[rows, HiddenSize]: h_{t-1} of every valid step, in packed order");
            Add(lstm, "float", "DcNext", "maxBatch * HiddenSize", "[maxBatch, HiddenSize]: dL/dc_{t-1}, carried backwards in time");
            Add(lstm, "float", "CPrevious", "maxBatch * HiddenSize", "[maxBatch, HiddenSize]: c_{t-1} of one step");
            Add(tokens, "int", "SlotOfToken", "VocabularySize", "[VocabularySize]: each token's row in TokenGates during one aggregation, -1 when absent");
            Add(tokens, "int", "TokenOfSlot", "slots", "[slots]: the token of each row of TokenGates");
            Add(tokens, "float", "TokenGates", "slots * GateSize", "[slots, GateSize]: dL/d(gates) summed over the steps that read each distinct token");
            Add(tokens, "float", "TokenInputs", "slots * InputSize", "[slots, InputSize]: the embedding row of each distinct token");
            Add(tokens, "float", "TokenInputGrads", "slots * InputSize", "[slots, InputSize]: dL/d(embedding row) of each distinct token");

            w.Line("/// <summary>What one direction's backward works in: every buffer it writes that is not a gradient of its own.</summary>");
            w.Open("private sealed class Buffers");
            foreach (var (type, name, _, doc) in arrays) w.Line($"public readonly {type}[] {name}; // {doc}");
            w.Line("public readonly float[] GemmScratch; // one block of the weight-gradient products' operands, packed, from GemmScratchStart on (64-byte aligned)");
            w.Line("public readonly int GemmScratchStart;");
            if (tokens) w.Line("public int Slots; // distinct tokens of the last aggregation");
            w.Line();
            w.Open("public Buffers(int maxSteps, int maxBatch)");
            w.Line("int rows = maxSteps * maxBatch;");
            if (tokens) w.Line("int slots = global::System.Math.Min(VocabularySize, rows); // distinct tokens one batch can hold");
            foreach (var (type, name, length, _) in arrays) w.Line($"{name} = new {type}[{length}];");
            if (tokens) w.Line("for (int v = 0; v < SlotOfToken.Length; v++) SlotOfToken[v] = -1;");
            w.Line($"GemmScratch = {Cs}Kernels.AlignedArray(GemmScratchSize, out GemmScratchStart);");
            w.Close();
            w.Close();
            w.Line();
        }

        /// <summary>A bidirectional layer's backward with its two directions at the same time, and the runner that does it.</summary>
        private static void BackwardDirections(SourceWriter w, ModelSpec m)
        {
            w.Line("/// <summary>");
            w.Line("/// Runs layer <paramref name=\"layer\"/>'s two backward directions at the same time (forward on the calling thread, reverse");
            w.Line("/// on the model's worker), each in its own buffers and writing its own gradients; or, with <paramref name=\"inputRows\"/>,");
            w.Line("/// its dL/d(inputs) in two halves of the rows (InputGradientRows).");
            w.Line("/// </summary>");
            w.Open($"private void BackwardDirections(int layer, bool inputRows, {RoSpan} gradOutput, {Span} gradInput, {RoSpan} finalStateGrad, {Span} initialStateGrad)");
            w.Comment("Allocates only when Threads was raised after CreateTrainer (the constructor allocates them otherwise).");
            w.Line("_buffersReverse ??= new Buffers(MaxSteps, MaxBatch);");
            w.Line("_runner ??= new DirectionsRunner(this);");
            w.Line("_runner.Layer = layer;");
            w.Line("_runner.InputRows = inputRows;");
            w.Line("_model._workers!.Run<float>(_runner, 2, gradOutput, gradInput, finalStateGrad, initialStateGrad);");
            w.Close();
            w.Line();
            for (int layer = 0; layer < m.Layers; layer++)
            {
                int cols = m.LayerInputWidth(layer);
                w.Line($"/// <summary>dL/d(layer {Num(layer)}'s inputs) of packed rows [first, first + count): dgates W_ih of the forward direction, then of the reverse.</summary>");
                w.Line(HotPath);
                w.Open($"private void InputGradientRows{Num(layer)}({Span} gradInput, int first, int count)");
                for (int d = 0; d < 2; d++)
                {
                    string id = LayerId(layer, d);
                    string buffers = d == 0 ? "_buffers" : "_buffersReverse!";
                    w.Line($"{GemmPanelsName(m.GateWidth, cols, m.GateWidth)}(new {RoSpan}(_weightPanels, _weightPanelsStart + PanelsIh{id}, {Num(PanelSize(cols, m.GateWidth))}), default, new {RoSpan}({buffers}.GradGates, first * GateSize, count * GateSize), GateSize, count, gradInput.Slice(first * {Num(cols)}, count * {Num(cols)}), {Num(cols)});");
                }
                w.Close();
                w.Line();
            }
            w.Line("/// <summary>Runs one direction of a layer's backward, or one half of its input gradient's rows, on a worker thread.</summary>");
            w.Open($"private sealed class DirectionsRunner : {Cs}IPartitionedForward<float>");
            w.Line("private readonly Trainer _trainer;");
            w.Line();
            w.Line("public DirectionsRunner(Trainer trainer) => _trainer = trainer;");
            w.Line();
            w.Line("/// <summary>The layer being run, and whether the parts are its directions (false) or halves of its input gradient's rows.</summary>");
            w.Line("public int Layer;");
            w.Line("public bool InputRows;");
            w.Line();
            w.Open($"public void RunPart(int part, {RoSpan} input, {Span} output, {RoSpan} initialState, {Span} finalState)");
            w.Open("if (InputRows)");
            w.Line("int rows = _trainer._workspace.Layout.Rows;");
            w.Line($"int first = {Cs}WorkerThreads.PartStart(rows, part, 2), count = {Cs}WorkerThreads.PartStart(rows, part + 1, 2) - first;");
            w.Open("switch (Layer)");
            for (int layer = 0; layer < m.Layers; layer++) w.Line($"case {Num(layer)}: _trainer.InputGradientRows{Num(layer)}(output, first, count); break;");
            w.Close();
            w.Line("return;");
            w.Close();
            w.Open("switch (Layer * 2 + part)");
            for (int layer = 0; layer < m.Layers; layer++)
            {
                for (int d = 0; d < 2; d++) w.Line($"case {Num(layer * 2 + d)}: _trainer.BackwardLayer{LayerId(layer, 0)}({Num(d)}, input, output, initialState, finalState); break;");
            }
            w.Close();
            w.Close();
            w.Close();
            w.Line();
        }

        /// <summary>The trainer's copy of the weights as backward multiplies by them (not transposed), in panels: (constant name, floats).</summary>
        private static List<(string Name, int Size)> WeightPanelBlocks(ModelSpec m)
        {
            var blocks = new List<(string, int)>();
            for (int layer = 0; layer < m.Layers; layer++)
            {
                for (int d = 0; d < m.Directions; d++)
                {
                    string id = LayerId(layer, d);
                    blocks.Add(($"PanelsIh{id}", PanelSize(m.LayerInputWidth(layer), m.GateWidth)));
                    blocks.Add(($"PanelsHh{id}", PanelSize(m.Hidden, m.GateWidth)));
                }
            }
            if (m.Output > 0) blocks.Add(("PanelsHead", PanelSize(m.LayerOutputWidth, m.Output)));
            return blocks;
        }

        private static void PackWeightPanels(SourceWriter w, ModelSpec m)
        {
            BlockOffsets(w, WeightPanelBlocks(m), "WeightPanelsSize");
            w.Line();
            w.Line("/// <summary>Copies the current weights into the panel layout the backward products read (Kernels.PackRowPanels).</summary>");
            w.Open("private void PackWeightPanels()");
            w.Line("for (int g = 0; g < PackGroups; g++) PackWeightPanelsGroup(g);");
            w.Line("_weightPanelsStale = false;");
            w.Close();
            w.Line();
            w.Line("/// <summary>Part <paramref name=\"group\"/> of PackWeightPanels (the groups of the model's Pack: one per layer" + (m.Output > 0 ? ", then the head" : "") + ").</summary>");
            w.Line(HotPath);
            w.Open("private void PackWeightPanelsGroup(int group)");
            w.Line($"{RoSpan} p = _model._parameters;");
            w.Line($"{Span} panels = new {Span}(_weightPanels, _weightPanelsStart, WeightPanelsSize);");
            w.Open("switch (group)");
            for (int layer = 0; layer < m.Layers; layer++)
            {
                w.Line($"case {Num(layer)}:");
                w.Open("");
                for (int d = 0; d < m.Directions; d++)
                {
                    string id = LayerId(layer, d);
                    int k = m.LayerInputWidth(layer);
                    w.Line($"{Cs}Kernels.PackRowPanels(p.Slice(WeightIh{id}, GateSize * {Num(k)}), GateSize, {Num(k)}, panels.Slice(PanelsIh{id}, {Num(PanelSize(k, m.GateWidth))}));");
                    w.Line($"{Cs}Kernels.PackRowPanels(p.Slice(WeightHh{id}, GateSize * HiddenSize), GateSize, HiddenSize, panels.Slice(PanelsHh{id}, {Num(PanelSize(m.Hidden, m.GateWidth))}));");
                }
                w.Line("break;");
                w.Close();
            }
            if (m.Output > 0) w.Line($"case {Num(m.Layers)}: {Cs}Kernels.PackRowPanels(p.Slice(HeadWeight, OutputSize * LayerWidth), OutputSize, LayerWidth, panels.Slice(PanelsHead, {Num(PanelSize(m.LayerOutputWidth, m.Output))})); break;");
            w.Close();
            w.Close();
            w.Line();
        }

        private static void AggregateTokens(SourceWriter w)
        {
            w.Line("/// <summary>");
            w.Line("/// Sums the rows of <paramref name=\"gradGates\"/> ([rows, GateSize], packed order) by the token each step read, into");
            w.Line("/// b.TokenGates, one row per distinct token in order of first appearance (b.TokenOfSlot), and copies each token's");
            w.Line("/// embedding row into b.TokenInputs. Returns the number of distinct tokens.");
            w.Line("/// </summary>");
            w.Open($"private int AggregateTokens({RoSpan} gradGates, int rows, Buffers b)");
            w.Line("int[] tokens = _workspace.Tokens;");
            w.Line("int[] slotOfToken = b.SlotOfToken, tokenOfSlot = b.TokenOfSlot;");
            w.Line($"{Span} sums = b.TokenGates;");
            w.Line("int slots = 0;");
            w.Open("for (int i = 0; i < rows; i++)");
            w.Line("int token = tokens[i], slot = slotOfToken[token];");
            w.Line($"{RoSpan} row = gradGates.Slice(i * GateSize, GateSize);");
            w.Open("if (slot < 0)");
            w.Line("slot = slots++;");
            w.Line("slotOfToken[token] = slot;");
            w.Line("tokenOfSlot[slot] = token;");
            w.Line("row.CopyTo(sums.Slice(slot * GateSize, GateSize));");
            w.Line($"new {RoSpan}(_workspace.Input, i * InputSize, InputSize).CopyTo(new {Span}(b.TokenInputs, slot * InputSize, InputSize));");
            w.Close();
            w.Line($"else {Cs}Kernels.AddTo(row, sums.Slice(slot * GateSize, GateSize));");
            w.Close();
            w.Line("for (int s = 0; s < slots; s++) slotOfToken[tokenOfSlot[s]] = -1;");
            w.Line("return slots;");
            w.Close();
            w.Line();
            w.Line("/// <summary>Adds each distinct token's dL/d(embedding row) of the last aggregation in <paramref name=\"b\"/> to the embedding's gradient.</summary>");
            w.Open("private void AddTokenGradients(Buffers b)");
            w.Line($"{Span} g = _model._gradients;");
            w.Line($"for (int s = 0; s < b.Slots; s++) {Cs}Kernels.AddTo(new {RoSpan}(b.TokenInputGrads, s * InputSize, InputSize), g.Slice(EmbeddingWeight + b.TokenOfSlot[s] * InputSize, InputSize));");
            w.Close();
            w.Line();
        }

        private static void Backward(SourceWriter w, ModelSpec m)
        {
            bool tokens = m.Vocabulary > 0;
            string layout = m.BatchFirst ? "[batch, steps" : "[steps, batch";
            string inputDoc = (tokens ? $"{layout}, InputSize]: receives dL/d(embedded inputs), zero at padded steps, or empty; the embedding's gradient goes to Gradients either way."
                                      : $"{layout}, InputSize] as the last Forward's input: receives dL/dinput, zero at padded steps, or empty when not needed (saves work).");
            w.Line("/// <summary>Backpropagation through time for the last Forward, with no gradient flowing into the final state.</summary>");
            w.Line($"/// <param name=\"outputGrad\">dL/doutput, laid out as the last Forward's output ({layout}, OutputSize]); padded positions are ignored.</param>");
            w.Line($"/// <param name=\"inputGrad\">{inputDoc}</param>");
            w.Line($"public void Backward({RoSpan} outputGrad, {Span} inputGrad) => Backward(outputGrad, inputGrad, default, default);");
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// Backpropagation through time for the last Forward: adds dL/dparameters to the model's Gradients (accumulating,");
            w.Line("/// like PyTorch's .grad), and writes dL/dinput and dL/dinitialState when asked. Padded steps contribute nothing.");
            w.Line("/// </summary>");
            w.Line($"/// <param name=\"outputGrad\">dL/doutput, laid out as the last Forward's output ({layout}, OutputSize]); padded positions are ignored.</param>");
            w.Line($"/// <param name=\"inputGrad\">{inputDoc}</param>");
            w.Line("/// <param name=\"finalStateGrad\">batch * StateSize floats: dL/dfinalState (e.g. from a decoder that started from this state), or empty for zeros.</param>");
            w.Line("/// <param name=\"initialStateGrad\">batch * StateSize floats: receives dL/dinitialState (to carry into an encoder or an earlier window), or empty.</param>");
            w.Line("/// <exception cref=\"global::System.InvalidOperationException\">No Forward has run on this trainer.</exception>");
            w.Line("/// <exception cref=\"global::System.ArgumentException\">A span length does not match the last Forward.</exception>");
            w.Open($"public void Backward({RoSpan} outputGrad, {Span} inputGrad, {RoSpan} finalStateGrad, {Span} initialStateGrad)");
            w.Line("if (!_ready) throw new global::System.InvalidOperationException(\"Backward needs a Forward on this trainer first.\");");
            w.Line($"{Cs}PackedSequences layout = _workspace.Layout;");
            w.Line("int steps = layout.Steps, batch = layout.Batch, rows = layout.Rows;");
            w.Comment("In 64 bits like Forward's checks (the trainer's sizes were checked to fit when it was created).");
            w.Line("long paddedRows = (long)steps * batch, stateFloats = (long)batch * StateSize;");
            w.Line($"if (outputGrad.Length != paddedRows * OutputSize) throw new {ArgumentException}(\"outputGrad has \" + outputGrad.Length + \" floats; expected \" + (paddedRows * OutputSize) + \" (\" + steps + \" steps * \" + batch + \" * OutputSize \" + OutputSize + \", as the last Forward's output).\", nameof(outputGrad));");
            w.Line($"if (!inputGrad.IsEmpty && inputGrad.Length != paddedRows * InputSize) throw new {ArgumentException}(\"inputGrad has \" + inputGrad.Length + \" floats; expected \" + (paddedRows * InputSize) + \" (\" + steps + \" steps * \" + batch + \" * InputSize \" + InputSize + \") or none.\", nameof(inputGrad));");
            w.Line($"if (!finalStateGrad.IsEmpty && finalStateGrad.Length != stateFloats) throw new {ArgumentException}(\"finalStateGrad has \" + finalStateGrad.Length + \" floats; expected \" + stateFloats + \" (batch * StateSize) or none.\", nameof(finalStateGrad));");
            w.Line($"if (!initialStateGrad.IsEmpty && initialStateGrad.Length != stateFloats) throw new {ArgumentException}(\"initialStateGrad has \" + initialStateGrad.Length + \" floats; expected \" + stateFloats + \" (batch * StateSize) or none.\", nameof(initialStateGrad));");
            w.Line($"{RoSpan} p = _model._parameters;");
            w.Line($"{Span} g = _model._gradients;");
            if (m.Bidirectional) w.Line("if (_weightPanelsStale) PackWeightPanels();");
            else
            {
                w.Comment("With Threads > 1 the weight panels are built in parts too (one layer, or the head, per part).");
                w.Line("int packParts = _weightPanelsStale ? global::System.Math.Min(_model.PartCount(batch, rows), PackGroups) : 1;");
                w.Open("if (packParts > 1)");
                w.Line("RunParts(PackPart, false, packParts, default, default);");
                w.Line("_weightPanelsStale = false;");
                w.Close();
                w.Line("else if (_weightPanelsStale) PackWeightPanels();");
            }
            if (m.Output > 0)
            {
                w.Comment("Head: dL/dh = dy W_head; dW_head += dyᵀ h; db_head += Σ dy, over the valid steps only" + (m.Bidirectional ? "." : " (with Threads > 1 in parts of the rows)."));
                w.Line($"layout.Gather(outputGrad, OutputSize, {Bool(m.BatchFirst)}, _gradOutput);");
                if (m.Bidirectional) w.Line("BackwardHead(0, 1);");
                else
                {
                    w.Line("int headParts = _model.PartCount(batch, rows);");
                    w.Line("if (headParts > 1) RunParts(HeadPart, false, headParts, default, default);");
                    w.Line("else BackwardHead(0, 1);");
                }
            }
            else
            {
                w.Line($"layout.Gather(outputGrad, LayerWidth, {Bool(m.BatchFirst)}, new {Span}({GradLayer(m.Layers - 1)}, 0, rows * LayerWidth));");
            }
            if (m.Bidirectional)
            {
                w.Comment("With the model's Threads > 1, each layer's two directions run at the same time, each in its own buffers (same bits).");
                w.Line("bool apart = _model._workers is not null && rows >= ThreadedMinSteps;");
            }
            for (int layer = m.Layers - 1; layer >= 0; layer--)
            {
                w.Comment($"Layer {Num(layer)}: from dL/d(its outputs) to dL/d(its inputs).");
                string gradOut = $"new {RoSpan}({GradLayer(layer)}, 0, rows * LayerWidth)";
                if (m.HasDropout && layer < m.Layers - 1)
                {
                    w.Comment($"Dropout: layer {Num(layer + 1)} read these outputs times the mask, so dL/d(outputs) = dL/d(its inputs) times the same mask.");
                    w.Line($"{Cs}Kernels.ApplyDropout({gradOut}, new {RoSpan}(_workspace.DropoutMask[{Num(layer)}], 0, rows * LayerWidth), new {Span}({GradLayer(layer)}, 0, rows * LayerWidth));");
                }
                string gradIn;
                if (layer > 0)
                {
                    gradIn = $"gradIn{Num(layer)}";
                    w.Line($"{Span} {gradIn} = new {Span}({GradLayer(layer - 1)}, 0, rows * LayerWidth);");
                    w.Line($"{gradIn}.Clear();");
                }
                else
                {
                    gradIn = "gradInput";
                    if (tokens) w.Comment("Without inputGrad, layer 0 sums its gate gradients per distinct token first (see AggregateTokens) and writes the embedding's gradient itself.");
                    w.Line($"{Span} gradInput = inputGrad.IsEmpty ? default : new {Span}(_gradInput, 0, rows * InputSize);");
                    w.Line("gradInput.Clear();");
                }
                if (m.Bidirectional)
                {
                    w.Line($"if (apart) BackwardDirections({Num(layer)}, false, {gradOut}, {gradIn}, finalStateGrad, initialStateGrad);");
                    w.Open("else");
                }
                for (int d = 0; d < m.Directions; d++)
                {
                    w.Line($"BackwardLayer{LayerId(layer, 0)}({(m.Bidirectional ? Num(d) + ", " : "")}{gradOut}, {gradIn}, finalStateGrad, initialStateGrad);");
                }
                if (m.Bidirectional)
                {
                    w.Close();
                    if (layer == 0 && tokens) w.Line("if (gradInput.IsEmpty) AddTokenGradients(_buffersReverse ?? _buffers); // the reverse direction's tokens, after the forward's");
                    w.Comment("dL/d(inputs), once each direction has buffers of its own: forward part, then reverse (two halves of the rows when apart).");
                    w.Open($"if (!{gradIn}.IsEmpty && _buffersReverse is not null)");
                    w.Line($"if (apart) BackwardDirections({Num(layer)}, true, default, {gradIn}, default, default);");
                    w.Line($"else InputGradientRows{Num(layer)}({gradIn}, 0, rows);");
                    w.Close();
                }
            }
            if (tokens)
            {
                w.Comment("Embedding (when layer 0 computed dL/d(inputs) row by row): each valid step's input gradient goes to its token's row.");
                w.Line($"if (!inputGrad.IsEmpty) for (int i = 0; i < rows; i++) {Cs}Kernels.AddTo(gradInput.Slice(i * InputSize, InputSize), g.Slice(EmbeddingWeight + _workspace.Tokens[i] * InputSize, InputSize));");
            }
            w.Line($"if (!inputGrad.IsEmpty) layout.Scatter(gradInput, InputSize, {Bool(m.BatchFirst)}, inputGrad);");
            w.Close();
            w.Line();
        }

        /// <summary>
        /// The column sums the W_hh gradient product adds up (its A is the gate gradients the hidden state sees): the
        /// shared bias gradient of LSTM and Elman cells (<c>b.BiasGrad</c>, added to both biases after), a GRU's b_hh
        /// gradient, or none without biases.
        /// </summary>
        private static string HiddenBiasSums(ModelSpec m, string biasHh) =>
            !m.Bias ? "default" : SharedBiasGradient(m) ? $"new {Span}(b.BiasGrad, 0, GateSize)" : $"g.Slice({biasHh}, GateSize)";

        /// <summary>The column sums the W_ih gradient product adds up: a GRU's b_ih gradient (the other cells share one sum, see <see cref="HiddenBiasSums"/>).</summary>
        private static string InputBiasSums(ModelSpec m, string biasIh) => m.Bias && !SharedBiasGradient(m) ? $"g.Slice({biasIh}, GateSize)" : "default";

        /// <summary>Part of the head's backward: dL/dh of some rows, and some rows of dW_head.</summary>
        private static void BackwardHead(SourceWriter w, ModelSpec m)
        {
            w.Line("/// <summary>Part <paramref name=\"part\"/> of <paramref name=\"parts\"/> of the head's backward: dL/dh = dy W_head of its packed rows, and its rows of dW_head += dyᵀ h (whole quads).</summary>");
            w.Line(HotPath);
            w.Open("private void BackwardHead(int part, int parts)");
            w.Line("int rows = _workspace.Layout.Rows;");
            w.Line($"int first = {Cs}WorkerThreads.PartStart(rows, part, parts), count = {Cs}WorkerThreads.PartStart(rows, part + 1, parts) - first;");
            w.Line($"{Span} gradTop = new {Span}({GradLayer(m.Layers - 1)}, first * LayerWidth, count * LayerWidth);");
            w.Line("gradTop.Clear();");
            w.Line($"{GemmPanelsName(m.Output, m.LayerOutputWidth, m.Output)}(new {RoSpan}(_weightPanels, _weightPanelsStart + PanelsHead, {Num(PanelSize(m.LayerOutputWidth, m.Output))}), default, new {RoSpan}(_gradOutput, first * OutputSize, count * OutputSize), OutputSize, count, gradTop, LayerWidth);");
            w.Line($"{Span} scratch = {(m.Bidirectional ? $"new {Span}(_buffers.GemmScratch, _buffers.GemmScratchStart, GemmScratchSize)" : $"part == 0 ? new {Span}(_buffers.GemmScratch, _buffers.GemmScratchStart, GemmScratchSize) : new {Span}(_partScratch[part - 1], _partScratchStart[part - 1], GemmScratchSize)")};");
            w.Line($"int r0 = {Cs}WorkerThreads.PartStart(OutputSize, part, parts, 4), r1 = {Cs}WorkerThreads.PartStart(OutputSize, part + 1, parts, 4); // whole quads of dW_head's rows");
            w.Line($"{GemmTNName(m.Output, m.LayerOutputWidth)}(_gradOutput, OutputSize, _workspace.Layer[{Num(m.Layers - 1)}], LayerWidth, rows, new {Span}(_model._gradients, HeadWeight, OutputSize * LayerWidth), new {Span}(_model._gradients, HeadBias, OutputSize), scratch, r0, r1); // and dL/db_head");
            w.Close();
            w.Line();
        }

        /// <summary>True when dL/db_ih = dL/db_hh (LSTM and Elman cells; a GRU's r multiplies only W_hh h + b_hh's n part).</summary>
        private static bool SharedBiasGradient(ModelSpec m) => m.Bias && m.Cell != Cell.Gru;

        private static string GradLayer(int layer) => layer % 2 == 0 ? "_gradLayerEven" : "_gradLayerOdd";

        /// <summary>
        /// Layer <paramref name="layer"/>'s backward methods; a bidirectional model's two directions share them: `d` (0
        /// forward, 1 reverse) picks the direction's weights, gradients, buffers, state row and half of y, and the order of time.
        /// </summary>
        private static void BackwardLayer(SourceWriter w, ModelSpec m, int layer)
        {
            string id = LayerId(layer, 0);
            bool bi = m.Bidirectional;
            string Of(string name) => bi ? $"(d == 0 ? {name}{LayerId(layer, 0)} : {name}{LayerId(layer, 1)})" : name + id;
            string dParam = bi ? "int d, " : "", dArg = bi ? "d, " : "";
            string row = bi ? (layer == 0 ? "d" : $"{Num(2 * layer)} + d") : Num(layer);
            int stateRows = m.Layers * m.Directions;
            int cols = m.LayerInputWidth(layer);
            string hOffset = bi ? " + d * HiddenSize" : "";
            bool lstm = m.Cell == Cell.Lstm;
            bool split = !m.Bidirectional; // with Threads > 1 a unidirectional layer runs in parts (PartsRunner)
            bool tokenLayer = layer == 0 && m.Vocabulary > 0;
            w.Line($"/// <summary>Backward through layer {Num(layer)}{(bi ? ", direction d" : "")}: its steps in reverse order, then its weights for every valid step at once.</summary>");
            w.Open($"private void BackwardLayer{id}({dParam}{RoSpan} gradOutput, {Span} gradInput, {RoSpan} finalStateGrad, {Span} initialStateGrad)");
            w.Line($"{Cs}PackedSequences layout = _workspace.Layout;");
            w.Line("int batch = layout.Batch, rows = layout.Rows;");
            if (SharedBiasGradient(m) || tokenLayer) w.Line($"{Span} g = _model._gradients;");
            w.Line(bi ? "Buffers b = d == 1 ? _buffersReverse ?? _buffers : _buffers; // the reverse direction's own when the directions may run apart" : "Buffers b = _buffers;");
            w.Line($"{RoSpan} initial = _hasInitialState ? new {RoSpan}(_initialState, 0, batch * StateSize) : default;");
            w.Line($"layout.GatherState(finalStateGrad, {row}, HiddenSize, b.DhNext);");
            w.Line($"layout.GatherState(initial, {row}, HiddenSize, b.H0);");
            if (lstm)
            {
                w.Line($"layout.GatherState(finalStateGrad.IsEmpty ? default : finalStateGrad.Slice({Num(stateRows)} * batch * HiddenSize), {row}, HiddenSize, b.DcNext);");
                w.Line($"layout.GatherState(initial.IsEmpty ? default : initial.Slice({Num(stateRows)} * batch * HiddenSize), {row}, HiddenSize, b.C0);");
            }
            // dL/d(inputs) row by row here, or (bidirectional, buffers of its own) by Backward after both directions.
            string dx = m.Bidirectional ? "!gradInput.IsEmpty && _buffersReverse is null" : "!gradInput.IsEmpty";
            string inputWeights = tokenLayer ? "!gradInput.IsEmpty" : "true";
            if (split)
            {
                w.Comment("With Threads > 1: the steps in parts of the sequences, then the weight gradients in parts of their rows (same bits).");
                w.Line("int parts = _model.PartCount(batch, rows);");
                w.Line($"if (parts > 1) RunParts({Num(layer)}, false, parts, gradOutput, gradInput);");
                w.Line($"else BackwardSteps({Num(layer)}, gradOutput, 0, batch);");
            }
            else w.Line($"BackwardSteps({Num(layer)}, {dArg}gradOutput, b, 0, batch);");
            w.Comment("dW_hh += dgatesᵀ h_{t-1} and dW_ih += dgatesᵀ x over every valid step at once (one product each, not one per step); dx += dgates W_ih.");
            if (m.Bias) w.Comment("The bias gradients are the sums of the same gate gradients over the rows: the products add them up as they read them.");
            if (SharedBiasGradient(m)) w.Line($"new {Span}(b.BiasGrad).Clear(); // b_ih and b_hh enter the gates the same way: one sum is the gradient of both");
            if (split)
            {
                w.Line($"if (parts > 1) RunParts({Num(layer)}, true, parts, gradOutput, gradInput);");
                w.Line($"else BackwardWeights{id}(gradInput, 0, 1);");
            }
            else w.Line($"BackwardWeights{id}({dArg}gradInput, b, new {Span}(b.GemmScratch, b.GemmScratchStart, GemmScratchSize), {inputWeights}, {dx});");
            if (tokenLayer) w.Line($"{RoSpan} dAll = new {RoSpan}(b.GradGates, 0, rows * GateSize);");
            if (SharedBiasGradient(m))
            {
                w.Line($"{Cs}Kernels.AddTo(b.BiasGrad, g.Slice({Of("BiasHh")}, GateSize));");
                w.Line($"{Cs}Kernels.AddTo(b.BiasGrad, g.Slice({Of("BiasIh")}, GateSize));");
            }
            w.Line($"layout.ScatterState(b.DhNext, {row}, HiddenSize, initialStateGrad);");
            if (lstm) w.Line($"layout.ScatterState(b.DcNext, {row}, HiddenSize, initialStateGrad.IsEmpty ? default : initialStateGrad.Slice({Num(stateRows)} * batch * HiddenSize));");
            if (tokenLayer)
            {
                string panelsIh = $"new {RoSpan}(_weightPanels, _weightPanelsStart + {Of("PanelsIh")}, {Num(PanelSize(cols, m.GateWidth))})";
                w.Comment("Token inputs and no inputGrad wanted: every step that read token v had input embedding[v], so the same three products");
                w.Comment("run over the distinct tokens of the batch (at most VocabularySize rows) on their summed gate gradients.");
                w.Open("if (gradInput.IsEmpty)");
                w.Line("int slots = AggregateTokens(dAll, rows, b);");
                w.Line($"{RoSpan} tokenGates = new {RoSpan}(b.TokenGates, 0, slots * GateSize);");
                w.Line($"{GemmTNName(m.GateWidth, cols)}(tokenGates, GateSize, b.TokenInputs, InputSize, slots, g.Slice({Of("WeightIh")}, GateSize * {Num(cols)}), default, new {Span}(b.GemmScratch, b.GemmScratchStart, GemmScratchSize));");
                if (m.Bias && !SharedBiasGradient(m)) w.Line($"{Cs}Kernels.SumRowsAdd(tokenGates, GateSize, slots, g.Slice({Of("BiasIh")}, GateSize));");
                w.Line($"{Span} tokenInputGrads = new {Span}(b.TokenInputGrads, 0, slots * InputSize); // dL/d(embedding row) per distinct token");
                w.Line("tokenInputGrads.Clear();");
                w.Line($"{GemmPanelsName(m.GateWidth, cols, m.GateWidth)}({panelsIh}, default, tokenGates, GateSize, slots, tokenInputGrads, InputSize);");
                w.Line("b.Slots = slots;");
                if (bi)
                {
                    w.Comment("The reverse direction's part of the embedding's gradient: Backward adds it once the forward direction's is in (the two may run at the same time).");
                    w.Line("if (d == 0) AddTokenGradients(b);");
                }
                else w.Line("AddTokenGradients(b);");
                w.Close();
            }
            w.Close();
            w.Line();

            // The steps: for sequences [first, first + count) of the length order. Every layer's are the same but for the
            // state row, the layer's output and its W_hh: one method, emitted with layer 0's.
            if (layer == 0)
            {
                string stateRow = bi ? "2 * layer + d" : "layer";
                w.Line("/// <summary>The offset of each state row's W_hh in the weight panels (rows: layer by layer, forward then reverse).</summary>");
                w.Line($"private static readonly int[] s_panelsHh = {{ {string.Join(", ", Enumerable.Range(0, m.Layers * m.Directions).Select(r => "PanelsHh" + LayerId(r / m.Directions, r % m.Directions)))} }};");
                w.Line();
                w.Line($"/// <summary>Layer <paramref name=\"layer\"/>'s steps{(bi ? " in direction d" : "")} in reverse order for the sequences [first, first + count) of the length order: dL/d(gates) of each of their rows, and h_{{t-1}} for dW_hh.</summary>");
                w.Line(HotPath);
                w.Open(split
                    ? $"private void BackwardSteps(int layer, {RoSpan} gradOutput, int first, int count)"
                    : $"private void BackwardSteps(int layer, {dParam}{RoSpan} gradOutput, Buffers b, int first, int count)");
                w.Line($"int row = {stateRow};");
                w.Line($"{Cs}PackedSequences layout = _workspace.Layout;");
                w.Line("int steps = layout.Steps;");
                if (split) w.Line("Buffers b = _buffers;");
                w.Line($"{RoSpan} activations = _workspace.Projection[row];");
                w.Line($"{RoSpan} y = _workspace.Layer[layer];");
                w.Line($"{Span} gradGates = b.GradGates;");
                w.Line($"{Span} dh = new {Span}(b.Dh, first * HiddenSize, count * HiddenSize);");
                w.Line($"{Span} dhNext = new {Span}(b.DhNext, first * HiddenSize, count * HiddenSize);");
                w.Line($"{Span} hPrevious = b.HPrevious;");
                w.Line($"{RoSpan} h0 = new {RoSpan}(b.H0, first * HiddenSize, count * HiddenSize);");
                if (lstm)
                {
                    w.Line($"{Span} dcNext = new {Span}(b.DcNext, first * HiddenSize, count * HiddenSize);");
                    w.Line($"{Span} cPrevious = new {Span}(b.CPrevious, first * HiddenSize, count * HiddenSize);");
                    w.Line($"{RoSpan} c0 = new {RoSpan}(b.C0, first * HiddenSize, count * HiddenSize);");
                    w.Line($"{RoSpan} cells = _workspace.CellStates[row];");
                }
                w.Line($"{RoSpan} weightHh = new {RoSpan}(_weightPanels, _weightPanelsStart + s_panelsHh[row], {Num(PanelSize(m.Hidden, m.GateWidth))});");
                w.Open("for (int k = 0; k < steps; k++)");
                if (bi)
                {
                    w.Line("int t = d == 0 ? steps - 1 - k : k;");
                    w.Line("int previous = d == 0 ? t - 1 : t + 1; // the step this one started from (the reverse direction's time runs backwards)");
                }
                else
                {
                    w.Line("int t = steps - 1 - k;");
                    w.Line("int previous = t - 1; // the step this one started from");
                }
                w.Line("int n = layout.BatchSize(t) - first;");
                w.Line("if (n > count) n = count;");
                w.Line("if (n <= 0) continue; // none of these sequences runs at this step");
                w.Line("int offset = layout.Offset(t) + first; // the first of these sequences' rows at step t");
                w.Line("int previousCount = previous >= 0 && previous < steps ? layout.BatchSize(previous) - first : 0;");
                w.Line("int previousOffset = previousCount > 0 ? layout.Offset(previous) + first : 0;");
                w.Comment("h_{t-1} (and c_{t-1}) of each running sequence: the previous step's output, or the initial state where the sequence starts here.");
                w.Open("for (int j = 0; j < n; j++)");
                w.Line($"{Span} hp = hPrevious.Slice((offset + j) * HiddenSize, HiddenSize);");
                w.Line($"if (j < previousCount) y.Slice((previousOffset + j) * LayerWidth{hOffset}, HiddenSize).CopyTo(hp); else h0.Slice(j * HiddenSize, HiddenSize).CopyTo(hp);");
                if (lstm)
                {
                    w.Line($"{Span} cp = cPrevious.Slice(j * HiddenSize, HiddenSize);");
                    w.Line($"if (j < previousCount) cells.Slice((previousOffset + j) * HiddenSize, HiddenSize).CopyTo(cp); else c0.Slice(j * HiddenSize, HiddenSize).CopyTo(cp);");
                }
                w.Line($"{Cs}Kernels.Add(gradOutput.Slice((offset + j) * LayerWidth{hOffset}, HiddenSize), dhNext.Slice(j * HiddenSize, HiddenSize), dh.Slice(j * HiddenSize, HiddenSize));");
                w.Line($"{Span} dGates = gradGates.Slice((offset + j) * GateSize, GateSize);");
                w.Line($"{RoSpan} gateRow = activations.Slice((offset + j) * GateSize, GateSize);");
                switch (m.Cell)
                {
                    case Cell.Lstm:
                        w.Line($"{Cs}Kernels.LstmCellBackward(gateRow, cPrevious.Slice(j * HiddenSize, HiddenSize), new {RoSpan}(_workspace.TanhCellStates[row], (offset + j) * HiddenSize, HiddenSize), dh.Slice(j * HiddenSize, HiddenSize), dcNext.Slice(j * HiddenSize, HiddenSize), dGates);");
                        break;
                    case Cell.Gru:
                        w.Line($"{Cs}Kernels.GruCellBackward(gateRow, new {RoSpan}(_workspace.HiddenGates[row], (offset + j) * GateSize, GateSize), hp, dh.Slice(j * HiddenSize, HiddenSize), dGates, new {Span}(b.GradHiddenGates, (offset + j) * GateSize, GateSize), dhNext.Slice(j * HiddenSize, HiddenSize));");
                        break;
                    default:
                        w.Line($"{Cs}Kernels.{(m.Relu ? "Relu" : "Tanh")}Backward(gateRow, dh.Slice(j * HiddenSize, HiddenSize), dGates);");
                        break;
                }
                w.Close();
                string dHidden = m.Cell == Cell.Gru ? $"new {RoSpan}(b.GradHiddenGates, offset * GateSize, n * GateSize)" : "gradGates.Slice(offset * GateSize, n * GateSize)";
                w.Comment("dh_{t-1} " + (m.Cell == Cell.Gru ? "+" : "") + "= dgates W_hh (dW_hh waits for every step: BackwardWeights).");
                w.Line($"{RoSpan} dHidden = {dHidden};");
                if (m.Cell != Cell.Gru) w.Line("dhNext.Slice(0, n * HiddenSize).Clear();");
                w.Line($"{GemmPanelsName(m.GateWidth, m.Hidden, m.GateWidth)}(weightHh, default, dHidden, GateSize, n, dhNext, HiddenSize);");
                w.Close();
                w.Close();
                w.Line();
            }

            // The weight products: rows [r0, r1) of dW (part of parts), and dx rows of the part.
            string x = layer == 0 ? "_workspace.Input" : m.HasDropout ? $"_workspace.Dropped[{Num(layer - 1)}]" : $"_workspace.Layer[{Num(layer - 1)}]"; // what the layer read
            string panels = $"new {RoSpan}(_weightPanels, _weightPanelsStart + {Of("PanelsIh")}, {Num(PanelSize(cols, m.GateWidth))})";
            if (split)
            {
                w.Line($"/// <summary>Part <paramref name=\"part\"/> of <paramref name=\"parts\"/> of layer {Num(layer)}'s weight products: its rows of dW_hh and dW_ih (whole quads), and its packed rows of dx.</summary>");
                w.Line(HotPath);
                w.Open($"private void BackwardWeights{id}({Span} gradInput, int part, int parts)");
                w.Line("int rows = _workspace.Layout.Rows;");
                w.Line($"{Span} g = _model._gradients;");
                w.Line("Buffers b = _buffers;");
                w.Line($"{Span} scratch = part == 0 ? new {Span}(b.GemmScratch, b.GemmScratchStart, GemmScratchSize) : new {Span}(_partScratch[part - 1], _partScratchStart[part - 1], GemmScratchSize);");
                w.Line($"int r0 = {Cs}WorkerThreads.PartStart(GateSize, part, parts, 4), r1 = {Cs}WorkerThreads.PartStart(GateSize, part + 1, parts, 4); // whole quads of dW's rows");
                w.Line($"int first = {Cs}WorkerThreads.PartStart(rows, part, parts), count = {Cs}WorkerThreads.PartStart(rows, part + 1, parts) - first;");
            }
            else
            {
                w.Line($"/// <summary>Layer {Num(layer)}'s weight products{(bi ? " in direction d" : "")} over every valid step: dW_hh, dW_ih when <paramref name=\"inputWeights\"/>, and dx when <paramref name=\"dx\"/>.</summary>");
                w.Line(HotPath);
                w.Open($"private void BackwardWeights{id}({dParam}{Span} gradInput, Buffers b, {Span} scratch, bool inputWeights, bool dx)");
                w.Line("int rows = _workspace.Layout.Rows;");
                w.Line($"{Span} g = _model._gradients;");
            }
            w.Line($"{RoSpan} dHiddenAll = {(m.Cell == Cell.Gru ? $"new {RoSpan}(b.GradHiddenGates, 0, rows * GateSize)" : $"new {RoSpan}(b.GradGates, 0, rows * GateSize)")};");
            w.Line($"{RoSpan} dAll = new {RoSpan}(b.GradGates, 0, rows * GateSize);");
            if (split)
            {
                w.Line($"{GemmTNName(m.GateWidth, m.Hidden)}(dHiddenAll, GateSize, b.HPrevious, HiddenSize, rows, g.Slice({Of("WeightHh")}, GateSize * HiddenSize), {HiddenBiasSums(m, Of("BiasHh"))}, scratch, r0, r1);");
                w.Line($"{(tokenLayer ? "if (!gradInput.IsEmpty) " : "")}{GemmTNName(m.GateWidth, cols)}(dAll, GateSize, {x}, {Num(cols)}, rows, g.Slice({Of("WeightIh")}, GateSize * {Num(cols)}), {InputBiasSums(m, Of("BiasIh"))}, scratch, r0, r1);");
                w.Line($"if (!gradInput.IsEmpty) {GemmPanelsName(m.GateWidth, cols, m.GateWidth)}({panels}, default, dAll.Slice(first * GateSize), GateSize, count, gradInput.Slice(first * {Num(cols)}), {Num(cols)});");
            }
            else
            {
                w.Line($"{GemmTNName(m.GateWidth, m.Hidden)}(dHiddenAll, GateSize, b.HPrevious, HiddenSize, rows, g.Slice({Of("WeightHh")}, GateSize * HiddenSize), {HiddenBiasSums(m, Of("BiasHh"))}, scratch);");
                w.Line($"if (inputWeights) {GemmTNName(m.GateWidth, cols)}(dAll, GateSize, {x}, {Num(cols)}, rows, g.Slice({Of("WeightIh")}, GateSize * {Num(cols)}), {InputBiasSums(m, Of("BiasIh"))}, scratch);");
                w.Line($"if (dx) {GemmPanelsName(m.GateWidth, cols, m.GateWidth)}({panels}, default, dAll, GateSize, rows, gradInput, {Num(cols)});");
            }
            w.Close();
            w.Line();
        }

        /// <summary>A unidirectional layer's backward in parts on the model's worker threads, and the runner that does it.</summary>
        private static void BackwardParts(SourceWriter w, ModelSpec m)
        {
            w.Line("/// <summary>");
            w.Line("/// Runs layer <paramref name=\"layer\"/>'s backward steps in <paramref name=\"parts\"/> parts of the sequences, or (with");
            w.Line("/// <paramref name=\"weights\"/>) its weight products in parts of the rows of dW and dx; with HeadPart the head's");
            w.Line("/// backward in parts of its rows, with PackPart the weight panels' groups; on the model's worker threads.");
            w.Line("/// </summary>");
            w.Open($"private void RunParts(int layer, bool weights, int parts, {RoSpan} gradOutput, {Span} gradInput)");
            w.Comment("Allocates only when Threads was raised after CreateTrainer (the constructor allocates them otherwise).");
            w.Line("if (_partScratch.Length < parts - 1) AllocatePartScratch(parts);");
            w.Line("_runner ??= new PartsRunner(this);");
            w.Line("_runner.Layer = layer;");
            w.Line("_runner.Weights = weights;");
            w.Line("_runner.Parts = parts;");
            w.Line("_model._workers!.Run<float>(_runner, parts, gradOutput, gradInput, default, default);");
            w.Close();
            w.Line();
            w.Line("/// <summary>One block of GemmScratch for each part but the first (which uses the buffers' own).</summary>");
            w.Open("private void AllocatePartScratch(int parts)");
            w.Line("var scratch = new float[parts - 1][];");
            w.Line("var start = new int[parts - 1];");
            w.Line($"for (int i = 0; i < parts - 1; i++) scratch[i] = {Cs}Kernels.AlignedArray(GemmScratchSize, out start[i]);");
            w.Line("_partScratch = scratch;");
            w.Line("_partScratchStart = start;");
            w.Close();
            w.Line();
            w.Line("/// <summary>Runs one part of a layer's threaded backward (RunParts).</summary>");
            w.Open($"private sealed class PartsRunner : {Cs}IPartitionedForward<float>");
            w.Line("private readonly Trainer _trainer;");
            w.Line();
            w.Line("public PartsRunner(Trainer trainer) => _trainer = trainer;");
            w.Line();
            w.Line("/// <summary>Set while a layer runs: which layer (or HeadPart, PackPart), which phase (steps or weight products), into how many parts.</summary>");
            w.Line("public int Layer, Parts;");
            w.Line("public bool Weights;");
            w.Line();
            w.Open($"public void RunPart(int part, {RoSpan} input, {Span} output, {RoSpan} initialState, {Span} finalState)");
            w.Open("if (Layer == PackPart) // the weight panels' groups");
            w.Line("for (int g = part; g < PackGroups; g += Parts) _trainer.PackWeightPanelsGroup(g);");
            w.Line("return;");
            w.Close();
            if (m.Output > 0)
            {
                w.Open("if (Layer == HeadPart)");
                w.Line("_trainer.BackwardHead(part, Parts);");
                w.Line("return;");
                w.Close();
            }
            w.Open("if (Weights)");
            w.Open("switch (Layer)");
            for (int layer = 0; layer < m.Layers; layer++) w.Line($"case {Num(layer)}: _trainer.BackwardWeights{LayerId(layer, 0)}(output, part, Parts); break;");
            w.Close();
            w.Line("return;");
            w.Close();
            w.Line($"{Cs}PackedSequences layout = _trainer._workspace.Layout;");
            w.Line("int first = layout.SequencePartStart(part, Parts), count = layout.SequencePartStart(part + 1, Parts) - first;");
            w.Line("_trainer.BackwardSteps(Layer, input, first, count);");
            w.Close();
            w.Close();
            w.Line();
        }
    }
}
