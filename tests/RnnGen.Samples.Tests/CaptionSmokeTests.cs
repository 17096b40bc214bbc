using System;
using System.IO;
using System.Linq;
using RnnGen.Samples.Caption;
using Xunit;

namespace RnnGen.Samples.Tests;

public class CaptionSmokeTests
{
    [Fact]
    public void Trains_briefly_end_to_end_and_captions_held_out_scenes()
    {
        CaptionResult result = CaptionTrainer.Run(
            new CaptionOptions { Cell = "gru", Steps = 300, Batch = 16, LearningRate = 1e-2f, TrainScenes = 2000, TestScenes = 200, OutputPath = null, Examples = 2, LiveProgress = false },
            TextWriter.Null);

        // Before training every one of the 32 ids is about equally likely.
        Assert.InRange(result.InitialLoss, Math.Log(CaptionModels.Vocabulary) - 0.3, Math.Log(CaptionModels.Vocabulary) + 0.3);
        Assert.True(result.FinalTrainLoss < result.InitialLoss - 2.0, $"training loss {result.FinalTrainLoss} is not well below the initial {result.InitialLoss}");
        Assert.True(result.Test.Loss < result.InitialLoss - 2.0, $"held-out loss {result.Test.Loss} is not well below the initial {result.InitialLoss}");

        // Chance of a whole caption right is ~0; of a colour word 1/6, a shape word 1/3, a count word 1/3.
        Assert.True(result.Test.ExactMatch > 0.05, $"held-out exact match {result.Test.ExactMatch}");
        // (A second object group is often still missing this early, so per-attribute accuracy counts it as wrong.)
        Assert.True(result.Test["color"] > 0.5, $"colour accuracy {result.Test["color"]}");
        Assert.True(result.Test["shape"] > 0.55, $"shape accuracy {result.Test["shape"]}");
        Assert.True(result.Test["count"] > 0.55, $"count accuracy {result.Test["count"]}");

        // The projection's hand-written gradient agrees with central differences of the loss.
        Assert.NotNull(result.GradientCheck);
        Assert.True(result.GradientCheck!.RelativeError < 1e-2, $"gradient check: analytic {result.GradientCheck.Analytic}, numeric {result.GradientCheck.Numeric}");

        // The safetensors round trip changes nothing.
        Assert.Equal(result.Test.ExactMatch, result.ReloadedExactMatch);
        Assert.Equal(2, result.Examples.Count);
    }

    [Theory]
    [InlineData("gru")]
    [InlineData("lstm")]
    public void Projection_gradient_matches_finite_differences(string cell)
    {
        // For the LSTM the projection fills h0 and c0: both halves of the state gradient flow back through tanh.
        var net = new CaptionNet(cell, seed: 3);
        var data = new CaptionData(net, Scenes.Generate(16, seed: 5));
        var session = new CaptionTrainer.Session(net, maxBatch: 16);
        GradientCheck check = CaptionTrainer.CheckProjectionGradient(session, data, Enumerable.Range(0, 16).ToArray());
        Assert.True(Math.Abs(check.Analytic) > 1e-4, $"the checked gradient {check.Analytic} is too small to say anything");
        Assert.True(check.RelativeError < 1e-2, $"{cell}: dL/dW[{check.Row}, {check.Column}] analytic {check.Analytic}, numeric {check.Numeric}");
        Assert.True(net.Projection.Gradients.ToArray().All(g => g == 0f), "the check leaves the gradients zeroed");
    }

    [Fact]
    public void Captions_parse_back_into_their_scenes()
    {
        foreach (Scene scene in Scenes.Generate(200, seed: 9))
        {
            Assert.Equal(scene.Objects, Scenes.Parse(scene.Words));
            Assert.Equal(Scenes.FeatureSize, scene.Features.Length);
        }
        Assert.Equal(Scenes.Generate(3, seed: 1).Select(s => s.Caption), Scenes.Generate(3, seed: 1).Select(s => s.Caption));
    }
}
