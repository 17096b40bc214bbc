using System.Globalization;
using System.Linq;

namespace RnnGen.Samples.Tagger;

/// <summary>The Tagger command line: the declared options and their binding to <see cref="TaggerOptions"/>.</summary>
public sealed class TaggerCommandLine
{
    private static readonly TaggerOptions Defaults = new();

    private readonly CommandLine _cli;
    private readonly CommandLineOption<string?> _data;
    private readonly CommandLineOption<int> _hidden;
    private readonly CommandLineOption<string?> _epochs;
    private readonly CommandLineOption<string?> _minutes;
    private readonly CommandLineOption<int> _batch;
    private readonly CommandLineOption<double> _lr;
    private readonly CommandLineOption<double> _clip;
    private readonly CommandLineOption<double> _wordDropout;
    private readonly CommandLineOption<double> _dropout;
    private readonly CommandLineOption<int> _minCount;
    private readonly CommandLineOption<int> _seed;
    private readonly CommandLineOption<string?> _out;
    private readonly CommandLineOption<bool> _noSave;
    private readonly CommandLineOption<string?> _eval;
    private readonly CommandLineOption<string?> _model;
    private readonly CommandLineOption<string?> _tag;
    private readonly CommandLineOption<int> _threads;
    private readonly CommandLineOption<string?> _evalWeights;
    private readonly CommandLineOption<bool> _plain;

    /// <summary>Declares the options.</summary>
    public TaggerCommandLine()
    {
        _cli = new CommandLine(
            "Tagger",
            "A part-of-speech tagger: a bidirectional LSTM over word vectors made of a word embedding and a character BiLSTM\n"
            + "run over the word's spelling, trained end to end with RnnGen-generated networks. Without --data it trains on a\n"
            + "built-in synthetic treebank. The last line printed is upos_accuracy=<percent> (dev accuracy, or that of --eval).");
        _data = _cli.String("data", null, "Folder with a UD treebank's *-ud-train.conllu and *-ud-dev.conllu. Default: built-in synthetic treebank", valueName: "DIR");
        _hidden = _cli.Int("hidden", Defaults.Hidden, "Hidden width of each direction of the sentence BiLSTM", allowed: TaggerModels.SupportedHidden.ToArray());
        // No declared defaults: they depend on --data and on each other, as the help says.
        _epochs = _cli.String("epochs", null, "Passes over the training data; 0 = no limit. Default 5 without --data, else none (train for --minutes)", valueName: "N");
        _minutes = _cli.String("minutes", null, "Time budget for training; 0 = no limit. Default none without --data, else 12 unless --epochs is given", valueName: "M");
        _batch = _cli.Int("batch", Defaults.Batch, "Sentences per optimizer step (batches are bucketed by length)", min: 1, max: 4096);
        _lr = _cli.Double("lr", CommandLine.Exact(Defaults.LearningRate), "Adam learning rate, cosine-annealed to 10% by the end", min: 0, max: 1, minExclusive: true);
        _clip = _cli.Double("clip", CommandLine.Exact(Defaults.ClipNorm), "Gradient clipping: largest global gradient norm", min: 0, minExclusive: true);
        _wordDropout = _cli.Double("word-dropout", CommandLine.Exact(Defaults.WordDropout), "Word dropout alpha: word w becomes <unk> with probability alpha/(alpha+count(w)); 0 = off", min: 0, max: 1000);
        _dropout = _cli.Double("dropout", CommandLine.Exact(Defaults.Dropout), "Dropout on the sentence BiLSTM's input vectors; 0 = off", min: 0, max: 1, maxExclusive: true);
        _minCount = _cli.Int("min-count", Defaults.MinCount, "Training words seen fewer times are left out of the vocabulary", min: 1);
        _seed = _cli.Int("seed", Defaults.Seed, "Seed for initialization, shuffling and dropout");
        _out = _cli.String("out", Defaults.OutputPath, "Where to save the model (safetensors); the vocabulary goes next to it as .vocab.json", valueName: "PATH");
        _noSave = _cli.Flag("no-save", "Save no model");
        _cli.Contradicts(_noSave, _out);
        _eval = _cli.String("eval", null, "Score --model on this CoNLL-U file instead of training", valueName: "PATH");
        _model = _cli.String("model", null, "A saved model (for --eval or --tag); no training", valueName: "PATH");
        _tag = _cli.String("tag", null, "Tag this text (words separated by spaces) with the trained model, or with --model", valueName: "TEXT");
        _threads = _cli.Int("threads", Defaults.Threads, "Worker threads, each with a copy of the networks; 0 = one per core", min: 0, max: 256);
        _evalWeights = _cli.String(
            "eval-weights", "all", "Also score the final model with its weights read as bfloat16 and/or int8 (and float), one sentence at a time",
            valueName: "WHICH", allowed: ["all", "bfloat16", "int8", "none"]);
        _plain = _cli.Flag("plain", "Print progress as plain lines instead of redrawing one line");
        _cli.Epilog =
            "Examples:\n"
            + "  dotnet run -c Release --project samples/Tagger\n"
            + "  dotnet run -c Release --project samples/Tagger -- --data ../shared/data/ud-english-ewt --minutes 12\n"
            + "  dotnet run -c Release --project samples/Tagger -- --eval ../shared/data/ud-english-ewt/en_ewt-ud-dev.conllu --model artifacts/tagger.safetensors\n"
            + "  dotnet run -c Release --project samples/Tagger -- --model artifacts/tagger.safetensors --tag \"They run to the park .\"";
    }

    private static int ParseEpochs(string text) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= 0
            ? value
            : throw new CommandLineException($"Invalid value '{text}' for --epochs: expected an integer >= 0.");

    private static double ParseMinutes(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value) && value >= 0
            ? value
            : throw new CommandLineException($"Invalid value '{text}' for --minutes: expected a finite number >= 0.");

    /// <summary>The help text.</summary>
    public string HelpText() => _cli.HelpText();

    /// <summary>Parses the arguments; null when --help was asked for.</summary>
    /// <exception cref="CommandLineException">The arguments do not fit; the message says which option and why.</exception>
    public TaggerOptions? Parse(string[] args)
    {
        CommandLineArguments a = _cli.Parse(args);
        if (a.HelpRequested) return null;
        if (a.IsSet(_eval) && !a.IsSet(_model)) throw new CommandLineException("--eval needs --model PATH, the saved model to score.");
        if (a.IsSet(_model) && !a.IsSet(_eval) && !a.IsSet(_tag)) throw new CommandLineException("--model needs --eval PATH or --tag TEXT: what to do with the saved model.");
        int? epochs = a.Get(_epochs) is { } epochText ? ParseEpochs(epochText) : null;
        double? minutes = a.Get(_minutes) is { } minuteText ? ParseMinutes(minuteText) : null;
        if ((epochs is not null || minutes is not null) && (epochs ?? 0) == 0 && (minutes ?? 0) == 0)
            throw new CommandLineException("With --epochs 0 or --minutes 0, training has no limit; give a positive --epochs or --minutes.");
        return new TaggerOptions
        {
            DataPath = a.Get(_data),
            Hidden = a.Get(_hidden),
            Epochs = epochs,
            Minutes = minutes,
            Batch = a.Get(_batch),
            LearningRate = (float)a.Get(_lr),
            ClipNorm = (float)a.Get(_clip),
            WordDropout = (float)a.Get(_wordDropout),
            Dropout = (float)a.Get(_dropout),
            MinCount = a.Get(_minCount),
            Seed = a.Get(_seed),
            OutputPath = a.Get(_noSave) ? null : a.Get(_out),
            EvalPath = a.Get(_eval),
            ModelPath = a.Get(_model),
            TagText = a.Get(_tag),
            Threads = a.Get(_threads),
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
