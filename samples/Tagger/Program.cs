// RnnGen Tagger: a part-of-speech tagger made of a character BiLSTM and a sentence BiLSTM, both expanded at compile
// time by the RnnGen source generator and trained end to end. Run with --help for the options. The last line printed
// is upos_accuracy=<percent> so scripts can read it.
using System.Globalization;
using RnnGen.Samples;
using RnnGen.Samples.Tagger;

var commandLine = new TaggerCommandLine();
return SampleProgram.Run("Tagger", args, commandLine.Parse, commandLine.HelpText, (options, output) =>
{
    double? accuracy = options.Trains
        ? TaggerTrainer.Run(options, output).Dev.Accuracy
        : TaggerEvaluator.Run(options, output).Score?.Accuracy;
    return accuracy is { } value ? $"upos_accuracy={(100 * value).ToString("F2", CultureInfo.InvariantCulture)}" : null;
});
