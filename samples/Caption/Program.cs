// RnnGen Caption: conditioned generation. A scene's feature vector is projected into a decoder's initial state, and a
// generated GRU/LSTM token decoder writes its caption. Run with --help for the options. The last line printed is
// exact_match=<percent of held-out scenes captioned word for word> so scripts can read it.
using System;
using System.Globalization;
using System.IO;
using RnnGen.Samples;
using RnnGen.Samples.Caption;

var commandLine = new CaptionCommandLine();
CaptionOptions? options;
try
{
    options = commandLine.Parse(args);
}
catch (CommandLineException e)
{
    Console.Error.WriteLine($"Caption: {e.Message}");
    return 2;
}
if (options is null)
{
    Console.Write(commandLine.HelpText());
    return 0;
}

try
{
    CaptionResult result = CaptionTrainer.Run(options, Console.Out);
    Console.WriteLine($"exact_match={(100 * result.Test.ExactMatch).ToString("F1", CultureInfo.InvariantCulture)}");
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
    // SafetensorsException is an IOException: a checkpoint that is not this sample's.
    Console.Error.WriteLine($"Caption: {e.Message}");
    return 2;
}
