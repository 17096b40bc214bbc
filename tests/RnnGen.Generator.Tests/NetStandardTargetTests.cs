using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace RnnGen.Generator.Tests;

/// <summary>
/// The generated code for the two runtime targets. netstandard2.1 (Unity's Mono and IL2CPP) has no
/// <c>System.Runtime.Intrinsics</c>: the generated code (the same text for both: the kernels are the runtime's) must
/// compile cleanly against the netstandard2.1 reference assemblies and the netstandard2.1 build of RnnGen.Runtime, whose
/// scalar kernels must compute what the net8.0 build's vector kernels compute. The netstandard2.1 runtime itself must give the
/// same random numbers and weight conversions as the net8.0 build.
/// </summary>
public class NetStandardTargetTests
{
    /// <summary>A spread of shapes: every cell, tokens and vectors, heads, stacks, both directions, odd widths.</summary>
    private const string Models = """
        using RnnGen;

        namespace Portable.Models
        {
            [RecurrentModel(Cell = CellKind.Lstm, Vocabulary = 23, Input = 9, Hidden = 21, Layers = 2, Output = 23)]
            public partial class CharLstm { }

            [RecurrentModel(Cell = CellKind.Gru, Input = 5, Hidden = 19, Layers = 2, Bidirectional = true, BatchFirst = true)]
            public partial class Tagger { }

            [RecurrentModel(Cell = CellKind.Rnn, Input = 3, Hidden = 36, Nonlinearity = Nonlinearity.Relu, Bias = false, Output = 2)]
            internal partial class Controller { }

            [RecurrentModel(Cell = CellKind.Gru, Input = 4, Hidden = 17, Output = 3)]
            public partial class Agent { }

            [RecurrentModel(Cell = CellKind.Lstm, Input = 6, Hidden = 28, Layers = 2, Output = 4, Weights = WeightPrecision.BFloat16)]
            public partial class HalfStreamer { }
        }
        """;

    /// <summary>
    /// Runs every model through every entry point with deterministic inputs and returns the results, flattened: what
    /// the vector and the scalar builds must agree on. Written in C# 9 without newer library APIs, so it compiles for
    /// both targets.
    /// </summary>
    private const string Probe = """
        using System;
        using System.Collections.Generic;
        using System.IO;
        using RnnGen;
        using Portable.Models;

        public static class Probe
        {
            private static float[] Inputs(int count, int seed)
            {
                var values = new float[count];
                uint state = (uint)seed * 2654435761u + 1u;
                for (int i = 0; i < count; i++)
                {
                    state = state * 1664525u + 1013904223u;
                    values[i] = (state >> 8) * (1f / 16777216f) * 2f - 1f;
                }
                return values;
            }

            private static int[] Tokens(int count, int vocabulary, int seed)
            {
                var tokens = new int[count];
                var rng = new Rng(seed);
                for (int i = 0; i < count; i++) tokens[i] = rng.NextInt(vocabulary);
                return tokens;
            }

            public static float[][] Run(string folder)
            {
                var results = new List<float[]>();

                // Token LSTM with a head: one sequence, a padded batch, streaming, training.
                var lm = new CharLstm(seed: 3);
                int[] tokens = Tokens(11, CharLstm.VocabularySize, 5);
                var output = new float[11 * CharLstm.OutputSize];
                var final = new float[CharLstm.StateSize];
                lm.Forward(tokens, output, ReadOnlySpan<float>.Empty, final);
                results.Add(output); results.Add(final);
                int[] batchTokens = Tokens(7 * 3, CharLstm.VocabularySize, 6);
                var batchOutput = new float[7 * 3 * CharLstm.OutputSize];
                lm.Forward(batchTokens, 3, new[] { 7, 2, 5 }, batchOutput, ReadOnlySpan<float>.Empty, Span<float>.Empty);
                results.Add(batchOutput);
                var state = new float[CharLstm.StateSize];
                var logits = new float[CharLstm.OutputSize];
                for (int t = 0; t < 4; t++) lm.Step(tokens[t], state, logits);
                results.Add(logits); results.Add(state);
                var lmTrainer = lm.CreateTrainer(11);
                lmTrainer.Forward(tokens, output);
                lm.ZeroGradients();
                lmTrainer.Backward(Inputs(output.Length, 7), Span<float>.Empty);
                results.Add(lm.Gradients.ToArray());

                // Bidirectional batch-first GRU stack: batch forward with lengths and states, training with input gradients.
                var tagger = new Tagger(seed: 4);
                int steps = 6, batch = 4;
                float[] x = Inputs(batch * steps * Tagger.InputSize, 8);
                var y = new float[batch * steps * Tagger.OutputSize];
                float[] h0 = Inputs(Tagger.StateSize * batch, 9);
                var hn = new float[Tagger.StateSize * batch];
                tagger.Forward(x, batch, new[] { 3, 6, 1, 4 }, y, h0, hn);
                results.Add(y); results.Add(hn);
                var taggerTrainer = tagger.CreateTrainer(steps, batch);
                taggerTrainer.Forward(x, batch, new[] { 6, 2, 5, 6 }, y, h0, hn);
                var dx = new float[x.Length];
                var dh0 = new float[h0.Length];
                tagger.ZeroGradients();
                taggerTrainer.Backward(Inputs(y.Length, 10), dx, Inputs(hn.Length, 11), dh0);
                results.Add(tagger.Gradients.ToArray()); results.Add(dx); results.Add(dh0);

                // ReLU RNN without bias, with a head: sequence and single steps.
                var controller = new Controller(seed: 5);
                float[] cx = Inputs(9 * Controller.InputSize, 12);
                var cy = new float[9 * Controller.OutputSize];
                controller.Forward(cx, cy);
                results.Add(cy);
                var co = new float[Controller.OutputSize];
                controller.ResetState();
                for (int t = 0; t < 3; t++) controller.Step(cx.AsSpan(t * Controller.InputSize, Controller.InputSize), co);
                results.Add(co);

                // Step on bfloat16 weights: 3 full chunks of 32 gate columns and 16 read from the float copy.
                var half = new HalfStreamer(seed: 13);
                var hstate = new float[HalfStreamer.StateSize];
                var ho = new float[HalfStreamer.OutputSize];
                for (int t = 0; t < 4; t++) half.Step(Inputs(HalfStreamer.InputSize, 30 + t), hstate, ho);
                results.Add(ho); results.Add(hstate);

                // Many agents stepped together, and a save/load round trip through safetensors.
                var agent = new Agent(seed: 6);
                int agents = 5;
                var states = new float[agents * Agent.StateSize];
                var actions = new float[agents * Agent.OutputSize];
                for (int t = 0; t < 3; t++) agent.Step(Inputs(agents * Agent.InputSize, 20 + t), agents, states, actions);
                results.Add(actions); results.Add(states);
                var stream = new MemoryStream();
                agent.SaveSafetensors(stream);
                stream.Position = 0;
                var copy = new Agent(seed: 99);
                copy.LoadSafetensors(stream);
                results.Add(copy.Parameters.ToArray());

                // Saving to a path twice: the second save replaces the first file (atomically, through a temporary file).
                string path = Path.Combine(folder, "agent.safetensors");
                new Agent(seed: 7).SaveSafetensors(path);
                agent.SaveSafetensors(path);
                var loaded = new Agent(seed: 8);
                loaded.LoadSafetensors(path);
                if (!loaded.Parameters.SequenceEqual(agent.Parameters)) throw new InvalidOperationException("saved over: loaded weights differ");
                if (Directory.GetFiles(folder).Length != 1) throw new InvalidOperationException("saved over: temporary files left");
                results.Add(loaded.Parameters.ToArray());
                return results.ToArray();
            }
        }
        """;

    private static readonly string OutputFolder = Path.GetDirectoryName(typeof(NetStandardTargetTests).Assembly.Location)!;

    /// <summary>The netstandard2.1 build of RnnGen.Runtime, copied here by the test project.</summary>
    private static readonly string NetStandardRuntimePath = Path.Combine(OutputFolder, "netstandard2.1", "RnnGen.Runtime.dll");

    private static string Metadata(string key) => typeof(NetStandardTargetTests).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == key).Value!;

    /// <summary>netstandard2.1 reference assemblies, the netstandard2.0 Unsafe reference, and RnnGen.Runtime for netstandard2.1.</summary>
    private static readonly Lazy<ImmutableArray<MetadataReference>> s_netStandardReferences = new(() =>
        Directory.GetFiles(Metadata("NetStandard21References"), "*.dll")
            .Append(Metadata("NetStandardUnsafeReference"))
            .Append(NetStandardRuntimePath)
            .OrderBy(p => p, StringComparer.Ordinal)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToImmutableArray());

    private static readonly CSharpCompilationOptions LibraryOptions = new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary)
        .WithNullableContextOptions(NullableContextOptions.Enable)
        .WithWarningLevel(9999)
        .WithDeterministic(true)
        .WithSpecificDiagnosticOptions(new Dictionary<string, ReportDiagnostic>
        {
            ["CS1701"] = ReportDiagnostic.Suppress,
            ["CS1702"] = ReportDiagnostic.Suppress,
            ["CS1591"] = ReportDiagnostic.Suppress,
        });

    /// <summary>The models and the probe, generated, compiled and emitted once for a target; shared by the tests below.</summary>
    private sealed class Build
    {
        public Build(ImmutableArray<MetadataReference> references, LanguageVersion languageVersion, string assemblyName, params string[] sources)
            : this(references, languageVersion, assemblyName, Array.Empty<string>(), sources)
        {
        }

        public Build(ImmutableArray<MetadataReference> references, LanguageVersion languageVersion, string assemblyName, string[] symbols, params string[] sources)
        {
            var parseOptions = CSharpParseOptions.Default.WithLanguageVersion(languageVersion).WithDocumentationMode(DocumentationMode.Diagnose)
                .WithPreprocessorSymbols(symbols);
            var trees = sources.Select((text, i) => CSharpSyntaxTree.ParseText(text, parseOptions, path: $"/src/Source{i}.cs"));
            var compilation = CSharpCompilation.Create(assemblyName, trees, references, LibraryOptions);
            GeneratorDriver driver = CSharpGeneratorDriver.Create(
                new[] { new RecurrentModelGenerator().AsSourceGenerator() }, parseOptions: parseOptions);
            driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> driverDiagnostics);
            GeneratorRunResult result = driver.GetRunResult().Results.Single();
            GeneratorException = result.Exception;
            GeneratorDiagnostics = result.Diagnostics.AddRange(driverDiagnostics);
            Generated = result.GeneratedSources.Select(s => s.SourceText.ToString()).ToArray();
            // Emitting binds everything once and reports every compilation diagnostic; GetDiagnostics() first would double the cost.
            using var image = new MemoryStream();
            Microsoft.CodeAnalysis.Emit.EmitResult emitted = output.Emit(image);
            Problems = emitted.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
            Image = emitted.Success ? image.ToArray() : null;
        }

        public Exception? GeneratorException { get; }

        public ImmutableArray<Diagnostic> GeneratorDiagnostics { get; }

        public string[] Generated { get; }

        public IReadOnlyList<Diagnostic> Problems { get; }

        public byte[]? Image { get; }

        public void AssertClean()
        {
            Assert.Null(GeneratorException);
            Assert.Empty(GeneratorDiagnostics);
            Assert.True(Problems.Count == 0, "The output compilation has problems:\n" + string.Join("\n", Problems.Take(20)));
            Assert.NotNull(Image);
        }
    }

    /// <summary>For netstandard2.1 with C# 9, as Unity compiles it.</summary>
    private static readonly Lazy<Build> s_scalar = new(() => new Build(s_netStandardReferences.Value, LanguageVersion.CSharp9, "Portable.Scalar", Models, Probe));

    /// <summary>For the test host's .NET with the latest C#, as a net8.0+ project compiles it.</summary>
    private static readonly Lazy<Build> s_vector = new(() => new Build(GeneratorHarness.References, LanguageVersion.Latest, "Portable.Vector", Models, Probe));

    /// <summary>
    /// The generated code holds no kernel: no vector type, no Unsafe, no raw reference, no unchecked offset; every memory
    /// access goes through spans into the runtime's kernels (which RNNGEN_BOUNDS_CHECKED switches to bounds-checked access,
    /// tested by the checked CI run). So the text is the same for every target and with or without that symbol.
    /// </summary>
    [Fact]
    public void GeneratedCode_HoldsNoKernels_AndIsTheSameOnEveryTarget()
    {
        Build scalar = s_scalar.Value, vector = s_vector.Value;
        scalar.AssertClean();
        vector.AssertClean();
        var withSymbol = new Build(GeneratorHarness.References, LanguageVersion.Latest, "Portable.Symbol", new[] { "RNNGEN_BOUNDS_CHECKED" }, Models);
        Assert.Equal(5, vector.Generated.Length);
        Assert.Equal(vector.Generated, scalar.Generated);
        Assert.Equal(vector.Generated, withSymbol.Generated);
        foreach (string text in vector.Generated)
        {
            foreach (string unsafeAccess in new[] { "Unsafe", "GetReference", "System.Runtime.Intrinsics", "Vector512", "Vector256", "Vector128", "unsafe ", "fixed (" })
                Assert.DoesNotContain(unsafeAccess, text);
            Assert.Contains("global::RnnGen.CompilerServices.Kernels.GemmP<", text);
            Assert.Contains(": global::RnnGen.CompilerServices.IMatrixShape {", text);
        }
    }

    [Fact]
    public void NetStandardRuntimeIsTheNetStandardBuild()
    {
        Assert.True(File.Exists(NetStandardRuntimePath), "missing " + NetStandardRuntimePath);
        using var context = new RuntimeContext("inspect", NetStandardRuntimePath);
        Assembly runtime = context.Runtime;
        string? framework = runtime.GetCustomAttribute<System.Runtime.Versioning.TargetFrameworkAttribute>()?.FrameworkName;
        Assert.Equal(".NETStandard,Version=v2.1", framework);
        Assert.DoesNotContain(runtime.GetReferencedAssemblies(), a => a.Name is "System.Runtime" or "System.Runtime.Intrinsics");
        // The intrinsics overloads are the only API the netstandard2.1 build lacks.
        Type kernels = runtime.GetType("RnnGen.CompilerServices.Kernels", throwOnError: true)!;
        Assert.DoesNotContain(kernels.GetMethods(), m => m.GetParameters().Any(p => p.ParameterType.Namespace == "System.Runtime.Intrinsics"));
    }

    [Fact]
    public void GeneratedCode_CompilesForNetStandard21()
    {
        Build build = s_scalar.Value;
        build.AssertClean();
        Assert.Equal(5, build.Generated.Length);
        foreach (string text in build.Generated)
        {
            Assert.DoesNotContain("System.Runtime.Intrinsics", text);
            Assert.DoesNotContain("Vector512", text);
            Assert.DoesNotContain("Vector256", text);
            Assert.DoesNotContain("Vector128", text);
        }
    }

    [Fact]
    public void GeneratedCode_CompilesForNetStandard21_WithTheLatestLanguageVersion()
    {
        // A netstandard2.1 library built by a current SDK: a smaller model keeps this compile quick.
        var build = new Build(s_netStandardReferences.Value, LanguageVersion.Latest, "Portable.Latest", """
            [RnnGen.RecurrentModel(Cell = RnnGen.CellKind.Lstm, Vocabulary = 5, Input = 3, Hidden = 6, Layers = 2, Output = 5)]
            public partial class Small { }
            """);
        build.AssertClean();
        Assert.DoesNotContain("System.Runtime.Intrinsics", build.Generated.Single());
    }

    /// <summary>
    /// A netstandard2.1 build running on the netstandard2.1 runtime (scalar kernels) against the same models on the net8.0
    /// runtime (vector kernels): forward, batched, streaming and multi-agent outputs, final states and gradients agree to 1e-5
    /// (relative to the magnitude for large values); weights saved and loaded are bit-identical.
    /// </summary>
    [Fact]
    public void ScalarBuildOnNetStandardRuntime_MatchesVectorBuild()
    {
        Build scalarBuild = s_scalar.Value, vectorBuild = s_vector.Value;
        scalarBuild.AssertClean();
        vectorBuild.AssertClean();
        float[][] scalar, vector;
        using (var context = new RuntimeContext("scalar", NetStandardRuntimePath))
        {
            scalar = RunProbe(context.LoadFromStream(new MemoryStream(scalarBuild.Image!)));
        }
        using (var context = new RuntimeContext("vector", typeof(RnnGen.RecurrentModelAttribute).Assembly.Location))
        {
            vector = RunProbe(context.LoadFromStream(new MemoryStream(vectorBuild.Image!)));
        }

        Assert.Equal(vector.Length, scalar.Length);
        for (int r = 0; r < vector.Length; r++)
        {
            Assert.Equal(vector[r].Length, scalar[r].Length);
            Assert.Contains(vector[r], v => v != 0f);
            for (int i = 0; i < vector[r].Length; i++)
            {
                float expected = vector[r][i], actual = scalar[r][i];
                Assert.True(float.IsFinite(expected), $"result {r}[{i}] is {expected}");
                float tolerance = 1e-5f * Math.Max(1f, Math.Abs(expected));
                Assert.True(Math.Abs(expected - actual) <= tolerance, $"result {r}[{i}]: vector {expected:R}, scalar {actual:R}");
            }
        }
        // The save/load round trips are exact on both.
        Assert.Equal(vector[^1], scalar[^1]);
        Assert.Equal(vector[^2], scalar[^2]);
    }

    private static float[][] RunProbe(Assembly assembly)
    {
        string folder = Path.Combine(Path.GetTempPath(), "rnngen-probe-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            return (float[][])assembly.GetType("Probe", throwOnError: true)!.GetMethod("Run")!.Invoke(null, new object[] { folder })!;
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
            throw;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Rng_GivesTheSameSequenceOnBothBuilds()
    {
        using var context = new RuntimeContext("rng", NetStandardRuntimePath);
        Type rngType = context.Runtime.GetType("RnnGen.Rng", throwOnError: true)!;
        MethodInfo nextUInt64 = rngType.GetMethod("NextUInt64")!;
        MethodInfo nextInt = rngType.GetMethod("NextInt")!;
        MethodInfo nextDouble = rngType.GetMethod("NextDouble")!;
        MethodInfo nextSingle = rngType.GetMethod("NextSingle")!;
        MethodInfo nextGaussian = rngType.GetMethod("NextGaussian")!;
        int[] bounds = { 1, 2, 3, 7, 10, 65, 1000, 65537, 1 << 20, 1_000_000_007, int.MaxValue };
        foreach (ulong seed in new ulong[] { 0, 1, 42, 0xDEADBEEFCAFEBABE, ulong.MaxValue })
        {
            var modern = new RnnGen.Rng(seed);
            object portable = Activator.CreateInstance(rngType, seed)!;
            for (int i = 0; i < 2000; i++)
            {
                Assert.Equal(modern.NextUInt64(), (ulong)nextUInt64.Invoke(portable, null)!);
                int bound = bounds[i % bounds.Length];
                Assert.Equal(modern.NextInt(bound), (int)nextInt.Invoke(portable, new object[] { bound })!);
                Assert.Equal(modern.NextDouble(), (double)nextDouble.Invoke(portable, null)!);
                Assert.Equal(modern.NextSingle(), (float)nextSingle.Invoke(portable, null)!);
                Assert.Equal(modern.NextGaussian(), (double)nextGaussian.Invoke(portable, null)!);
            }
        }
    }

    [Fact]
    public void Safetensors_ConvertsF16BF16F64_IdenticallyOnBothBuilds()
    {
        // Every binary16 bit pattern as F16 and as BF16, and a few doubles, in one file.
        var half = new byte[65536 * 2];
        for (int i = 0; i < 65536; i++) { half[2 * i] = (byte)i; half[2 * i + 1] = (byte)(i >> 8); }
        double[] doubles = { 0, -0.0, 1, -1.5, Math.PI, 1e-40, 3.5e38, double.MaxValue, double.Epsilon, double.NaN, double.PositiveInfinity };
        var f64 = new byte[doubles.Length * 8];
        for (int i = 0; i < doubles.Length; i++) BitConverter.GetBytes(doubles[i]).CopyTo(f64, 8 * i);
        string header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[65536],\"data_offsets\":[0,131072]},"
            + "\"b\":{\"dtype\":\"BF16\",\"shape\":[65536],\"data_offsets\":[131072,262144]},"
            + $"\"d\":{{\"dtype\":\"F64\",\"shape\":[{doubles.Length}],\"data_offsets\":[262144,{262144 + f64.Length}]}}}}";
        while (header.Length % 8 != 0) header += " ";
        var file = new MemoryStream();
        file.Write(BitConverter.GetBytes((ulong)header.Length));
        file.Write(System.Text.Encoding.UTF8.GetBytes(header));
        file.Write(half);
        file.Write(half);
        file.Write(f64);
        byte[] bytes = file.ToArray();

        IReadOnlyDictionary<string, RnnGen.SafetensorsTensor> modern = RnnGen.Safetensors.ReadAll(new MemoryStream(bytes));
        using var context = new RuntimeContext("safetensors", NetStandardRuntimePath);
        Type safetensors = context.Runtime.GetType("RnnGen.Safetensors", throwOnError: true)!;
        object portable = safetensors.GetMethod("ReadAll", new[] { typeof(Stream) })!.Invoke(null, new object[] { new MemoryStream(bytes) })!;
        foreach (string name in new[] { "h", "b", "d" })
        {
            object tensor = portable.GetType().GetProperty("Item")!.GetValue(portable, new object[] { name })!;
            var data = (float[])tensor.GetType().GetProperty("Data")!.GetValue(tensor)!;
            float[] expected = modern[name].Data;
            Assert.Equal(expected.Length, data.Length);
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(data[i]),
                    $"{name}[{i}]: net8.0 gives {expected[i]:R} (0x{BitConverter.SingleToInt32Bits(expected[i]):X8}), netstandard2.1 {data[i]:R} (0x{BitConverter.SingleToInt32Bits(data[i]):X8})");
            }
        }
    }

    /// <summary>
    /// A collectible load context whose RnnGen.Runtime is the given file (the netstandard2.1 or the net8.0 build); every
    /// other assembly comes from the test host.
    /// </summary>
    private sealed class RuntimeContext : AssemblyLoadContext, IDisposable
    {
        private readonly string _runtimePath;

        public RuntimeContext(string name, string runtimePath) : base(name, isCollectible: true)
        {
            _runtimePath = runtimePath;
            Runtime = LoadFromAssemblyPath(runtimePath);
        }

        public Assembly Runtime { get; }

        protected override Assembly? Load(AssemblyName name) => name.Name == "RnnGen.Runtime" ? Runtime : null;

        public void Dispose() => Unload();
    }
}
