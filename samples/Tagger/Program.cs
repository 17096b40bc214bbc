// RnnGen Tagger: a part-of-speech tagger made of a character BiLSTM and a sentence BiLSTM, both expanded at compile
// time by the RnnGen source generator and trained end to end. Run with --help for the options. The last line printed
// is upos_accuracy=<percent> so scripts can read it, followed (unless --eval-weights none) by
// upos_accuracy_float_unbatched=, upos_accuracy_bfloat16= and upos_accuracy_int8=: the same weights read one sentence at a time.
using System.Globalization;
using RnnGen.Samples;
using RnnGen.Samples.Tagger;

var commandLine = new TaggerCommandLine();
return SampleProgram.Run("Tagger", args, commandLine.Parse, commandLine.HelpText, (options, output) =>
{
    (double? accuracy, WeightScores? byWeights) = options.Trains
        ? TaggerTrainer.Run(options, output) is var trained ? (trained.Dev.Accuracy, trained.ByWeights) : default
        : TaggerEvaluator.Run(options, output) is var evaluated ? (evaluated.Score?.Accuracy, evaluated.ByWeights) : default;
    if (accuracy is not { } value) return null;
    string line = $"upos_accuracy={Percent(value)}";
    // With --eval-weights (default all): the same weights read one sentence at a time as float, bfloat16 and int8.
    if (byWeights is not null) line += $" upos_accuracy_float_unbatched={Percent(byWeights.Single.Accuracy)}";
    if (byWeights?.BFloat16 is { } bfloat16) line += $" upos_accuracy_bfloat16={Percent(bfloat16.Accuracy)}";
    if (byWeights?.Int8 is { } int8) line += $" upos_accuracy_int8={Percent(int8.Accuracy)}";
    return line;
});

static string Percent(double accuracy) => (100 * accuracy).ToString("F2", CultureInfo.InvariantCulture);
