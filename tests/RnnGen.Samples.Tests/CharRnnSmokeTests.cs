using System;
using System.IO;
using RnnGen.Samples.CharRnn;
using Xunit;

namespace RnnGen.Samples.Tests;

public class CharRnnSmokeTests
{
    [Fact]
    public void Trains_briefly_on_the_built_in_corpus_and_learns()
    {
        CharRnnResult result = CharRnnTrainer.Run(
            new CharRnnOptions { Steps = 60, Minutes = 0, Threads = 1, OutputPath = null, SampleLength = 50, Hidden = 64, Layers = 1 },
            TextWriter.Null);
        Assert.InRange(result.InitialLoss, Math.Log(96) - 0.3, Math.Log(96) + 0.3);
        Assert.True(result.ValidationLoss < result.InitialLoss - 1.0, $"validation loss {result.ValidationLoss} is not well below the initial {result.InitialLoss}");
        Assert.Equal(60, result.Steps);
        Assert.True(result.Sample.Length >= 50, "the sample has the prompt and 50 generated characters");
    }
}
