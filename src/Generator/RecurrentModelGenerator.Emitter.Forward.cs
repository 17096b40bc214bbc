using System.Collections.Generic;
using RnnGen.Generator.Model;

namespace RnnGen.Generator;

public sealed partial class RecurrentModelGenerator
{
    internal static partial class Emitter
    {
        private const string IntSpan = "global::System.ReadOnlySpan<int>";
        private const string ArgumentException = "global::System.ArgumentException";

        private static string InputType(ModelSpec m) => m.Vocabulary > 0 ? IntSpan : RoSpan;

        private static string InputName(ModelSpec m) => m.Vocabulary > 0 ? "tokens" : "input";

        private static string InputDoc(ModelSpec m) => m.Vocabulary > 0
            ? "<param name=\"tokens\">Token ids, one per step, each in [0, VocabularySize).</param>"
            : "<param name=\"input\">[steps, InputSize] row-major; steps = input.Length / InputSize.</param>";

        private static string BatchInputDoc(ModelSpec m)
        {
            string layout = m.BatchFirst ? "[batch, steps" : "[steps, batch";
            return m.Vocabulary > 0
                ? $"<param name=\"tokens\">Token ids {layout}], padded; ids at padded positions are never read.</param>"
                : $"<param name=\"input\">{layout}, InputSize] row-major, padded; padded positions are never read.</param>";
        }

        private static string StateLayoutText(ModelSpec m, string batch) =>
            $"h [NumLayers*NumDirections, {batch}, HiddenSize]" + (m.Cell == Cell.Lstm ? $" then c in the same layout" : "");

        private static void Fields(SourceWriter w, ModelSpec m)
        {
            w.Line("private readonly float[] _parameters = new float[ParameterCount];");
            w.Line("private float[]? _gradients; // allocated by the first use of Gradients or CreateTrainer");
            w.Line("private Workspace _workspace = new Workspace(1, 1, training: false); // Forward's buffers, grown on demand (see Reserve)");
            w.Line("private float[] _packed = global::System.Array.Empty<float>(); // transposed weights inference reads, built by Pack, from _packedStart on");
            w.Line("private int _packedStart; // where the 64-byte-aligned copy starts in _packed (Kernels.AlignedArray)");
            w.Line("private bool _packedStale = true; // set by every access to the parameters");
            w.Line($"private {Cs}WorkerThreads? _workers; // the threads a batch Forward may use, when Threads > 1");
            w.Line("private Workspace[] _parts = global::System.Array.Empty<Workspace>(); // per part of a batch Forward run on the workers");
            w.Line("private PartRunner? _partRunner;");
            if (!m.Bidirectional) w.Line("private SplitRunner? _splitRunner; // runs a trainer's layer in parts (Threads > 1)");
            if (m.Half)
            {
                w.Line("private ushort[] _packedHalf = global::System.Array.Empty<ushort>(); // bfloat16 copy of the layer weights Step reads, built by PackHalf, from _packedHalfStart on");
                w.Line(HalfColumns(m) > 0
                    ? "private int _packedHalfStart; // where the 64-byte-aligned bfloat16 copy starts (Kernels.AlignedHalfArray)"
                    : "private readonly int _packedHalfStart = 0; // the gate width is below one chunk of 32: the bfloat16 copy stays empty");
                w.Line("private bool _halfStale = true; // set by Pack: only inference reads the bfloat16 copy, so training does not rebuild it");
            }
            if (m.Int8)
            {
                w.Line("private sbyte[] _int8 = global::System.Array.Empty<sbyte>(); // int8 copies of the weights inference reads (Kernels.QuantizeInt8), built by PackInt8");
                w.Line("private readonly float[] _int8Scales = new float[Int8ScaleCount]; // their scales, one per output row");
                w.Line("private bool _int8Stale = true; // set by Pack: only inference reads the int8 copies, so training does not rebuild them");
            }
            if (!m.Bidirectional)
            {
                w.Line("private readonly float[] _state = new float[StateSize]; // Step's own state");
                if (m.Cell != Cell.Gru) w.Line($"private readonly float[] _stepXh = new float[{Num(MaxStepInput(m))}]; // [x; h] of one layer");
                w.Line("private float[] _stepGates = new float[GateSize]; // [agents, GateSize]");
                w.Line("private bool _stepReverse; // single-stream Step walks its weight blocks last to first every other call, so the blocks it read last are still in cache (same results)");
                if (m.Cell == Cell.Lstm) w.Line("private float[] _stepTanhC = new float[HiddenSize]; // [agents, HiddenSize]");
                if (m.Cell == Cell.Gru) w.Line("private float[] _stepHidden = new float[GateSize]; // [agents, GateSize]: W_hh h + b_hh");
            }
            w.Line();
        }

        private static void Reserve(SourceWriter w, ModelSpec m)
        {
            w.Line("/// <summary>");
            w.Line("/// Makes room for batches of up to <paramref name=\"maxBatch\"/> sequences of up to <paramref name=\"maxSteps\"/> steps" + (m.Bidirectional ? "" : " (and multi-agent Step of up to <paramref name=\"maxBatch\"/> agents)"));
            w.Line("/// so that Forward never allocates. Forward grows its buffers itself when a larger batch comes; call this up front");
            w.Line("/// to keep even the first call allocation-free.");
            w.Line("/// </summary>");
            w.Line("/// <exception cref=\"global::System.ArgumentOutOfRangeException\">A count is less than 1, or the buffers would hold more than an array can.</exception>");
            w.Open("public void Reserve(int maxSteps, int maxBatch = 1)");
            w.Line("if (maxSteps < 1) throw new global::System.ArgumentOutOfRangeException(nameof(maxSteps), maxSteps, \"maxSteps must be at least 1.\");");
            w.Line("if (maxBatch < 1) throw new global::System.ArgumentOutOfRangeException(nameof(maxBatch), maxBatch, \"maxBatch must be at least 1.\");");
            w.Line("ReserveCore(maxSteps, maxBatch, nameof(maxSteps), nameof(maxBatch));");
            w.Close();
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// Reserve for counts already checked to be at least 1, naming <paramref name=\"stepsName\"/> or <paramref name=\"batchName\"/>");
            w.Line("/// when the buffers would not fit in arrays. Every size is checked and every buffer allocated into a local before any");
            w.Line("/// is swapped in, so a Reserve that throws (even out of memory) leaves the model as it was.");
            w.Line("/// </summary>");
            w.Open("private void ReserveCore(int maxSteps, int maxBatch, string stepsName, string batchName)");
            w.Line("int steps = global::System.Math.Max(maxSteps, _workspace.StepCapacity), batch = global::System.Math.Max(maxBatch, _workspace.BatchCapacity);");
            w.Line("CheckRows(steps, batch, maxSteps > _workspace.StepCapacity ? stepsName : batchName, batchName);");
            w.Line("Workspace workspace = steps > _workspace.StepCapacity || batch > _workspace.BatchCapacity");
            w.Line($"    ? new Workspace(steps, batch, training: false{(m.Bidirectional ? ", directionsApart: _workers is not null" : "")})");
            w.Line("    : _workspace;");
            w.Line("float[] packed = _packed;");
            w.Line("int packedStart = _packedStart;");
            w.Line($"if (packed.Length == 0) packed = {Cs}Kernels.AlignedArray(PackedSize, out packedStart);");
            bool half = m.Half && HalfColumns(m) > 0;
            if (half)
            {
                w.Line("ushort[] packedHalf = _packedHalf;");
                w.Line("int packedHalfStart = _packedHalfStart;");
                w.Line($"if (packedHalf.Length == 0) packedHalf = {Cs}Kernels.AlignedHalfArray(HalfSize, out packedHalfStart);");
            }
            if (!m.Bidirectional)
            {
                w.Line("bool growAgents = maxBatch > _stepGates.Length / GateSize;");
                foreach ((string field, string width) in AgentBuffers(m)) w.Line($"float[] {Local(field)} = growAgents ? new float[maxBatch * {width}] : {field};");
            }
            w.Line("Workspace[] parts = PartsFor(workspace, _workers);");
            w.Comment("Everything is allocated: swap it in.");
            w.Line("_workspace = workspace;");
            w.Line("_packed = packed;");
            w.Line("_packedStart = packedStart;");
            if (half)
            {
                w.Line("_packedHalf = packedHalf;");
                w.Line("_packedHalfStart = packedHalfStart;");
            }
            if (!m.Bidirectional) foreach ((string field, _) in AgentBuffers(m)) w.Line($"{field} = {Local(field)};");
            w.Line("_parts = parts;");
            w.Close();
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// Throws unless buffers for <paramref name=\"steps\"/> x <paramref name=\"batch\"/> packed rows fit in arrays, naming");
            w.Line("/// <paramref name=\"batchName\"/> when the batch alone is too large, else <paramref name=\"stepsName\"/>. The bounds are divided");
            w.Line("/// down instead of the sizes multiplied up, so no product can wrap around and size a buffer too small.");
            w.Line("/// </summary>");
            w.Open("private static void CheckRows(int steps, int batch, string stepsName, string batchName)");
            w.Line("bool batchTooLarge = batch > MaxArrayLength / WidestRow || batch > MaxArrayLength / StateSize;");
            w.Line("if (batchTooLarge || (long)steps * batch > MaxArrayLength / WidestRow)");
            w.Line("    throw new global::System.ArgumentOutOfRangeException(batchTooLarge ? batchName : stepsName, steps + \" steps x \" + batch + \" sequences need buffers of more floats than an array holds: at most \" + (MaxArrayLength / WidestRow) + \" packed rows (steps x sequences) of \" + WidestRow + \" floats, and at most \" + (MaxArrayLength / StateSize) + \" sequences of StateSize \" + StateSize + \".\");");
            w.Close();
            w.Line();
            Threads(w, m);
            if (!m.Bidirectional)
            {
                w.Line("/// <summary>Grows Step's scratch rows to <paramref name=\"agents\"/> agents (checked to fit: see Step); all or nothing.</summary>");
                w.Open("private void ReserveAgents(int agents)");
                w.Line("if (agents <= _stepGates.Length / GateSize) return;");
                foreach ((string field, string width) in AgentBuffers(m)) w.Line($"float[] {Local(field)} = new float[agents * {width}];");
                foreach ((string field, _) in AgentBuffers(m)) w.Line($"{field} = {Local(field)};");
                w.Close();
                w.Line();
            }
        }

        /// <summary>The widest per-row buffer of a workspace or a trainer: input, gates, layer outputs, head outputs.</summary>
        private static int WidestRow(ModelSpec m) => System.Math.Max(System.Math.Max(m.Input, m.GateWidth), System.Math.Max(m.LayerOutputWidth, m.OutputWidth));

        /// <summary>Step's per-agent scratch arrays (field, floats per agent); _stepGates first.</summary>
        private static List<(string Field, string Width)> AgentBuffers(ModelSpec m)
        {
            var buffers = new List<(string, string)> { ("_stepGates", "GateSize") };
            if (m.Cell == Cell.Lstm) buffers.Add(("_stepTanhC", "HiddenSize"));
            if (m.Cell == Cell.Gru) buffers.Add(("_stepHidden", "GateSize"));
            return buffers;
        }

        /// <summary>The local that holds a field's new value before it is swapped in: _stepGates → stepGates.</summary>
        private static string Local(string field) => field.TrimStart('_');

        /// <summary>
        /// Least arithmetic (floating-point operations over the whole batch) for which a batch Forward is split across
        /// threads: below it the hand-over to the worker threads costs about what it saves. Measured on the benchmark
        /// machine (2 cores, LSTM 32→64 at batch 8, wall clock, back-to-back calls): 1.06× at 0.4 MFLOP (12 µs on one
        /// thread), 1.4× at 0.8–1.6, 1.6–1.7× from 3 MFLOP on. Any batch of two or more sequences gains above it, down to
        /// one sequence per part (each core then streams the weights from its own L2): configuration 2 at batch 2 1.7×.
        /// </summary>
        internal const long MinPartFlops = 500_000;

        /// <summary>Floating-point operations per packed row (one step of one sequence) of Forward: every layer's and direction's products and the head.</summary>
        internal static long RowFlops(ModelSpec m)
        {
            long flops = 0;
            for (int layer = 0; layer < m.Layers; layer++) flops += 2L * m.Directions * m.GateWidth * (m.LayerInputWidth(layer) + m.Hidden);
            if (m.Output > 0) flops += 2L * m.Output * m.LayerOutputWidth;
            return flops;
        }

        /// <summary>The Threads property and the parts of a threaded batch Forward.</summary>
        private static void Threads(SourceWriter w, ModelSpec m)
        {
            string name = m.Name;
            string input = m.Vocabulary > 0 ? "int" : "float";
            w.Line("/// <summary>");
            if (m.Bidirectional)
            {
                w.Line("/// Threads a Forward may use (default 1: everything on the calling thread). With 2 or 3, the two directions of each");
                w.Line("/// layer run at the same time (forward on the calling thread, reverse on a background thread this model starts and");
                w.Line("/// keeps waiting between calls), one sequence or a batch, once it has at least <see cref=\"ThreadedMinSteps\"/> valid");
                w.Line("/// steps in all. With 4 or more, a batch of two or more sequences is split instead into up to Threads parts of");
                w.Line("/// whole sequences (dealt out in length order, so each part gets long and short ones) that run at the same time.");
            }
            else
            {
                w.Line("/// Threads a batch Forward may use (default 1: everything on the calling thread). With more, a batch of two or more");
                w.Line("/// sequences and at least <see cref=\"ThreadedMinSteps\"/> valid steps in all is split into up to Threads parts");
                w.Line("/// of whole sequences (dealt out in length order, so each part gets long and short ones) that run at the same time:");
                w.Line("/// part 0 on the calling thread, the others on background threads this model starts and keeps waiting between calls.");
            }
            if (m.Bidirectional)
            {
                w.Line("/// A trainer's Forward and Backward run each layer's directions at the same time too (create the trainer after setting");
                w.Line("/// Threads, or its first threaded Backward allocates the reverse direction's buffers). Results are identical to one");
                w.Line("/// thread's, to the bit.");
            }
            else
            {
                w.Line("/// A multi-agent Step of at least <see cref=\"ThreadedMinSteps\"/> agents is split the same way, into runs of agents. A");
                w.Line("/// trainer's Forward and Backward run in parts too: each layer's input projection and weight gradients in parts of");
                w.Line("/// their rows, its recurrence in runs of whole sequences with about equal numbers of steps (create the trainer after");
                w.Line("/// setting Threads, or its first threaded Backward allocates a weight-gradient scratch block per extra part).");
                w.Line("/// Results are identical to one thread's, to the bit. Single-stream Step always runs on the calling thread.");
            }
            w.Line("/// Setting it allocates the threads and one set of Forward buffers per part" + (m.Bidirectional ? " (or direction)" : "") + "; set it back to 1 to stop");
            w.Line("/// the threads (they also end when the model is collected). A model is still not safe to use from several threads at");
            w.Line("/// a time.");
            w.Line("/// </summary>");
            w.Line("/// <exception cref=\"global::System.ArgumentOutOfRangeException\">The value is less than 1 or more than 64.</exception>");
            w.Open("public int Threads");
            w.Line("get => _workers?.Count ?? 1;");
            w.Open("set");
            w.Line("if (value < 1 || value > 64) throw new global::System.ArgumentOutOfRangeException(nameof(value), value, \"Threads must be 1 to 64.\");");
            w.Line("if (value == Threads) return;");
            w.Comment("The new threads and buffers are made first and swapped in last, so a setter that throws leaves the model as it was.");
            w.Line($"{Cs}WorkerThreads? workers = null;");
            w.Open("try");
            w.Line($"if (value > 1) workers = new {Cs}WorkerThreads(value);");
            if (m.Bidirectional)
            {
                w.Comment("Forward's buffers: one set per direction with threads (the directions run at the same time), one shared without.");
                w.Line("Workspace workspace = new Workspace(_workspace.StepCapacity, _workspace.BatchCapacity, training: false, directionsApart: workers is not null);");
            }
            else w.Line("Workspace workspace = _workspace;");
            w.Line("Workspace[] parts = PartsFor(workspace, workers);");
            w.Open("if (workers is not null)");
            w.Line("_partRunner ??= new PartRunner(this);");
            if (!m.Bidirectional) w.Line("_splitRunner ??= new SplitRunner(this);");
            w.Close();
            w.Line("_workers?.Dispose();");
            w.Line("_workers = workers;");
            w.Line("_workspace = workspace;");
            w.Line("_parts = parts;");
            w.Close();
            w.Open("catch");
            w.Line("workers?.Dispose();");
            w.Line("throw;");
            w.Close();
            w.Close();
            w.Close();
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// Valid steps (summed over the batch's sequences) a Forward needs before <see cref=\"Threads\"/> splits it" + (m.Bidirectional ? ":" : ","));
            if (!m.Bidirectional) w.Line("/// and agents a multi-agent Step needs:");
            w.Line($"/// about {Num((int)(MinPartFlops / 1000))} thousand floating-point operations ({Num((int)RowFlops(m))} per step). Less work costs about as much");
            w.Line("/// to hand over to the worker threads as it saves.");
            w.Line("/// </summary>");
            w.Line($"public const int ThreadedMinSteps = {Num((int)((MinPartFlops + RowFlops(m) - 1) / RowFlops(m)))};");
            w.Line();
            w.Line("/// <summary>One Forward workspace per part, sized for the batches <paramref name=\"whole\"/> holds: the current ones when they fit, else new ones (not yet swapped in).</summary>");
            w.Open($"private Workspace[] PartsFor(Workspace whole, {Cs}WorkerThreads? workers)");
            w.Line(m.Bidirectional
                ? "if (workers is null || workers.Count < 4) return global::System.Array.Empty<Workspace>(); // 2-3 threads run the directions apart instead: no parts"
                : "if (workers is null) return global::System.Array.Empty<Workspace>();");
            w.Line("int count = workers.Count;");
            w.Line("int steps = whole.StepCapacity, batch = (whole.BatchCapacity + 1) / 2;");
            w.Line("if (_parts.Length == count && _parts[0].StepCapacity >= steps && _parts[0].BatchCapacity >= batch) return _parts;");
            w.Line("var parts = new Workspace[count];");
            w.Comment("A part gets at most ceil(batch / 2) sequences (when there are two parts); every part is sized for that.");
            w.Line("for (int i = 0; i < count; i++) parts[i] = new Workspace(steps, batch, training: false);");
            w.Line("return parts;");
            w.Close();
            w.Line();
            w.Line("/// <summary>Parts a batch Forward of <paramref name=\"batch\"/> sequences and <paramref name=\"rows\"/> valid steps in all runs in.</summary>");
            w.Open("private int PartCount(int batch, int rows)");
            w.Line("if (_workers is null || batch < 2 || rows < ThreadedMinSteps) return 1;");
            if (m.Bidirectional)
            {
                w.Comment("Up to 3 threads the two directions run at the same time instead (see ForwardCore): each core then reads only");
                w.Comment("its direction's weights, and every product keeps the whole batch's rows.");
                w.Line("if (_workers.Count < 4) return 1;");
            }
            w.Line("return batch < _workers.Count ? batch : _workers.Count;");
            w.Close();
            w.Line();
            w.Line("/// <summary>A batch Forward in parts on the worker threads; the whole layout in _workspace is set.</summary>");
            w.Open($"private void ForwardParts({InputType(m)} x, {Span} output, {RoSpan} initialState, {Span} finalState, int parts)");
            w.Comment("Packed once here: the parts only read the packed weights.");
            w.Line("if (_packedStale) Pack();");
            if (m.Int8) w.Line("if (_int8Stale) PackInt8();");
            if (m.Half) w.Line("if (_halfStale) PackHalf();");
            if (m.Vocabulary > 0)
            {
                w.Comment("Every token is checked before any part starts, so a bad id throws before any output is written.");
                w.Line($"_workspace.Layout.GatherTokens(x, {Bool(m.BatchFirst)}, _workspace.Tokens, VocabularySize);");
            }
            w.Line("for (int i = 0; i < parts; i++) _parts[i].Layout.SetPart(_workspace.Layout, i, parts);");
            w.Line("_workers!.Run(_partRunner!, parts, x, output, initialState, finalState);");
            w.Close();
            w.Line();
            if (m.Bidirectional)
            {
                w.Line("/// <summary>Layer <paramref name=\"layer\"/>'s two directions at the same time: forward on the calling thread, reverse on a worker.</summary>");
                w.Open($"private void RunDirections(int layer, {RoSpan} x, {Span} y, {RoSpan} initialState, {Span} finalState, Workspace ws)");
                w.Line("_partRunner!.Layer = layer;");
                w.Line("_partRunner.Workspace = ws;");
                w.Open("try");
                w.Line("_workers!.Run<float>(_partRunner, 2, x, y, initialState, finalState);");
                w.Close();
                w.Open("finally");
                w.Line("_partRunner.Workspace = null;");
                w.Close();
                w.Close();
                w.Line();
            }
            if (!m.Bidirectional)
            {
                w.Line("/// <summary>Parts a multi-agent Step of <paramref name=\"agents\"/> agents runs in (an agent is one step of one sequence).</summary>");
                w.Open("private int AgentParts(int agents)");
                w.Line("if (_workers is null || agents < 2 || agents < ThreadedMinSteps) return 1;");
                w.Line("return agents < _workers.Count ? agents : _workers.Count;");
                w.Close();
                w.Line();
                w.Line("/// <summary>A multi-agent Step in runs of agents on the worker threads (the states are agent-major, so a run is a slice).</summary>");
                w.Open($"private void StepParts({RoSpan} x, {IntSpan} tokens, int agents, {Span} state, {Span} output, int parts)");
                w.Line("if (_packedStale) Pack();");
                if (m.Int8) w.Line("if (_int8Stale) PackInt8();");
                w.Line("_partRunner!.Agents = agents;");
                w.Line("_partRunner.Parts = parts;");
                w.Open("try");
                w.Line(m.Vocabulary > 0
                    ? "_workers!.Run(_partRunner, parts, tokens, output, default, state);"
                    : "_workers!.Run(_partRunner, parts, x, output, default, state);");
                w.Close();
                w.Open("finally");
                w.Line("_partRunner.Agents = 0;");
                w.Close();
                w.Close();
                w.Line();
            }
            if (!m.Bidirectional) SplitRunner(w, m);
            w.Line("/// <summary>Runs one part of a threaded batch Forward (a private type, so the model's own type list stays as declared).</summary>");
            w.Open($"private sealed class PartRunner : {Cs}IPartitionedForward<{input}>{(m.Bidirectional && m.Vocabulary > 0 ? $", {Cs}IPartitionedForward<float>" : "")}");
            w.Line($"private readonly {name} _model;");
            w.Line();
            w.Line($"public PartRunner({name} model) => _model = model;");
            w.Line();
            if (m.Bidirectional)
            {
                w.Line("/// <summary>Set while one layer's directions run (RunDirections): the layer and the workspace; null for a batch in parts.</summary>");
                w.Line("public int Layer;");
                w.Line("public Workspace? Workspace;");
                w.Line();
                if (m.Vocabulary > 0)
                {
                    w.Line($"public void RunPart(int part, global::System.ReadOnlySpan<int> input, {Span} output, {RoSpan} initialState, {Span} finalState) => _model.ForwardCore(input, output, initialState, finalState, _model._parts[part]);");
                    w.Line();
                }
                w.Open($"public void RunPart(int part, {RoSpan} input, {Span} output, {RoSpan} initialState, {Span} finalState)");
                if (m.Vocabulary == 0)
                {
                    w.Open("if (Workspace is null)");
                    w.Line("_model.ForwardCore(input, output, initialState, finalState, _model._parts[part]);");
                    w.Line("return;");
                    w.Close();
                }
                w.Open("switch (Layer * 2 + part)");
                for (int layer = 0; layer < m.Layers; layer++)
                {
                    for (int d = 0; d < 2; d++)
                    {
                        w.Line($"case {Num(layer * 2 + d)}: _model.RunLayer{LayerId(layer, 0)}({Num(d)}, input, output, initialState, finalState, Workspace!); break;");
                    }
                }
                w.Close();
                w.Close();
            }
            else
            {
                w.Line("/// <summary>The agents of the multi-agent Step being run (0 for a batch Forward), and its parts.</summary>");
                w.Line("public int Agents, Parts;");
                w.Line();
                w.Open($"public void RunPart(int part, global::System.ReadOnlySpan<{input}> input, {Span} output, {RoSpan} initialState, {Span} finalState)");
                w.Open("if (Agents == 0)");
                w.Line("_model.ForwardCore(input, output, initialState, finalState, _model._parts[part]);");
                w.Line("return;");
                w.Close();
                w.Comment("Multi-agent Step: part p takes agents [Agents * p / Parts, Agents * (p + 1) / Parts); finalState is the states.");
                w.Line($"int first = {Cs}WorkerThreads.PartStart(Agents, part, Parts), count = {Cs}WorkerThreads.PartStart(Agents, part + 1, Parts) - first;");
                string inputSlice = m.Vocabulary > 0 ? "default, input.Slice(first, count)" : "input.Slice(first * InputSize, count * InputSize), default";
                w.Line($"_model.StepCore({inputSlice}, count, finalState.Slice(first * StateSize, count * StateSize), output.Slice(first * OutputSize, count * OutputSize), first);");
                w.Close();
            }
            w.Close();
            w.Line();
        }

        /// <summary>
        /// A unidirectional trainer's threaded Forward: each layer's projection in parts of the packed rows, then its
        /// recurrence in parts of the sequences (each part all steps of its own sequences), on the one workspace, so the
        /// activations Backward reads are where one thread puts them, with the same bits.
        /// </summary>
        private static void SplitRunner(SourceWriter w, ModelSpec m)
        {
            w.Line("/// <summary>Runs layer <paramref name=\"layer\"/>'s projection (parts of the rows) or recurrence (parts of the sequences), or the head (HeadPart: parts of the rows) or Pack's groups (PackPart), on the worker threads.</summary>");
            w.Open($"private void RunSplit(int layer, bool recurrence, {RoSpan} x, {Span} y, Workspace ws, int parts)");
            w.Line("SplitRunner runner = _splitRunner!;");
            w.Line("runner.Layer = layer;");
            w.Line("runner.Recurrence = recurrence;");
            w.Line("runner.Parts = parts;");
            w.Line("runner.Workspace = ws;");
            w.Open("try");
            w.Line("_workers!.Run<float>(runner, parts, x, y, default, default);");
            w.Close();
            w.Open("finally");
            w.Line("runner.Workspace = null;");
            w.Close();
            w.Close();
            w.Line();
            w.Line("/// <summary>What RunSplit (and the trainer's RunParts) run in place of a layer: the linear head, or the weight packing's groups.</summary>");
            w.Line("private const int HeadPart = -1, PackPart = -2;");
            w.Line();
            w.Line("/// <summary>Pack with its groups dealt out to <paramref name=\"parts\"/> parts (part p takes groups p, p + parts, ...).</summary>");
            w.Open("private void PackInParts(Workspace ws, int parts)");
            w.Line("AllocatePacked();");
            w.Line("RunSplit(PackPart, false, default, default, ws, parts);");
            if (m.Half) w.Line("_halfStale = true;");
            if (m.Int8) w.Line("_int8Stale = true;");
            w.Line("_packedStale = false;");
            w.Close();
            w.Line();
            w.Line("/// <summary>Runs one part of a layer of a threaded training Forward (RunSplit).</summary>");
            w.Open($"private sealed class SplitRunner : {Cs}IPartitionedForward<float>");
            w.Line($"private readonly {m.Name} _model;");
            w.Line();
            w.Line($"public SplitRunner({m.Name} model) => _model = model;");
            w.Line();
            w.Line("/// <summary>Set while a layer runs: which layer (or HeadPart, PackPart) and phase, into how many parts, on which workspace.</summary>");
            w.Line("public int Layer, Parts;");
            w.Line("public bool Recurrence;");
            w.Line("public Workspace? Workspace;");
            w.Line();
            w.Open($"public void RunPart(int part, {RoSpan} input, {Span} output, {RoSpan} initialState, {Span} finalState)");
            w.Line("Workspace ws = Workspace!;");
            w.Open("if (Layer == PackPart)");
            w.Line("for (int g = part; g < PackGroups; g += Parts) _model.PackGroup(g);");
            w.Line("return;");
            w.Close();
            if (m.Output > 0)
            {
                w.Open("if (Layer == HeadPart) // in parts of the rows");
                w.Line($"int first = {Cs}WorkerThreads.PartStart(ws.Layout.Rows, part, Parts);");
                w.Line($"_model.Head(ws, first, {Cs}WorkerThreads.PartStart(ws.Layout.Rows, part + 1, Parts) - first);");
                w.Line("return;");
                w.Close();
            }
            w.Open("if (Recurrence)");
            w.Line("int first = ws.Layout.SequencePartStart(part, Parts), count = ws.Layout.SequencePartStart(part + 1, Parts) - first;");
            w.Open("switch (Layer)");
            for (int layer = 0; layer < m.Layers; layer++) w.Line($"case {Num(layer)}: _model.Recur{LayerId(layer, 0)}(output, ws, first, count); break;");
            w.Close();
            w.Close();
            w.Open("else");
            w.Line($"int first = {Cs}WorkerThreads.PartStart(ws.Layout.Rows, part, Parts), count = {Cs}WorkerThreads.PartStart(ws.Layout.Rows, part + 1, Parts) - first;");
            w.Open("switch (Layer)");
            for (int layer = 0; layer < m.Layers; layer++) w.Line($"case {Num(layer)}: _model.Project{LayerId(layer, 0)}(input, ws, first, count); break;");
            w.Close();
            w.Close();
            w.Close();
            w.Close();
            w.Line();
        }

        // ---- Forward ------------------------------------------------------------------------------------------

        /// <summary>The public Forward overloads (one sequence and batches, with and without state), for the model and its trainer.</summary>
        private static void ForwardOverloads(SourceWriter w, ModelSpec m, string summary, string body)
        {
            string input = InputName(m);
            string outputDoc = "<param name=\"output\">[steps, OutputSize] row-major" + (m.Bidirectional ? ", forward then reverse halves at each step" : "") + ".</param>";
            w.Line($"/// <summary>{summary} One sequence, from a zero state.</summary>");
            w.Line("/// " + InputDoc(m));
            w.Line("/// " + outputDoc);
            w.Line($"public void Forward({InputType(m)} {input}, {Span} output) => Forward({input}, output, default, default);");
            w.Line();
            w.Line($"/// <summary>{summary} One sequence, from a given state; returns the final state.</summary>");
            w.Line("/// " + InputDoc(m));
            w.Line("/// " + outputDoc);
            w.Line("/// <param name=\"initialState\">StateSize floats (" + StateLayoutText(m, "1") + "), or empty for zeros.</param>");
            w.Line("/// <param name=\"finalState\">StateSize floats to receive the state after the last step (for a reverse direction: after its last step, at time 0), or empty. May be the same span as <paramref name=\"initialState\"/>.</param>");
            w.Line("/// <exception cref=\"global::System.ArgumentException\">A span length does not match the model.</exception>");
            w.Open($"public void Forward({InputType(m)} {input}, {Span} output, {RoSpan} initialState, {Span} finalState)");
            w.Line($"int steps = CheckBatch({input}, 1, default, output.Length, initialState.Length, finalState.Length);");
            foreach (string line in body.Replace("BATCH", "1").Replace("LENGTHS", "default").Split('\n')) w.Line(line);
            w.Close();
            w.Line();

            string layout = m.BatchFirst ? "[batch, steps" : "[steps, batch";
            w.Line($"/// <summary>{summary} A batch of sequences of unequal lengths, from zero states. Sequences that have ended are not computed; outputs at padded steps are zero.</summary>");
            w.Line("/// " + BatchInputDoc(m));
            w.Line("/// <param name=\"batch\">Number of sequences.</param>");
            w.Line("/// <param name=\"lengths\">Length of each sequence, in any order, each 1 to steps; empty when every sequence has all steps.</param>");
            w.Line($"/// <param name=\"output\">{layout}, OutputSize], zero at padded positions.</param>");
            w.Line($"public void Forward({InputType(m)} {input}, int batch, {IntSpan} lengths, {Span} output) => Forward({input}, batch, lengths, output, default, default);");
            w.Line();
            w.Line($"/// <summary>{summary} A batch of sequences of unequal lengths (PyTorch packed-sequence semantics), from given states; returns each sequence's final state, taken at its own last step.</summary>");
            w.Line("/// " + BatchInputDoc(m));
            w.Line("/// <param name=\"batch\">Number of sequences.</param>");
            w.Line("/// <param name=\"lengths\">Length of each sequence, in any order, each 1 to steps; empty when every sequence has all steps.</param>");
            w.Line($"/// <param name=\"output\">{layout}, OutputSize], zero at padded positions.</param>");
            w.Line("/// <param name=\"initialState\">batch * StateSize floats (" + StateLayoutText(m, "batch") + ", PyTorch's layout), or empty for zeros.</param>");
            w.Line("/// <param name=\"finalState\">batch * StateSize floats to receive the final states in the same layout, or empty. May be the same span as <paramref name=\"initialState\"/>.</param>");
            w.Line("/// <exception cref=\"global::System.ArgumentException\">A span length or a sequence length does not fit.</exception>");
            w.Open($"public void Forward({InputType(m)} {input}, int batch, {IntSpan} lengths, {Span} output, {RoSpan} initialState, {Span} finalState)");
            w.Line($"int steps = CheckBatch({input}, batch, lengths, output.Length, initialState.Length, finalState.Length);");
            foreach (string line in body.Replace("BATCH", "batch").Replace("LENGTHS", "lengths").Split('\n')) w.Line(line);
            w.Close();
            w.Line();
        }

        private static void Forward(SourceWriter w, ModelSpec m)
        {
            bool tokens = m.Vocabulary > 0;
            string input = InputName(m);
            ForwardOverloads(w, m, "Runs the network.",
                $"if (steps > _workspace.StepCapacity || BATCH > _workspace.BatchCapacity) ReserveCore(steps, BATCH, nameof({input}), \"batch\");\n"
                + "_workspace.Layout.Set(steps, BATCH, LENGTHS);\n"
                + "int parts = PartCount(BATCH, _workspace.Layout.Rows);\n"
                + $"if (parts > 1) ForwardParts({input}, output, initialState, finalState, parts);\n"
                + $"else ForwardCore({input}, output, initialState, finalState, _workspace);");

            w.Line("/// <summary>");
            w.Line("/// Checks the counts and spans of a Forward call, before anything is written, and returns the number of (padded) steps.");
            w.Line("/// Sizes are computed in 64 bits: a product of the counts cannot wrap around and pass for a small span.");
            w.Line("/// </summary>");
            w.Open($"private static int CheckBatch({InputType(m)} {input}, int batch, {IntSpan} lengths, int outputLength, int initialLength, int finalLength)");
            w.Line("if (batch < 1) throw new global::System.ArgumentOutOfRangeException(nameof(batch), batch, \"batch must be at least 1.\");");
            string unit = tokens ? "batch" : "(long)batch * InputSize";
            string what = tokens ? "ids" : "floats";
            string shape = m.BatchFirst ? "[batch, steps, " : "[steps, batch, ";
            string shapeValues = m.BatchFirst ? "\"[\" + batch + \", \" + steps + \", \"" : "\"[\" + steps + \", \" + batch + \", \"";
            w.Line($"if ({input}.IsEmpty) throw new {ArgumentException}(\"{input} is empty; expected at least one step.\", nameof({input}));");
            if (!tokens) w.Line($"long unit = {unit}; // floats per step");
            string u = tokens ? "batch" : "unit";
            w.Line($"if ({input}.Length % {u} != 0) throw new {ArgumentException}(\"{input} has \" + {input}.Length + \" {what}; expected a multiple of {(tokens ? "batch (\" + batch + \")" : "batch * InputSize (\" + batch + \" * \" + InputSize + \" = \" + unit + \")")}.\", nameof({input}));");
            w.Line($"int steps = (int)({input}.Length / {u});");
            w.Line("long outputFloats = (long)steps * batch * OutputSize, stateFloats = (long)batch * StateSize;");
            w.Line($"if (outputLength != outputFloats) throw new {ArgumentException}(\"output has \" + outputLength + \" floats; expected \" + outputFloats + \" ({shape}OutputSize] = \" + {shapeValues} + OutputSize + \"]).\", \"output\");");
            w.Line($"if (initialLength != 0 && initialLength != stateFloats) throw new {ArgumentException}(\"initialState has \" + initialLength + \" floats; expected \" + stateFloats + \" (batch * StateSize) or none.\", \"initialState\");");
            w.Line($"if (finalLength != 0 && finalLength != stateFloats) throw new {ArgumentException}(\"finalState has \" + finalLength + \" floats; expected \" + stateFloats + \" (batch * StateSize) or none.\", \"finalState\");");
            w.Line($"if (!lengths.IsEmpty && lengths.Length != batch) throw new {ArgumentException}(\"lengths has \" + lengths.Length + \" entries; expected \" + batch + \" (one per sequence of the batch) or none.\", nameof(lengths));");
            w.Open("for (int b = 0; b < lengths.Length; b++)");
            w.Line($"if (lengths[b] < 1 || lengths[b] > steps) throw new {ArgumentException}(\"lengths[\" + b + \"] is \" + lengths[b] + \"; expected 1 to \" + steps + \" (the padded number of steps).\", nameof(lengths));");
            w.Close();
            w.Line("return steps;");
            w.Close();
            w.Line();

            w.Line("/// <summary>");
            w.Line("/// The whole network on the packed batch laid out in <c>ws.Layout</c>: gather the valid steps into packed rows, run");
            w.Line("/// each layer and direction over them, apply the head, scatter back with zeros at padded positions. The workspace");
            w.Line("/// decides whether activations are kept for Backward.");
            w.Line("/// </summary>");
            w.Line(HotPath);
            w.Open($"private void ForwardCore({InputType(m)} x, {Span} output, {RoSpan} initialState, {Span} finalState, Workspace ws)");
            w.Line($"{Cs}PackedSequences layout = ws.Layout;");
            w.Line("int rows = layout.Rows;");
            if (m.Bidirectional) w.Line("if (_packedStale) Pack();");
            else
            {
                w.Comment("A trainer's Forward with Threads > 1 packs the weights in parts too (one layer, or the head, per part).");
                w.Line("int packParts = _packedStale && ws.Training ? global::System.Math.Min(PartCount(layout.Batch, rows), PackGroups) : 1;");
                w.Line("if (packParts > 1) PackInParts(ws, packParts);");
                w.Line("else if (_packedStale) Pack();");
            }
            if (m.Int8) w.Line("if (!ws.Training && _int8Stale) PackInt8(); // inference reads the int8 copies; a trainer, the float weights");
            if (m.Half) w.Line("if (!ws.Training && _halfStale) PackHalf(); // inference's one-sequence recurrent products read the bfloat16 copy; a trainer, the float weights");
            if (tokens)
            {
                w.Line($"{RoSpan} p = _parameters;");
                w.Comment("Packed token ids (checked); training also keeps their embeddings for the W_ih gradient.");
                w.Line($"layout.GatherTokens(x, {Bool(m.BatchFirst)}, ws.Tokens, VocabularySize);");
                w.Line("if (ws.Training) for (int i = 0; i < rows; i++) p.Slice(EmbeddingWeight + ws.Tokens[i] * InputSize, InputSize).CopyTo(new global::System.Span<float>(ws.Input, i * InputSize, InputSize));");
                w.Line($"{RoSpan} packedInput = ws.Input;");
            }
            else
            {
                w.Comment("Time-major input with every sequence complete is already packed; otherwise gather the valid steps.");
                w.Line($"{RoSpan} packedInput = x;");
                w.Open($"if (ws.Training || !layout.IsDense{(m.BatchFirst ? " || layout.Batch > 1" : "")})");
                w.Line($"layout.Gather(x, InputSize, {Bool(m.BatchFirst)}, ws.Input);");
                w.Line("packedInput = ws.Input;");
                w.Close();
            }
            if (m.Bidirectional)
            {
                w.Comment("With Threads > 1 (ws.DirectionsApart) the two directions of each layer run at the same time, each on its own buffers.");
                w.Line("bool apart = ws.DirectionsApart && _workers is not null && rows >= ThreadedMinSteps; // a trainer's workspace is always apart");
            }
            for (int layer = 0; layer < m.Layers; layer++)
            {
                string source = layer == 0 ? "packedInput" : $"ws.Layer[{Num(layer - 1)}]";
                if (layer > 0 && m.HasDropout)
                {
                    string below = Num(layer - 1);
                    w.Comment($"Dropout between layers (training only): layer {Num(layer)} reads layer {below}'s outputs times the mask the trainer drew.");
                    w.Line($"if (ws.Training) {Cs}Kernels.ApplyDropout(new {RoSpan}(ws.Layer[{below}], 0, rows * LayerWidth), new {RoSpan}(ws.DropoutMask[{below}], 0, rows * LayerWidth), new {Span}(ws.Dropped[{below}], 0, rows * LayerWidth));");
                    w.Line($"float[] input{Num(layer)} = ws.Training ? ws.Dropped[{below}] : ws.Layer[{below}];");
                    source = $"input{Num(layer)}";
                }
                if (m.Bidirectional)
                {
                    w.Line($"if (apart) RunDirections({Num(layer)}, {source}, ws.Layer[{Num(layer)}], initialState, finalState, ws);");
                    w.Open("else");
                }
                for (int d = 0; d < m.Directions; d++)
                {
                    w.Line($"RunLayer{LayerId(layer, 0)}({(m.Bidirectional ? Num(d) + ", " : "")}{source}, ws.Layer[{Num(layer)}], initialState, finalState, ws);");
                }
                if (m.Bidirectional) w.Close();
            }
            if (m.Output > 0)
            {
                w.Comment("Linear head on every valid step: y = W_head h + b_head" + (m.Bidirectional ? "." : " (a trainer's with Threads > 1 in parts of the rows)."));
                if (m.Bidirectional) w.Line("Head(ws, 0, rows);");
                else
                {
                    w.Line("int headParts = ws.Training ? PartCount(layout.Batch, rows) : 1;");
                    w.Line("if (headParts > 1) RunSplit(HeadPart, false, default, default, ws, headParts);");
                    w.Line("else Head(ws, 0, rows);");
                }
                w.Line($"layout.Scatter(ws.Top, OutputSize, {Bool(m.BatchFirst)}, output);");
            }
            else
            {
                w.Line($"layout.Scatter(ws.Layer[{Num(m.Layers - 1)}], OutputSize, {Bool(m.BatchFirst)}, output);");
            }
            w.Close();
            w.Line();
        }

        /// <summary>The linear head of packed rows [first, first + count): ws.Top = W_head ws.Layer[last] + b_head.</summary>
        private static void Head(SourceWriter w, ModelSpec m)
        {
            w.Line("/// <summary>The linear head of packed rows [first, first + count): y = W_head h + b_head into ws.Top.</summary>");
            w.Line(HotPath);
            w.Open("private void Head(Workspace ws, int first, int count)");
            w.Line($"{RoSpan} p = _parameters;");
            w.Line($"{RoSpan} q = new {RoSpan}(_packed, _packedStart, PackedSize);");
            string headArgs = $"p.Slice(HeadBias, OutputSize), new {RoSpan}(ws.Layer[{Num(m.Layers - 1)}], first * LayerWidth, count * LayerWidth), LayerWidth, count, new {Span}(ws.Top, first * OutputSize, count * OutputSize), OutputSize";
            if (m.Int8)
            {
                w.Line($"if (!ws.Training && count == 1) {Int8Gemm(m.LayerOutputWidth, m.Output, "Head")}(new global::System.ReadOnlySpan<sbyte>(_int8, Int8Head, {Num(Int8Size(m.Output, m.LayerOutputWidth))}), new {RoSpan}(_int8Scales, ScaleHead, OutputSize), {headArgs}, {Cs}Kernels.ThreadScratch(Int8ScratchSize));");
                w.Line($"else {GemmPanelsName(m.LayerOutputWidth, m.Output, m.LayerOutputWidth)}({HeadPanels(m)}, {headArgs});");
            }
            else w.Line($"{GemmPanelsName(m.LayerOutputWidth, m.Output, m.LayerOutputWidth)}({HeadPanels(m)}, {headArgs});");
            w.Close();
            w.Line();
        }

        private static string Bool(bool value) => value ? "true" : "false";

        private static string StateOffset(ModelSpec m, int row, bool cell) => Num(((cell ? m.Layers * m.Directions : 0) + row) * m.Hidden);

        private static void Layers(SourceWriter w, ModelSpec m)
        {
            int stateRows = m.Layers * m.Directions;
            bool split = !m.Bidirectional; // a unidirectional trainer's Forward runs each layer in parts of the batch (SplitRunner)
            // A bidirectional model's two directions share each method: `d` (0 forward, 1 reverse) picks the direction's
            // weights, state row and half of y, and the order of time.
            bool bi = m.Bidirectional;
            string dParam = bi ? "int d, " : "", dArg = bi ? "d, " : "";
            for (int layer = 0; layer < m.Layers; layer++)
            {
                {
                    string id = LayerId(layer, 0);
                    string Of(string name) => bi ? $"(d == 0 ? {name}{LayerId(layer, 0)} : {name}{LayerId(layer, 1)})" : name + id;
                    int cols = m.LayerInputWidth(layer);
                    string row = bi ? (layer == 0 ? "d" : $"{Num(2 * layer)} + d") : Num(layer);
                    string dIndex = bi ? "d" : "0";
                    string hOffset = bi ? " + d * HiddenSize" : "";
                    w.Line(bi
                        ? $"/// <summary>Layer {Num(layer)}, direction <paramref name=\"d\"/> (0 forward, 1 reverse): packed x [rows, {Num(cols)}] → packed y[:, d · HiddenSize..(d + 1) · HiddenSize) of [rows, LayerWidth]; state row {row}.</summary>"
                        : $"/// <summary>Layer {Num(layer)}: packed x [rows, {Num(cols)}] → packed y [rows, LayerWidth]; state row {row}.</summary>");
                    w.Open($"private void RunLayer{id}({dParam}{RoSpan} x, {Span} y, {RoSpan} initialState, {Span} finalState, Workspace ws)");
                    w.Line($"{Cs}PackedSequences layout = ws.Layout;");
                    w.Line("int batch = layout.PaddedBatch; // the states' (a part of a threaded Forward has fewer sequences)");
                    if (split)
                    {
                        w.Comment("A trainer's Forward with Threads > 1: the projection in parts of the rows, the recurrence in parts of the sequences.");
                        w.Line("int parts = ws.Training ? PartCount(layout.Batch, layout.Rows) : 1;");
                        w.Line($"if (parts > 1) RunSplit({Num(layer)}, false, x, y, ws, parts);");
                        w.Line($"else Project{id}(x, ws, 0, layout.Rows);");
                    }
                    else w.Line($"Project{id}({dArg}x, ws, 0, layout.Rows);");
                    w.Comment("Recurrence from the initial state (zeros when none is given), sequences in length order: the running ones are a prefix.");
                    w.Line($"layout.GatherState(initialState, {row}, HiddenSize, ws.H[{dIndex}]);");
                    if (m.Cell == Cell.Lstm) w.Line($"layout.GatherState(initialState.IsEmpty ? default : initialState.Slice({Num(stateRows)} * batch * HiddenSize), {row}, HiddenSize, ws.C[{dIndex}]);");
                    if (split)
                    {
                        w.Line($"if (parts > 1) RunSplit({Num(layer)}, true, x, y, ws, parts);");
                        w.Line($"else Recur{id}(y, ws, 0, layout.Batch);");
                    }
                    else w.Line($"Recur{id}({dArg}y, ws, 0, layout.Batch);");
                    w.Line($"layout.ScatterState(ws.H[{dIndex}], {row}, HiddenSize, finalState);");
                    if (m.Cell == Cell.Lstm) w.Line($"layout.ScatterState(ws.C[{dIndex}], {row}, HiddenSize, finalState.IsEmpty ? default : finalState.Slice({Num(stateRows)} * batch * HiddenSize));");
                    w.Close();
                    w.Line();

                    w.Line($"/// <summary>Layer {Num(layer)}'s input projection{(bi ? " in direction d" : "")} of packed rows [first, first + count) into ws.Projection[{row}].</summary>");
                    w.Line(HotPath);
                    w.Open($"private void Project{id}({dParam}{RoSpan} x, Workspace ws, int first, int count)");
                    w.Line($"{RoSpan} q = new {RoSpan}(_packed, _packedStart, PackedSize);");
                    w.Line($"{Span} projection = ws.Projection[{row}];");
                    if (layer == 0 && m.Vocabulary > 0)
                    {
                        w.Comment($"A row of the token table per step (W_ih embedding[token] + b_ih{(m.Cell == Cell.Gru ? "" : " + b_hh")}).");
                        w.Line($"for (int i = first; i < first + count; i++) q.Slice({Of("PackedTokens")} + ws.Tokens[i] * GateSize, GateSize).CopyTo(projection.Slice(i * GateSize, GateSize));");
                    }
                    else
                    {
                        w.Comment($"x W_ihᵀ + b_ih{(m.Cell == Cell.Gru ? "" : " + b_hh")}, the rows in one product.");
                        string args = $"q.Slice({Of("PackedBias")}, GateSize), x.Slice(first * {Num(cols)}), {Num(cols)}, count, projection.Slice(first * GateSize), GateSize";
                        string floatCall = $"{GemmPanelsName(cols, m.GateWidth, PanelRows(m, layer))}({LayerPanels(m, Of("Packed"), layer, 0)}, {args});";
                        if (m.Int8)
                        {
                            w.Line($"if (!ws.Training && count == 1) {Int8Gemm(cols, m.GateWidth, "Ih")}(new global::System.ReadOnlySpan<sbyte>(_int8, {Of("Int8Ih")}, {Num(Int8Size(m.GateWidth, cols))}), new {RoSpan}(_int8Scales, {Of("ScaleIh")}, GateSize), {args}, {Cs}Kernels.ThreadScratch(Int8ScratchSize));");
                            w.Line("else " + floatCall);
                        }
                        else w.Line(floatCall);
                    }
                    w.Close();
                    w.Line();

                    w.Line($"/// <summary>Layer {Num(layer)}'s recurrence{(bi ? " in direction d" : "")} for the sequences [first, first + count) of the length order (their rows of every step), from the states in ws.</summary>");
                    w.Line(HotPath);
                    w.Open($"private void Recur{id}({dParam}{Span} y, Workspace ws, int first, int count)");
                    w.Line($"{Cs}PackedSequences layout = ws.Layout;");
                    w.Line("int steps = layout.Steps;");
                    if (m.Cell == Cell.Gru) w.Line($"{RoSpan} p = _parameters;");
                    w.Line($"{RoSpan} q = new {RoSpan}(_packed, _packedStart, PackedSize);");
                    w.Line($"{Span} projection = ws.Projection[{row}];");
                    w.Line($"{Span} h = new {Span}(ws.H[{dIndex}]).Slice(first * HiddenSize);");
                    if (m.Cell == Cell.Lstm) w.Line($"{Span} c = new {Span}(ws.C[{dIndex}]).Slice(first * HiddenSize);");
                    w.Line($"{RoSpan} weightHhT = {LayerPanels(m, Of("Packed"), layer, cols)};");
                    w.Open("for (int s = 0; s < steps; s++)");
                    w.Line(bi ? "int t = d == 0 ? s : steps - 1 - s;" : "int t = s;");
                    w.Line("int n = layout.BatchSize(t) - first;");
                    w.Line("if (n > count) n = count;");
                    w.Line("if (n <= 0) continue; // none of these sequences runs at this step");
                    w.Line("int offset = layout.Offset(t) + first; // the first of these sequences' rows at step t");
                    if (m.Cell != Cell.Rnn) w.Line("int cache = ws.Training ? offset : first; // training keeps every step's activations, inference one step's (by sequence)");
                    w.Line($"{Span} gates = projection.Slice(offset * GateSize, n * GateSize);");
                    // The recurrent product on the float panels, or (Int8, inference) on the int8 copy.
                    string floatH = GemmPanelsName(m.Hidden, m.GateWidth, PanelRows(m, layer));
                    if (m.Int8)
                    {
                        w.Line("bool int8 = !ws.Training; // and one row (n == 1): docs/performance.md, reduced-precision weights");
                        w.Line($"global::System.ReadOnlySpan<sbyte> weightHhQ = int8 ? new global::System.ReadOnlySpan<sbyte>(_int8, {Of("Int8Hh")}, {Num(Int8Size(m.GateWidth, m.Hidden))}) : default; // built by inference only");
                        w.Line($"{RoSpan} scalesHh = new {RoSpan}(_int8Scales, {Of("ScaleHh")}, GateSize);");
                        w.Line($"global::System.Span<byte> scratch = int8 ? {Cs}Kernels.ThreadScratch(Int8ScratchSize) : default;");
                    }
                    if (m.Half)
                    {
                        w.Line("bool half = !ws.Training;");
                        w.Line($"global::System.ReadOnlySpan<ushort> weightHhHalf = half ? new global::System.ReadOnlySpan<ushort>(_packedHalf, _packedHalfStart + {Of("Half")} + {Num(cols * HalfColumns(m))}, {Num(m.Hidden * HalfColumns(m))}) : default; // built by inference only");
                    }
                    // bfloat16: one sequence reads each weight once per step (memory-bound: the bfloat16 copy); more
                    // reuse each weight across their rows (the float panels).
                    string halfH = MatVecTHalfName(m.Hidden, m.GateWidth, PanelRows(m, layer));
                    string Hh(string bias, string output) => m.Int8
                        ? $"if (int8 && n == 1) {Int8Gemm(m.Hidden, m.GateWidth, "Hh")}(weightHhQ, scalesHh, {bias}, h, HiddenSize, n, {output}, GateSize, scratch); else {floatH}(weightHhT, {bias}, h, HiddenSize, n, {output}, GateSize);"
                        : m.Half
                        ? $"if (half && n == 1) {{ {(bias == "default" ? "" : $"{bias}.CopyTo({output}); ")}{halfH}(weightHhHalf, weightHhT, h, {output}); }} else {floatH}(weightHhT, {bias}, h, HiddenSize, n, {output}, GateSize);"
                        : $"{floatH}(weightHhT, {bias}, h, HiddenSize, n, {output}, GateSize);";
                    switch (m.Cell)
                    {
                        case Cell.Lstm:
                            w.Line(Hh("default", "gates"));
                            w.Line($"{Span} tanhC = ws.TanhCellStates[{row}];");
                            w.Open("for (int j = 0; j < n; j++)");
                            w.Line($"{Cs}Kernels.LstmCell(gates.Slice(j * GateSize, GateSize), c.Slice(j * HiddenSize, HiddenSize), h.Slice(j * HiddenSize, HiddenSize), tanhC.Slice((cache + j) * HiddenSize, HiddenSize));");
                            w.Close();
                            w.Line($"if (ws.Training) c.Slice(0, n * HiddenSize).CopyTo(new {Span}(ws.CellStates[{row}], offset * HiddenSize, n * HiddenSize));");
                            break;
                        case Cell.Gru:
                            w.Line($"{Span} hidden = new {Span}(ws.HiddenGates[{row}], cache * GateSize, n * GateSize);");
                            if (m.Bias) w.Line(Hh($"p.Slice({Of("BiasHh")}, GateSize)", "hidden"));
                            else
                            {
                                w.Line("hidden.Clear();");
                                w.Line(Hh("default", "hidden"));
                            }
                            w.Open("for (int j = 0; j < n; j++)");
                            w.Line($"{Cs}Kernels.GruCell(gates.Slice(j * GateSize, GateSize), hidden.Slice(j * GateSize, GateSize), h.Slice(j * HiddenSize, HiddenSize));");
                            w.Close();
                            break;
                        default:
                            w.Line(Hh("default", "gates"));
                            // Row by row: the vector and scalar parts of each row are then the same whatever the batch, so a
                            // sequence's results do not depend on the others in it (nor on a threaded Forward's parts).
                            w.Line(m.Relu ? $"{Cs}Kernels.Relu(gates);" : $"for (int j = 0; j < n; j++) {Cs}Kernels.Tanh(gates.Slice(j * GateSize, GateSize));");
                            w.Line("gates.CopyTo(h);");
                            break;
                    }
                    w.Line($"for (int j = 0; j < n; j++) h.Slice(j * HiddenSize, HiddenSize).CopyTo(y.Slice((offset + j) * LayerWidth{hOffset}, HiddenSize));");
                    w.Close();
                    w.Close();
                    w.Line();
                }
            }
        }

        // ---- Step ---------------------------------------------------------------------------------------------

        private static void Step(SourceWriter w, ModelSpec m)
        {
            bool tokens = m.Vocabulary > 0;
            string xParam = tokens ? "int token" : $"{RoSpan} x";
            string xDoc = tokens ? "<param name=\"token\">The step's token id, in [0, VocabularySize).</param>" : "<param name=\"x\">InputSize floats.</param>";
            string stepOwn = tokens ? "int" : "global::System.ReadOnlySpan{float}";

            w.Line("/// <summary>The state that <see cref=\"Step(" + stepOwn + ", global::System.Span{float})\"/> advances: StateSize floats, h per layer" + (m.Cell == Cell.Lstm ? " then c per layer" : "") + ". Read or set it freely.</summary>");
            w.Line($"public {Span} State => _state;");
            w.Line();
            w.Line("/// <summary>Sets the model's own streaming state to zeros.</summary>");
            w.Line("public void ResetState() => global::System.Array.Clear(_state, 0, StateSize);");
            w.Line();
            w.Line("/// <summary>Advances the model's own state (<see cref=\"State\"/>) by one step.</summary>");
            w.Line("/// " + xDoc);
            w.Line("/// <param name=\"output\">OutputSize floats.</param>");
            w.Line($"public void Step({xParam}, {Span} output) => Step({(tokens ? "token" : "x")}, _state, output);");
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
                w.Line($"if (x.Length != InputSize) throw new {ArgumentException}(\"x has \" + x.Length + \" floats; expected \" + InputSize + \" (InputSize).\", nameof(x));");
            }
            w.Line($"if (state.Length != StateSize) throw new {ArgumentException}(\"state has \" + state.Length + \" floats; expected \" + StateSize + \" (StateSize).\", nameof(state));");
            w.Line($"if (output.Length != OutputSize) throw new {ArgumentException}(\"output has \" + output.Length + \" floats; expected \" + OutputSize + \" (OutputSize).\", nameof(output));");
            w.Line($"StepPacked({(tokens ? "token" : "x")}, state, output);");
            w.Close();
            w.Line();
            StepPacked(w, m);

            string batchParam = tokens ? $"{IntSpan} tokens" : $"{RoSpan} x, int agents";
            w.Line("/// <summary>");
            w.Line("/// Advances many independent states by one step together (one per game agent, say): the per-agent matrix-vector");
            w.Line("/// products become matrix-matrix products over the weights. Equal to calling Step on each agent's slice.");
            w.Line("/// </summary>");
            w.Line(tokens ? "/// <param name=\"tokens\">One token id per agent.</param>" : "/// <param name=\"x\">[agents, InputSize]: one input per agent.</param>");
            if (!tokens) w.Line("/// <param name=\"agents\">Number of agents.</param>");
            w.Line("/// <param name=\"state\">[agents, StateSize]: agent i's state is <c>state.Slice(i * StateSize, StateSize)</c>, the layout single Step uses; updated in place.</param>");
            w.Line("/// <param name=\"output\">[agents, OutputSize].</param>");
            w.Line("/// <exception cref=\"global::System.ArgumentException\">A span length does not match the model and the number of agents.</exception>");
            w.Open($"public void Step({batchParam}, {Span} state, {Span} output)");
            if (tokens)
            {
                w.Line("int agents = tokens.Length;");
                w.Line($"if (agents < 1) throw new {ArgumentException}(\"tokens is empty; expected one token per agent.\", nameof(tokens));");
            }
            else
            {
                w.Line("if (agents < 1) throw new global::System.ArgumentOutOfRangeException(nameof(agents), agents, \"agents must be at least 1.\");");
                w.Line($"if (x.Length != (long)agents * InputSize) throw new {ArgumentException}(\"x has \" + x.Length + \" floats; expected \" + ((long)agents * InputSize) + \" (agents * InputSize).\", nameof(x));");
            }
            w.Line($"if (state.Length != (long)agents * StateSize) throw new {ArgumentException}(\"state has \" + state.Length + \" floats; expected \" + ((long)agents * StateSize) + \" (agents * StateSize).\", nameof(state));");
            w.Line($"if (output.Length != (long)agents * OutputSize) throw new {ArgumentException}(\"output has \" + output.Length + \" floats; expected \" + ((long)agents * OutputSize) + \" (agents * OutputSize).\", nameof(output));");
            string agentsName = tokens ? "tokens" : "agents";
            w.Line($"if (agents > MaxArrayLength / GateSize) throw new global::System.ArgumentOutOfRangeException(nameof({agentsName}), agents, \"Step's scratch for \" + agents + \" agents would hold more floats than an array can: at most \" + (MaxArrayLength / GateSize) + \" agents of GateSize \" + GateSize + \".\");");
            if (tokens)
            {
                w.Open("for (int i = 0; i < agents; i++)");
                w.Line("if ((uint)tokens[i] >= VocabularySize) throw new global::System.ArgumentOutOfRangeException(nameof(tokens), tokens[i], \"Token of agent \" + i + \" is \" + tokens[i] + \"; expected 0 to \" + (VocabularySize - 1) + \".\");");
                w.Close();
            }
            w.Line("ReserveAgents(agents);");
            if (tokens)
            {
                w.Line("int parts = AgentParts(agents);");
                w.Line("if (parts > 1) StepParts(default, tokens, agents, state, output, parts);");
                w.Line("else StepCore(default, tokens, agents, state, output, 0);");
            }
            else
            {
                w.Line("int parts = AgentParts(agents);");
                w.Line("if (parts > 1) StepParts(x, default, agents, state, output, parts);");
                w.Line("else StepCore(x, default, agents, state, output, 0);");
            }
            w.Close();
            w.Line();

            w.Line("/// <summary>");
            w.Line("/// One step of every layer for <paramref name=\"agents\"/> states laid out [agents, StateSize], using the scratch rows");
            w.Line("/// from <paramref name=\"first\"/> on (the agents' index in the whole call, so the parts of a threaded call use their own).");
            w.Line("/// </summary>");
            w.Line(HotPath);
            w.Open($"private void StepCore({RoSpan} x, {IntSpan} tokens, int agents, {Span} state, {Span} output, int first)");
            w.Line("if (_packedStale) Pack();");
            w.Line($"{RoSpan} p = _parameters;");
            w.Line($"{RoSpan} q = new {RoSpan}(_packed, _packedStart, PackedSize);");
            if (m.Int8)
            {
                w.Line("if (_int8Stale) PackInt8();");
                w.Line("bool int8 = agents == 1; // one row: the int8 copy; more rows: the float panels (docs/performance.md, reduced-precision weights)");
                w.Line("global::System.ReadOnlySpan<sbyte> wq = _int8;");
                w.Line($"{RoSpan} scales = _int8Scales;");
                w.Line($"global::System.Span<byte> scratch = {Cs}Kernels.ThreadScratch(Int8ScratchSize);");
            }
            w.Line($"{Span} gates = new {Span}(_stepGates, first * GateSize, agents * GateSize);");
            for (int layer = 0; layer < m.Layers; layer++)
            {
                string id = LayerId(layer, 0);
                w.Comment($"Layer {Num(layer)}" + (layer == 0 ? "" : $": its input is layer {Num(layer - 1)}'s new h."));
                w.Open("");
                int k = m.LayerInputWidth(layer);
                if (layer == 0 && tokens)
                {
                    w.Line($"for (int i = 0; i < agents; i++) q.Slice(PackedTokens{id} + tokens[i] * GateSize, GateSize).CopyTo(gates.Slice(i * GateSize, GateSize));");
                }
                else
                {
                    string source = layer == 0 ? "x, InputSize" : $"state.Slice({StateOffset(m, layer - 1, false)}), StateSize";
                    string floatIh = $"{GemmPanelsName(k, m.GateWidth, PanelRows(m, layer))}({LayerPanels(m, "Packed" + id, layer, 0)}, q.Slice(PackedBias{id}, GateSize), {source}, agents, gates, GateSize);";
                    w.Line(m.Int8
                        ? $"if (int8) {Int8Gemm(k, m.GateWidth, "Ih" + id)}(wq.Slice(Int8Ih{id}, {Num(Int8Size(m.GateWidth, k))}), scales.Slice(ScaleIh{id}, GateSize), q.Slice(PackedBias{id}, GateSize), {source}, agents, gates, GateSize, scratch); else {floatIh}"
                        : floatIh);
                }
                string h = $"state.Slice({StateOffset(m, layer, false)})";
                // The recurrent product: gemmH(whh, bias, ...) below, on the float panels or (Int8) the int8 copy.
                string gemmH = GemmPanelsName(m.Hidden, m.GateWidth, PanelRows(m, layer));
                string whh = LayerPanels(m, "Packed" + id, layer, k);
                // Int8 with one agent: the int8 copy; more agents: the float panels (ModelSpec.Int8). Both calls are written,
                // the condition picks one.
                string tail = "";
                string floatH = gemmH, floatW = whh;
                if (m.Int8)
                {
                    gemmH = $"if (int8) {Int8Gemm(m.Hidden, m.GateWidth, "Hh" + id)}";
                    whh = $"wq.Slice(Int8Hh{id}, {Num(Int8Size(m.GateWidth, m.Hidden))}), scales.Slice(ScaleHh{id}, GateSize)";
                    tail = ", scratch";
                }
                switch (m.Cell)
                {
                    case Cell.Lstm:
                        w.Line($"{gemmH}({whh}, default, {h}, StateSize, agents, gates, GateSize{tail});" + (m.Int8 ? $" else {floatH}({floatW}, default, {h}, StateSize, agents, gates, GateSize);" : ""));
                        w.Open("for (int j = 0; j < agents; j++)");
                        w.Line($"{Span} agent = state.Slice(j * StateSize, StateSize);");
                        w.Line($"{Cs}Kernels.LstmCell(gates.Slice(j * GateSize, GateSize), agent.Slice({StateOffset(m, layer, true)}, HiddenSize), agent.Slice({StateOffset(m, layer, false)}, HiddenSize), new {Span}(_stepTanhC, (first + j) * HiddenSize, HiddenSize));");
                        w.Close();
                        break;
                    case Cell.Gru:
                        w.Line($"{Span} hidden = new {Span}(_stepHidden, first * GateSize, agents * GateSize);");
                        if (m.Bias) w.Line($"{gemmH}({whh}, p.Slice(BiasHh{id}, GateSize), {h}, StateSize, agents, hidden, GateSize{tail});" + (m.Int8 ? $" else {floatH}({floatW}, p.Slice(BiasHh{id}, GateSize), {h}, StateSize, agents, hidden, GateSize);" : ""));
                        else
                        {
                            w.Line("hidden.Clear();");
                            w.Line($"{gemmH}({whh}, default, {h}, StateSize, agents, hidden, GateSize{tail});" + (m.Int8 ? $" else {floatH}({floatW}, default, {h}, StateSize, agents, hidden, GateSize);" : ""));
                        }
                        w.Line($"for (int j = 0; j < agents; j++) {Cs}Kernels.GruCell(gates.Slice(j * GateSize, GateSize), hidden.Slice(j * GateSize, GateSize), state.Slice(j * StateSize + {StateOffset(m, layer, false)}, HiddenSize));");
                        break;
                    default:
                        w.Line($"{gemmH}({whh}, default, {h}, StateSize, agents, gates, GateSize{tail});" + (m.Int8 ? $" else {floatH}({floatW}, default, {h}, StateSize, agents, gates, GateSize);" : ""));
                        w.Line(m.Relu ? $"{Cs}Kernels.Relu(gates);" : $"for (int j = 0; j < agents; j++) {Cs}Kernels.Tanh(gates.Slice(j * GateSize, GateSize));");
                        w.Line($"for (int j = 0; j < agents; j++) gates.Slice(j * GateSize, GateSize).CopyTo(state.Slice(j * StateSize + {StateOffset(m, layer, false)}, HiddenSize));");
                        break;
                }
                w.Close();
            }
            string top = StateOffset(m, m.Layers - 1, false);
            if (m.Output > 0)
            {
                string floatHead = $"{GemmPanelsName(m.LayerOutputWidth, m.Output, m.LayerOutputWidth)}({HeadPanels(m)}, p.Slice(HeadBias, OutputSize), state.Slice({top}), StateSize, agents, output, OutputSize);";
                w.Line(m.Int8
                    ? $"if (int8) {Int8Gemm(m.LayerOutputWidth, m.Output, "Head")}(wq.Slice(Int8Head, {Num(Int8Size(m.Output, m.LayerOutputWidth))}), scales.Slice(ScaleHead, OutputSize), p.Slice(HeadBias, OutputSize), state.Slice({top}), StateSize, agents, output, OutputSize, scratch); else {floatHead}"
                    : floatHead);
            }
            else
            {
                w.Line($"for (int j = 0; j < agents; j++) state.Slice(j * StateSize + {top}, HiddenSize).CopyTo(output.Slice(j * OutputSize, OutputSize));");
            }
            w.Close();
            w.Line();
        }

        private static int MaxStepInput(ModelSpec m)
        {
            int max = 0;
            for (int layer = 0; layer < m.Layers; layer++) max = System.Math.Max(max, m.LayerInputWidth(layer) + m.Hidden);
            return max;
        }

        /// <summary>
        /// Emits one offset constant per block and the total as <paramref name="total"/>, each block starting on a 64-byte
        /// line (sizes rounded by <see cref="AlignedSize"/>), for copies allocated with <c>Kernels.AlignedArray</c>.
        /// </summary>
        private static void BlockOffsets(SourceWriter w, List<(string Name, int Size)> blocks, string total)
        {
            int offset = 0;
            foreach ((string name, int size) in blocks)
            {
                w.Line($"private const int {name} = {Num(offset)};");
                offset += AlignedSize(size);
            }
            w.Line($"private const int {total} = {Num(offset)};");
        }

        /// <summary><paramref name="size"/> rounded up to whole 64-byte lines, so every block starts on one (see <c>Kernels.AlignedArray</c>).</summary>
        internal static int AlignedSize(int size) => (size + 15) / 16 * 16;

        /// <summary>Rows of layer <paramref name="layer"/>'s packed panels: W_ihᵀ's rows, then W_hhᵀ's.</summary>
        private static int PanelRows(ModelSpec m, int layer) => m.LayerInputWidth(layer) + m.Hidden;

        /// <summary>The packed [W_ihᵀ; W_hhᵀ] of a layer from panel row <paramref name="row"/> on (W_hhᵀ starts at the layer's input width).</summary>
        /// <summary>The packed panels of a layer from panel row <paramref name="row"/> on; <paramref name="packed"/> is the block's constant (or an expression of it).</summary>
        private static string LayerPanels(ModelSpec m, string packed, int layer, int row) =>
            $"q.Slice({packed}{(row > 0 ? " + " + Num(row * PanelWidth) : "")}, {Num(PanelSize(m.GateWidth, PanelRows(m, layer)) - row * PanelWidth)})";

        private static string HeadPanels(ModelSpec m) => $"q.Slice(PackedHead, {Num(PanelSize(m.Output, m.LayerOutputWidth))})";

        /// <summary>The blocks of the transposed weight copy inference reads, in order: (constant name, floats).</summary>
        private static List<(string Name, int Size)> PackedBlocks(ModelSpec m)
        {
            var blocks = new List<(string, int)>();
            for (int layer = 0; layer < m.Layers; layer++)
            {
                for (int d = 0; d < m.Directions; d++)
                {
                    string id = LayerId(layer, d);
                    blocks.Add(($"Packed{id}", PanelSize(m.GateWidth, PanelRows(m, layer))));
                    blocks.Add(($"PackedBias{id}", m.GateWidth));
                    if (layer == 0 && m.Vocabulary > 0) blocks.Add(($"PackedTokens{id}", m.Vocabulary * m.GateWidth));
                }
            }
            if (m.Output > 0) blocks.Add(("PackedHead", PanelSize(m.Output, m.LayerOutputWidth)));
            return blocks;
        }

        /// <summary>
        /// The transposed copy of the weights that inference reads: per layer and direction [W_ihᵀ; W_hhᵀ]
        /// [(input + hidden), gates] (so one pass over [x; h] gives every gate of a step) in panels of 64 gate columns
        /// (<c>Kernels.PackPanels</c>: a matrix kernel walks down a panel in memory order; row-major rows of 1024 floats
        /// put each row of a panel on its own 4 KB page and in the same L1 sets, and measured 20-30 % slower), the folded bias, for token
        /// models a table of embedding × W_ih + bias per token, and the head's Wᵀ. Rebuilt lazily after any access to
        /// the parameters (the stale flag), never on a hot path that did not touch them.
        /// </summary>
        private static void Packing(SourceWriter w, ModelSpec m)
        {
            BlockOffsets(w, PackedBlocks(m), "PackedSize");
            int scratch = 0;
            foreach ((int rows, int cols) in GemmTNShapes(m)) scratch = System.Math.Max(scratch, GemmTNScratch(rows, cols));
            w.Line($"private const int GemmScratchSize = {Num(scratch)}; // the weight-gradient kernels' packed block (training)");
            if (m.Half)
            {
                int half = 0;
                for (int layer = 0; layer < m.Layers; layer++)
                {
                    for (int d = 0; d < m.Directions; d++)
                    {
                        w.Line($"private const int Half{LayerId(layer, d)} = {Num(half)}; // [{Num(m.LayerInputWidth(layer) + m.Hidden)}, {Num(HalfColumns(m))}] bfloat16");
                        half += (m.LayerInputWidth(layer) + m.Hidden) * HalfColumns(m);
                    }
                }
                w.Line($"private const int HalfSize = {Num(half)};");
            }
            if (m.Int8)
            {
                int bytes = 0, scales = 0, widest = 0;
                foreach ((string name, int outputs, int inputs) in Int8Matrices(m))
                {
                    w.Line($"private const int Int8{name} = {Num(bytes)}, Scale{name} = {Num(scales)}; // [{Num(outputs)}, {Num(inputs)}] int8");
                    bytes += Int8Size(outputs, inputs);
                    scales += outputs;
                    widest = System.Math.Max(widest, inputs);
                }
                w.Line($"private const int Int8Size = {Num(bytes)}, Int8ScaleCount = {Num(scales)};");
                w.Line($"private static readonly int Int8ScratchSize = global::System.Math.Max({Cs}Kernels.GemmPInt8ScratchSize({Num(widest)}), {Cs}Kernels.QuantizeInt8InputSize({Num(widest)}));");
            }
            w.Line();
            int groups = m.Layers + (m.Output > 0 ? 1 : 0);
            w.Line("/// <summary>Builds the transposed weight copy inference reads from the current parameters.</summary>");
            w.Open("private void Pack()");
            w.Line("AllocatePacked();");
            w.Line("for (int g = 0; g < PackGroups; g++) PackGroup(g);");
            if (m.Half) w.Line("_halfStale = true;");
            if (m.Int8) w.Line("_int8Stale = true;");
            w.Line("_packedStale = false;");
            w.Close();
            w.Line();
            w.Line("/// <summary>Allocates the packed copy on first use (64-byte aligned, Kernels.AlignedArray).</summary>");
            w.Open("private void AllocatePacked()");
            w.Line($"if (_packed.Length == 0) _packed = {Cs}Kernels.AlignedArray(PackedSize, out _packedStart);");
            w.Close();
            w.Line();
            w.Line($"/// <summary>Independent parts of Pack: one per layer{(m.Output > 0 ? ", then the head" : "")} (a unidirectional trainer with Threads > 1 runs them on its parts).</summary>");
            w.Line($"private const int PackGroups = {Num(groups)};");
            w.Line();
            w.Line("/// <summary>Part <paramref name=\"group\"/> of Pack: layer <paramref name=\"group\"/>'s weights" + (m.Output > 0 ? ", or the head's after the last layer" : "") + ".</summary>");
            // No HotPath: a dispatch without loops, run once per packing; compiled fully optimized it only made the first
            // call of a fresh process wait longer (the loops are in Kernels.PackPanels).
            w.Open("private void PackGroup(int group)");
            w.Line($"{Span} q = new {Span}(_packed, _packedStart, PackedSize);");
            w.Line($"{RoSpan} p = _parameters;");
            w.Open("switch (group)");
            for (int layer = 0; layer < m.Layers; layer++)
            {
                w.Line($"case {Num(layer)}:");
                w.Open("");
                for (int d = 0; d < m.Directions; d++)
                {
                    string id = LayerId(layer, d);
                    int k = m.LayerInputWidth(layer);
                    w.Line($"{Cs}Kernels.PackPanels(p.Slice(WeightIh{id}, GateSize * {Num(k)}), GateSize, {Num(k)}, q.Slice(Packed{id}, {Num(PanelSize(m.GateWidth, PanelRows(m, layer)))}), 0, {Num(PanelRows(m, layer))});");
                    w.Line($"{Cs}Kernels.PackPanels(p.Slice(WeightHh{id}, GateSize * HiddenSize), GateSize, HiddenSize, q.Slice(Packed{id}, {Num(PanelSize(m.GateWidth, PanelRows(m, layer)))}), {Num(k)}, {Num(PanelRows(m, layer))});");
                    if (!m.Bias) w.Line($"q.Slice(PackedBias{id}, GateSize).Clear();");
                    else if (m.Cell == Cell.Gru) w.Line($"p.Slice(BiasIh{id}, GateSize).CopyTo(q.Slice(PackedBias{id}, GateSize));");
                    else w.Line($"{Cs}Kernels.Add(p.Slice(BiasIh{id}, GateSize), p.Slice(BiasHh{id}, GateSize), q.Slice(PackedBias{id}, GateSize));");
                    if (layer == 0 && m.Vocabulary > 0)
                    {
                        w.Comment("Token table: row v = embedding[v] W_ihᵀ + bias.");
                        w.Line($"{Span} table{id} = q.Slice(PackedTokens{id}, VocabularySize * GateSize);");
                        w.Line($"{GemmPanelsName(m.Input, m.GateWidth, PanelRows(m, layer))}({LayerPanels(m, "Packed" + id, layer, 0)}, q.Slice(PackedBias{id}, GateSize), p.Slice(EmbeddingWeight, VocabularySize * InputSize), InputSize, VocabularySize, table{id}, GateSize);");
                    }
                }
                w.Line("break;");
                w.Close();
            }
            if (m.Output > 0) w.Line($"case {Num(m.Layers)}: {Cs}Kernels.PackPanels(p.Slice(HeadWeight, OutputSize * LayerWidth), OutputSize, LayerWidth, {HeadPanels(m)}, 0, LayerWidth); break;");
            w.Close();
            w.Close();
            w.Line();
            if (m.Half)
            {
                w.Line("/// <summary>Builds Step's bfloat16 copy of each layer's [W_ihᵀ; W_hhᵀ] from the current parameters (on the first Step after a change).</summary>");
                w.Open("private void PackHalf()");
                w.Line($"{RoSpan} p = _parameters;");
                if (HalfColumns(m) > 0) w.Line($"if (_packedHalf.Length == 0) _packedHalf = {Cs}Kernels.AlignedHalfArray(HalfSize, out _packedHalfStart);"); // none when the gate width is below one chunk
                for (int layer = 0; layer < m.Layers; layer++)
                for (int d = 0; d < m.Directions; d++)
                {
                    string id = LayerId(layer, d);
                    int k = m.LayerInputWidth(layer);
                    w.Line($"{Cs}Kernels.ToBFloat16InterleavedTransposed(p.Slice(WeightIh{id}, GateSize * {Num(k)}), GateSize, {Num(k)}, new global::System.Span<ushort>(_packedHalf, _packedHalfStart + Half{id}, {Num(k * HalfColumns(m))}));");
                    w.Line($"{Cs}Kernels.ToBFloat16InterleavedTransposed(p.Slice(WeightHh{id}, GateSize * HiddenSize), GateSize, HiddenSize, new global::System.Span<ushort>(_packedHalf, _packedHalfStart + Half{id} + {Num(k * HalfColumns(m))}, {Num(m.Hidden * HalfColumns(m))}));");
                }
                w.Line("_halfStale = false;");
                w.Close();
                w.Line();
            }
            if (m.Int8) PackInt8(w, m);
        }

        /// <summary>The int8 copies and their scales, from the current parameters (Weights = Int8).</summary>
        private static void PackInt8(SourceWriter w, ModelSpec m)
        {
            w.Line("/// <summary>Builds the int8 copies of the weights inference reads, and their scales, from the current parameters (after Pack).</summary>");
            w.Open("private void PackInt8()");
            w.Line($"if (_int8.Length == 0) _int8 = new sbyte[Int8Size];");
            w.Line($"{RoSpan} p = _parameters;");
            foreach ((string name, int outputs, int inputs) in Int8Matrices(m))
            {
                string source = name == "Head" ? "HeadWeight" : "Weight" + name;
                w.Line($"{Cs}Kernels.QuantizeInt8(p.Slice({source}, {Num(outputs * inputs)}), {Num(outputs)}, {Num(inputs)}, new global::System.Span<sbyte>(_int8, Int8{name}, {Num(Int8Size(outputs, inputs))}), new {Span}(_int8Scales, Scale{name}, {Num(outputs)}));");
            }
            w.Line("_int8Stale = false;");
            w.Close();
            w.Line();
        }

        /// <summary>Columns of the bfloat16 copy: the gate width in full chunks of 32 (the rest is read from the float copy).</summary>
        private static int HalfColumns(ModelSpec m) => m.GateWidth / 32 * 32;

        /// <summary>Shapes (rows, cols, panel rows) of the single-stream matrix-vector kernels.</summary>
        private static IEnumerable<(int Rows, int Cols, int PanelRows)> StepShapes(ModelSpec m, bool head = true)
        {
            var shapes = new List<(int, int, int)>();
            void Add((int, int, int) shape) { if (!shapes.Contains(shape)) shapes.Add(shape); }
            for (int layer = 0; layer < m.Layers; layer++)
            {
                int k = m.LayerInputWidth(layer);
                bool tokenLayer = layer == 0 && m.Vocabulary > 0;
                if (m.Cell == Cell.Gru)
                {
                    if (!tokenLayer) Add((k, m.GateWidth, PanelRows(m, layer)));
                    Add((m.Hidden, m.GateWidth, PanelRows(m, layer)));
                }
                else
                {
                    Add(((tokenLayer ? 0 : k) + m.Hidden, m.GateWidth, PanelRows(m, layer)));
                }
            }
            if (head && m.Output > 0) Add((m.LayerOutputWidth, m.Output, m.LayerOutputWidth));
            return shapes;
        }

        /// <summary>
        /// Single-stream Step on the transposed copy: each gate block accumulates Σ_k x[k] Wᵀ[k, :] in registers (no
        /// horizontal sums); for LSTM and RNN the input and recurrent products are one pass over [x; h]; token models
        /// look their layer-0 input projection up in the token table.
        /// </summary>
        private static void StepPacked(SourceWriter w, ModelSpec m)
        {
            bool tokens = m.Vocabulary > 0;
            string xParam = tokens ? "int token" : $"{RoSpan} x";
            w.Line("/// <summary>One step of every layer for one stream, on the transposed weights.</summary>");
            w.Line(HotPath);
            w.Open($"private void StepPacked({xParam}, {Span} state, {Span} output)");
            w.Line("if (_packedStale) Pack();");
            if (m.Half) w.Line("if (_halfStale) PackHalf();");
            if (m.Int8) w.Line("if (_int8Stale) PackInt8();");
            w.Line($"{RoSpan} q = new {RoSpan}(_packed, _packedStart, PackedSize);");
            w.Line($"{RoSpan} p = _parameters;");
            if (m.Half) w.Line("global::System.ReadOnlySpan<ushort> half = new global::System.ReadOnlySpan<ushort>(_packedHalf, _packedHalfStart, HalfSize);");
            if (m.Int8)
            {
                w.Line("global::System.ReadOnlySpan<sbyte> wq = _int8;");
                w.Line($"{RoSpan} scales = _int8Scales;");
                w.Line($"global::System.Span<byte> scratch = {Cs}Kernels.ThreadScratch(Int8ScratchSize);");
            }
            w.Line($"{Span} gates = new {Span}(_stepGates, 0, GateSize);");
            w.Line("bool reverse = _stepReverse;");
            w.Line("_stepReverse = !reverse;");
            int hc = HalfColumns(m);
            // The layer product: from the bfloat16 copy (and the float copy past its last full chunk) or the float copy.
            // Only the float products alternate their block order: the bfloat16 ones are bound by the decode, and
            // alternating measured no faster there (paired micro-benchmark, 1.00x).
            // Int8: W_ih and W_hh are quantized apart (each with its own input scale): the stacked product is two.
            string Int8Product(string name, int outputs, int inputs, string x, string y)
                => $"{MatVecTInt8Name(inputs, outputs)}(wq.Slice(Int8{name}, {Num(Int8Size(outputs, inputs))}), scales.Slice(Scale{name}, {Num(outputs)}), {x}, {y}, scratch);";
            string Product(string id, int layer, int rowOffset, int rows, string x, string y) => m.Int8
                ? (rowOffset == 0 ? Int8Product("Ih" + id, m.GateWidth, rows, x, y) : Int8Product("Hh" + id, m.GateWidth, rows, x, y))
                : m.Half
                ? $"{MatVecTHalfName(rows, m.GateWidth, PanelRows(m, layer))}(half.Slice(Half{id}{(rowOffset > 0 ? " + " + Num(rowOffset * hc) : "")}, {Num(rows * hc)}), {LayerPanels(m, "Packed" + id, layer, rowOffset)}, {x}, {y});"
                : $"{MatVecTName(rows, m.GateWidth, PanelRows(m, layer))}({LayerPanels(m, "Packed" + id, layer, rowOffset)}, {x}, {y}, reverse);";
            for (int layer = 0; layer < m.Layers; layer++)
            {
                string id = LayerId(layer, 0);
                int k = m.LayerInputWidth(layer);
                bool tokenLayer = layer == 0 && tokens;
                string h = $"state.Slice({StateOffset(m, layer, false)}, HiddenSize)";
                string input = layer == 0 ? "x" : $"state.Slice({StateOffset(m, layer - 1, false)}, HiddenSize)";
                w.Comment($"Layer {Num(layer)}" + (layer == 0 ? "" : $": its input is layer {Num(layer - 1)}'s new h."));
                w.Open("");
                if (tokenLayer) w.Line($"q.Slice(PackedTokens{id} + token * GateSize, GateSize).CopyTo(gates);");
                if (m.Cell == Cell.Gru)
                {
                    if (!tokenLayer)
                    {
                        w.Line($"q.Slice(PackedBias{id}, GateSize).CopyTo(gates);");
                        w.Line(Product(id, layer, 0, k, input, "gates"));
                    }
                    w.Line($"{Span} hidden = new {Span}(_stepHidden, 0, GateSize);");
                    w.Line(m.Bias ? $"p.Slice(BiasHh{id}, GateSize).CopyTo(hidden);" : "hidden.Clear();");
                    w.Line(Product(id, layer, k, m.Hidden, h, "hidden"));
                    w.Line($"{Cs}Kernels.GruCell(gates, hidden, {h});");
                }
                else
                {
                    if (tokenLayer)
                    {
                        w.Line(Product(id, layer, k, m.Hidden, h, "gates"));
                    }
                    else if (m.Int8)
                    {
                        w.Line($"q.Slice(PackedBias{id}, GateSize).CopyTo(gates);");
                        w.Line(Int8Product("Ih" + id, m.GateWidth, k, input, "gates"));
                        w.Line(Int8Product("Hh" + id, m.GateWidth, m.Hidden, h, "gates"));
                    }
                    else
                    {
                        w.Line($"q.Slice(PackedBias{id}, GateSize).CopyTo(gates);");
                        w.Line($"{Span} xh = new {Span}(_stepXh, 0, {Num(k + m.Hidden)});");
                        w.Line($"{input}.CopyTo(xh);");
                        w.Line($"{h}.CopyTo(xh.Slice({Num(k)}));");
                        w.Line(Product(id, layer, 0, k + m.Hidden, "xh", "gates"));
                    }
                    if (m.Cell == Cell.Lstm)
                    {
                        w.Line($"{Cs}Kernels.LstmCell(gates, state.Slice({StateOffset(m, layer, true)}, HiddenSize), {h}, new {Span}(_stepTanhC, 0, HiddenSize));");
                    }
                    else
                    {
                        w.Line($"{Cs}Kernels.{(m.Relu ? "Relu" : "Tanh")}(gates);");
                        w.Line($"gates.CopyTo({h});");
                    }
                }
                w.Close();
            }
            string top = $"state.Slice({StateOffset(m, m.Layers - 1, false)}, HiddenSize)";
            if (m.Output > 0)
            {
                w.Line("p.Slice(HeadBias, OutputSize).CopyTo(output);");
                w.Line(m.Int8
                    ? Int8Product("Head", m.Output, m.LayerOutputWidth, top, "output")
                    : $"{MatVecTName(m.LayerOutputWidth, m.Output, m.LayerOutputWidth)}({HeadPanels(m)}, {top}, output, reverse);");
            }
            else
            {
                w.Line($"{top}.CopyTo(output);");
            }
            w.Close();
            w.Line();
        }

        // ---- per-batch buffers --------------------------------------------------------------------------------

        private static void Workspace(SourceWriter w, ModelSpec m)
        {
            int rows = m.Layers * m.Directions;
            w.Line("/// <summary>Most elements an array holds (Array.MaxLength): no buffer is sized above it.</summary>");
            w.Line("private const int MaxArrayLength = 0x7FFFFFC7;");
            w.Line("/// <summary>Floats per packed row of the widest per-row buffer (input, gates, layer outputs, head outputs): every buffer of a workspace with");
            w.Line("/// steps x batch rows holds at most that many rows of it, so CheckRows bounds them all.</summary>");
            w.Line($"private const int WidestRow = {Num(WidestRow(m))};");
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// Buffers for batches of up to BatchCapacity sequences of up to StepCapacity steps, in packed rows. For inference,");
            w.Line("/// all layers and directions share one projection buffer and layers alternate between two output buffers; for");
            w.Line("/// training, every layer and direction keeps its own, plus what Backward needs.");
            w.Line("/// </summary>");
            w.Open("private sealed class Workspace");
            w.Line("public readonly int StepCapacity;");
            w.Line("public readonly int BatchCapacity;");
            w.Line("public readonly bool Training;");
            w.Line($"public readonly {Cs}PackedSequences Layout;");
            w.Line("/// <summary>[rows, InputSize]: the packed layer-0 input" + (m.Vocabulary > 0 ? " (embedded tokens)" : "") + ".</summary>");
            w.Line("public readonly float[] Input;");
            if (m.Vocabulary > 0)
            {
                w.Line("/// <summary>[rows]: the packed token ids.</summary>");
                w.Line("public readonly int[] Tokens;");
            }
            w.Line("/// <summary>Per layer and direction, [rows, GateSize]: W_ih x + biases, then in place the gate activations.</summary>");
            w.Line("public readonly float[][] Projection;");
            w.Line("/// <summary>Per layer, [rows, LayerWidth]: the layer's outputs h (forward then reverse).</summary>");
            w.Line("public readonly float[][] Layer;");
            if (m.HasDropout)
            {
                w.Line("/// <summary>Per layer but the last, training [rows, LayerWidth]: the scaled dropout mask of its outputs (0 or 1/(1 − p)), drawn by the trainer; inference none.</summary>");
                w.Line("public readonly float[][] DropoutMask;");
                w.Line("/// <summary>Per layer but the last, training [rows, LayerWidth]: its outputs times its mask, the next layer's input; inference none.</summary>");
                w.Line("public readonly float[][] Dropped;");
            }
            if (m.Output > 0)
            {
                w.Line("/// <summary>[rows, OutputSize]: the head's outputs.</summary>");
                w.Line("public readonly float[] Top;");
            }
            w.Line("/// <summary>Per direction, [batch, HiddenSize]: running hidden states, in length order (one array for both unless DirectionsApart).</summary>");
            w.Line("public readonly float[][] H;");
            if (m.Bidirectional)
            {
                w.Line("/// <summary>Each direction has its own buffers, so a layer's two directions can run at the same time (inference with Threads &gt; 1, and training).</summary>");
                w.Line("public readonly bool DirectionsApart;");
            }
            if (m.Cell == Cell.Lstm)
            {
                w.Line("/// <summary>Per direction, [batch, HiddenSize]: running cell states, in length order.</summary>");
                w.Line("public readonly float[][] C;");
                w.Line("/// <summary>Per layer and direction: training [rows, HiddenSize] c of every step; inference unused.</summary>");
                w.Line("public readonly float[][] CellStates;");
                w.Line("/// <summary>Per layer and direction: tanh(c), training [rows, HiddenSize]; inference one shared [batch, HiddenSize].</summary>");
                w.Line("public readonly float[][] TanhCellStates;");
            }
            if (m.Cell == Cell.Gru)
            {
                w.Line("/// <summary>Per layer and direction: W_hh h + b_hh, training [rows, GateSize]; inference one shared [batch, GateSize].</summary>");
                w.Line("public readonly float[][] HiddenGates;");
            }
            w.Line();
            w.Open(m.Bidirectional ? "public Workspace(int steps, int batch, bool training, bool directionsApart = false)" : "public Workspace(int steps, int batch, bool training)");
            w.Line("CheckRows(steps, batch, nameof(steps), nameof(batch)); // the callers check first, naming their own parameter; this keeps every buffer below from wrapping");
            w.Line("StepCapacity = steps;");
            w.Line("BatchCapacity = batch;");
            w.Line("Training = training;");
            if (m.Bidirectional) w.Line("DirectionsApart = directionsApart;");
            w.Line($"Layout = new {Cs}PackedSequences(steps, batch);");
            w.Line("int rows = steps * batch;");
            w.Line("Input = new float[rows * InputSize];");
            if (m.Vocabulary > 0) w.Line("Tokens = new int[rows];");
            if (m.Output > 0) w.Line("Top = new float[rows * OutputSize];");
            w.Line($"H = new float[{Num(m.Directions)}][];");
            w.Line("H[0] = new float[batch * HiddenSize];");
            if (m.Bidirectional) w.Line("H[1] = DirectionsApart ? new float[batch * HiddenSize] : H[0];");
            w.Line($"Projection = new float[{Num(rows)}][];");
            w.Line($"Layer = new float[{Num(m.Layers)}][];");
            if (m.Cell == Cell.Lstm)
            {
                w.Line($"C = new float[{Num(m.Directions)}][];");
                w.Line("C[0] = new float[batch * HiddenSize];");
                if (m.Bidirectional) w.Line("C[1] = DirectionsApart ? new float[batch * HiddenSize] : C[0];");
                w.Line($"CellStates = new float[{Num(rows)}][];");
                w.Line($"TanhCellStates = new float[{Num(rows)}][];");
            }
            if (m.Cell == Cell.Gru) w.Line($"HiddenGates = new float[{Num(rows)}][];");
            if (m.HasDropout)
            {
                w.Line($"DropoutMask = new float[{Num(m.Layers - 1)}][];");
                w.Line($"Dropped = new float[{Num(m.Layers - 1)}][];");
                w.Open($"for (int l = 0; l < {Num(m.Layers - 1)}; l++)");
                w.Line("DropoutMask[l] = training ? new float[rows * LayerWidth] : global::System.Array.Empty<float>();");
                w.Line("Dropped[l] = training ? new float[rows * LayerWidth] : global::System.Array.Empty<float>();");
                w.Close();
            }
            w.Open("if (training)");
            w.Open($"for (int i = 0; i < {Num(rows)}; i++)");
            w.Line("Projection[i] = new float[rows * GateSize];");
            if (m.Cell == Cell.Lstm)
            {
                w.Line("CellStates[i] = new float[rows * HiddenSize];");
                w.Line("TanhCellStates[i] = new float[rows * HiddenSize];");
            }
            if (m.Cell == Cell.Gru) w.Line("HiddenGates[i] = new float[rows * GateSize];");
            w.Close();
            w.Line($"for (int l = 0; l < {Num(m.Layers)}; l++) Layer[l] = new float[rows * LayerWidth];");
            w.Close();
            w.Open("else");
            w.Line("float[] projection = new float[rows * GateSize];");
            if (m.Bidirectional)
            {
                w.Comment("State rows alternate forward, reverse: with DirectionsApart the reverse rows get buffers of their own.");
                w.Line("float[] projectionReverse = DirectionsApart ? new float[rows * GateSize] : projection;");
                w.Line($"for (int i = 0; i < {Num(rows)}; i++) Projection[i] = i % 2 == 0 ? projection : projectionReverse;");
            }
            else w.Line($"for (int i = 0; i < {Num(rows)}; i++) Projection[i] = projection;");
            if (m.Cell == Cell.Lstm)
            {
                w.Line("float[] tanhC = new float[batch * HiddenSize];");
                if (m.Bidirectional)
                {
                    w.Line("float[] tanhCReverse = DirectionsApart ? new float[batch * HiddenSize] : tanhC;");
                    w.Line($"for (int i = 0; i < {Num(rows)}; i++) {{ CellStates[i] = global::System.Array.Empty<float>(); TanhCellStates[i] = i % 2 == 0 ? tanhC : tanhCReverse; }}");
                }
                else w.Line($"for (int i = 0; i < {Num(rows)}; i++) {{ CellStates[i] = global::System.Array.Empty<float>(); TanhCellStates[i] = tanhC; }}");
            }
            if (m.Cell == Cell.Gru)
            {
                w.Line("float[] hidden = new float[batch * GateSize];");
                if (m.Bidirectional)
                {
                    w.Line("float[] hiddenReverse = DirectionsApart ? new float[batch * GateSize] : hidden;");
                    w.Line($"for (int i = 0; i < {Num(rows)}; i++) HiddenGates[i] = i % 2 == 0 ? hidden : hiddenReverse;");
                }
                else w.Line($"for (int i = 0; i < {Num(rows)}; i++) HiddenGates[i] = hidden;");
            }
            w.Comment("Layers alternate between two buffers: each reads the one below while writing its own.");
            w.Line("float[] even = new float[rows * LayerWidth];");
            w.Line(m.Layers > 1 ? "float[] odd = new float[rows * LayerWidth];" : "float[] odd = even;");
            w.Line($"for (int l = 0; l < {Num(m.Layers)}; l++) Layer[l] = l % 2 == 0 ? even : odd;");
            w.Close();
            w.Close();
            w.Close();
            w.Line();
        }
    }
}
