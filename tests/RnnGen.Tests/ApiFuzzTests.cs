using System;
using System.Collections.Generic;
using Xunit;
using RnnGen.CompilerServices;

namespace RnnGen.Tests;

// The issue's example model, and a few more kinds for the fuzzing below.
[RecurrentModel(Cell = CellKind.Gru, Input = 64, Hidden = 128, Output = 64)]
public partial class FuzzGruModel { }

[RecurrentModel(Cell = CellKind.Lstm, Input = 5, Hidden = 7, Layers = 2, Output = 3)]
public partial class FuzzLstmHead { }

[RecurrentModel(Cell = CellKind.Rnn, Input = 4, Hidden = 6, Layers = 2, Bidirectional = true)]
public partial class FuzzRnnBidirectional { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = 11, Input = 6, Hidden = 8, Output = 5)]
public partial class FuzzLstmTokens { }

[RecurrentModel(Cell = CellKind.Gru, Vocabulary = 9, Input = 4, Hidden = 5, Bidirectional = true, Output = 3)]
public partial class FuzzGruTokensBidirectional { }

[RecurrentModel(Cell = CellKind.Gru, Input = 3, Hidden = 5, Layers = 2, Bidirectional = true, BatchFirst = true, Output = 2)]
public partial class FuzzGruBatchFirst { }

/// <summary>
/// Seeded API fuzzing (issue 18): every public entry point of generated models and their trainers is called with
/// adversarial sizes (zero, negative, int.MaxValue, int.MinValue, counts whose products with the model's constants wrap
/// to small numbers, lengths outside [1, T], spans one too short or long). Each call either computes what a twin model
/// that only ever sees valid calls computes, bit for bit, or throws an ArgumentException; the spans are slices of
/// larger arrays whose guard regions must be untouched; and afterwards the model still gives its reference answers.
/// </summary>
public class ApiFuzzTests
{
    private const int MaxArrayLength = 0x7FFFFFC7;
    private const int Guard = 16;
    private const float Sentinel = 12345f;
    private const int TokenSentinel = 0x5EED;
    /// <summary>The longest span the fuzzing allocates: a requested length beyond it (or negative) is folded below it.</summary>
    private const int MaxSpan = 1 << 15;

    /// <summary>One model kind: how to make it and call what the interfaces do not cover.</summary>
    public sealed record Kind(string Name, Func<IRecurrentModel> Create, Action<IRecurrentModel, int, int> Reserve)
    {
        public override string ToString() => Name;
    }

    public static TheoryData<string> Kinds() => new() { "GruModel", "LstmHead", "RnnBidirectional", "LstmTokens", "GruTokensBidirectional", "GruBatchFirst" };

    private static Kind Get(string name) => name switch
    {
        "GruModel" => new Kind(name, () => new FuzzGruModel(7), (m, s, b) => ((FuzzGruModel)m).Reserve(s, b)),
        "LstmHead" => new Kind(name, () => new FuzzLstmHead(7), (m, s, b) => ((FuzzLstmHead)m).Reserve(s, b)),
        "RnnBidirectional" => new Kind(name, () => new FuzzRnnBidirectional(7), (m, s, b) => ((FuzzRnnBidirectional)m).Reserve(s, b)),
        "LstmTokens" => new Kind(name, () => new FuzzLstmTokens(7), (m, s, b) => ((FuzzLstmTokens)m).Reserve(s, b)),
        "GruTokensBidirectional" => new Kind(name, () => new FuzzGruTokensBidirectional(7), (m, s, b) => ((FuzzGruTokensBidirectional)m).Reserve(s, b)),
        "GruBatchFirst" => new Kind(name, () => new FuzzGruBatchFirst(7), (m, s, b) => ((FuzzGruBatchFirst)m).Reserve(s, b)),
        _ => throw new ArgumentException(name),
    };

    [Fact]
    public void The_issues_overflowing_multi_agent_Step_throws_naming_x()
    {
        var m = new FuzzGruModel();
        float[] state = new float[FuzzGruModel.StateSize], output = new float[64];
        var ex = Assert.Throws<ArgumentException>(() => m.Step(new float[64], (1 << 26) + 1, state, output));
        Assert.Equal("x", ex.ParamName);
        Assert.Contains(((long)((1 << 26) + 1) * 64).ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message);
        Assert.All(state, v => Assert.Equal(0f, v));
        Assert.All(output, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void A_batched_Forward_whose_sizes_wrap_throws_naming_a_parameter()
    {
        var m = new FuzzGruModel();
        int batch = (1 << 26) + 1; // batch * InputSize and steps * batch * OutputSize wrap to 64
        var ex = Assert.ThrowsAny<ArgumentException>(() => m.Forward(new float[64], batch, default, new float[64], default, default));
        Assert.Equal("input", ex.ParamName);
        // Same through the trainer.
        var trainer = m.CreateTrainer(2, 2);
        Assert.Equal("input", Assert.ThrowsAny<ArgumentException>(() => trainer.Forward(new float[64], batch, default, new float[64], default, default)).ParamName);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_Reserve_or_CreateTrainer_that_cannot_be_honoured_leaves_the_model_as_it_was(string name)
    {
        Kind kind = Get(name);
        IRecurrentModel model = kind.Create();
        var h = new Harness(model, kind, seed: 1);
        kind.Reserve(model, 6, 3);
        Reference before = h.ComputeReference();
        int widest = WidestRow(model);
        foreach ((int steps, int batch) in new[] { (int.MaxValue, 3), (6, int.MaxValue), (MaxArrayLength / widest + 1, 1), (1, MaxArrayLength / widest + 1), (65536, 65536), (int.MaxValue, int.MaxValue), (0, 1), (1, -1), (int.MinValue, 1) })
        {
            Assert.ThrowsAny<ArgumentException>(() => kind.Reserve(model, steps, batch));
            Assert.ThrowsAny<ArgumentException>(() => model.CreateTrainer(steps, batch));
        }
        Assert.ThrowsAny<ArgumentException>(() => kind.Reserve(model, 70000, 1 + MaxArrayLength / widest / 70000)); // grows steps; the steps x batch product is the one too large
        h.AssertSame(before, h.ComputeReference());
        // Still allocation-free at the reserved size.
        float[] input = h.Input(6 * 3), output = new float[6 * 3 * model.OutputSize];
        int[] ids = new int[6 * 3], lengths = { 6, 2, 5 };
        Allocations.AssertNone(name + " Forward after a failed Reserve", () => h.Forward(input, ids, 3, lengths, output), 3);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Systematic_adversarial_sizes_compute_correctly_or_throw_and_touch_nothing_outside_their_spans(string name)
    {
        Kind kind = Get(name);
        var h = new Harness(kind.Create(), kind, seed: 2);
        Reference before = h.ComputeReference();
        foreach (int count in h.AdversarialCounts())
        {
            foreach (int steps in new[] { 1, 2 })
            {
                foreach (int lengthsCase in new[] { 0, 1, 2 })
                {
                    h.ForwardCase(count, steps, lengthsCase, h.Wrap(steps, count, h.StepWidth), h.Wrap(steps, count, h.Model.OutputSize), h.Wrap(1, count, h.Model.StateSize), trainer: false);
                    h.ForwardCase(count, steps, lengthsCase, h.Wrap(steps, count, h.StepWidth), h.Wrap(steps, count, h.Model.OutputSize), 0, trainer: true);
                }
            }
            if (h.Streaming)
            {
                h.StepMultiCase(count, h.Wrap(1, count, h.StepWidth), h.Wrap(1, count, h.Model.StateSize), h.Wrap(1, count, h.Model.OutputSize));
                h.StepMultiCase(count, h.Model.InputSize, h.Model.StateSize, h.Model.OutputSize);
            }
            h.ReserveCase(count, 1);
            h.ReserveCase(1, count);
            h.ReserveCase(count, count);
            h.CreateTrainerCase(count, 1);
            h.CreateTrainerCase(2, count);
        }
        // Lengths that do not fit, state and output spans one off, then Backward spans one off.
        foreach (int bad in new[] { 0, -1, 4, 5, int.MaxValue, int.MinValue })
        {
            h.ForwardWithLengths(4, new[] { 4, bad, 1 }, trainer: false);
            h.ForwardWithLengths(4, new[] { 4, bad, 1 }, trainer: true);
        }
        h.ForwardWithLengths(4, new[] { 4, 1 }, trainer: false);
        h.ForwardWithLengths(4, new[] { 4, 1, 2, 3 }, trainer: true);
        foreach (int delta in new[] { -1, 1, -h.Model.StateSize })
        {
            h.ForwardCase(3, 2, 0, 2 * 3 * h.StepWidth, 2 * 3 * h.Model.OutputSize, 3 * h.Model.StateSize + delta, trainer: false);
            h.ForwardCase(3, 2, 0, 2 * 3 * h.StepWidth, 2 * 3 * h.Model.OutputSize + delta, 3 * h.Model.StateSize, trainer: true);
            h.ForwardCase(1, 2, 0, 2 * h.StepWidth + delta, 2 * h.Model.OutputSize, h.Model.StateSize, trainer: false);
            h.SingleCase(2, 2 * h.Model.OutputSize, h.Model.StateSize + delta);
            h.SingleCase(2, 2 * h.Model.OutputSize + delta, h.Model.StateSize);
            if (h.Streaming)
            {
                h.StepSingleCase(h.Model.InputSize + delta, h.Model.StateSize, h.Model.OutputSize);
                h.StepSingleCase(h.Model.InputSize, h.Model.StateSize + delta, h.Model.OutputSize);
                h.StepSingleCase(h.Model.InputSize, h.Model.StateSize, h.Model.OutputSize + delta);
                h.StepMultiCase(2, 2 * h.StepWidth, 2 * h.Model.StateSize + delta, 2 * h.Model.OutputSize);
            }
            for (int which = 0; which < 4; which++) h.BackwardCase(delta, which);
        }
        h.BackwardCase(0, 0);
        h.AssertSame(before, h.ComputeReference());
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Seeded_random_calls_compute_correctly_or_throw_and_touch_nothing_outside_their_spans(string name)
    {
        Kind kind = Get(name);
        var h = new Harness(kind.Create(), kind, seed: 3);
        Reference before = h.ComputeReference();
        var rng = new Random(1234 + name.Length);
        int[] counts = h.AdversarialCounts();
        int Count() => rng.Next(4) switch { 0 => counts[rng.Next(counts.Length)], 1 => rng.Next(-2, 3), _ => rng.Next(1, 5) };
        int Length(int exact)
        {
            int e = exact >= 0 && exact <= MaxSpan ? exact : (int)((uint)exact % 97); // a wrapped product, folded as the spans are
            return rng.Next(6) switch { 0 => e - 1, 1 => e + 1, 2 => rng.Next(0, 3 * e + 2), _ => e };
        }
        for (int call = 0; call < 300; call++)
        {
            int batch = Count(), steps = rng.Next(1, 5);
            int input = Length(h.Wrap(steps, batch, h.StepWidth)), output = Length(h.Wrap(steps, batch, h.Model.OutputSize));
            int state = rng.Next(3) == 0 ? 0 : Length(h.Wrap(1, batch, h.Model.StateSize));
            switch (rng.Next(h.Streaming ? 9 : 7))
            {
                case 0:
                case 1: h.ForwardCase(batch, steps, rng.Next(3), input, output, state, trainer: false, rng); break;
                case 2: h.ForwardCase(batch, steps, rng.Next(3), input, output, state, trainer: true, rng); break;
                case 3: h.SingleCase(Length(steps), Length(steps * h.Model.OutputSize), state == 0 ? 0 : Length(h.Model.StateSize)); break;
                case 4: h.BackwardCase(rng.Next(3) - 1, rng.Next(4)); break;
                case 5: h.ReserveCase(Count(), Count()); break;
                case 6: h.CreateTrainerCase(Count(), Count()); break;
                case 7: h.StepMultiCase(batch, Length(h.Wrap(1, batch, h.StepWidth)), Length(h.Wrap(1, batch, h.Model.StateSize)), Length(h.Wrap(1, batch, h.Model.OutputSize))); break;
                default: h.StepSingleCase(Length(h.Model.InputSize), Length(h.Model.StateSize), Length(h.Model.OutputSize)); break;
            }
        }
        h.AssertSame(before, h.ComputeReference());
    }

    private static int Gates(IRecurrentModel m) => m.Cell switch { CellKind.Lstm => 4, CellKind.Gru => 3, _ => 1 };

    /// <summary>The model's widest per-row buffer (input, gates, layer outputs, head outputs), as the generated CheckRows bounds it.</summary>
    private static int WidestRow(IRecurrentModel m) => Math.Max(Math.Max(m.InputSize, Gates(m) * m.HiddenSize), Math.Max(m.NumDirections * m.HiddenSize, m.OutputSize));

    /// <summary>What a model answers to a fixed set of valid calls: compared bit for bit before and after the fuzzing.</summary>
    private sealed record Reference(float[] Single, float[] SingleState, float[] Batch, float[] BatchState, float[] Step, float[] Agents, float[] TrainOutput, float[] Gradients);

    /// <summary>Runs fuzz cases on a model and on a twin that only ever gets the valid ones, and checks the guards.</summary>
    private sealed class Harness
    {
        public readonly IRecurrentModel Model;
        private readonly IRecurrentModel _twin;
        private readonly Kind _kind;
        private readonly ITrainer _trainer, _twinTrainer;
        private readonly Random _data;
        public readonly bool Tokens, Streaming;
        /// <summary>Elements of input per step and sequence: InputSize floats, or one token id.</summary>
        public readonly int StepWidth;
        private const int TrainerSteps = 4, TrainerBatch = 3;

        public Harness(IRecurrentModel model, Kind kind, int seed)
        {
            Model = model;
            _kind = kind;
            _twin = kind.Create();
            Tokens = model.VocabularySize > 0;
            Streaming = model is IVectorStreamingModel or ITokenStreamingModel;
            StepWidth = Tokens ? 1 : model.InputSize;
            _trainer = model.CreateTrainer(TrainerSteps, TrainerBatch);
            _twinTrainer = _twin.CreateTrainer(TrainerSteps, TrainerBatch);
            _data = new Random(seed);
        }

        /// <summary>
        /// Counts that make a product with one of the model's constants wrap around int to a small or negative number,
        /// and the usual edge values.
        /// </summary>
        public int[] AdversarialCounts()
        {
            var counts = new SortedSet<int> { 0, -1, -2, int.MinValue, int.MinValue + 1, int.MaxValue, int.MaxValue - 1, 1 << 30, 1 << 16, MaxArrayLength };
            int widest = WidestRow(Model);
            foreach (int width in new[] { 1, Model.InputSize, Model.OutputSize, Model.StateSize, Model.HiddenSize, Gates(Model) * Model.HiddenSize, Model.NumDirections * Model.HiddenSize, widest })
            {
                foreach (long target in new[] { 1L << 32, 1L << 31, 1L << 33 })
                {
                    for (long d = 0; d < 3; d++)
                    {
                        long count = target / width + d;
                        if (count <= int.MaxValue) counts.Add((int)count);
                    }
                }
                counts.Add(MaxArrayLength / width);
                counts.Add(MaxArrayLength / width + 1);
            }
            return new List<int>(counts).ToArray();
        }

        /// <summary>steps * count * width as plain int arithmetic would compute it (wrapping).</summary>
        public int Wrap(int steps, int count, int width) => unchecked(steps * count * width);

        /// <summary>A requested span length made allocatable: negative or huge lengths are folded to small ones.</summary>
        private static int Fold(int length) => length >= 0 && length <= MaxSpan ? length : (int)((uint)length % 97);

        // ---- guarded spans --------------------------------------------------------------------------------------

        private sealed class Guarded<T> where T : struct
        {
            public readonly T[] Array;
            public readonly int Length;
            private readonly T _sentinel;

            public Guarded(int length, T sentinel, Func<int, T> fill)
            {
                Length = length;
                _sentinel = sentinel;
                Array = new T[length + 2 * Guard];
                for (int i = 0; i < Array.Length; i++) Array[i] = i < Guard || i >= Guard + length ? sentinel : fill(i - Guard);
            }

            public Span<T> Span => Array.AsSpan(Guard, Length);

            public T[] Inside => Span.ToArray();

            public void AssertGuards(string what)
            {
                for (int i = 0; i < Array.Length; i++)
                {
                    if (i >= Guard && i < Guard + Length) continue;
                    if (!EqualityComparer<T>.Default.Equals(Array[i], _sentinel)) Assert.Fail($"{what}: guard element {i - Guard} (span length {Length}) was overwritten.");
                }
            }
        }

        private Guarded<float> Floats(int length) => new(Fold(length), Sentinel, _ => (float)(_data.NextDouble() * 2 - 1));

        private Guarded<int> Ids(int length, Random? rng)
        {
            int vocabulary = Model.VocabularySize;
            return new Guarded<int>(Fold(length), TokenSentinel, _ => rng is not null && rng.Next(40) == 0 ? (rng.Next(2) == 0 ? -1 : vocabulary) : _data.Next(vocabulary));
        }

        public float[] Input(int steps)
        {
            var x = new float[steps * Model.InputSize];
            for (int i = 0; i < x.Length; i++) x[i] = (float)Math.Sin(i * 0.37);
            return x;
        }

        // ---- calls ----------------------------------------------------------------------------------------------

        /// <summary>Runs <paramref name="call"/> on the model; it must succeed or throw an ArgumentException. Returns whether it succeeded.</summary>
        private static bool Try(string what, Action call, bool allowNotReady = false)
        {
            try
            {
                call();
                return true;
            }
            catch (ArgumentException)
            {
                return false;
            }
            catch (InvalidOperationException) when (allowNotReady)
            {
                return false;
            }
            catch (Exception ex)
            {
                Assert.Fail($"{what}: threw {ex.GetType().Name} instead of computing or throwing an ArgumentException: {ex.Message}");
                return false;
            }
        }

        private static void AssertBits(float[] expected, float[] actual, string what)
        {
            if (expected.Length != actual.Length) Assert.Fail($"{what}: {actual.Length} values, expected {expected.Length}.");
            for (int i = 0; i < expected.Length; i++)
            {
                if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                    Assert.Fail($"{what}: value {i} is {actual[i]}, the twin's {expected[i]}.");
            }
        }

        private int[]? Lengths(int lengthsCase, int batch, int steps, Random? rng)
        {
            if (lengthsCase == 0) return null;
            int count = batch >= 1 && batch <= 64 ? batch : 3;
            var lengths = new int[count];
            for (int i = 0; i < count; i++) lengths[i] = lengthsCase == 1 ? steps - i % steps : (rng?.Next(-1, steps + 2) ?? steps + 1);
            return lengths;
        }

        public void ForwardCase(int batch, int steps, int lengthsCase, int inputLength, int outputLength, int stateLength, bool trainer, Random? rng = null)
        {
            var input = Tokens ? null : Floats(inputLength);
            var tokens = Tokens ? Ids(inputLength, rng) : null;
            var output = Floats(outputLength);
            var initial = Floats(stateLength);
            var final = new Guarded<float>(initial.Length, Sentinel, _ => 0f);
            int[]? lengths = Lengths(lengthsCase, batch, steps, rng);
            string what = $"{_kind.Name} {(trainer ? "trainer " : "")}Forward(batch {batch}, input {inputLength}, output {outputLength}, state {stateLength}, lengths {(lengths is null ? "none" : string.Join(",", lengths))})";
            float[]? initialCopy = initial.Inside;
            bool ok = Try(what, () => RunForward(Model, _trainer, trainer, input, tokens, batch, lengths, output.Span, initial.Span, final.Span));
            input?.AssertGuards(what + " input");
            tokens?.AssertGuards(what + " tokens");
            output.AssertGuards(what + " output");
            initial.AssertGuards(what + " initialState");
            final.AssertGuards(what + " finalState");
            if (!ok) return;
            var twinOutput = new float[output.Length];
            var twinFinal = new float[final.Length];
            RunForward(_twin, _twinTrainer, trainer, input, tokens, batch, lengths, twinOutput, initialCopy, twinFinal);
            AssertBits(twinOutput, output.Inside, what + " output");
            AssertBits(twinFinal, final.Inside, what + " finalState");
        }

        private void RunForward(IRecurrentModel model, ITrainer trainer, bool useTrainer, Guarded<float>? input, Guarded<int>? tokens, int batch, int[]? lengths, Span<float> output, ReadOnlySpan<float> initial, Span<float> final)
        {
            if (useTrainer)
            {
                if (Tokens) ((ITokenTrainer)trainer).Forward(tokens!.Span, batch, lengths, output, initial, final);
                else ((IVectorTrainer)trainer).Forward(input!.Span, batch, lengths, output, initial, final);
            }
            else if (Tokens) ((ITokenSequenceModel)model).Forward(tokens!.Span, batch, lengths, output, initial, final);
            else ((IVectorSequenceModel)model).Forward(input!.Span, batch, lengths, output, initial, final);
        }

        public void ForwardWithLengths(int steps, int[] lengths, bool trainer)
        {
            int batch = 3;
            var input = Tokens ? null : Floats(steps * batch * StepWidth);
            var tokens = Tokens ? Ids(steps * batch, null) : null;
            var output = Floats(steps * batch * Model.OutputSize);
            var final = new Guarded<float>(batch * Model.StateSize, Sentinel, _ => 0f);
            string what = $"{_kind.Name} {(trainer ? "trainer " : "")}Forward(lengths {string.Join(",", lengths)})";
            bool ok = Try(what, () => RunForward(Model, _trainer, trainer, input, tokens, batch, lengths, output.Span, default, final.Span));
            output.AssertGuards(what);
            final.AssertGuards(what);
            if (!ok) return;
            var twinOutput = new float[output.Length];
            RunForward(_twin, _twinTrainer, trainer, input, tokens, batch, lengths, twinOutput, default, new float[final.Length]);
            AssertBits(twinOutput, output.Inside, what);
        }

        public void SingleCase(int steps, int outputLength, int stateLength)
        {
            var input = Tokens ? null : Floats(steps * StepWidth);
            var tokens = Tokens ? Ids(steps, null) : null;
            var output = Floats(outputLength);
            var initial = Floats(stateLength);
            var final = new Guarded<float>(initial.Length, Sentinel, _ => 0f);
            string what = $"{_kind.Name} Forward(one sequence, {steps} steps, output {outputLength}, state {stateLength})";
            float[] initialCopy = initial.Inside;
            void Run(IRecurrentModel model, Span<float> y, ReadOnlySpan<float> h0, Span<float> h1)
            {
                if (Tokens) ((ITokenSequenceModel)model).Forward(tokens!.Span, y, h0, h1);
                else ((IVectorSequenceModel)model).Forward(input!.Span, y, h0, h1);
            }
            bool ok = Try(what, () => Run(Model, output.Span, initial.Span, final.Span));
            output.AssertGuards(what);
            initial.AssertGuards(what);
            final.AssertGuards(what);
            if (!ok) return;
            var twinOutput = new float[output.Length];
            var twinFinal = new float[final.Length];
            Run(_twin, twinOutput, initialCopy, twinFinal);
            AssertBits(twinOutput, output.Inside, what);
            AssertBits(twinFinal, final.Inside, what);
        }

        public void StepSingleCase(int inputLength, int stateLength, int outputLength)
        {
            var x = Floats(Tokens ? 0 : inputLength);
            int token = Tokens ? inputLength - Model.InputSize : 0; // 0 when the length is right, -1 (bad) or 1 one off, anything for random lengths
            var state = Floats(stateLength);
            var output = Floats(outputLength);
            string what = $"{_kind.Name} Step(x {inputLength}, state {stateLength}, output {outputLength})";
            float[] stateCopy = state.Inside;
            void Run(IRecurrentModel model, Span<float> s, Span<float> y)
            {
                if (Tokens) ((ITokenStreamingModel)model).Step(token, s, y);
                else ((IVectorStreamingModel)model).Step(x.Span, s, y);
            }
            CheckStep(what, Run, stateCopy, state, output);
            x.AssertGuards(what);
        }

        public void StepMultiCase(int agents, int inputLength, int stateLength, int outputLength)
        {
            var x = Tokens ? null : Floats(inputLength);
            var tokens = Tokens ? Ids(inputLength, null) : null;
            var state = Floats(stateLength);
            var output = Floats(outputLength);
            string what = $"{_kind.Name} Step(agents {agents}, x {inputLength}, state {stateLength}, output {outputLength})";
            float[] stateCopy = state.Inside;
            void Run(IRecurrentModel model, Span<float> s, Span<float> y)
            {
                if (Tokens) ((ITokenStreamingModel)model).Step(tokens!.Span, s, y);
                else ((IVectorStreamingModel)model).Step(x!.Span, agents, s, y);
            }
            CheckStep(what, Run, stateCopy, state, output);
            x?.AssertGuards(what);
            tokens?.AssertGuards(what);
        }

        private delegate void StepRun(IRecurrentModel model, Span<float> state, Span<float> output);

        /// <summary>
        /// Runs a Step on the fuzzed model; the state and output guards must be untouched; a throw must leave the state as it
        /// was, and a call that ran must match the twin (given a copy of the same state) bit for bit.
        /// </summary>
        private void CheckStep(string what, StepRun run, float[] stateCopy, Guarded<float> state, Guarded<float> output)
        {
            bool ok = Try(what, () => run(Model, state.Span, output.Span));
            state.AssertGuards(what);
            output.AssertGuards(what);
            if (!ok)
            {
                AssertBits(stateCopy, state.Inside, what + " (state after a throw)");
                return;
            }
            var twinOutput = new float[output.Length];
            run(_twin, stateCopy, twinOutput);
            AssertBits(stateCopy, state.Inside, what + " state");
            AssertBits(twinOutput, output.Inside, what + " output");
        }

        /// <summary>Whether Reserve or CreateTrainer may honour (steps, batch) here without allocating gigabytes: small, or bound to throw.</summary>
        private bool Affordable(int steps, int batch) =>
            Small(steps, batch) || steps < 1 || batch < 1
            || (long)steps * batch > MaxArrayLength / WidestRow(Model) || batch > MaxArrayLength / Model.StateSize;

        /// <summary>Sizes a Reserve or CreateTrainer must honour (the model's capacities then stay small: they only grow).</summary>
        private static bool Small(int steps, int batch) => steps >= 1 && steps <= 64 && batch >= 1 && batch <= 64;

        public void ReserveCase(int steps, int batch)
        {
            if (!Affordable(steps, batch)) return;
            bool ok = Try($"{_kind.Name} Reserve({steps}, {batch})", () => _kind.Reserve(Model, steps, batch));
            if (Small(steps, batch) != ok) Assert.Fail($"{_kind.Name} Reserve({steps}, {batch}) {(ok ? "succeeded" : "threw")}.");
        }

        public void CreateTrainerCase(int steps, int batch)
        {
            if (!Affordable(steps, batch)) return;
            bool ok = Try($"{_kind.Name} CreateTrainer({steps}, {batch})", () => Model.CreateTrainer(steps, batch));
            if (Small(steps, batch) != ok) Assert.Fail($"{_kind.Name} CreateTrainer({steps}, {batch}) {(ok ? "succeeded" : "threw")}.");
        }

        /// <summary>A valid trainer Forward on both, then Backward with span <paramref name="which"/> off by <paramref name="delta"/> (0: valid).</summary>
        public void BackwardCase(int delta, int which)
        {
            int steps = 3, batch = 2;
            int[] lengths = { 3, 2 };
            var input = Tokens ? null : Floats(steps * batch * StepWidth);
            var tokens = Tokens ? Ids(steps * batch, null) : null;
            var output = new float[steps * batch * Model.OutputSize];
            RunForward(Model, _trainer, true, input, tokens, batch, lengths, output, default, default);
            RunForward(_twin, _twinTrainer, true, input, tokens, batch, lengths, new float[output.Length], default, default);
            var outputGrad = Floats(output.Length + (which == 0 ? delta : 0));
            var inputGrad = Floats(steps * batch * Model.InputSize + (which == 1 ? delta : 0));
            var finalGrad = Floats(batch * Model.StateSize + (which == 2 ? delta : 0));
            var initialGrad = new Guarded<float>(batch * Model.StateSize + (which == 3 ? delta : 0), Sentinel, _ => 0f);
            string what = $"{_kind.Name} Backward(delta {delta} on span {which})";
            bool ok = Try(what, () => _trainer.Backward(outputGrad.Span, inputGrad.Span, finalGrad.Span, initialGrad.Span), allowNotReady: true);
            outputGrad.AssertGuards(what);
            inputGrad.AssertGuards(what);
            finalGrad.AssertGuards(what);
            initialGrad.AssertGuards(what);
            if (!ok) return;
            var twinInputGrad = new float[inputGrad.Length];
            var twinInitialGrad = new float[initialGrad.Length];
            _twinTrainer.Backward(outputGrad.Inside, twinInputGrad, finalGrad.Inside, twinInitialGrad);
            AssertBits(twinInputGrad, inputGrad.Inside, what + " inputGrad");
            AssertBits(twinInitialGrad, initialGrad.Inside, what + " initialStateGrad");
            AssertBits(_twin.Gradients.ToArray(), Model.Gradients.ToArray(), what + " gradients");
        }

        // ---- reference ------------------------------------------------------------------------------------------

        /// <summary>Fixed valid calls of every kind (on fresh states and a fresh trainer, so the fuzzing's own calls do not matter).</summary>
        public Reference ComputeReference()
        {
            IRecurrentModel m = Model;
            int steps = 5, batch = 3;
            int[] lengths = { 5, 2, 4 };
            var rng = new Random(99);
            float[] x = new float[steps * batch * m.InputSize];
            for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
            int[] ids = new int[steps * batch];
            for (int i = 0; i < ids.Length; i++) ids[i] = rng.Next(Math.Max(1, m.VocabularySize));
            float[] h0 = new float[batch * m.StateSize];
            for (int i = 0; i < h0.Length; i++) h0[i] = (float)(rng.NextDouble() - 0.5);

            float[] single = new float[steps * m.OutputSize], singleState = new float[m.StateSize];
            float[] all = new float[steps * batch * m.OutputSize], allState = new float[batch * m.StateSize];
            if (Tokens)
            {
                ((ITokenSequenceModel)m).Forward(ids.AsSpan(0, steps), single, h0.AsSpan(0, m.StateSize), singleState);
                ((ITokenSequenceModel)m).Forward(ids, batch, lengths, all, h0, allState);
            }
            else
            {
                ((IVectorSequenceModel)m).Forward(x.AsSpan(0, steps * m.InputSize), single, h0.AsSpan(0, m.StateSize), singleState);
                ((IVectorSequenceModel)m).Forward(x, batch, lengths, all, h0, allState);
            }
            float[] step = Array.Empty<float>(), agents = Array.Empty<float>();
            if (Streaming)
            {
                float[] s1 = (float[])h0.Clone(), y1 = new float[m.OutputSize], y3 = new float[batch * m.OutputSize];
                if (Tokens)
                {
                    ((ITokenStreamingModel)m).Step(ids[0], s1.AsSpan(0, m.StateSize), y1);
                    ((ITokenStreamingModel)m).Step(ids.AsSpan(0, batch), s1, y3);
                }
                else
                {
                    ((IVectorStreamingModel)m).Step(x.AsSpan(0, m.InputSize), s1.AsSpan(0, m.StateSize), y1);
                    ((IVectorStreamingModel)m).Step(x.AsSpan(0, batch * m.InputSize), batch, s1, y3);
                }
                step = y1;
                agents = [.. y3, .. s1];
            }
            ITrainer trainer = m.CreateTrainer(steps, batch);
            float[] trainOutput = new float[all.Length];
            if (Tokens) ((ITokenTrainer)trainer).Forward(ids, batch, lengths, trainOutput, h0, default);
            else ((IVectorTrainer)trainer).Forward(x, batch, lengths, trainOutput, h0, default);
            float[] saved = m.Gradients.ToArray();
            m.ZeroGradients();
            float[] dy = new float[trainOutput.Length];
            for (int i = 0; i < dy.Length; i++) dy[i] = (float)Math.Cos(i * 0.11);
            trainer.Backward(dy, default);
            float[] gradients = m.Gradients.ToArray();
            saved.CopyTo(m.Gradients); // the fuzzing's twin comparison continues from where it was
            return new Reference(single, singleState, all, allState, step, agents, trainOutput, gradients);
        }

        public void AssertSame(Reference before, Reference after)
        {
            AssertBits(before.Single, after.Single, "Forward (one sequence)");
            AssertBits(before.SingleState, after.SingleState, "Forward final state (one sequence)");
            AssertBits(before.Batch, after.Batch, "Forward (batch)");
            AssertBits(before.BatchState, after.BatchState, "Forward final states (batch)");
            AssertBits(before.Step, after.Step, "Step");
            AssertBits(before.Agents, after.Agents, "multi-agent Step");
            AssertBits(before.TrainOutput, after.TrainOutput, "trainer Forward");
            AssertBits(before.Gradients, after.Gradients, "trainer Backward gradients");
        }

        public void Forward(float[] input, int[] ids, int batch, int[] lengths, float[] output)
        {
            if (Tokens) ((ITokenSequenceModel)Model).Forward(ids, batch, lengths, output, default, default);
            else ((IVectorSequenceModel)Model).Forward(input, batch, lengths, output, default, default);
        }
    }
}

/// <summary>The runtime's public entry points that take counts: a product that would wrap is an ArgumentException.</summary>
public class RuntimeSizeTests
{
    [Fact]
    public void Batching_refuses_sizes_whose_products_wrap()
    {
        // 65536 x 65536 x 1 wraps to 0 in int arithmetic, which an empty padded span used to pass.
        var ex = Assert.ThrowsAny<ArgumentException>(() => Batching.Unpad(new float[4], 1 << 16, 1 << 16, 1, 0, 1, new float[4]));
        Assert.Equal("padded", ex.ParamName);
        Assert.Contains("4294967296", ex.Message);
        var sequences = new[] { new int[1 << 16] };
        var indices = new int[1 << 16]; // the one sequence 65536 times: [65536, 65536] ids
        ex = Assert.ThrowsAny<ArgumentException>(() => Batching.PadTokens(sequences, indices, new int[8], new int[1 << 16]));
        Assert.Equal("padded", ex.ParamName);
        Assert.Contains("4294967296", ex.Message);
        Assert.Equal(new[] { new[] { 0, 1, 2 } }, Batching.BucketByLength(new[] { 3, 2, 1 }, int.MaxValue));
    }

    [Fact]
    public void PackedSequences_refuses_counts_beyond_an_array_and_rows_beyond_an_int()
    {
        Assert.Equal("maxSteps", Assert.Throws<ArgumentOutOfRangeException>(() => new PackedSequences(int.MaxValue, 0)).ParamName);
        Assert.Equal("maxBatch", Assert.Throws<ArgumentOutOfRangeException>(() => new PackedSequences(0, int.MaxValue)).ParamName);
        var layout = new PackedSequences(4, 2);
        layout.Set(3, 2, new[] { 3, 1 });
        var ex = Assert.ThrowsAny<ArgumentException>(() => layout.Set(1 << 16, 1 << 16, default));
        Assert.Equal("batch", ex.ParamName);
        // Nothing changed: the layout is still the one set before.
        Assert.Equal(3, layout.Steps);
        Assert.Equal(4, layout.Rows);
        Assert.Equal(4, layout.StepCapacity);
    }

    [Fact]
    public void Optimizers_refuse_a_parameter_count_whose_padded_state_would_not_fit()
    {
        Assert.Equal("parameterCount", Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(int.MaxValue, 0.1f, momentum: 0.9f)).ParamName);
        Assert.Equal("parameterCount", Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(int.MaxValue - 3)).ParamName);
        Assert.Equal("parameterCount", Assert.Throws<ArgumentOutOfRangeException>(() => new Adagrad(int.MaxValue)).ParamName);
    }
}
