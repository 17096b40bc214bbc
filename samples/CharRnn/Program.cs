// RnnGen CharRnn: a character-level LSTM language model (Karpathy's char-rnn), trained and sampled with a model
// the RnnGen source generator expands at compile time. Run with --help for the options. The last line printed is
// val_loss=<nats per character> so scripts can read it.
using System;
using System.Globalization;
using System.IO;
using RnnGen;
using RnnGen.Samples;
using RnnGen.Samples.CharRnn;

var commandLine = new CharRnnCommandLine();
CharRnnOptions? options;
try
{
    options = commandLine.Parse(args);
}
catch (CommandLineException e)
{
    Console.Error.WriteLine($"CharRnn: {e.Message}");
    return 2;
}
if (options is null)
{
    Console.Write(commandLine.HelpText());
    return 0;
}

try
{
    CharRnnResult result = CharRnnTrainer.Run(options, Console.Out);
    Console.WriteLine($"val_loss={result.ValidationLoss.ToString("F4", CultureInfo.InvariantCulture)}");
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
    // SafetensorsException is an IOException: a checkpoint that is not this sample's, or does not fit the sizes asked for.
    Console.Error.WriteLine($"CharRnn: {e.Message}");
    return 2;
}
