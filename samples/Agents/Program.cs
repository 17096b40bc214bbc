// RnnGen Agents: hundreds of game agents, each with its own GRU state, advanced together once per frame with the
// generated multi-agent Step. Run with --help for the options. The last line printed is
// catches_per_min=<tracker policy> fps=<frames per second> allocated_bytes=<bytes allocated in the frame loop>.
using System;
using System.Globalization;
using System.IO;
using RnnGen.Samples;
using RnnGen.Samples.Agents;

var commandLine = new AgentsCommandLine();
AgentsOptions? options;
try
{
    options = commandLine.Parse(args);
}
catch (CommandLineException e)
{
    Console.Error.WriteLine($"Agents: {e.Message}");
    return 2;
}
if (options is null)
{
    Console.Write(commandLine.HelpText());
    return 0;
}

try
{
    AgentsResult result = AgentsRunner.Run(options, Console.Out);
    SimulationResult tracker = result[Policy.Tracker];
    Console.WriteLine(string.Create(
        CultureInfo.InvariantCulture,
        $"catches_per_min={tracker.CatchesPerMinute:F2} fps={tracker.FramesPerSecond:F0} allocated_bytes={tracker.AllocatedBytes}"));
    return 0;
}
catch (TrainingDivergedException e)
{
    Console.Out.Flush();
    Console.Error.WriteLine();
    Console.Error.WriteLine(e.Problem.Report);
    return 3;
}
catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException)
{
    // SafetensorsException is an IOException: a checkpoint that is not a tracker of this sample.
    Console.Error.WriteLine($"Agents: {e.Message}");
    return 2;
}
