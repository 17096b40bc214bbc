// RnnGen CharRnn: a character-level LSTM language model (Karpathy's char-rnn), trained and sampled with a model
// the RnnGen source generator expands at compile time. Run with --help for the options. The last line printed is
// val_loss=<nats per character> so scripts can read it.
using System.Globalization;
using RnnGen.Samples;
using RnnGen.Samples.CharRnn;

var commandLine = new CharRnnCommandLine();
return SampleProgram.Run("CharRnn", args, commandLine.Parse, commandLine.HelpText, (options, output) =>
{
    CharRnnResult result = CharRnnTrainer.Run(options, output);
    return $"val_loss={result.ValidationLoss.ToString("F4", CultureInfo.InvariantCulture)}";
});
