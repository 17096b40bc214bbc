// RnnGen CharRnn: a character-level LSTM language model (Karpathy's char-rnn), trained and sampled with a model
// the RnnGen source generator expands at compile time. Run with --help for the options. The last line printed is
// val_loss=<nats per character> so scripts can read it, followed (unless --eval-weights none) by
// val_loss_float_step=, val_loss_bfloat16= and val_loss_int8=: the same weights read one character at a time at each precision.
using System.Globalization;
using RnnGen.Samples;
using RnnGen.Samples.CharRnn;

var commandLine = new CharRnnCommandLine();
return SampleProgram.Run("CharRnn", args, commandLine.Parse, commandLine.HelpText, (options, output) =>
{
    CharRnnResult result = CharRnnTrainer.Run(options, output);
    string line = $"val_loss={Format(result.ValidationLoss)}";
    // With --eval-weights (default all): the one-pass Step losses of the same weights as float, bfloat16 and int8.
    if (!double.IsNaN(result.StepValidationLoss)) line += $" val_loss_float_step={Format(result.StepValidationLoss)}";
    if (!double.IsNaN(result.BFloat16ValidationLoss)) line += $" val_loss_bfloat16={Format(result.BFloat16ValidationLoss)}";
    if (!double.IsNaN(result.Int8ValidationLoss)) line += $" val_loss_int8={Format(result.Int8ValidationLoss)}";
    return line;
});

static string Format(double value) => value.ToString("F4", CultureInfo.InvariantCulture);
