// RnnGen Agents: hundreds of game agents, each with its own GRU state, advanced together once per frame with the
// generated multi-agent Step. Run with --help for the options. The last line printed is
// catches_per_min=<tracker policy> fps=<frames per second> allocated_bytes=<bytes allocated in the frame loop>
// dead_reckoning_catches_per_min=<the hand-written baseline> no_memory_catches_per_min=<the reactive policy>.
using System.Globalization;
using RnnGen.Samples;
using RnnGen.Samples.Agents;

var commandLine = new AgentsCommandLine();
return SampleProgram.Run("Agents", args, commandLine.Parse, commandLine.HelpText, (options, output) =>
{
    AgentsResult result = AgentsRunner.Run(options, output);
    SimulationResult tracker = result[Policy.Tracker];
    return string.Create(
        CultureInfo.InvariantCulture,
        $"catches_per_min={tracker.CatchesPerMinute:F2} fps={tracker.FramesPerSecond:F0} allocated_bytes={tracker.AllocatedBytes} "
        + $"dead_reckoning_catches_per_min={result[Policy.DeadReckoning].CatchesPerMinute:F2} no_memory_catches_per_min={result[Policy.Reactive].CatchesPerMinute:F2}");
});
