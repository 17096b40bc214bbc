// RnnGen Sentiment: sequence scoring (many-to-one). A GRU generated at compile time reads a review and its state at
// the last word decides positive or negative; a bag-of-words baseline shows why word order matters. Run with --help
// for the options. The last line printed is accuracy=<percent> negated_accuracy=<percent> bow_accuracy=<percent>
// bow_negated_accuracy=<percent> so scripts can read it.
using System;
using System.Globalization;
using RnnGen.Samples;
using RnnGen.Samples.Sentiment;

var commandLine = new SentimentCommandLine();
return SampleProgram.Run("Sentiment", args, commandLine.Parse, commandLine.HelpText, (options, output) =>
{
    SentimentResult result = SentimentTrainer.Run(options, output);
    string line = $"accuracy={Percent(result.Accuracy.Overall)} negated_accuracy={Percent(result.Accuracy.Negated)}";
    if (result.BaselineAccuracy is { } baseline)
        line += $" bow_accuracy={Percent(baseline.Overall)} bow_negated_accuracy={Percent(baseline.Negated)}";
    return Environment.NewLine + line; // after a blank line
});

static string Percent(double fraction) => (100 * fraction).ToString("0.00", CultureInfo.InvariantCulture);
