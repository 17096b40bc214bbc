using System;
using System.Linq;

namespace RnnGen.Samples.CharRnn;

/// <summary>The CharRnn command line: the declared options and their binding to <see cref="CharRnnOptions"/>.</summary>
public sealed class CharRnnCommandLine
{
    private static readonly CharRnnOptions Defaults = new();

    private readonly CommandLine _cli;
    private readonly CommandLineOption<string?> _corpus;
    private readonly CommandLineOption<int> _hidden;
    private readonly CommandLineOption<int> _layers;
    private readonly CommandLineOption<int> _seq;
    private readonly CommandLineOption<int> _batch;
    private readonly CommandLineOption<long> _steps;
    private readonly CommandLineOption<double> _minutes;
    private readonly CommandLineOption<int> _seed;
    private readonly CommandLineOption<string?> _out;
    private readonly CommandLineOption<bool> _noSave;
    private readonly CommandLineOption<string?> _load;
    private readonly CommandLineOption<string?> _prompt;
    private readonly CommandLineOption<double> _temperature;
    private readonly CommandLineOption<int> _length;
    private readonly CommandLineOption<double> _lr;
    private readonly CommandLineOption<double> _clip;
    private readonly CommandLineOption<int> _evalChars;
    private readonly CommandLineOption<int> _evaluations;
    private readonly CommandLineOption<string?> _evalWeights;
    private readonly CommandLineOption<bool> _plain;

    /// <summary>Declares the options.</summary>
    public CharRnnCommandLine()
    {
        _cli = new CommandLine(
            "CharRnn",
            "Trains a character-level LSTM language model (Karpathy's char-rnn) with RnnGen, then samples text from it.\n"
            + "Without --corpus it trains on a small built-in corpus of rhymes. The last line printed is val_loss=<nats per char>.");
        _corpus = _cli.String("corpus", null, "Training text (UTF-8); the last 5% is the validation split. Default: built-in rhymes", valueName: "PATH");
        _hidden = _cli.Int("hidden", CharRnnOptions.DefaultHidden, "LSTM hidden width; with --load, the checkpoint's", allowed: CharModels.SupportedHidden.ToArray());
        _layers = _cli.Int("layers", CharRnnOptions.DefaultLayers, "LSTM layers; with --load, the checkpoint's", allowed: CharModels.SupportedLayers.ToArray());
        _seq = _cli.Int("seq", Defaults.SequenceLength, "Truncated-BPTT window, characters", min: 1, max: CharRnnOptions.Limits.MaxSequence);
        _batch = _cli.Int("batch", Defaults.Batch, "Independent streams per optimizer step", min: 1, max: CharRnnOptions.Limits.MaxBatch);
        _steps = _cli.Long("steps", Defaults.Steps, "Optimizer steps; 0 = until the time budget ends", min: 0);
        _minutes = _cli.Double("minutes", Defaults.Minutes, "Time budget for training; 0 = none. Ignored when --steps is set, unless also given", min: 0, valueName: "M");
        _seed = _cli.Int("seed", Defaults.Seed, "Seed for initialization and sampling");
        _out = _cli.String("out", Defaults.OutputPath, "Checkpoint (safetensors) written at each validation and at the end", valueName: "PATH");
        _noSave = _cli.Flag("no-save", "Write no checkpoint");
        _cli.Contradicts(_noSave, _out);
        _load = _cli.String("load", null, "Start from this checkpoint; with --steps 0 --minutes 0, only sample from it", valueName: "PATH");
        _prompt = _cli.String("prompt", Defaults.Prompt, "Text to start the sample with");
        _temperature = _cli.Double("temperature", CommandLine.Exact(Defaults.Temperature), "Sampling temperature", min: 0, max: 100, minExclusive: true);
        _length = _cli.Int("length", Defaults.SampleLength, "Characters to sample", min: 0, max: 10_000_000);
        _lr = _cli.Double("lr", CommandLine.Exact(Defaults.LearningRate), "Adam learning rate, cosine-annealed to 10% by the end", min: 0, max: 1, minExclusive: true);
        _clip = _cli.Double("clip", CommandLine.Exact(Defaults.ClipNorm), "Gradient clipping: largest global gradient norm", min: 0, minExclusive: true);
        _evalChars = _cli.Int("eval-chars", Defaults.EvalChars, "Validation characters per periodic evaluation; the final one uses the whole split", min: 1);
        _evaluations = _cli.Int("evaluations", Defaults.Evaluations, "Evaluations per run, evenly spaced, each saving a checkpoint; the last is the final whole-split one", min: 0, max: 1000);
        _evalWeights = _cli.String(
            "eval-weights", "all", "Also measure the final validation loss with the same weights read as bfloat16 and/or int8 (and float), one char at a time",
            valueName: "WHICH", allowed: ["all", "bfloat16", "int8", "none"]);
        _plain = _cli.Flag("plain", "Print progress as plain lines instead of redrawing one line");
        _cli.Epilog =
            "Examples:\n"
            + "  dotnet run --project samples/CharRnn -c Release\n"
            + "  dotnet run --project samples/CharRnn -c Release -- --corpus ../shared/data/tinyshakespeare/input.txt --minutes 10 --hidden 256 --layers 2\n"
            + "  dotnet run --project samples/CharRnn -c Release -- --load artifacts/charrnn.safetensors --steps 0 --minutes 0 --prompt \"ROMEO:\"";
    }

    /// <summary>The help text.</summary>
    public string HelpText() => _cli.HelpText();

    /// <summary>Parses the arguments; null when --help was asked for.</summary>
    /// <exception cref="CommandLineException">The arguments do not fit; the message says which option and why.</exception>
    public CharRnnOptions? Parse(string[] args)
    {
        CommandLineArguments a = _cli.Parse(args);
        if (a.HelpRequested) return null;
        long steps = a.Get(_steps);
        // --steps alone trains exactly that many steps; the default time budget applies only to step-less runs.
        double minutes = a.IsSet(_minutes) || steps == 0 ? a.Get(_minutes) : 0;
        return new CharRnnOptions
        {
            CorpusPath = a.Get(_corpus),
            Hidden = a.IsSet(_hidden) ? a.Get(_hidden) : null,
            Layers = a.IsSet(_layers) ? a.Get(_layers) : null,
            SequenceLength = a.Get(_seq),
            Batch = a.Get(_batch),
            Steps = steps,
            Minutes = minutes,
            Seed = a.Get(_seed),
            OutputPath = a.Get(_noSave) ? null : a.Get(_out),
            LoadPath = a.Get(_load),
            Prompt = a.Get(_prompt) ?? "",
            Temperature = (float)a.Get(_temperature),
            SampleLength = a.Get(_length),
            LearningRate = (float)a.Get(_lr),
            ClipNorm = (float)a.Get(_clip),
            EvalChars = a.Get(_evalChars),
            Evaluations = a.Get(_evaluations),
            EvalWeights = a.Get(_evalWeights) switch
            {
                "bfloat16" => [WeightPrecision.BFloat16],
                "int8" => [WeightPrecision.Int8],
                "none" => [],
                _ => [WeightPrecision.BFloat16, WeightPrecision.Int8],
            },
            LiveProgress = a.Get(_plain) ? false : null,
        };
    }
}
