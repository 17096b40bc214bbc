// RnnGen Tagger: a part-of-speech tagger made of a character BiLSTM and a sentence BiLSTM, both expanded at compile
// time by the RnnGen source generator and trained end to end. Run with --help for the options. The last line printed
// is upos_accuracy=<percent> so scripts can read it.
using System;
using System.Globalization;
using System.IO;
using RnnGen.Samples;
using RnnGen.Samples.Tagger;

var commandLine = new TaggerCommandLine();
TaggerOptions? options;
try
{
    options = commandLine.Parse(args);
}
catch (CommandLineException e)
{
    Console.Error.WriteLine($"Tagger: {e.Message}");
    return 2;
}
if (options is null)
{
    Console.Write(commandLine.HelpText());
    return 0;
}

try
{
    double? accuracy;
    if (options.Trains)
    {
        accuracy = TaggerTrainer.Run(options, Console.Out).Dev.Accuracy;
    }
    else
    {
        accuracy = TaggerEvaluator.Run(options, Console.Out).Score?.Accuracy;
    }
    if (accuracy is { } value) Console.WriteLine($"upos_accuracy={(100 * value).ToString("F2", CultureInfo.InvariantCulture)}");
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
    // IOException covers a missing file, a malformed CoNLL-U line (InvalidDataException) and a model file that is not
    // this sample's (SafetensorsException).
    Console.Error.WriteLine($"Tagger: {e.Message}");
    return 2;
}
