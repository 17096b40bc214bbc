namespace RnnGen.Samples.Sentiment;

/// <summary>The Sentiment command line: the declared options and their binding to <see cref="SentimentOptions"/>.</summary>
public sealed class SentimentCommandLine
{
    private static readonly SentimentOptions Defaults = new();

    private readonly CommandLine _cli;
    private readonly CommandLineOption<int> _train;
    private readonly CommandLineOption<int> _test;
    private readonly CommandLineOption<int> _validation;
    private readonly CommandLineOption<int> _epochs;
    private readonly CommandLineOption<int> _batch;
    private readonly CommandLineOption<double> _lr;
    private readonly CommandLineOption<double> _clip;
    private readonly CommandLineOption<int> _seed;
    private readonly CommandLineOption<int> _baselineEpochs;
    private readonly CommandLineOption<string?> _out;
    private readonly CommandLineOption<bool> _noSave;
    private readonly CommandLineOption<string?> _load;
    private readonly CommandLineOption<string?> _review;
    private readonly CommandLineOption<bool> _plain;

    /// <summary>Declares the options.</summary>
    public SentimentCommandLine()
    {
        _cli = new CommandLine(
            "Sentiment",
            "Sequence scoring (many-to-one) with RnnGen: a GRU reads a movie review and its final state decides positive or\n"
            + "negative. Trains on synthetic reviews, generated from a grammar, whose polarity hangs on word order (\"not bad at\n"
            + "all\", \"never boring\", \"good but too long\"); tests on new texts of the trained sentence structures and on\n"
            + "structures held out of training, and compares with a bag-of-words baseline on both.\n"
            + "The last line printed is seen_accuracy=<percent> seen_negated_accuracy=<percent> heldout_accuracy=<percent>\n"
            + "bow_seen_accuracy=... bow_seen_negated_accuracy=... bow_heldout_accuracy=...");
        _train = _cli.Int("train", Defaults.TrainReviews, "Generated training reviews", min: 1, max: SentimentOptions.Limits.MaxReviews);
        _test = _cli.Int("test", Defaults.TestReviews, "Generated test reviews in each test set (new texts of the trained structures; held-out structures)", min: 1, max: SentimentOptions.Limits.MaxReviews);
        _validation = _cli.Int("validation", Defaults.ValidationReviews, "Generated validation reviews (trained structures, other texts), scored each epoch", min: 1, max: SentimentOptions.Limits.MaxReviews);
        _epochs = _cli.Int("epochs", Defaults.Epochs, "Passes over the training reviews; 0 = only evaluate (e.g. with --load)", min: 0, max: 1000);
        _batch = _cli.Int("batch", Defaults.Batch, "Reviews per batch, bucketed by length", min: 1, max: SentimentOptions.Limits.MaxBatch);
        _lr = _cli.Double("lr", CommandLine.Exact(Defaults.LearningRate), "Adam learning rate, cosine-annealed to 10% by the end", min: 0, max: 1, minExclusive: true);
        _clip = _cli.Double("clip", CommandLine.Exact(Defaults.ClipNorm), "Gradient clipping: largest global gradient norm", min: 0, minExclusive: true);
        _seed = _cli.Int("seed", Defaults.Seed, "Seed of the data, the initialization and the batch order");
        _baselineEpochs = _cli.Int("baseline-epochs", Defaults.BaselineEpochs, "Epochs of the bag-of-words baseline; 0 = skip it", min: 0, max: 1000);
        _out = _cli.String("out", Defaults.OutputPath, "Where the trained model is saved (safetensors), then reloaded and re-evaluated", valueName: "PATH");
        _noSave = _cli.Flag("no-save", "Write no model file");
        _cli.Contradicts(_noSave, _out);
        _load = _cli.String("load", null, "Start from this model file (safetensors); with --epochs 0, only evaluate it", valueName: "PATH");
        _review = _cli.String("review", null, "A review of your own to score at the end, e.g. \"the cast was not bad at all\"", valueName: "TEXT");
        _plain = _cli.Flag("plain", "Print progress as plain lines instead of redrawing one line");
        _cli.NotApplicable("data", "there is no real review data set in ../shared/data, so this sample generates its reviews (see --help).");
        _cli.Epilog =
            "Data: there is no --data option. No real review data set is in ../shared/data, so the sample always trains on\n"
            + "reviews it generates itself (deterministic for a --seed); words outside the grammar read as <unk>.\n"
            + "\n"
            + "Examples:\n"
            + "  dotnet run --project samples/Sentiment -c Release\n"
            + "  dotnet run --project samples/Sentiment -c Release -- --review \"the plot was never boring but the ending was too long\"\n"
            + "  dotnet run --project samples/Sentiment -c Release -- --load artifacts/sentiment.safetensors --epochs 0 --review \"i did not enjoy it\"";
    }

    /// <summary>The help text.</summary>
    public string HelpText() => _cli.HelpText();

    /// <summary>Parses the arguments; null when --help was asked for.</summary>
    /// <exception cref="CommandLineException">The arguments do not fit; the message says which option and why.</exception>
    public SentimentOptions? Parse(string[] args)
    {
        CommandLineArguments a = _cli.Parse(args);
        if (a.HelpRequested) return null;
        return new SentimentOptions
        {
            TrainReviews = a.Get(_train),
            TestReviews = a.Get(_test),
            ValidationReviews = a.Get(_validation),
            Epochs = a.Get(_epochs),
            Batch = a.Get(_batch),
            LearningRate = (float)a.Get(_lr),
            ClipNorm = (float)a.Get(_clip),
            Seed = a.Get(_seed),
            BaselineEpochs = a.Get(_baselineEpochs),
            OutputPath = a.Get(_noSave) ? null : a.Get(_out),
            LoadPath = a.Get(_load),
            Review = a.Get(_review),
            LiveProgress = a.Get(_plain) ? false : null,
        };
    }
}
