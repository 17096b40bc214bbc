using System.Linq;

namespace RnnGen.Samples.Caption;

/// <summary>The Caption command line: the declared options and their binding to <see cref="CaptionOptions"/>.</summary>
public sealed class CaptionCommandLine
{
    private static readonly CaptionOptions Defaults = new();

    private readonly CommandLine _cli;
    private readonly CommandLineOption<string?> _cell;
    private readonly CommandLineOption<int> _steps;
    private readonly CommandLineOption<int> _batch;
    private readonly CommandLineOption<double> _lr;
    private readonly CommandLineOption<double> _clip;
    private readonly CommandLineOption<int> _trainScenes;
    private readonly CommandLineOption<int> _testScenes;
    private readonly CommandLineOption<int> _seed;
    private readonly CommandLineOption<string?> _out;
    private readonly CommandLineOption<bool> _noSave;
    private readonly CommandLineOption<string?> _load;
    private readonly CommandLineOption<double> _temperature;
    private readonly CommandLineOption<int> _examples;
    private readonly CommandLineOption<bool> _noCheck;
    private readonly CommandLineOption<bool> _plain;

    /// <summary>Declares the options.</summary>
    public CaptionCommandLine()
    {
        _cli = new CommandLine(
            "Caption",
            "Image captioning without the image: a synthetic scene's feature vector is projected into the initial state of a\n"
            + "GRU or LSTM decoder (h0 = tanh(W f + b)), which writes the caption (\"two small red circles on the left\").\n"
            + "Trained end to end with teacher forcing on generated scenes; reports held-out exact match and per-attribute\n"
            + "accuracy of greedy captions. The last line printed is exact_match=<percent>.");
        _cell = _cli.String("cell", Defaults.Cell, "Decoder cell; with --load, the checkpoint's", allowed: CaptionModels.Cells.ToArray());
        _steps = _cli.Int("steps", Defaults.Steps, "Optimizer steps; 0 = evaluate only (with --load)", min: 0);
        _batch = _cli.Int("batch", Defaults.Batch, "Captions per step", min: 1, max: CaptionOptions.Limits.MaxBatch);
        _lr = _cli.Double("lr", CommandLine.Exact(Defaults.LearningRate), "Adam learning rate, cosine-annealed to 10% by the end", min: 0, max: 1, minExclusive: true);
        _clip = _cli.Double("clip", CommandLine.Exact(Defaults.ClipNorm), "Largest global gradient norm (decoder and projection together)", min: 0, minExclusive: true);
        _trainScenes = _cli.Int("train-scenes", Defaults.TrainScenes, "Generated training scenes", min: 1, max: 10_000_000);
        _testScenes = _cli.Int("test-scenes", Defaults.TestScenes, "Generated held-out scenes", min: 1, max: 10_000_000);
        _seed = _cli.Int("seed", Defaults.Seed, "Seed of initialization, batch order and sampling (the scenes are always the same)");
        _out = _cli.String("out", Defaults.OutputPath, "Checkpoint (safetensors: decoder and projection) written at the end", valueName: "PATH");
        _noSave = _cli.Flag("no-save", "Write no checkpoint (the save/load round trip then runs in memory)");
        _cli.Contradicts(_noSave, _out);
        _load = _cli.String("load", null, "Start from this checkpoint", valueName: "PATH");
        _temperature = _cli.Double("temperature", CommandLine.Exact(Defaults.Temperature), "Temperature of the sampled example captions", min: 0, max: 100, minExclusive: true);
        _examples = _cli.Int("examples", Defaults.Examples, "Held-out scenes to show with their captions", min: 0, max: 1000);
        _noCheck = _cli.Flag("no-gradient-check", "Skip the finite-difference check of the projection gradient");
        _plain = _cli.Flag("plain", "Print progress as plain lines instead of redrawing one line");
        _cli.Epilog =
            "Examples:\n"
            + "  dotnet run --project samples/Caption -c Release\n"
            + "  dotnet run --project samples/Caption -c Release -- --cell gru --steps 3000\n"
            + "  dotnet run --project samples/Caption -c Release -- --load artifacts/caption.safetensors --steps 0 --examples 20";
    }

    /// <summary>The help text.</summary>
    public string HelpText() => _cli.HelpText();

    /// <summary>Parses the arguments; null when --help was asked for.</summary>
    /// <exception cref="CommandLineException">The arguments do not fit; the message says which option and why.</exception>
    public CaptionOptions? Parse(string[] args)
    {
        CommandLineArguments a = _cli.Parse(args);
        if (a.HelpRequested) return null;
        return new CaptionOptions
        {
            Cell = a.Get(_cell)!,
            Steps = a.Get(_steps),
            Batch = a.Get(_batch),
            LearningRate = (float)a.Get(_lr),
            ClipNorm = (float)a.Get(_clip),
            TrainScenes = a.Get(_trainScenes),
            TestScenes = a.Get(_testScenes),
            Seed = a.Get(_seed),
            OutputPath = a.Get(_noSave) ? null : a.Get(_out),
            LoadPath = a.Get(_load),
            Temperature = (float)a.Get(_temperature),
            Examples = a.Get(_examples),
            GradientCheck = !a.Get(_noCheck),
            LiveProgress = a.Get(_plain) ? false : null,
        };
    }
}
