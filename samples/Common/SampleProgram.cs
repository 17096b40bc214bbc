using System;
using System.IO;

namespace RnnGen.Samples;

/// <summary>
/// The frame of every sample's <c>Program.cs</c>: parse the command line, print the help when asked, run, print the
/// result line scripts read, and turn failures into a message and an exit code instead of a stack trace.
/// </summary>
/// <remarks>
/// Exit codes: <see cref="Done"/> (also after <c>--help</c>); <see cref="BadInput"/> for arguments that do not fit
/// (<see cref="CommandLineException"/>) and for files that cannot be used — a missing or unreadable file, a malformed
/// data line (<see cref="InvalidDataException"/>), a weight file that is not this sample's model
/// (<see cref="SafetensorsException"/>, an <see cref="IOException"/>), sizes or values a method rejects
/// (<see cref="ArgumentException"/>); <see cref="Diverged"/> when the training guard stopped a run
/// (<see cref="TrainingDivergedException"/>: its report goes to the error output). Other exceptions are bugs and
/// propagate.
/// </remarks>
/// <example>
/// <code>
/// var commandLine = new SentimentCommandLine();
/// return SampleProgram.Run("Sentiment", args, commandLine.Parse, commandLine.HelpText,
///     (options, output) => $"accuracy={SentimentTrainer.Run(options, output).Accuracy.SeenStructures.Overall}");
/// </code>
/// </example>
public static class SampleProgram
{
    /// <summary>The run finished, or the help was printed.</summary>
    public const int Done = 0;

    /// <summary>The arguments or a file could not be used; the error output says which and why.</summary>
    public const int BadInput = 2;

    /// <summary>Training stopped at a non-finite loss, gradient or parameter; the error output has the guard's report.</summary>
    public const int Diverged = 3;

    /// <summary>Runs a sample on the console: <see cref="Console.Out"/> and <see cref="Console.Error"/>.</summary>
    /// <param name="name">The sample's name, which prefixes its error messages.</param>
    /// <param name="args">The command line.</param>
    /// <param name="parse">Parses the arguments into options; null when <c>--help</c> was asked for.</param>
    /// <param name="helpText">The help text.</param>
    /// <param name="run">Runs the sample with its options, writing progress to the writer given; returns the result
    /// line (printed last, so scripts can read it), or null for none.</param>
    /// <returns>The exit code.</returns>
    public static int Run<TOptions>(string name, string[] args, Func<string[], TOptions?> parse, Func<string> helpText, Func<TOptions, TextWriter, string?> run)
        where TOptions : class
        => Run(name, args, parse, helpText, run, Console.Out, Console.Error);

    /// <summary>Runs a sample on the writers given (see the other overload).</summary>
    public static int Run<TOptions>(string name, string[] args, Func<string[], TOptions?> parse, Func<string> helpText, Func<TOptions, TextWriter, string?> run, TextWriter output, TextWriter error)
        where TOptions : class
    {
        if (name is null) throw new ArgumentNullException(nameof(name));
        if (args is null) throw new ArgumentNullException(nameof(args));
        if (parse is null) throw new ArgumentNullException(nameof(parse));
        if (helpText is null) throw new ArgumentNullException(nameof(helpText));
        if (run is null) throw new ArgumentNullException(nameof(run));
        if (output is null) throw new ArgumentNullException(nameof(output));
        if (error is null) throw new ArgumentNullException(nameof(error));

        TOptions? options;
        try
        {
            options = parse(args);
        }
        catch (CommandLineException e)
        {
            error.WriteLine($"{name}: {e.Message}");
            return BadInput;
        }
        if (options is null)
        {
            output.Write(helpText());
            return Done;
        }

        try
        {
            string? result = run(options, output);
            if (result is not null) output.WriteLine(result);
            return Done;
        }
        catch (TrainingDivergedException e)
        {
            output.Flush();
            error.WriteLine();
            error.WriteLine(e.Problem.Report);
            return Diverged;
        }
        catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"{name}: {e.Message}");
            return BadInput;
        }
    }
}
