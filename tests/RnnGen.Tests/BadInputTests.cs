using System;
using Xunit;

namespace RnnGen.Tests;

/// <summary>Spans that do not fit the model: a clear ArgumentException naming expected and actual lengths, nothing changed.</summary>
public class BadInputTests
{
    private static void AssertMessage(Action action, string parameter, params string[] fragments)
    {
        ArgumentException ex = Assert.ThrowsAny<ArgumentException>(action);
        Assert.Equal(parameter, ex.ParamName);
        foreach (string fragment in fragments) Assert.Contains(fragment, ex.Message);
    }

    [Fact]
    public void Forward_rejects_input_that_is_not_whole_steps()
    {
        var model = new StreamingLstm();
        var output = new float[2 * StreamingLstm.OutputSize];
        AssertMessage(() => model.Forward(new float[2 * 32 + 1], output), "input", "65", "32");
        AssertMessage(() => model.Forward(ReadOnlySpan<float>.Empty, output), "input", "empty");
    }

    [Fact]
    public void Forward_rejects_output_of_the_wrong_length()
    {
        var model = new StreamingLstm();
        AssertMessage(() => model.Forward(new float[3 * 32], new float[2 * 64]), "output", "128", "192", "[3, 1, 64]");
    }

    [Fact]
    public void Forward_rejects_states_of_the_wrong_length()
    {
        var model = new StreamingLstm();
        var input = new float[32];
        var output = new float[64];
        AssertMessage(() => model.Forward(input, output, new float[10], default), "initialState", "10", "256");
        AssertMessage(() => model.Forward(input, output, default, new float[257]), "finalState", "257", "256");
    }

    [Fact]
    public void Token_models_reject_ids_outside_the_vocabulary()
    {
        var model = new StreamingGruTokens();
        var output = new float[3 * StreamingGruTokens.OutputSize];
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward(new[] { 1, 20, 2 }, output));
        Assert.Contains("step 1", ex.Message);
        Assert.Contains("19", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward(new[] { -1 }, new float[StreamingGruTokens.OutputSize]));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Step(20, new float[StreamingGruTokens.OutputSize]));
        AssertMessage(() => model.Forward(ReadOnlySpan<int>.Empty, output), "tokens", "empty");
    }

    [Fact]
    public void Step_rejects_wrong_lengths_and_leaves_state_untouched()
    {
        var model = new StreamingLstm();
        var state = new float[StreamingLstm.StateSize];
        state[3] = 0.5f;
        float[] before = (float[])state.Clone();
        AssertMessage(() => model.Step(new float[31], state, new float[64]), "x", "31", "32");
        AssertMessage(() => model.Step(new float[32], new float[3], new float[64]), "state", "3", "256");
        AssertMessage(() => model.Step(new float[32], state, new float[63]), "output", "63", "64");
        Assert.Equal(before, state);
    }
}
