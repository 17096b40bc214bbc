using System;
using System.Linq;
using Xunit;

namespace RnnGen.Tests;

/// <summary>Generated backpropagation through time against PyTorch autograd (tests/golden/make_golden.py).</summary>
public class GradientParityTests
{
    private const float Tolerance = 1e-4f;

    public static TheoryData<string> Cases() => GoldenCase.All();

    /// <summary>Runs the trainer's Forward then Backward on a golden case; returns (inputGrad, initialStateGrad).</summary>
    internal static (float[] InputGrad, float[] InitialStateGrad) RunBackward(IRecurrentModel model, GoldenCase golden, bool withFinalStateGrad)
    {
        ITrainer trainer = model.CreateTrainer(golden.Steps);
        var output = new float[golden.Steps * model.OutputSize];
        var finalState = new float[model.StateSize];
        if (trainer is ITokenTrainer tokens) tokens.Forward(golden.Tokens, output, golden.InitialState, finalState);
        else ((IVectorTrainer)trainer).Forward(golden["test.input"], output, golden.InitialState, finalState);
        Numeric.AssertClose(golden["test.output"], output, 1e-5f, golden.Name + " trainer output");

        float[] finalStateGrad = withFinalStateGrad
            ? (golden.IsLstm ? golden["test.dhn"].Concat(golden["test.dcn"]).ToArray() : golden["test.dhn"])
            : Array.Empty<float>();
        var inputGrad = new float[golden.Steps * model.InputSize];
        var initialStateGrad = new float[model.StateSize];
        trainer.Backward(golden["test.dy"], inputGrad, finalStateGrad, initialStateGrad);
        return (inputGrad, initialStateGrad);
    }

    private static void AssertGradients(IRecurrentModel model, GoldenCase golden, string prefix, float[] inputGrad, float[] initialStateGrad)
    {
        foreach (TensorInfo tensor in model.TensorTable)
        {
            Numeric.AssertClose(golden[prefix + tensor.Name], model.Gradient(tensor.Name), Tolerance, $"{golden.Name} d{tensor.Name}");
        }
        if (golden.Has(prefix + "input")) Numeric.AssertClose(golden[prefix + "input"], inputGrad, Tolerance, golden.Name + " dinput");
        if (golden.HasInitialState)
        {
            float[] expected = golden.IsLstm ? golden[prefix + "h0"].Concat(golden[prefix + "c0"]).ToArray() : golden[prefix + "h0"];
            Numeric.AssertClose(expected, initialStateGrad, Tolerance, golden.Name + " dinitialState");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_matches_pytorch_gradients(string name)
    {
        GoldenCase golden = GoldenCase.Load(name);
        IRecurrentModel model = ForwardParityTests.LoadModel(golden);
        (float[] inputGrad, float[] initialStateGrad) = RunBackward(model, golden, withFinalStateGrad: false);
        AssertGradients(model, golden, "grad.", inputGrad, initialStateGrad);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_with_final_state_gradient_matches_pytorch(string name)
    {
        GoldenCase golden = GoldenCase.Load(name);
        IRecurrentModel model = ForwardParityTests.LoadModel(golden);
        (float[] inputGrad, float[] initialStateGrad) = RunBackward(model, golden, withFinalStateGrad: true);
        AssertGradients(model, golden, "grad2.", inputGrad, initialStateGrad);
    }

    [Fact]
    public void Gradients_accumulate_until_zeroed()
    {
        GoldenCase golden = GoldenCase.Load("lstm_l2_bi_h13_init");
        IRecurrentModel model = ForwardParityTests.LoadModel(golden);
        RunBackward(model, golden, withFinalStateGrad: false);
        float[] once = model.Gradients.ToArray();
        RunBackward(model, golden, withFinalStateGrad: false);
        float[] twice = model.Gradients.ToArray();
        for (int i = 0; i < once.Length; i++) Assert.Equal(2 * once[i], twice[i], 1e-5f * Math.Max(1f, Math.Abs(twice[i])));
        model.ZeroGradients();
        Assert.All(model.Gradients.ToArray(), v => Assert.Equal(0f, v));
    }
}
