// RnnGen Translate: an encoder-decoder. A GRU encoder reads English number words, its final state starts a GRU decoder
// that writes the digits; both are generated at compile time and trained end to end. Translates held-out numbers by
// greedy decoding and beam search. Run with --help for the options. The last line printed is
// greedy_exact_match=<percent> beam_exact_match=<percent> so scripts can read it.
using System;
using System.Globalization;
using RnnGen.Samples;
using RnnGen.Samples.Translate;

var commandLine = new TranslateCommandLine();
return SampleProgram.Run("Translate", args, commandLine.Parse, commandLine.HelpText, (options, output) =>
{
    TranslateResult result = TranslateTrainer.Run(options, output);
    return Environment.NewLine + $"greedy_exact_match={Percent(result.GreedyExactMatch)} beam_exact_match={Percent(result.BeamExactMatch)}"; // after a blank line
});

static string Percent(double fraction) => (100 * fraction).ToString("0.00", CultureInfo.InvariantCulture);
