// RnnGen Caption: conditioned generation. A scene's feature vector is projected into a decoder's initial state, and a
// generated GRU/LSTM token decoder writes its caption. Run with --help for the options. The last line printed is
// exact_match=<percent of held-out scenes captioned word for word> so scripts can read it.
using System.Globalization;
using RnnGen.Samples;
using RnnGen.Samples.Caption;

var commandLine = new CaptionCommandLine();
return SampleProgram.Run("Caption", args, commandLine.Parse, commandLine.HelpText, (options, output) =>
{
    CaptionResult result = CaptionTrainer.Run(options, output);
    return $"exact_match={(100 * result.Test.ExactMatch).ToString("F1", CultureInfo.InvariantCulture)}";
});
