// RnnGen Sentiment: sequence scoring (many-to-one). A GRU generated at compile time reads a review and its state at
// the last word decides positive or negative; a bag-of-words baseline shows why word order matters. Run with --help
// for the options. The last line printed is seen_accuracy=<percent> seen_negated_accuracy=<percent>
// heldout_accuracy=<percent> and the same three for the bag of words (bow_...), so scripts can read it.
using System;
using System.Globalization;
using RnnGen.Samples;
using RnnGen.Samples.Sentiment;

var commandLine = new SentimentCommandLine();
return SampleProgram.Run("Sentiment", args, commandLine.Parse, commandLine.HelpText, (options, output) =>
{
    SentimentResult result = SentimentTrainer.Run(options, output);
    string line = Figures("", result.Accuracy);
    if (result.BaselineAccuracy is { } baseline) line += " " + Figures("bow_", baseline);
    return Environment.NewLine + line; // after a blank line
});

static string Figures(string prefix, SentimentScores s)
    => $"{prefix}seen_accuracy={Percent(s.SeenStructures.Overall)} {prefix}seen_negated_accuracy={Percent(s.SeenStructures.Negated)} {prefix}heldout_accuracy={Percent(s.HeldOutStructures.Overall)}";

static string Percent(double fraction) => (100 * fraction).ToString("0.00", CultureInfo.InvariantCulture);
