using System;
using System.IO;
using RnnGen.Samples.CharRnn;
using RnnGen.Samples.Sentiment;
using RnnGen.Samples.Translate;
using Xunit;

namespace RnnGen.Samples.Tests;

/// <summary>The frame every sample's Program.cs runs in (exit codes, messages, the result line) and the shared command-line rules.</summary>
public class SampleProgramTests
{
    private sealed record Options(string Value);

    private static (int Code, string Output, string Error) Run(string[] args, Func<Options, TextWriter, string?> run)
    {
        var cli = new CommandLine("Demo", "A demo.");
        CommandLineOption<string?> value = cli.String("value", "v", "A value");
        Options? Parse(string[] a)
        {
            CommandLineArguments parsed = cli.Parse(a);
            return parsed.HelpRequested ? null : new Options(parsed.Get(value)!);
        }
        var output = new StringWriter();
        var error = new StringWriter();
        int code = SampleProgram.Run("Demo", args, Parse, cli.HelpText, run, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void A_run_prints_its_progress_then_the_result_line_last_and_exits_0()
    {
        (int code, string output, string error) = Run(new[] { "--value", "x" }, (options, writer) =>
        {
            writer.WriteLine("progress");
            return "result=" + options.Value;
        });
        Assert.Equal(SampleProgram.Done, code);
        Assert.Equal("progress" + Environment.NewLine + "result=x" + Environment.NewLine, output);
        Assert.Equal("", error);

        (code, output, _) = Run(Array.Empty<string>(), (_, _) => null); // no result line
        Assert.Equal(0, code);
        Assert.Equal("", output);
    }

    [Fact]
    public void Help_prints_the_help_text_and_runs_nothing()
    {
        (int code, string output, _) = Run(new[] { "--help" }, (_, _) => throw new InvalidOperationException("must not run"));
        Assert.Equal(0, code);
        Assert.Contains("--value", output);
        Assert.Contains("A demo.", output);
    }

    [Fact]
    public void Bad_arguments_and_unusable_files_exit_2_with_the_samples_name_and_the_reason()
    {
        (int code, string output, string error) = Run(new[] { "--valeu", "x" }, (_, _) => throw new InvalidOperationException("must not run"));
        Assert.Equal(SampleProgram.BadInput, code);
        Assert.StartsWith("Demo: Unknown option --valeu.", error);
        Assert.Equal("", output);

        (code, _, error) = Run(Array.Empty<string>(), (_, _) => throw new FileNotFoundException("Could not find file 'corpus.txt'."));
        Assert.Equal(2, code);
        Assert.Equal("Demo: Could not find file 'corpus.txt'." + Environment.NewLine, error);
        (code, _, error) = Run(Array.Empty<string>(), (_, _) => throw new SafetensorsException("not this model's tensors"));
        Assert.Equal(2, code);
        Assert.Contains("not this model's tensors", error);
        (code, _, _) = Run(Array.Empty<string>(), (_, _) => throw new ArgumentException("hidden must be 64"));
        Assert.Equal(2, code);
    }

    [Fact]
    public void A_diverged_run_exits_3_with_the_guards_report_and_bugs_propagate()
    {
        var problem = new TrainingProblem(17, "the loss is not finite", double.NaN, null, null);
        (int code, _, string error) = Run(Array.Empty<string>(), (_, _) => throw new TrainingDivergedException(problem));
        Assert.Equal(SampleProgram.Diverged, code);
        Assert.Contains("Training stopped at step 17: the loss is not finite.", error);

        Assert.Throws<InvalidOperationException>(() => Run(Array.Empty<string>(), (_, _) => throw new InvalidOperationException("a bug")));
    }

    [Fact]
    public void Options_not_applicable_are_rejected_first_and_contradicting_ones_together()
    {
        var cli = new CommandLine("Demo", "A demo.");
        CommandLineOption<string?> output = cli.String("out", "model.safetensors", "Where to save");
        CommandLineOption<bool> noSave = cli.Flag("no-save", "Save nothing");
        cli.Contradicts(noSave, output);
        cli.NotApplicable("data", "this demo makes its own data.");

        var e = Assert.Throws<CommandLineException>(() => cli.Parse(new[] { "--help", "--data=x" }));
        Assert.Equal("--data is not applicable: this demo makes its own data.", e.Message);
        Assert.Throws<CommandLineException>(() => cli.Parse(new[] { "--data", "x" }));
        Assert.DoesNotContain("--data", cli.HelpText());
        Assert.Throws<ArgumentException>(() => cli.String("data", null, "declared after all"));

        e = Assert.Throws<CommandLineException>(() => cli.Parse(new[] { "--no-save", "--out", "a.safetensors" }));
        Assert.Equal("--out and --no-save contradict each other; give one of them.", e.Message);
        Assert.Equal("a.safetensors", cli.Parse(new[] { "--no-save=false", "--out", "a.safetensors" }).Get(output));
        Assert.True(cli.Parse(new[] { "--no-save" }).Get(noSave));

        Assert.Equal(0.003, CommandLine.Exact(0.003f));
        Assert.NotEqual(0.003, (double)0.003f);
    }

    [Fact]
    public void The_samples_command_lines_keep_their_rules()
    {
        Assert.Contains("contradict", Assert.Throws<CommandLineException>(() => new CharRnnCommandLine().Parse(new[] { "--out", "a.safetensors", "--no-save" })).Message);
        Assert.Contains("--data is not applicable: there is no real review data set",
            Assert.Throws<CommandLineException>(() => new SentimentCommandLine().Parse(new[] { "--data", "reviews" })).Message);
        Assert.Contains("--data is not applicable: there is no real parallel corpus",
            Assert.Throws<CommandLineException>(() => new TranslateCommandLine().Parse(new[] { "--data=pairs" })).Message);
        // A float default goes through the help's double and back unchanged.
        Assert.Equal(new SentimentOptions().LearningRate, new SentimentCommandLine().Parse(Array.Empty<string>())!.LearningRate);
        Assert.Contains("--lr", new SentimentCommandLine().HelpText());
    }
}
