// RnnGen Translate: an encoder-decoder. A GRU encoder reads English number words, its final state starts a GRU decoder
// that writes the digits; both are generated at compile time and trained end to end. Translates held-out numbers by
// greedy decoding and beam search. Run with --help for the options. The last line printed is
// greedy_exact_match=<percent> beam_exact_match=<percent> so scripts can read it.
using System;
using System.Globalization;
using System.IO;
using RnnGen.Samples;
using RnnGen.Samples.Translate;

var commandLine = new TranslateCommandLine();
TranslateOptions? options;
try
{
    options = commandLine.Parse(args);
}
catch (CommandLineException e)
{
    Console.Error.WriteLine($"Translate: {e.Message}");
    return 2;
}
if (options is null)
{
    Console.Write(commandLine.HelpText());
    return 0;
}

try
{
    TranslateResult result = TranslateTrainer.Run(options, Console.Out);
    Console.WriteLine();
    Console.WriteLine($"greedy_exact_match={Percent(result.GreedyExactMatch)} beam_exact_match={Percent(result.BeamExactMatch)}");
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
    // SafetensorsException is an IOException: a file that is not this sample's encoder and decoder.
    Console.Error.WriteLine($"Translate: {e.Message}");
    return 2;
}

static string Percent(double fraction) => (100 * fraction).ToString("0.00", CultureInfo.InvariantCulture);
