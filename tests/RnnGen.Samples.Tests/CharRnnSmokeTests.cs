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
        // 60 steps of 8 streams x 64 characters: about 3 s of CPU in a Debug build.
        CharRnnResult result = CharRnnTrainer.Run(
            new CharRnnOptions { Steps = 60, Batch = 8, LearningRate = 5e-3f, Minutes = 0, OutputPath = null, SampleLength = 50, Hidden = 64, Layers = 1 },
            TextWriter.Null);
        // Untrained, every character is about equally likely: ln 96 = 4.56 nats. Trained, it reaches about 2.4.
        Assert.InRange(result.InitialLoss, Math.Log(96) - 0.3, Math.Log(96) + 0.3);
        Assert.True(result.ValidationLoss < result.InitialLoss - 1.5, $"validation loss {result.ValidationLoss} is not well below the initial {result.InitialLoss}");
        Assert.Equal(60, result.Steps);
        Assert.True(result.Sample.Length >= 50, "the sample has the prompt and 50 generated characters");

        // The same weights read one character at a time: as float it is the batched figure up to the segments' warm-up
        // context; as bfloat16 and int8 (issue 20's bound: int8 within +0.02 nats/char of float) it moves by the rounding
        // only, yet moves, so the reduced copies were read. Seeds 1-3 of this run measured differences below 1e-4.
        Assert.InRange(result.StepValidationLoss, result.ValidationLoss - 0.02, result.ValidationLoss + 0.02);
        Assert.InRange(result.BFloat16ValidationLoss, result.StepValidationLoss - 0.02, result.StepValidationLoss + 0.02);
        Assert.InRange(result.Int8ValidationLoss, result.StepValidationLoss - 0.02, result.StepValidationLoss + 0.02);
        Assert.NotEqual(result.StepValidationLoss, result.BFloat16ValidationLoss);
        Assert.NotEqual(result.StepValidationLoss, result.Int8ValidationLoss);
    }

    [Fact]
    public void Eval_weights_int8_prints_the_float_and_int8_losses_only()
    {
        var output = new StringWriter();
        int exit = SampleProgram.Run(
            "CharRnn",
            ["--steps", "5", "--batch", "4", "--no-save", "--length", "10", "--hidden", "64", "--layers", "1", "--eval-weights", "int8"],
            new CharRnnCommandLine().Parse,
            () => "",
            (options, log) =>
            {
                CharRnnResult result = CharRnnTrainer.Run(options, log);
                Assert.True(double.IsNaN(result.BFloat16ValidationLoss), "--eval-weights int8 measures no bfloat16");
                return $"int8={result.Int8ValidationLoss}";
            },
            output,
            TextWriter.Null);
        Assert.Equal(SampleProgram.Done, exit);
        string text = output.ToString();
        Assert.Contains("\n  float     ", text.Replace("\r\n", "\n", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("\n  int8      ", text.Replace("\r\n", "\n", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains(" vs float)", text, StringComparison.Ordinal);
        Assert.DoesNotContain("bfloat16  ", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_saved_checkpoint_loads_back_to_the_same_validation_loss()
    {
        string path = Path.Combine(Path.GetTempPath(), $"charrnn-{Guid.NewGuid():N}.safetensors");
        try
        {
            CharRnnResult trained = CharRnnTrainer.Run(
                new CharRnnOptions { Steps = 5, Batch = 4, Minutes = 0, OutputPath = path, Evaluations = 0, SampleLength = 10, Hidden = 64, Layers = 1 },
                TextWriter.Null);
            Assert.Equal(path, trained.CheckpointPath);
            CharRnnResult loaded = CharRnnTrainer.Run(
                new CharRnnOptions { LoadPath = path, Steps = 0, Minutes = 0, OutputPath = null, SampleLength = 10 },
                TextWriter.Null);
            Assert.Equal("CharLstmH64L1", loaded.ModelName);
            Assert.Equal(trained.ValidationLoss, loaded.ValidationLoss);
            Assert.Equal(trained.Sample, loaded.Sample);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(383)]
    [InlineData(384)]
    [InlineData(1000)]
    [InlineData(2177)]
    [InlineData(10_000)]
    [InlineData(55_768)]
    public void Batched_evaluation_scores_every_character_once_with_warm_context(int count)
    {
        var layout = CharRnnTrainer.EvaluationLayout.For(count);
        Assert.InRange(layout.Segments, 1, CharRnnTrainer.EvaluationStreams);
        var scored = new int[count];
        for (int k = 0; k < layout.Segments; k++)
        {
            int start = layout.Start(k);
            int firstScored = layout.FirstScored(k);
            Assert.InRange(start, 0, count - layout.Steps);
            // Segment 0 starts at the beginning of the text, like a single pass; the others read a warm-up first.
            if (k == 0) Assert.Equal(0, firstScored);
            else Assert.InRange(firstScored, CharRnnTrainer.EvaluationWarmup, layout.Steps - 1);
            for (int t = firstScored; t < layout.Steps; t++) scored[start + t]++;
        }
        Assert.All(scored, n => Assert.Equal(1, n));
    }
}
