namespace RnnGen.Samples.Agents;

/// <summary>The Agents command line: the declared options and their binding to <see cref="AgentsOptions"/>.</summary>
public sealed class AgentsCommandLine
{
    private static readonly AgentsOptions Defaults = new();

    private readonly CommandLine _cli;
    private readonly CommandLineOption<int> _agents;
    private readonly CommandLineOption<int> _frames;
    private readonly CommandLineOption<int> _trainSteps;
    private readonly CommandLineOption<int> _streams;
    private readonly CommandLineOption<int> _window;
    private readonly CommandLineOption<double> _lr;
    private readonly CommandLineOption<double> _clip;
    private readonly CommandLineOption<int> _seed;
    private readonly CommandLineOption<string?> _out;
    private readonly CommandLineOption<bool> _noSave;
    private readonly CommandLineOption<string?> _load;
    private readonly CommandLineOption<int> _repeats;
    private readonly CommandLineOption<bool> _plain;

    /// <summary>Declares the options.</summary>
    public AgentsCommandLine()
    {
        _cli = new CommandLine(
            "Agents",
            "Game agents with memory: hundreds of agents chase targets they see only now and then; each keeps a GRU state that\n"
            + "tracks its target, and all states advance together once per frame with the generated multi-agent Step.\n"
            + "Trains the tracker on generated trajectories, saves and reloads it (safetensors), runs the game against\n"
            + "baselines, checks that a frame allocates nothing and times batched against per-agent steps.\n"
            + "The last line printed is catches_per_min=<tracker> fps=<frames per second> allocated_bytes=<in the frame loop>\n"
            + "dead_reckoning_catches_per_min=<hand-written baseline> no_memory_catches_per_min=<reactive policy>.");
        _agents = _cli.Int("agents", Defaults.Agents, "Agents in the game", min: 1, max: AgentsOptions.Limits.MaxAgents);
        _frames = _cli.Int("frames", Defaults.Frames, "Frames per policy (30 per second of game time)", min: 1);
        _trainSteps = _cli.Int("train-steps", Defaults.TrainSteps, "Training steps of the tracker; 0 = use --load as is", min: 0);
        _streams = _cli.Int("streams", Defaults.Streams, "Training trajectories per batch", min: 1, max: AgentsOptions.Limits.MaxStreams);
        _window = _cli.Int("window", Defaults.Window, "Frames per truncated-BPTT window", min: 1, max: AgentsOptions.Limits.MaxWindow);
        _lr = _cli.Double("lr", CommandLine.Exact(Defaults.LearningRate), "Adam learning rate, cosine-annealed to 10% by the end", min: 0, max: 1, minExclusive: true);
        _clip = _cli.Double("clip", CommandLine.Exact(Defaults.ClipNorm), "Largest global gradient norm", min: 0, minExclusive: true);
        _seed = _cli.Int("seed", Defaults.Seed, "Seed of initialization, trajectories and game");
        _out = _cli.String("out", Defaults.OutputPath, "Tracker checkpoint (safetensors) written after training", valueName: "PATH");
        _noSave = _cli.Flag("no-save", "Write no checkpoint (the save/load round trip then runs in memory)");
        _cli.Contradicts(_noSave, _out);
        _load = _cli.String("load", null, "Start from this tracker checkpoint", valueName: "PATH");
        _repeats = _cli.Int("repeats", Defaults.BenchmarkRepeats, "Timed repetitions of the batched vs per-agent step comparison", min: 1);
        _plain = _cli.Flag("plain", "Print progress as plain lines instead of redrawing one line");
        _cli.Epilog =
            "Examples:\n"
            + "  dotnet run --project samples/Agents -c Release\n"
            + "  dotnet run --project samples/Agents -c Release -- --agents 2048 --frames 600\n"
            + "  dotnet publish samples/Agents -c Release -p:PublishAot=true && samples/Agents/bin/Release/net10.0/linux-x64/publish/Agents\n"
            + "  Agents --load artifacts/agents.safetensors --train-steps 0";
    }

    /// <summary>The help text.</summary>
    public string HelpText() => _cli.HelpText();

    /// <summary>Parses the arguments; null when --help was asked for.</summary>
    /// <exception cref="CommandLineException">The arguments do not fit; the message says which option and why.</exception>
    public AgentsOptions? Parse(string[] args)
    {
        CommandLineArguments a = _cli.Parse(args);
        if (a.HelpRequested) return null;
        if (a.Get(_trainSteps) == 0 && a.Get(_load) is null) throw new CommandLineException("--train-steps 0 needs --load PATH: there would be no trained tracker.");
        return new AgentsOptions
        {
            Agents = a.Get(_agents),
            Frames = a.Get(_frames),
            TrainSteps = a.Get(_trainSteps),
            Streams = a.Get(_streams),
            Window = a.Get(_window),
            LearningRate = (float)a.Get(_lr),
            ClipNorm = (float)a.Get(_clip),
            Seed = a.Get(_seed),
            OutputPath = a.Get(_noSave) ? null : a.Get(_out),
            LoadPath = a.Get(_load),
            BenchmarkRepeats = a.Get(_repeats),
            LiveProgress = a.Get(_plain) ? false : null,
        };
    }
}
