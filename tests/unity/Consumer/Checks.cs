// The checks, compiled as Unity compiles a project (C# 9, netstandard2.1, the package's DLLs only) and run by Runner/:
// Forward and batched Forward against PyTorch's numbers, multi-agent Step against PyTorch and against Forward, and the
// Agents sample's core. Each check throws on the first value that is off; Run reports one line per check.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using RnnGen;
using RnnGen.Samples.Unity;

namespace UnityConsumer
{
    /// <summary>One case of a fixture folder's cases.json and its tensors (tests/golden).</summary>
    public sealed class GoldenCase
    {
        private readonly IReadOnlyDictionary<string, SafetensorsTensor> tensors;

        public GoldenCase(string folder, string name)
        {
            using (JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "cases.json"))))
            {
                JsonElement json = doc.RootElement.EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
                Name = name;
                Steps = json.GetProperty("steps").GetInt32();
                Batch = json.TryGetProperty("batch", out JsonElement batch) ? batch.GetInt32() : 1;
                Lengths = json.TryGetProperty("lengths", out JsonElement lengths) ? lengths.EnumerateArray().Select(e => e.GetInt32()).ToArray() : new[] { Steps };
                HasInitialState = json.GetProperty("initial_state").GetBoolean();
                IsLstm = json.GetProperty("cell").GetString() == "lstm";
            }
            FixturePath = Path.Combine(folder, name + ".safetensors");
            tensors = Safetensors.ReadAll(FixturePath);
        }

        public string Name { get; }
        public int Steps { get; }
        public int Batch { get; }
        public int[] Lengths { get; }
        public bool HasInitialState { get; }
        public bool IsLstm { get; }
        public string FixturePath { get; }

        public float[] this[string name] => tensors.TryGetValue(name, out SafetensorsTensor? t) ? t.Data : throw new KeyNotFoundException($"{Name} has no tensor '{name}'.");

        public int[] Tokens => this["test.tokens"].Select(v => (int)v).ToArray();

        /// <summary>h then (LSTM) c, each [rows, batch, hidden] as PyTorch lays them out.</summary>
        public float[] State(string h, string c) => IsLstm ? this[h].Concat(this[c]).ToArray() : this[h];

        public float[] InitialState => HasInitialState ? State("test.h0", "test.c0") : Array.Empty<float>();

        public IRecurrentModel Load(Func<IRecurrentModel> create)
        {
            IRecurrentModel model = create();
            using (FileStream stream = File.OpenRead(FixturePath)) model.LoadSafetensors(stream, new SafetensorsOptions { Prefix = "model." });
            return model;
        }
    }

    public static class Checks
    {
        private const float Tolerance = 1e-5f;

        /// <summary>Runs every check, writing one line per check to <paramref name="log"/>; returns (passed, failed).</summary>
        public static (int Passed, int Failed) Run(string fixtures, TextWriter log)
        {
            var checks = new List<(string Name, Action Body)>();
            string batchFolder = Path.Combine(fixtures, "batch");
            foreach (KeyValuePair<string, Func<IRecurrentModel>> entry in Fixtures.Sequence)
            {
                checks.Add(($"Forward matches PyTorch: {entry.Key}", () => ForwardMatchesPyTorch(new GoldenCase(fixtures, entry.Key), entry.Value)));
            }
            foreach (KeyValuePair<string, Func<IRecurrentModel>> entry in Fixtures.Batch)
            {
                checks.Add(($"batched Forward matches PyTorch: {entry.Key}", () => BatchedForwardMatchesPyTorch(new GoldenCase(batchFolder, entry.Key), entry.Value)));
                if (entry.Value().NumDirections == 1)
                {
                    checks.Add(($"multi-agent Step matches PyTorch and Forward: {entry.Key}", () => MultiAgentStepMatchesForward(new GoldenCase(batchFolder, entry.Key), entry.Value)));
                }
            }
            checks.Add(("sample core: 120 frames of 16 agents stay finite and move", SampleCoreRuns));
            checks.Add(("sample core: its multi-agent Step equals one Step per agent", SampleCoreEqualsPerAgentStep));
            checks.Add(("sample core: weights from a safetensors stream", SampleCoreLoadsWeights));

            int passed = 0, failed = 0;
            foreach ((string name, Action body) in checks)
            {
                try
                {
                    body();
                    passed++;
                    log.WriteLine($"passed {name}");
                }
                catch (Exception e)
                {
                    failed++;
                    log.WriteLine($"FAILED {name}: {e.GetType().Name}: {e.Message}");
                }
            }
            return (passed, failed);
        }

        public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance, string what)
        {
            if (expected.Length != actual.Length) throw new Exception($"{what}: expected {expected.Length} values, got {actual.Length}.");
            for (int i = 0; i < expected.Length; i++)
            {
                float diff = Math.Abs(expected[i] - actual[i]);
                if (!(diff <= tolerance * Math.Max(1f, Math.Abs(expected[i]))))
                {
                    throw new Exception($"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}.");
                }
            }
        }

        private static void ForwardMatchesPyTorch(GoldenCase golden, Func<IRecurrentModel> create)
        {
            IRecurrentModel model = golden.Load(create);
            var output = new float[golden.Steps * model.OutputSize];
            var finalState = new float[model.StateSize];
            if (model is ITokenSequenceModel tokens) tokens.Forward(golden.Tokens, output, golden.InitialState, finalState);
            else ((IVectorSequenceModel)model).Forward(golden["test.input"], output, golden.InitialState, finalState);
            Close(golden["test.output"], output, Tolerance, "output");
            Close(golden.State("test.hn", "test.cn"), finalState, Tolerance, "final state");
        }

        private static void BatchedForwardMatchesPyTorch(GoldenCase golden, Func<IRecurrentModel> create)
        {
            IRecurrentModel model = golden.Load(create);
            var output = new float[golden["test.output"].Length];
            var finalState = new float[golden.Batch * model.StateSize];
            if (model is ITokenSequenceModel tokens) tokens.Forward(golden.Tokens, golden.Batch, golden.Lengths, output, golden.InitialState, finalState);
            else ((IVectorSequenceModel)model).Forward(golden["test.input"], golden.Batch, golden.Lengths, output, golden.InitialState, finalState);
            Close(golden["test.output"], output, Tolerance, "output");
            Close(golden.State("test.hn", "test.cn"), finalState, Tolerance, "final state");
        }

        /// <summary>
        /// One agent per sequence of the batch: at step t the agents whose sequence is longer than t make one multi-agent
        /// Step together; each agent's outputs must be PyTorch's and the batched Forward's, its final state PyTorch's.
        /// </summary>
        private static void MultiAgentStepMatchesForward(GoldenCase golden, Func<IRecurrentModel> create)
        {
            IRecurrentModel model = golden.Load(create);
            int batch = golden.Batch, h = model.HiddenSize, stateSize = model.StateSize, inSize = model.InputSize, outSize = model.OutputSize;
            int rows = stateSize / h;

            var forward = new float[golden["test.output"].Length];
            var forwardFinal = new float[batch * stateSize];
            if (model is ITokenSequenceModel tokenModel) tokenModel.Forward(golden.Tokens, batch, golden.Lengths, forward, golden.InitialState, forwardFinal);
            else ((IVectorSequenceModel)model).Forward(golden["test.input"], batch, golden.Lengths, forward, golden.InitialState, forwardFinal);

            // Batch state: row r of sequence b at (r * batch + b) * h. Agents: agent b's StateSize floats in turn.
            float[] batchInitial = golden.HasInitialState ? golden.InitialState : new float[batch * stateSize];
            var states = new float[batch * stateSize];
            for (int b = 0; b < batch; b++)
            {
                for (int r = 0; r < rows; r++) Array.Copy(batchInitial, (r * batch + b) * h, states, b * stateSize + r * h, h);
            }

            float[] expected = golden["test.output"];
            for (int t = 0; t < golden.Steps; t++)
            {
                int step = t;
                int[] running = Enumerable.Range(0, batch).Where(b => golden.Lengths[b] > step).ToArray();
                int n = running.Length;
                var state = new float[n * stateSize];
                var output = new float[n * outSize];
                for (int i = 0; i < n; i++) Array.Copy(states, running[i] * stateSize, state, i * stateSize, stateSize);
                if (model is ITokenStreamingModel tokens)
                {
                    int[] all = golden.Tokens;
                    tokens.Step(running.Select(b => all[step * batch + b]).ToArray(), state, output);
                }
                else
                {
                    float[] input = golden["test.input"];
                    var x = new float[n * inSize];
                    for (int i = 0; i < n; i++) Array.Copy(input, (t * batch + running[i]) * inSize, x, i * inSize, inSize);
                    ((IVectorStreamingModel)model).Step(x, n, state, output);
                }
                for (int i = 0; i < n; i++)
                {
                    int b = running[i];
                    Close(expected.AsSpan((t * batch + b) * outSize, outSize), output.AsSpan(i * outSize, outSize), Tolerance, $"sequence {b} step {t} against PyTorch");
                    Close(forward.AsSpan((t * batch + b) * outSize, outSize), output.AsSpan(i * outSize, outSize), Tolerance, $"sequence {b} step {t} against Forward");
                    Array.Copy(state, i * stateSize, states, b * stateSize, stateSize);
                }
            }

            float[] expectedFinal = golden.State("test.hn", "test.cn");
            for (int b = 0; b < batch; b++)
            {
                for (int r = 0; r < rows; r++)
                {
                    Close(expectedFinal.AsSpan((r * batch + b) * h, h), states.AsSpan(b * stateSize + r * h, h), Tolerance, $"sequence {b} final state row {r}");
                }
            }
        }

        private static void SampleCoreRuns()
        {
            var core = new AgentsBrainCore(16, null, seed: 1);
            var start = new float[core.Agents * 2];
            for (int i = 0; i < core.Agents; i++) core.Position(i).CopyTo(start.AsSpan(2 * i, 2));
            for (int frame = 0; frame < 120; frame++) core.Frame((float)Math.Sin(frame / 30.0), 1f, 1f / 60);
            float moved = 0;
            for (int i = 0; i < core.Agents; i++)
            {
                ReadOnlySpan<float> p = core.Position(i);
                ReadOnlySpan<float> a = core.Action(i);
                if (!IsFinite(p[0]) || !IsFinite(p[1]) || !IsFinite(a[0]) || !IsFinite(a[1])) throw new Exception($"agent {i} is not finite.");
                moved += Math.Abs(p[0] - start[2 * i]) + Math.Abs(p[1] - start[2 * i + 1]);
            }
            if (!(moved > 0.01f)) throw new Exception($"the agents did not move ({moved}).");
        }

        private static void SampleCoreEqualsPerAgentStep()
        {
            // The same weights (seed) stepped one agent at a time on the observations the core built give its actions and states.
            const int agents = 5;
            var core = new AgentsBrainCore(agents, null, seed: 3);
            var single = new AgentsBrainModel(3);
            var states = new float[agents * AgentsBrainModel.StateSize];
            var action = new float[AgentsBrainCore.ActionSize];
            for (int frame = 0; frame < 30; frame++)
            {
                core.Frame(2f, -1f, 1f / 60);
                for (int i = 0; i < agents; i++)
                {
                    Span<float> state = states.AsSpan(i * AgentsBrainModel.StateSize, AgentsBrainModel.StateSize);
                    single.Step(core.Observation(i), state, action);
                    Close(action, core.Action(i), Tolerance, $"frame {frame} agent {i} action");
                    Close(state, core.State(i), Tolerance, $"frame {frame} agent {i} state");
                }
            }
        }

        private static void SampleCoreLoadsWeights()
        {
            // A core given the stream SaveSafetensors wrote for seed 7 acts exactly as a core initialized from seed 7,
            // and unlike one from seed 1 (so the weights did come from the stream).
            var saved = new MemoryStream();
            new AgentsBrainModel(7).SaveSafetensors(saved);
            var fromStream = new AgentsBrainCore(8, new MemoryStream(saved.ToArray()), seed: 1);
            var fromSeed = new AgentsBrainCore(8, null, seed: 7);
            var other = new AgentsBrainCore(8, null, seed: 1);
            for (int frame = 0; frame < 30; frame++)
            {
                fromStream.Frame(0.5f, 0.5f, 1f / 60);
                fromSeed.Frame(0.5f, 0.5f, 1f / 60);
                other.Frame(0.5f, 0.5f, 1f / 60);
            }
            bool differs = false;
            for (int i = 0; i < 8; i++)
            {
                Close(fromSeed.Position(i), fromStream.Position(i), 0f, $"agent {i} position");
                differs |= other.Position(i)[0] != fromStream.Position(i)[0];
            }
            if (!differs) throw new Exception("the seed-1 core moved exactly as the loaded one: the stream was not read.");
        }

        private static bool IsFinite(float value) => !float.IsNaN(value) && !float.IsInfinity(value);
    }
}
