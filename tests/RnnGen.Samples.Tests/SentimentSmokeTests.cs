using System;
using System.IO;
using System.Linq;
using RnnGen.Samples.Sentiment;
using Xunit;

namespace RnnGen.Samples.Tests;

public class SentimentSmokeTests
{
    [Fact]
    public void Trains_briefly_on_generated_reviews_and_beats_bag_of_words_on_negation()
    {
        string path = Path.Combine(Path.GetTempPath(), $"rnngen-sentiment-smoke-{Environment.ProcessId}.safetensors");
        try
        {
            SentimentResult result = SentimentTrainer.Run(
                new SentimentOptions { TrainReviews = 1600, TestReviews = 500, Epochs = 3, BaselineEpochs = 5, OutputPath = path, LiveProgress = false },
                TextWriter.Null);

            Assert.Equal(3 * 50, result.Steps);
            Assert.InRange(result.InitialLoss, Math.Log(2) - 0.2, Math.Log(2) + 0.2);
            Assert.True(result.FinalLoss < result.InitialLoss / 4, $"final loss {result.FinalLoss} is not well below the initial {result.InitialLoss}");
            Assert.True(result.Accuracy.Overall > 0.85, $"held-out accuracy {result.Accuracy.Overall}");
            Assert.True(result.Accuracy.Negated > 0.8, $"held-out accuracy on negated reviews {result.Accuracy.Negated}");
            Assert.NotNull(result.BaselineAccuracy);
            Assert.True(
                result.Accuracy.Negated > result.BaselineAccuracy.Negated + 0.15,
                $"GRU {result.Accuracy.Negated} vs bag of words {result.BaselineAccuracy.Negated} on negated reviews");
            Assert.Equal(result.Accuracy.Overall, result.ReloadedAccuracy);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Generated_reviews_are_deterministic_distinct_and_split_by_a_fixed_rule()
    {
        var (train, test) = ReviewCorpus.Generate(400, 100, seed: 7);
        var (trainAgain, testAgain) = ReviewCorpus.Generate(400, 100, seed: 7);
        Assert.Equal(train.ConvertAll(r => r.Text), trainAgain.ConvertAll(r => r.Text));
        Assert.Equal(test.ConvertAll(r => r.Text), testAgain.ConvertAll(r => r.Text));
        Assert.Equal(500, train.Concat(test).Select(r => r.Text).Distinct().Count());
        Assert.All(train, r => Assert.False(ReviewCorpus.IsHeldOut(r.Text)));
        Assert.All(test, r => Assert.True(ReviewCorpus.IsHeldOut(r.Text)));
        // Another seed and other sizes draw other reviews, but never train on a held-out one.
        var (otherTrain, _) = ReviewCorpus.Generate(2000, 10, seed: 8);
        Assert.Empty(otherTrain.Select(r => r.Text).Intersect(test.Select(r => r.Text)));
        Assert.Contains(train, r => r.Negated && r.Positive);
        Assert.Contains(train, r => r.Contrast);
        Assert.All(train, r => Assert.All(r.Words, w => Assert.Contains(w, ReviewCorpus.AllWords)));
    }
}
