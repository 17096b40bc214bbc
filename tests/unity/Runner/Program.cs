// Runs the Unity consumer's checks (Consumer/Checks.cs: PyTorch fixtures, multi-agent Step, the Agents sample's core)
// against the package's netstandard2.1 runtime, then checks that a frame of the sample allocates nothing. Usage:
// UnityRunner <tests/golden/fixtures>. Last line: "N passed, N failed"; exit code 1 if any failed or none ran.
using System;
using System.IO;
using System.Text.Json;
using RnnGen.Samples.Unity;
using UnityConsumer;

if (args.Length != 3) throw new ArgumentException("usage: UnityRunner <fixtures folder> <package.json> <version>");
string fixtures = args[0], manifestPath = args[1], version = args[2];
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

// package.json: parses, is this version, has what the Package Manager shows, and the sample.
try
{
    using JsonDocument manifest = JsonDocument.Parse(File.ReadAllText(manifestPath));
    JsonElement root = manifest.RootElement;
    Expect(root.GetProperty("name").GetString() == "com.rnngen.runtime", "name");
    Expect(root.GetProperty("version").GetString() == version, $"version {root.GetProperty("version")} is not Directory.Build.props' {version}");
    foreach (string key in new[] { "displayName", "description", "unity", "unityRelease", "license" })
    {
        Expect(root.TryGetProperty(key, out JsonElement value) && value.GetString() is { Length: > 0 }, $"no {key}");
    }
    Expect(root.GetProperty("author").GetProperty("name").GetString() is { Length: > 0 }, "no author name");
    Expect(root.GetProperty("keywords").GetArrayLength() > 0, "no keywords");
    JsonElement samples = root.GetProperty("samples");
    Expect(samples.GetArrayLength() == 1 && samples[0].GetProperty("path").GetString() == "Samples~/Agents", "samples: " + samples);
    passed++;
    Console.WriteLine($"passed package.json: com.rnngen.runtime {version}, Unity {root.GetProperty("unity")}.{root.GetProperty("unityRelease")}");
}
catch (Exception e)
{
    failed++;
    Console.WriteLine($"FAILED package.json: {e.GetType().Name}: {e.Message}");
}

Console.WriteLine($"{passed} passed, {failed} failed");
return failed == 0 && passed > 0 ? 0 : 1;

static void Expect(bool condition, string what)
{
    if (!condition) throw new InvalidOperationException(what);
}
