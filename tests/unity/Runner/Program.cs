// Runs the Unity consumer's checks (Consumer/Checks.cs: PyTorch fixtures, multi-agent Step, the Agents sample's core)
// against the package's netstandard2.1 runtime, then checks that a frame of the sample allocates nothing. Usage:
// UnityRunner <tests/golden/fixtures>. Last line: "N passed, N failed"; exit code 1 if any failed or none ran.
using System;
using RnnGen.Samples.Unity;
using UnityConsumer;

string fixtures = args.Length == 1 ? args[0] : throw new ArgumentException("usage: UnityRunner <fixtures folder>");
Type runtime = typeof(RnnGen.IRecurrentModel);
var framework = (System.Runtime.Versioning.TargetFrameworkAttribute?)Attribute.GetCustomAttribute(runtime.Assembly, typeof(System.Runtime.Versioning.TargetFrameworkAttribute));
Console.WriteLine($"runtime: {runtime.Assembly.Location} ({framework?.FrameworkName ?? "no TargetFramework attribute"})");

(int passed, int failed) = Checks.Run(fixtures, Console.Out);

// The sample's promise: after the first frame, Frame allocates nothing (GC.GetAllocatedBytesForCurrentThread is not
// in netstandard2.1, so this check lives here).
var core = new AgentsBrainCore(64, null, seed: 1);
core.Frame(0f, 0f, 1f / 60);
long before = GC.GetAllocatedBytesForCurrentThread();
for (int frame = 0; frame < 100; frame++) core.Frame(1f, 2f, 1f / 60);
long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
if (allocated == 0) { passed++; Console.WriteLine("passed sample core: 100 frames of 64 agents allocate nothing"); }
else { failed++; Console.WriteLine($"FAILED sample core: 100 frames of 64 agents allocated {allocated} bytes"); }

Console.WriteLine($"{passed} passed, {failed} failed");
return failed == 0 && passed > 0 ? 0 : 1;
