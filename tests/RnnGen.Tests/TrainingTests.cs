using System;
using Xunit;

namespace RnnGen.Tests;

[RecurrentModel(Cell = CellKind.Rnn, Input = 3, Hidden = 4, Layers = 2)]
public partial class TinyRnn { }

[RecurrentModel(Cell = CellKind.Rnn, Nonlinearity = Nonlinearity.Relu, Input = 3, Hidden = 5, Bidirectional = true, Output = 2)]
public partial class TinyReluBi { }

[RecurrentModel(Cell = CellKind.Lstm, Input = 3, Hidden = 4, Layers = 2, Bidirectional = true, Output = 3)]
public partial class TinyLstm { }

[RecurrentModel(Cell = CellKind.Gru, Vocabulary = 6, Input = 3, Hidden = 5, Layers = 2, Output = 4)]
public partial class TinyGru { }

[RecurrentModel(Cell = CellKind.Gru, Input = 3, Hidden = 4, Bias = false)]
public partial class TinyGruNoBias { }

[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = 5, Input = 8, Hidden = 24, Output = 5)]
public partial class CounterLstm { }

/// <summary>More tokens than a small trainer has rows: the per-token gradient sums are bounded by the rows, not the vocabulary.</summary>
[RecurrentModel(Cell = CellKind.Gru, Vocabulary = 50, Input = 4, Hidden = 6, Layers = 2, Bidirectional = true, Output = 3)]
public partial class WideVocabularyGru { }

/// <summary>Finite differences, truncated BPTT through state gradients, convergence, allocations and bad input of the trainer.</summary>
public class TrainingTests
{
    private const int Steps = 5;

    public static TheoryData<string> TinyModels() => new() { "rnn", "relu-bi", "lstm", "gru-tokens", "gru-nobias" };

    /// <summary>The unidirectional ones: a bidirectional layer cannot be split in time ("relu-bi" and "lstm" are).</summary>
    public static TheoryData<string> TinyUnidirectionalModels() => new() { "rnn", "gru-tokens", "gru-nobias" };

    private static IRecurrentModel Create(string kind) => kind switch
    {
        "rnn" => new TinyRnn(11),
        "relu-bi" => new TinyReluBi(12),
        "lstm" => new TinyLstm(13),
        "gru-tokens" => new TinyGru(14),
        "gru-nobias" => new TinyGruNoBias(15),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static float[] Random(int length, int seed, float scale = 1f)
    {
        var values = new float[length];
        new Rng(seed).FillUniform(values, -scale, scale);
        return values;
    }

    private static readonly int[] Tokens = { 1, 5, 0, 3, 3 };

    private static void Forward(ITrainer trainer, float[] input, float[] output, float[] initialState, float[] finalState)
    {
        if (trainer is ITokenTrainer tokens) tokens.Forward(Tokens, output, initialState, finalState);
        else ((IVectorTrainer)trainer).Forward(input, output, initialState, finalState);
    }

    /// <summary>L = Σ y·dy + Σ finalState·dfinal, in double, the same loss the analytic gradients are of.</summary>
    private static double Loss(IRecurrentModel model, ITrainer trainer, float[] input, float[] initialState, float[] dy, float[] dFinal)
    {
        var output = new float[Steps * model.OutputSize];
        var finalState = new float[model.StateSize];
        Forward(trainer, input, output, initialState, finalState);
        double loss = 0;
        for (int i = 0; i < output.Length; i++) loss += (double)output[i] * dy[i];
        for (int i = 0; i < finalState.Length; i++) loss += (double)finalState[i] * dFinal[i];
        return loss;
    }

    [Theory]
    [MemberData(nameof(TinyModels))]
    public void Gradients_match_central_finite_differences(string kind)
    {
        IRecurrentModel model = Create(kind);
        ITrainer trainer = model.CreateTrainer(Steps);
        float[] input = Random(Steps * model.InputSize, 1);
        float[] initialState = Random(model.StateSize, 2, 0.5f);
        float[] dy = Random(Steps * model.OutputSize, 3);
        float[] dFinal = Random(model.StateSize, 4);

        var output = new float[Steps * model.OutputSize];
        Forward(trainer, input, output, initialState, new float[model.StateSize]);
        var inputGrad = new float[Steps * model.InputSize];
        var initialGrad = new float[model.StateSize];
        model.ZeroGradients();
        trainer.Backward(dy, inputGrad, dFinal, initialGrad);

        const float h = 1e-2f;
        double Central(Span<float> values, int index, Func<double> loss)
        {
            float saved = values[index];
            values[index] = saved + h;
            double plus = loss();
            values[index] = saved - h;
            double minus = loss();
            values[index] = saved;
            return (plus - minus) / (2 * h);
        }

        void Check(string what, float analytic, double numeric)
        {
            double error = Math.Abs(analytic - numeric);
            Assert.True(error <= 2e-3 + 2e-3 * Math.Abs(numeric), $"{kind} {what}: analytic {analytic:R}, finite difference {numeric:R}.");
        }

        double Objective() => Loss(model, trainer, input, initialState, dy, dFinal);
        Span<float> gradients = model.Gradients;
        float[] analytic = gradients.ToArray();
        // Every parameter of these tiny models (a few hundred), except ReLU units sitting at a kink.
        for (int i = 0; i < analytic.Length; i++)
        {
            double numeric = Central(model.Parameters, i, Objective);
            if (kind == "relu-bi" && Math.Abs(numeric - analytic[i]) > 0.05 && Math.Abs(numeric) < 1e-9) continue;
            Check($"parameter {i}", analytic[i], numeric);
        }
        if (model.VocabularySize == 0)
        {
            for (int i = 0; i < input.Length; i++) Check($"input {i}", inputGrad[i], Central(input, i, Objective));
        }
        for (int i = 0; i < initialState.Length; i++) Check($"initial state {i}", initialGrad[i], Central(initialState, i, Objective));
    }

    [Theory]
    [MemberData(nameof(TinyUnidirectionalModels))]
    public void Windows_chained_through_state_gradients_equal_full_backpropagation(string kind)
    {
        // Forward the sequence as two windows carrying state, backpropagate window 2 then window 1 with
        // finalStateGrad = window 2's initialStateGrad: the summed gradients equal one pass over the whole sequence.
        IRecurrentModel model = Create(kind);
        Assert.Equal(1, model.NumDirections);
        const int total = 8, split = 3;
        float[] input = Random(total * model.InputSize, 5);
        int[] tokens = { 0, 1, 2, 3, 4, 5, 0, 1 };
        float[] dy = Random(total * model.OutputSize, 6);

        void Run(ITrainer trainer, int start, int length, float[] initial, float[] final)
        {
            var output = new float[length * model.OutputSize];
            if (trainer is ITokenTrainer t) t.Forward(tokens.AsSpan(start, length), output, initial, final);
            else ((IVectorTrainer)trainer).Forward(input.AsSpan(start * model.InputSize, length * model.InputSize), output, initial, final);
        }

        ITrainer full = model.CreateTrainer(total);
        Run(full, 0, total, Array.Empty<float>(), Array.Empty<float>());
        model.ZeroGradients();
        full.Backward(dy, Span<float>.Empty, default, default);
        float[] expected = model.Gradients.ToArray();

        ITrainer first = model.CreateTrainer(split), second = model.CreateTrainer(total - split);
        var carried = new float[model.StateSize];
        Run(first, 0, split, Array.Empty<float>(), carried);
        Run(second, split, total - split, carried, Array.Empty<float>());
        model.ZeroGradients();
        var carriedGrad = new float[model.StateSize];
        second.Backward(dy.AsSpan(split * model.OutputSize), Span<float>.Empty, default, carriedGrad);
        first.Backward(dy.AsSpan(0, split * model.OutputSize), Span<float>.Empty, carriedGrad, default);
        Numeric.AssertClose(expected, model.Gradients, 1e-5f, kind + " chained gradients");
    }

    [Fact]
    public void A_token_lstm_learns_to_count_with_adam()
    {
        // Task: after tokens 0..k, predict the next token (k+1) % 5, from an ambiguous start: the model has to use
        // the sequence position, not just the current token. Fixed seed, fixed number of steps.
        var model = new CounterLstm(seed: 7);
        ITokenTrainer trainer = model.CreateTrainer(maxSteps: 12);
        var adam = new Adam(CounterLstm.ParameterCount, learningRate: 0.01f);
        var rng = new Rng(3);
        var tokens = new int[12];
        var targets = new int[12];
        var logits = new float[12 * CounterLstm.OutputSize];
        var gradient = new float[logits.Length];
        float firstLoss = 0, loss = 0;
        for (int step = 0; step < 300; step++)
        {
            int start = rng.NextInt(5);
            for (int t = 0; t < 12; t++)
            {
                tokens[t] = (start + t) % 5;
                targets[t] = (start + t + 1) % 5;
            }
            trainer.Forward(tokens, logits);
            loss = Losses.SoftmaxCrossEntropy(logits, targets, gradient);
            if (step == 0) firstLoss = loss;
            model.ZeroGradients();
            trainer.Backward(gradient, Span<float>.Empty);
            adam.Step(model.Parameters, model.Gradients);
        }
        Assert.InRange(firstLoss, 1.4f, 1.8f); // ≈ ln 5 at the start
        Assert.True(loss < 0.05f, $"loss after 300 steps is {loss}; expected < 0.05");
    }

    [Fact]
    public void Token_gradients_are_the_same_with_and_without_input_gradients()
    {
        // Without inputGrad, layer 0 sums its gate gradients per distinct token before the weight products; with it,
        // it goes row by row. Batches of unequal lengths with repeated tokens, and a trainer with fewer rows than tokens.
        var model = new WideVocabularyGru(4);
        var trainer = model.CreateTrainer(maxSteps: 5, maxBatch: 3);
        int[] tokens = { 7, 49, 7, 0, 12, 7, 49, 3, 0, 7, 12, 0, 0, 0, 31 }; // [steps 5, batch 3]
        int[] lengths = { 5, 3, 5 };
        var output = new float[tokens.Length * WideVocabularyGru.OutputSize];
        float[] dy = Random(output.Length, 9);
        float[] initial = Random(3 * WideVocabularyGru.StateSize, 10, 0.5f);

        float[] Gradients(bool withInputGrad)
        {
            model.ZeroGradients();
            trainer.Forward(tokens, 3, lengths, output, initial, default);
            trainer.Backward(dy, withInputGrad ? new float[tokens.Length * WideVocabularyGru.InputSize] : default);
            return model.Gradients.ToArray();
        }

        float[] rowByRow = Gradients(withInputGrad: true);
        float[] perToken = Gradients(withInputGrad: false);
        Assert.Contains(rowByRow, v => v != 0f);
        Numeric.AssertClose(rowByRow, perToken, 1e-5f, "gradients without inputGrad");
        Assert.Equal(rowByRow, Gradients(withInputGrad: true)); // and the row-by-row path is unchanged by the other
        Assert.Equal(perToken, Gradients(withInputGrad: false)); // the per-token slots are reset between calls
    }

    [Fact]
    public void Trainer_forward_backward_and_optimizer_step_allocate_nothing()
    {
        var model = new TinyLstm(1);
        var tokenModel = new TinyGru(2);
        IVectorTrainer trainer = model.CreateTrainer(16);
        ITokenTrainer tokenTrainer = tokenModel.CreateTrainer(16);
        var adam = new Adam(TinyLstm.ParameterCount);
        var sgd = new Sgd(TinyGru.ParameterCount, 0.1f, momentum: 0.9f);
        float[] input = Random(16 * TinyLstm.InputSize, 1);
        int[] tokens = { 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0 };
        var output = new float[16 * TinyLstm.OutputSize];
        var tokenOutput = new float[tokens.Length * TinyGru.OutputSize];
        float[] dy = Random(output.Length, 2);
        float[] tokenDy = Random(tokenOutput.Length, 3);
        var inputGrad = new float[input.Length];
        var state = new float[TinyLstm.StateSize];
        var stateGrad = new float[TinyLstm.StateSize];

        void Run()
        {
            trainer.Forward(input, output, state, state);
            trainer.Backward(dy, inputGrad, default, stateGrad);
            adam.Step(model.Parameters, model.Gradients);
            model.ZeroGradients();
            tokenTrainer.Forward(tokens, tokenOutput, default, default);
            tokenTrainer.Backward(tokenDy, default);
            sgd.Step(tokenModel.Parameters, tokenModel.Gradients);
        }

        Allocations.AssertNone("trainer Forward, Backward and optimizer steps", Run, 200);
    }

    [Fact]
    public void Trainer_rejects_bad_input_clearly()
    {
        var model = new TinyLstm(1);
        IVectorTrainer trainer = model.CreateTrainer(4);
        var ex = Assert.Throws<InvalidOperationException>(() => trainer.Backward(new float[3], default, default, default));
        Assert.Contains("Forward", ex.Message);

        var tooLong = Assert.Throws<ArgumentException>(() => trainer.Forward(new float[5 * TinyLstm.InputSize], new float[5 * TinyLstm.OutputSize], default, default));
        Assert.Contains("5 steps", tooLong.Message);
        Assert.Contains("at most 4", tooLong.Message);

        trainer.Forward(new float[2 * TinyLstm.InputSize], new float[2 * TinyLstm.OutputSize], default, default);
        var badGrad = Assert.Throws<ArgumentException>(() => trainer.Backward(new float[3 * TinyLstm.OutputSize], default, default, default));
        Assert.Equal("outputGrad", badGrad.ParamName);
        Assert.Contains("expected 6", badGrad.Message);
        Assert.Equal("inputGrad", Assert.Throws<ArgumentException>(() => trainer.Backward(new float[6], new float[5], default, default)).ParamName);
        Assert.Equal("finalStateGrad", Assert.Throws<ArgumentException>(() => trainer.Backward(new float[6], default, new float[3], default)).ParamName);
        Assert.Equal("initialStateGrad", Assert.Throws<ArgumentException>(() => trainer.Backward(new float[6], default, default, new float[3])).ParamName);

        Assert.Throws<ArgumentOutOfRangeException>(() => model.CreateTrainer(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.CreateTrainer(4, maxBatch: 0));
        Assert.Throws<ArgumentException>(() => model.Gradient("rnn.weight_xx_l0"));
    }
}
