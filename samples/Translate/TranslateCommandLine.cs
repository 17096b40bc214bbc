using System;

namespace RnnGen.Samples.Translate;

/// <summary>The Translate command line: the declared options and their binding to <see cref="TranslateOptions"/>.</summary>
public sealed class TranslateCommandLine
{
    private static readonly TranslateOptions Defaults = new();

    private readonly CommandLine _cli;
    private readonly CommandLineOption<int> _digits;
    private readonly CommandLineOption<int> _train;
    private readonly CommandLineOption<int> _test;
    private readonly CommandLineOption<int> _epochs;
    private readonly CommandLineOption<int> _batch;
    private readonly CommandLineOption<double> _lr;
    private readonly CommandLineOption<double> _clip;
    private readonly CommandLineOption<int> _seed;
    private readonly CommandLineOption<int> _beam;
    private readonly CommandLineOption<int> _maxLength;
    private readonly CommandLineOption<string?> _out;
    private readonly CommandLineOption<bool> _noSave;
    private readonly CommandLineOption<string?> _load;
    private readonly CommandLineOption<string?> _translate;
    private readonly CommandLineOption<bool> _plain;

    /// <summary>Declares the options.</summary>
    public TranslateCommandLine()
    {
        _cli = new CommandLine(
            "Translate",
            "Encoder-decoder translation with RnnGen: a GRU encoder reads English number words (\"three hundred and twelve\"),\n"
            + "its final state starts a GRU decoder that writes the digits (\"3 1 2\"). Trained end to end with teacher forcing on\n"
            + "batches of unequal lengths; translates held-out numbers by greedy decoding and by beam search.\n"
            + "The last line printed is greedy_exact_match=<percent> beam_exact_match=<percent>.");
        _digits = _cli.Int("digits", Defaults.MaxDigits, "Numbers have 1 to this many digits (6: up to 999,999)", min: 1, max: NumberCorpus.MaxDigits);
        _train = _cli.Int("train", Defaults.TrainPairs, "Training sentence pairs", min: 1, max: 1_000_000);
        _test = _cli.Int("test", Defaults.TestPairs, "Held-out sentence pairs, from a fixed quarter of the numbers never trained on", min: 1, max: 1_000_000);
        _epochs = _cli.Int("epochs", Defaults.Epochs, "Passes over the training pairs; 0 = only evaluate (e.g. with --load)", min: 0, max: 1000);
        _batch = _cli.Int("batch", Defaults.Batch, "Sentence pairs per batch, bucketed by length", min: 1, max: TranslateOptions.Limits.MaxBatch);
        _lr = _cli.Double("lr", CommandLine.Exact(Defaults.LearningRate), "Adam learning rate, cosine-annealed to 10% by the end", min: 0, max: 1, minExclusive: true);
        _clip = _cli.Double("clip", CommandLine.Exact(Defaults.ClipNorm), "Gradient clipping: largest global norm of both models' gradients", min: 0, minExclusive: true);
        _seed = _cli.Int("seed", Defaults.Seed, "Seed of the data, the initialization and the batch order");
        _beam = _cli.Int("beam", Defaults.BeamWidth, "Beam width: hypotheses kept per sentence (1 = greedy)", min: 1, max: TranslateOptions.Limits.MaxBeam);
        _maxLength = _cli.Int("max-length", Defaults.MaxLength, "Most digits a translation may have", min: 1, max: TranslateOptions.Limits.MaxLength);
        _out = _cli.String("out", Defaults.OutputPath, "Where the encoder and decoder are saved (one safetensors file), then reloaded and re-evaluated", valueName: "PATH");
        _noSave = _cli.Flag("no-save", "Write no model file");
        _cli.Contradicts(_noSave, _out);
        _load = _cli.String("load", null, "Start from this model file; with --epochs 0, only evaluate it", valueName: "PATH");
        _translate = _cli.String("translate", null, "Number words of your own to translate at the end, e.g. \"forty thousand and six\"", valueName: "TEXT");
        _plain = _cli.Flag("plain", "Print progress as plain lines instead of redrawing one line");
        _cli.NotApplicable("data", "there is no real parallel corpus in ../shared/data, so this sample makes its sentence pairs (see --help).");
        _cli.Epilog =
            "Data: there is no --data option. No real parallel corpus is in ../shared/data, so the sample always makes its\n"
            + "sentence pairs itself (deterministic for a --seed).\n"
            + "\n"
            + "Examples:\n"
            + "  dotnet run --project samples/Translate -c Release\n"
            + "  dotnet run --project samples/Translate -c Release -- --digits 3 --epochs 10\n"
            + "  dotnet run --project samples/Translate -c Release -- --load artifacts/translate.safetensors --epochs 0 --translate \"nine hundred thousand and one\"";
    }

    /// <summary>The help text.</summary>
    public string HelpText() => _cli.HelpText();

    /// <summary>Parses the arguments; null when --help was asked for.</summary>
    /// <exception cref="CommandLineException">The arguments do not fit; the message says which option and why.</exception>
    public TranslateOptions? Parse(string[] args)
    {
        CommandLineArguments a = _cli.Parse(args);
        if (a.HelpRequested) return null;
        var options = new TranslateOptions
        {
            MaxDigits = a.Get(_digits),
            TrainPairs = a.Get(_train),
            TestPairs = a.Get(_test),
            Epochs = a.Get(_epochs),
            Batch = a.Get(_batch),
            LearningRate = (float)a.Get(_lr),
            ClipNorm = (float)a.Get(_clip),
            Seed = a.Get(_seed),
            BeamWidth = a.Get(_beam),
            MaxLength = a.Get(_maxLength),
            OutputPath = a.Get(_noSave) ? null : a.Get(_out),
            LoadPath = a.Get(_load),
            Text = a.Get(_translate),
            LiveProgress = a.Get(_plain) ? false : null,
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            // Only limits that depend on --digits can fail here (each value was range-checked): name the options.
            throw new CommandLineException(e.Message.Replace("TrainPairs", "--train", StringComparison.Ordinal).Replace("TestPairs", "--test", StringComparison.Ordinal));
        }
        return options;
    }
}
