using System;
using System.IO;

namespace RnnGen.Benchmarks;

/// <summary>The fixed batch of a training benchmark: T x batch inputs (vectors or tokens) and their targets, time-major.</summary>
public sealed class TrainingData
{
    public static string CharWeightsPath => Path.Combine(Fixture.Directory, nameof(CharLstm) + ".safetensors");

    public required TrainingModel Model { get; init; }
    public required int Steps { get; init; }
    public required int Batch { get; init; }
    public required string WeightsPath { get; init; }

    /// <summary>Configuration 2: input [T, batch, 128] and MSE target [T, batch, 512].</summary>
    public float[]? Input { get; init; }
    public float[]? Target { get; init; }

    /// <summary>Char model: tokens [T, batch] and the next token of each, [T, batch].</summary>
    public int[]? Tokens { get; init; }
    public int[]? NextTokens { get; init; }

    /// <summary>Tokens (sequence positions) processed by one training step: T * batch.</summary>
    public int TokensPerStep => Steps * Batch;

    public static int TokensPerStepOf(TrainingModel model) =>
        (model == TrainingModel.BiLstm128x256 ? Fixture.SequenceSteps : Fixture.CharSteps) * Fixture.TrainingBatch;

    public static TrainingData Create(TrainingModel model)
    {
        var random = new Random(Fixture.Seed + 7);
        int batch = Fixture.TrainingBatch;
        if (model == TrainingModel.BiLstm128x256)
        {
            int steps = Fixture.SequenceSteps;
            return new TrainingData
            {
                Model = model,
                Steps = steps,
                Batch = batch,
                WeightsPath = ModelSpec.Sequence.WeightsPath,
                Input = Validation.RandomVector(random, steps * batch * BiLstm128x256.InputSize, 1f),
                Target = Validation.RandomVector(random, steps * batch * BiLstm128x256.OutputSize, 0.5f),
            };
        }
        else
        {
            int steps = Fixture.CharSteps;
            // A random text, read time-major: each position's target is the same sequence's next symbol.
            var text = new int[batch, steps + 1];
            for (int b = 0; b < batch; b++)
                for (int t = 0; t <= steps; t++) text[b, t] = random.Next(CharLstm.VocabularySize);
            var tokens = new int[steps * batch];
            var next = new int[steps * batch];
            for (int t = 0; t < steps; t++)
            {
                for (int b = 0; b < batch; b++)
                {
                    tokens[t * batch + b] = text[b, t];
                    next[t * batch + b] = text[b, t + 1];
                }
            }
            return new TrainingData { Model = model, Steps = steps, Batch = batch, WeightsPath = CharWeightsPath, Tokens = tokens, NextTokens = next };
        }
    }
}
