// RnnGen Sentiment: sequence scoring (many-to-one). A GRU generated at compile time reads a review and its state at
// the last word decides positive or negative; a bag-of-words baseline shows why word order matters. Run with --help
// for the options. The last line printed is accuracy=<percent> negated_accuracy=<percent> bow_accuracy=<percent>
// bow_negated_accuracy=<percent> so scripts can read it.
using System;
using System.Globalization;
using System.IO;
using RnnGen.Samples;
using RnnGen.Samples.Sentiment;

var commandLine = new SentimentCommandLine();
SentimentOptions? options;
try
{
    options = commandLine.Parse(args);
}
catch (CommandLineException e)
{
    Console.Error.WriteLine($"Sentiment: {e.Message}");
    return 2;
}
if (options is null)
{
    Console.Write(commandLine.HelpText());
    return 0;
}

try
{
    SentimentResult result = SentimentTrainer.Run(options, Console.Out);
    string line = $"accuracy={Percent(result.Accuracy.Overall)} negated_accuracy={Percent(result.Accuracy.Negated)}";
    if (result.BaselineAccuracy is { } baseline)
        line += $" bow_accuracy={Percent(baseline.Overall)} bow_negated_accuracy={Percent(baseline.Negated)}";
    Console.WriteLine();
    Console.WriteLine(line);
    return 0;
}
catch (TrainingDivergedException e)
{
    Console.Out.Flush();
    Console.Error.WriteLine();
    Console.Error.WriteLine(e.Problem.Report);
    return 3;
}
catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException)
{
    // SafetensorsException is an IOException: a file that is not this sample's model.
    Console.Error.WriteLine($"Sentiment: {e.Message}");
    return 2;
}

static string Percent(double fraction) => (100 * fraction).ToString("0.00", CultureInfo.InvariantCulture);
