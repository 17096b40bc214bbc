using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace RnnGen.Samples;

/// <summary>
/// A tiny command-line parser for the samples: options are declared once (name, type, default, range, help), then
/// <see cref="Parse"/> reads <c>--name value</c>, <c>--name=value</c> and <c>--flag</c>, and <see cref="HelpText"/>
/// prints what was declared. Numbers are parsed with the invariant culture. No external packages.
/// </summary>
/// <example>
/// <code>
/// var cli = new CommandLine("CharRnn", "Trains a character-level LSTM.");
/// var hidden = cli.Int("hidden", 128, "hidden width", allowed: [64, 128, 256, 512]);
/// var lr = cli.Double("lr", 2e-3, "learning rate", min: 0, minExclusive: true);
/// var corpus = cli.String("corpus", null, "training text", valueName: "PATH");
/// CommandLineArguments parsed = cli.Parse(args); // throws CommandLineException with a message naming the option
/// if (parsed.HelpRequested) { Console.Write(cli.HelpText()); return 0; }
/// int h = parsed.Get(hidden);
/// </code>
/// </example>
public sealed class CommandLine
{
    private readonly List<CommandLineOption> _options = new();
    private readonly Dictionary<string, CommandLineOption> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _notApplicable = new(StringComparer.Ordinal);
    private readonly List<(CommandLineOption<bool> Flag, CommandLineOption Option)> _contradictions = new();

    /// <summary>Creates a parser for a program.</summary>
    /// <param name="program">The program's name, shown in the usage line.</param>
    /// <param name="description">One paragraph shown under the usage line.</param>
    public CommandLine(string program, string description)
    {
        Program = program ?? throw new ArgumentNullException(nameof(program));
        Description = description ?? "";
    }

    /// <summary>The program's name.</summary>
    public string Program { get; }

    /// <summary>The description shown by <see cref="HelpText"/>.</summary>
    public string Description { get; }

    /// <summary>Extra text appended to <see cref="HelpText"/> (examples, notes).</summary>
    public string? Epilog { get; set; }

    /// <summary>The declared options, in declaration order.</summary>
    public IReadOnlyList<CommandLineOption> Options => _options;

    /// <summary>Declares an integer option accepting [<paramref name="min"/>, <paramref name="max"/>], or only <paramref name="allowed"/> when given.</summary>
    public CommandLineOption<int> Int(string name, int defaultValue, string help, int min = int.MinValue, int max = int.MaxValue, int[]? allowed = null, string valueName = "N")
    {
        if (allowed is { Length: 0 }) throw new ArgumentException("allowed must list at least one value when given.", nameof(allowed));
        string range = allowed is not null ? "one of " + string.Join(", ", allowed.Select(Invariant)) : RangeText(min, max, min == int.MinValue, max == int.MaxValue);
        return Add(new CommandLineOption<int>(name, valueName, help, defaultValue, range, text =>
        {
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
                return (0, "an integer");
            bool ok = allowed is not null ? Array.IndexOf(allowed, value) >= 0 : value >= min && value <= max;
            return ok ? (value, null) : (value, range);
        }));
    }

    /// <summary>Declares a 64-bit integer option accepting [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public CommandLineOption<long> Long(string name, long defaultValue, string help, long min = long.MinValue, long max = long.MaxValue, string valueName = "N")
    {
        string range = RangeText(min, max, min == long.MinValue, max == long.MaxValue);
        return Add(new CommandLineOption<long>(name, valueName, help, defaultValue, range, text =>
        {
            if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value))
                return (0, "an integer");
            return value >= min && value <= max ? (value, null) : (value, range);
        }));
    }

    /// <summary>
    /// Declares a floating-point option accepting values between <paramref name="min"/> and <paramref name="max"/>
    /// (excluding a bound whose <c>...Exclusive</c> flag is set). NaN and infinities are always rejected.
    /// </summary>
    public CommandLineOption<double> Double(
        string name, double defaultValue, string help,
        double min = double.NegativeInfinity, double max = double.PositiveInfinity,
        bool minExclusive = false, bool maxExclusive = false, string valueName = "X")
    {
        string low = double.IsNegativeInfinity(min) ? "" : (minExclusive ? "> " : ">= ") + Invariant(min);
        string high = double.IsPositiveInfinity(max) ? "" : (maxExclusive ? "< " : "<= ") + Invariant(max);
        string range = low.Length > 0 && high.Length > 0 ? $"a number {low} and {high}" : low.Length + high.Length > 0 ? $"a number {low}{high}" : "a finite number";
        return Add(new CommandLineOption<double>(name, valueName, help, defaultValue, range, text =>
        {
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
                return (0, "a finite number");
            bool ok = (minExclusive ? value > min : value >= min) && (maxExclusive ? value < max : value <= max);
            return ok ? (value, null) : (value, range);
        }));
    }

    /// <summary>Declares a string option; <paramref name="allowed"/>, when given, lists the accepted values (compared ordinally).</summary>
    public CommandLineOption<string?> String(string name, string? defaultValue, string help, string valueName = "TEXT", string[]? allowed = null)
    {
        string range = allowed is not null ? "one of " + string.Join(", ", allowed) : "any text";
        return Add(new CommandLineOption<string?>(name, valueName, help, defaultValue, range, text =>
            allowed is null || Array.IndexOf(allowed, text) >= 0 ? (text, null) : (text, range)));
    }

    /// <summary>Declares a flag: false unless <c>--name</c> is given (<c>--name=true</c> and <c>--name=false</c> also work).</summary>
    public CommandLineOption<bool> Flag(string name, string help)
    {
        var option = new CommandLineOption<bool>(name, null, help, false, "true or false", text =>
            text switch
            {
                "true" or "1" or "yes" => (true, null),
                "false" or "0" or "no" => (false, null),
                _ => (false, "true or false"),
            });
        return Add(option);
    }

    /// <summary>
    /// Declares an option this program does not take although a user may expect it (<c>--data</c> in a sample that
    /// makes its own data): <see cref="Parse"/> rejects <c>--name</c> with "--name is not applicable: " and
    /// <paramref name="reason"/>, before anything else, even <c>--help</c>. It is not listed in the help text.
    /// </summary>
    public void NotApplicable(string name, string reason)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(reason);
        if (_byName.ContainsKey(name)) throw new ArgumentException($"Option --{name} is declared; it cannot also be not applicable.", nameof(name));
        _notApplicable.Add(name, reason);
    }

    /// <summary>
    /// Declares that <paramref name="flag"/> turned on and <paramref name="option"/> given contradict each other
    /// (<c>--no-save</c> and <c>--out</c>): <see cref="Parse"/> then throws, naming both.
    /// </summary>
    public void Contradicts(CommandLineOption<bool> flag, CommandLineOption option)
    {
        ArgumentNullException.ThrowIfNull(flag);
        ArgumentNullException.ThrowIfNull(option);
        _contradictions.Add((flag, option));
    }

    /// <summary>A float default as the double a user would type (0.003, not 0.0030000000260770321), for <see cref="Double"/>.</summary>
    public static double Exact(float value) => (double)(decimal)value;

    /// <summary>
    /// Reads <paramref name="args"/>. <c>--help</c>, <c>-h</c> or <c>-?</c> anywhere sets
    /// <see cref="CommandLineArguments.HelpRequested"/> and skips validation.
    /// </summary>
    /// <exception cref="CommandLineException">
    /// An unknown option, a missing or malformed value, a value out of range, a repeated option or a stray argument;
    /// the message names the option and what it accepts.
    /// </exception>
    public CommandLineArguments Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        foreach (string arg in args)
        {
            foreach ((string name, string reason) in _notApplicable)
            {
                if (arg == "--" + name || arg.StartsWith("--" + name + "=", StringComparison.Ordinal))
                    throw new CommandLineException($"--{name} is not applicable: {reason}");
            }
        }
        var values = new Dictionary<CommandLineOption, object?>();
        if (args.Any(a => a is "--help" or "-h" or "-?" or "/?")) return new CommandLineArguments(values, helpRequested: true);

        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
                throw new CommandLineException($"Unexpected argument '{arg}': options are written --name value (see --help).");
            string name = arg.Substring(2);
            string? inlineValue = null;
            int equals = name.IndexOf('=');
            if (equals >= 0)
            {
                inlineValue = name.Substring(equals + 1);
                name = name.Substring(0, equals);
            }
            if (!_byName.TryGetValue(name, out CommandLineOption? option))
                throw new CommandLineException($"Unknown option --{name}.{Suggestion(name)} Run with --help to list the options.");
            if (values.ContainsKey(option))
                throw new CommandLineException($"Option --{name} is given more than once.");

            string text;
            if (inlineValue is not null)
            {
                text = inlineValue;
            }
            else if (option.IsFlag)
            {
                text = "true";
            }
            else
            {
                // A value may itself start with '-' (a negative number), but not with "--" (the next option).
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                    throw new CommandLineException(option.Range == "any text"
                        ? $"Option --{name} needs a value ({option.ValueName})."
                        : $"Option --{name} needs a value: {option.Range}.");
                text = args[++i];
            }
            (object? value, string? expected) = option.ParseValue(text);
            if (expected is not null)
                throw new CommandLineException($"Invalid value '{text}' for --{name}: expected {expected}.");
            values[option] = value;
        }
        foreach ((CommandLineOption<bool> flag, CommandLineOption option) in _contradictions)
        {
            if (values.TryGetValue(flag, out object? on) && (bool)on! && values.ContainsKey(option))
                throw new CommandLineException($"--{option.Name} and --{flag.Name} contradict each other; give one of them.");
        }
        return new CommandLineArguments(values, helpRequested: false);
    }

    /// <summary>The usage line, the description and one entry per option with its default and accepted values.</summary>
    public string HelpText()
    {
        var text = new StringBuilder();
        text.Append("Usage: ").Append(Program).Append(" [options]").AppendLine();
        if (Description.Length > 0) text.AppendLine().AppendLine(Description);
        text.AppendLine().AppendLine("Options:");
        var left = _options.Select(o => "  --" + o.Name + (o.IsFlag ? "" : " " + o.ValueName)).ToList();
        int width = Math.Max(left.Max(s => s.Length), "  --help".Length) + 2;
        for (int i = 0; i < _options.Count; i++)
        {
            CommandLineOption option = _options[i];
            text.Append(left[i].PadRight(width)).Append(option.Help);
            var notes = new List<string>();
            if (!option.IsFlag)
            {
                string? shown = option.DefaultText;
                if (shown is not null) notes.Add("default " + shown);
                if (option.Range is not ("any text" or "a finite number")) notes.Add(option.Range);
            }
            if (notes.Count > 0) text.Append(" (").Append(string.Join("; ", notes)).Append(')');
            text.AppendLine();
        }
        text.Append("  --help".PadRight(width)).AppendLine("Shows this text.");
        if (!string.IsNullOrEmpty(Epilog)) text.AppendLine().AppendLine(Epilog.TrimEnd());
        return text.ToString();
    }

    private CommandLineOption<T> Add<T>(CommandLineOption<T> option)
    {
        if (option.Name.Length == 0 || option.Name.StartsWith('-') || option.Name.Contains('=') || option.Name.Contains(' '))
            throw new ArgumentException($"'{option.Name}' is not a valid option name (write it without dashes, e.g. \"steps\").", nameof(option));
        if (option.Name == "help") throw new ArgumentException("--help is built in.", nameof(option));
        if (_notApplicable.ContainsKey(option.Name)) throw new ArgumentException($"Option --{option.Name} is declared not applicable.", nameof(option));
        if (!_byName.TryAdd(option.Name, option)) throw new ArgumentException($"Option --{option.Name} is declared twice.", nameof(option));
        _options.Add(option);
        return option;
    }

    private string Suggestion(string name)
    {
        CommandLineOption? best = _options
            .Where(o => o.Name.StartsWith(name, StringComparison.Ordinal) || name.StartsWith(o.Name, StringComparison.Ordinal) || Distance(o.Name, name) <= 2)
            .OrderBy(o => Distance(o.Name, name))
            .FirstOrDefault();
        return best is null ? "" : $" Did you mean --{best.Name}?";
    }

    /// <summary>Levenshtein distance, for "did you mean" hints.</summary>
    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    private static string RangeText<T>(T min, T max, bool noMin, bool noMax) where T : IFormattable
        => (noMin, noMax) switch
        {
            (true, true) => "an integer",
            (false, true) => $"an integer >= {Invariant(min)}",
            (true, false) => $"an integer <= {Invariant(max)}",
            _ => $"an integer from {Invariant(min)} to {Invariant(max)}",
        };

    internal static string Invariant<T>(T value) where T : IFormattable => value.ToString(null, CultureInfo.InvariantCulture);
}

/// <summary>One declared option, untyped (see <see cref="CommandLineOption{T}"/>).</summary>
public abstract class CommandLineOption
{
    private protected CommandLineOption(string name, string? valueName, string help, string range)
    {
        Name = name ?? throw new ArgumentNullException(nameof(name));
        ValueName = valueName ?? "";
        Help = help ?? "";
        Range = range;
    }

    /// <summary>The name, without the leading dashes.</summary>
    public string Name { get; }

    /// <summary>The placeholder shown in the help text, e.g. <c>PATH</c>.</summary>
    public string ValueName { get; }

    /// <summary>The one-line description.</summary>
    public string Help { get; }

    /// <summary>What the option accepts, as shown in errors and help, e.g. "an integer from 1 to 4096".</summary>
    public string Range { get; }

    /// <summary>Whether the option takes no value.</summary>
    public abstract bool IsFlag { get; }

    /// <summary>The default as shown in the help text, or null when there is none to show.</summary>
    public abstract string? DefaultText { get; }

    /// <summary>Parses a value; returns the value and null, or a description of what was expected.</summary>
    internal abstract (object? Value, string? Expected) ParseValue(string text);
}

/// <summary>A declared option of type <typeparamref name="T"/>; read its value with <see cref="CommandLineArguments.Get{T}"/>.</summary>
public sealed class CommandLineOption<T> : CommandLineOption
{
    private readonly Func<string, (T Value, string? Expected)> _parse;

    internal CommandLineOption(string name, string? valueName, string help, T defaultValue, string range, Func<string, (T Value, string? Expected)> parse)
        : base(name, valueName, help, range)
    {
        Default = defaultValue;
        _parse = parse;
    }

    /// <summary>The value when the option is not given.</summary>
    public T Default { get; }

    /// <inheritdoc />
    public override bool IsFlag => typeof(T) == typeof(bool);

    /// <inheritdoc />
    public override string? DefaultText => Default switch
    {
        null => null,
        string s => s.Length == 0 ? "\"\"" : "\"" + s.Replace("\n", "\\n", StringComparison.Ordinal) + "\"",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        object o => o.ToString(),
    };

    internal override (object? Value, string? Expected) ParseValue(string text)
    {
        (T value, string? expected) = _parse(text);
        return (value, expected);
    }
}

/// <summary>The result of <see cref="CommandLine.Parse"/>: typed values, with defaults for what was not given.</summary>
public sealed class CommandLineArguments
{
    private readonly Dictionary<CommandLineOption, object?> _values;

    internal CommandLineArguments(Dictionary<CommandLineOption, object?> values, bool helpRequested)
    {
        _values = values;
        HelpRequested = helpRequested;
    }

    /// <summary>Whether --help was given; nothing else was parsed then.</summary>
    public bool HelpRequested { get; }

    /// <summary>The option's value: the parsed one if given, else its default.</summary>
    public T Get<T>(CommandLineOption<T> option)
    {
        ArgumentNullException.ThrowIfNull(option);
        return _values.TryGetValue(option, out object? value) ? (T)value! : option.Default;
    }

    /// <summary>Whether the option was given on the command line (as opposed to defaulted).</summary>
    public bool IsSet(CommandLineOption option)
    {
        ArgumentNullException.ThrowIfNull(option);
        return _values.ContainsKey(option);
    }
}

/// <summary>A command line that does not fit the declared options; the message is meant for the user.</summary>
public sealed class CommandLineException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CommandLineException(string message) : base(message)
    {
    }
}
