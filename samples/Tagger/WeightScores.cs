using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;

namespace RnnGen.Samples.Tagger;

/// <summary>
/// Scores of the same trained tagger read at each weight precision, one sentence at a time
/// (<see cref="TaggerNetwork.EvaluateUnbatched"/>): float, the reference, and bfloat16 and int8 where measured.
/// </summary>
public sealed record WeightScores(TaggingScore Single, TaggingScore? BFloat16, TaggingScore? Int8)
{
    /// <summary>
    /// Scores <paramref name="network"/> on <paramref name="corpus"/> as float and at each precision of
    /// <paramref name="weights"/>, printing a line each; null (and nothing printed) when <paramref name="weights"/> is empty.
    /// </summary>
    public static WeightScores? Measure(TaggerNetwork network, EncodedCorpus corpus, IReadOnlyList<WeightPrecision> weights, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(log);
        if (weights.Count == 0) return null;
        log.WriteLine(
            $"UPOS accuracy by weight precision: the same parameters in twins declared with Weights = Single, {string.Join(", ", weights)}, "
            + "one sentence at a time (the recurrent products read the reduced copy; input projections and head read float):");
        TaggingScore single = Score(network, corpus, WeightPrecision.Single, null, log);
        TaggingScore? bfloat16 = weights.Contains(WeightPrecision.BFloat16) ? Score(network, corpus, WeightPrecision.BFloat16, single, log) : null;
        TaggingScore? int8 = weights.Contains(WeightPrecision.Int8) ? Score(network, corpus, WeightPrecision.Int8, single, log) : null;
        return new WeightScores(single, bfloat16, int8);
    }

    /// <summary>The name of a precision in the sample's output and final line: float, bfloat16, int8.</summary>
    public static string Name(WeightPrecision weights) => weights switch
    {
        WeightPrecision.Single => "float",
        WeightPrecision.BFloat16 => "bfloat16",
        _ => "int8",
    };

    private static TaggingScore Score(TaggerNetwork network, EncodedCorpus corpus, WeightPrecision weights, TaggingScore? reference, TextWriter log)
    {
        long start = Stopwatch.GetTimestamp();
        TaggingScore score = network.EvaluateUnbatched(corpus, weights);
        TimeSpan time = Stopwatch.GetElapsedTime(start);
        string difference = reference is { } r
            ? FormattableString.Invariant($" ({100 * (score.Accuracy - r.Accuracy):+0.00;-0.00;+0.00} points vs float, {score.Correct - r.Correct:+0;-0;+0} words)")
            : "";
        log.WriteLine(FormattableString.Invariant(
            $"  {Name(weights),-8}  {EncodedCorpus.Percent(score.Accuracy)}%{difference}, {corpus.Count:N0} sentences in {time.TotalSeconds:0.0}s"));
        return score;
    }
}
