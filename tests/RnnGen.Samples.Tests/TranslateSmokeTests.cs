using System;
using System.IO;
using System.Linq;
using RnnGen.Samples.Translate;
using Xunit;

namespace RnnGen.Samples.Tests;

/// <summary>Trains the encoder-decoder once, briefly, on the easy subset (numbers up to 999), for the tests below.</summary>
public sealed class BrieflyTrainedTranslator
{
    public BrieflyTrainedTranslator()
    {
        string path = Path.Combine(Path.GetTempPath(), $"rnngen-translate-smoke-{Environment.ProcessId}.safetensors");
        try
        {
            Result = TranslateTrainer.Run(
                new TranslateOptions
                {
                    // 66 steps at a higher learning rate than the default run's: about 80% exact match.
                    MaxDigits = 3, TrainPairs = 700, TestPairs = 200, Epochs = 3, Batch = 32, LearningRate = 0.01f,
                    EpochEvaluationPairs = 0, OutputPath = path, LiveProgress = false,
                },
                TextWriter.Null);
        }
        finally
        {
            File.Delete(path);
        }
    }

    public TranslateResult Result { get; }
}

public class TranslateSmokeTests : IClassFixture<BrieflyTrainedTranslator>
{
    private readonly TranslateResult _result;

    public TranslateSmokeTests(BrieflyTrainedTranslator trained) => _result = trained.Result;

    [Fact]
    public void Trains_end_to_end_briefly_on_numbers_up_to_999_and_translates_held_out_ones()
    {
        Assert.Equal(3 * 22, _result.Steps);
        Assert.InRange(_result.InitialLoss, Math.Log(14) - 0.5, Math.Log(14) + 0.5);
        Assert.True(_result.FinalLoss < _result.InitialLoss / 4, $"final loss {_result.FinalLoss} is not well below the initial {_result.InitialLoss}");
        // Chance is about 1 in 1000; a model that learned nothing gets 0.
        Assert.True(_result.GreedyExactMatch > 0.4, $"greedy exact match {_result.GreedyExactMatch}");
        Assert.True(_result.BeamExactMatch > 0.4, $"beam exact match {_result.BeamExactMatch}");
        Assert.Equal(_result.GreedyExactMatch, _result.ReloadedGreedyExactMatch);
    }

    [Fact]
    public void Beam_search_of_width_1_equals_greedy_decoding()
    {
        int[][] sources = _result.Test.Select(p => NumberTranslator.SourceVocabulary.Encode(p.Words)).ToArray();
        int[][] greedy = _result.Model.TranslateGreedy(sources, maxLength: 8);
        Hypothesis[][] beam = _result.Model.TranslateBeam(sources, width: 1, maxLength: 8);
        for (int i = 0; i < sources.Length; i++)
        {
            Assert.Single(beam[i]);
            Assert.Equal(greedy[i], beam[i][0].Tokens);
        }
        // Also when hypotheses are cut at the maximum length.
        int[][] greedyShort = _result.Model.TranslateGreedy(sources, maxLength: 2);
        Hypothesis[][] beamShort = _result.Model.TranslateBeam(sources, width: 1, maxLength: 2);
        for (int i = 0; i < sources.Length; i++) Assert.Equal(greedyShort[i], beamShort[i][0].Tokens);
    }

    [Fact]
    public void Wider_beams_return_their_hypotheses_best_first()
    {
        int[][] sources = _result.Test.Take(20).Select(p => NumberTranslator.SourceVocabulary.Encode(p.Words)).ToArray();
        Hypothesis[][] beam = _result.Model.TranslateBeam(sources, width: 4, maxLength: 8);
        foreach (Hypothesis[] hypotheses in beam)
        {
            Assert.InRange(hypotheses.Length, 1, 4);
            for (int k = 1; k < hypotheses.Length; k++) Assert.True(hypotheses[k - 1].Score >= hypotheses[k].Score);
        }
    }

    [Fact]
    public void Held_out_numbers_are_a_fixed_split_whatever_the_seed_and_sizes()
    {
        var (train, test) = NumberCorpus.Generate(300, 100, maxDigits: 3, seed: 5);
        var (otherTrain, otherTest) = NumberCorpus.Generate(740, 50, maxDigits: 3, seed: 6);
        Assert.All(test, p => Assert.True(NumberCorpus.IsHeldOut(p.Number)));
        Assert.All(otherTrain, p => Assert.False(NumberCorpus.IsHeldOut(p.Number)));
        Assert.Empty(otherTrain.Select(p => p.Number).Intersect(test.Select(p => p.Number)));
        Assert.Equal(400, train.Concat(test).Select(p => p.Number).Distinct().Count());
        Assert.Equal(test.Select(p => p.Number), NumberCorpus.Generate(300, 100, maxDigits: 3, seed: 5).Test.Select(p => p.Number));
    }

    [Fact]
    public void Number_words_follow_British_usage()
    {
        Assert.Equal("three hundred and twelve", NumberCorpus.Pair(312).Source);
        Assert.Equal("forty thousand and six", NumberCorpus.Pair(40_006).Source);
        Assert.Equal("nine hundred and ninety nine thousand nine hundred and ninety nine", NumberCorpus.Pair(999_999).Source);
        Assert.Equal("1 2 0 0 0 0", NumberCorpus.Pair(120_000).Target);
        Assert.Equal("zero", NumberCorpus.Pair(0).Source);
    }
}
