using System;
using RnnGen.Tests.Golden;
using Xunit;

namespace RnnGen.Tests;

/// <summary>Generated Forward and Step against PyTorch's numbers (tests/golden/make_golden.py).</summary>
public class ForwardParityTests
{
    private const float Tolerance = 1e-5f;

    public static TheoryData<string> Cases() => GoldenCase.All();

    internal static IRecurrentModel LoadModel(GoldenCase golden)
    {
        IRecurrentModel model = GoldenModels.ByCase[golden.Name]();
        model.LoadSafetensors(System.IO.File.OpenRead(golden.FixturePath), new SafetensorsOptions { Prefix = "model." });
        return model;
    }

    internal static void RunForward(IRecurrentModel model, GoldenCase golden, Span<float> output, ReadOnlySpan<float> initialState, Span<float> finalState)
    {
        switch (model)
        {
            case ITokenSequenceModel tokens:
                tokens.Forward(golden.Tokens, output, initialState, finalState);
                break;
            case IVectorSequenceModel vectors:
                vectors.Forward(golden["test.input"], output, initialState, finalState);
                break;
            default:
                throw new InvalidOperationException("Unknown model kind.");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_matches_pytorch_outputs_and_final_state(string name)
    {
        GoldenCase golden = GoldenCase.Load(name);
        IRecurrentModel model = LoadModel(golden);
        Assert.Equal(golden["model.rnn.weight_hh_l0"], model.Parameter("rnn.weight_hh_l0").ToArray());

        var output = new float[golden.Steps * model.OutputSize];
        var finalState = new float[model.StateSize];
        RunForward(model, golden, output, golden.InitialState, finalState);

        Numeric.AssertClose(golden["test.output"], output, Tolerance, name + " output");
        Numeric.AssertClose(golden.FinalState, finalState, Tolerance, name + " final state");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_with_state_in_place_carries_it(string name)
    {
        // finalState may be the same span as initialState (carrying state across windows).
        GoldenCase golden = GoldenCase.Load(name);
        IRecurrentModel model = LoadModel(golden);
        var output = new float[golden.Steps * model.OutputSize];
        float[] state = golden.HasInitialState ? golden.InitialState : new float[model.StateSize];
        RunForward(model, golden, output, state, state);
        Numeric.AssertClose(golden["test.output"], output, Tolerance, name + " output");
        Numeric.AssertClose(golden.FinalState, state, Tolerance, name + " state");
    }
}
