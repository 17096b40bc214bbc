using System;
using System.Globalization;
using System.IO;
using RnnGen;

namespace Consumer;

/// <summary>A character model: token ids in, logits out, streamed one token at a time.</summary>
[RecurrentModel(Cell = CellKind.Lstm, Vocabulary = 40, Input = 16, Hidden = 48, Layers = 2, Output = 40)]
public partial class CharModel { }

/// <summary>A tagger over feature vectors: both directions, padded batches.</summary>
[RecurrentModel(Cell = CellKind.Gru, Input = 6, Hidden = 20, Bidirectional = true, Output = 5)]
public partial class Tagger { }

public static class Program
{
    private static int s_checks;

    private static void Check(bool condition, string what)
    {
        if (!condition) throw new InvalidOperationException("check failed: " + what);
        s_checks++;
    }

    private static bool Close(float a, float b) => Math.Abs(a - b) <= 1e-5f * Math.Max(1f, Math.Abs(a));

    private static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (float v in values) if (!float.IsFinite(v)) return false;
        return true;
    }

    public static int Main()
    {
        // The char model: Forward over a sequence equals Step token by token; the state is carried.
        var lm = new CharModel(seed: 1);
        Check(CharModel.VocabularySize == 40 && CharModel.OutputSize == 40 && CharModel.NumLayers == 2, "CharModel constants");
        Check(((IRecurrentModel)lm).ParameterCount == CharModel.ParameterCount && lm.Parameters.Length == CharModel.ParameterCount, "CharModel parameter count");
        int[] tokens = { 3, 14, 15, 9, 26, 5, 35, 8, 9, 7 };
        var logits = new float[tokens.Length * CharModel.OutputSize];
        lm.Forward(tokens, logits);
        Check(AllFinite(logits), "CharModel logits finite");
        var stepLogits = new float[CharModel.OutputSize];
        lm.ResetState();
        for (int t = 0; t < tokens.Length; t++)
        {
            lm.Step(tokens[t], stepLogits);
            for (int k = 0; k < CharModel.OutputSize; k++)
                Check(Close(logits[t * CharModel.OutputSize + k], stepLogits[k]), $"Step equals Forward at t={t}, k={k}");
        }
        var rng = new Rng(7);
        var scratch = new float[CharModel.OutputSize];
        int next = Sampling.Sample(stepLogits, 0.8f, rng, scratch);
        Check(next >= 0 && next < CharModel.VocabularySize, "sampled token in range");

        // Save and load: a fresh model with other weights gives the same logits after loading.
        string folder = Path.Combine(Path.GetTempPath(), "rnngen-consumer-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            string path = Path.Combine(folder, "char.safetensors");
            lm.SaveSafetensors(path);
            var loaded = new CharModel(seed: 2);
            loaded.LoadSafetensors(path);
            Check(loaded.Parameters.SequenceEqual(lm.Parameters), "loaded weights equal saved weights");
            var loadedLogits = new float[logits.Length];
            loaded.Forward(tokens, loadedLogits);
            Check(loadedLogits.AsSpan().SequenceEqual(logits), "loaded model gives the same logits");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        // The tagger: a padded batch of unequal lengths equals each sequence run alone; padded steps are zero.
        var tagger = new Tagger(seed: 3);
        int steps = 5, batch = 2;
        int[] lengths = { 5, 3 };
        var input = new float[steps * batch * Tagger.InputSize];
        for (int i = 0; i < input.Length; i++) input[i] = (float)Math.Sin(0.37 * i);
        var output = new float[steps * batch * Tagger.OutputSize];
        tagger.Forward(input, batch, lengths, output);
        Check(AllFinite(output), "Tagger outputs finite");
        for (int b = 0; b < batch; b++)
        {
            var single = new float[lengths[b] * Tagger.InputSize];
            for (int t = 0; t < lengths[b]; t++)
                input.AsSpan((t * batch + b) * Tagger.InputSize, Tagger.InputSize).CopyTo(single.AsSpan(t * Tagger.InputSize));
            var singleOutput = new float[lengths[b] * Tagger.OutputSize];
            tagger.Forward(single, singleOutput);
            for (int t = 0; t < steps; t++)
            {
                for (int k = 0; k < Tagger.OutputSize; k++)
                {
                    float batched = output[(t * batch + b) * Tagger.OutputSize + k];
                    Check(t < lengths[b] ? Close(singleOutput[t * Tagger.OutputSize + k], batched) : batched == 0f, $"batch {b} step {t} output {k}");
                }
            }
        }

        // One training step lowers the loss.
        var trainer = lm.CreateTrainer(tokens.Length - 1);
        var targets = tokens.AsSpan(1).ToArray();
        var trainLogits = new float[targets.Length * CharModel.OutputSize];
        var gradient = new float[trainLogits.Length];
        var optimizer = new Adam(CharModel.ParameterCount, learningRate: 1e-2f);
        float first = 0, last = 0;
        for (int iteration = 0; iteration < 5; iteration++)
        {
            trainer.Forward(tokens.AsSpan(0, targets.Length), trainLogits);
            float loss = Losses.SoftmaxCrossEntropy(trainLogits, targets, gradient);
            if (iteration == 0) first = loss;
            last = loss;
            lm.ZeroGradients();
            trainer.Backward(gradient, Span<float>.Empty);
            optimizer.Step(lm.Parameters, lm.Gradients);
        }
        Check(float.IsFinite(first) && last < first, $"loss falls ({first} -> {last})");

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RnnGen consumer: runtime {typeof(RecurrentModelAttribute).Assembly.GetName().Version}, logits[0] = {logits[0]:G6}, loss {first:G6} -> {last:G6}"));
        Console.WriteLine($"consumer: all {s_checks} checks passed");
        return 0;
    }
}
