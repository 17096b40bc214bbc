using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace RnnGen.Samples.Caption;

/// <summary>
/// The captioner: an <see cref="InitialStateProjection"/> turning a scene's features into the decoder's initial
/// state, and a generated token decoder (GRU or LSTM) that writes the caption word by word from there.
/// </summary>
/// <remarks>
/// A checkpoint holds both parts in one safetensors file: the decoder's PyTorch <c>state_dict</c> names
/// (<c>embedding.weight</c>, <c>rnn.*</c>, <c>head.*</c>) and <c>projection.weight</c>, <c>projection.bias</c>.
/// </remarks>
public sealed class CaptionNet
{
    /// <summary>Longest decoder input: the start marker plus <see cref="Scenes.MaxWords"/> words (the targets end with the end marker instead).</summary>
    public const int MaxTokens = Scenes.MaxWords + 1;

    private readonly IReadOnlyList<TensorInfo> _checkpointTensors;

    /// <summary>Creates a captioner with freshly initialized decoder and projection.</summary>
    /// <param name="cell">"gru" or "lstm".</param>
    /// <param name="seed">Initialization seed (the projection uses seed + 1).</param>
    public CaptionNet(string cell, int seed)
    {
        Cell = cell;
        Decoder = CaptionModels.Create(cell, seed);
        Projection = new InitialStateProjection(Scenes.FeatureSize, Decoder.HiddenSize, Decoder.StateSize, unchecked(seed + 1));
        Vocabulary = WordVocabulary.FromWords(Scenes.AllWords, CaptionModels.Vocabulary);
        if (Vocabulary.Count != Scenes.AllWords.Count + WordVocabulary.Reserved)
            throw new InvalidOperationException($"The vocabulary holds {Vocabulary.Count} ids; the caption words need {Scenes.AllWords.Count + WordVocabulary.Reserved}. Raise CaptionModels.Vocabulary.");
        var tensors = new List<TensorInfo>(Decoder.TensorTable);
        foreach (TensorInfo t in Projection.Tensors) tensors.Add(new TensorInfo(t.Name, Decoder.ParameterCount + t.Offset, t.Shape.ToArray()));
        _checkpointTensors = tensors;
    }

    /// <summary>"gru" or "lstm".</summary>
    public string Cell { get; }

    /// <summary>The generated decoder.</summary>
    public ITokenStreamingModel Decoder { get; }

    /// <summary>Features to initial state.</summary>
    public InitialStateProjection Projection { get; }

    /// <summary>The caption words and their ids.</summary>
    public WordVocabulary Vocabulary { get; }

    /// <summary>Learnable floats of decoder and projection.</summary>
    public int ParameterCount => Decoder.ParameterCount + Projection.Parameters.Length;

    /// <summary>The checkpoint's tensor table: the decoder's tensors, then the projection's.</summary>
    public IReadOnlyList<TensorInfo> CheckpointTensors => _checkpointTensors;

    /// <summary>Decoder input ids: the start marker, then the words.</summary>
    public int[] EncodeInput(IReadOnlyList<string> words) => Vocabulary.Encode(words, addStart: true);

    /// <summary>Decoder target ids: the words, then the end marker.</summary>
    public int[] EncodeTarget(IReadOnlyList<string> words) => Vocabulary.Encode(words, addEnd: true);

    /// <summary>Saves decoder and projection to one safetensors file (atomically).</summary>
    public void Save(string path)
    {
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        Safetensors.Save(path, _checkpointTensors, Concatenated());
    }

    /// <summary>Saves decoder and projection to a stream.</summary>
    public void Save(Stream stream) => Safetensors.Save(stream, _checkpointTensors, Concatenated());

    /// <summary>Loads a checkpoint written by <see cref="Save(string)"/>; its cell decides the decoder.</summary>
    /// <exception cref="SafetensorsException">The file is not a checkpoint of this sample.</exception>
    public static CaptionNet Load(string path, int seed)
    {
        var net = new CaptionNet(CaptionModels.ReadCell(path), seed);
        using FileStream stream = File.OpenRead(path);
        net.LoadWeights(stream);
        return net;
    }

    /// <summary>Loads weights from a stream written by <see cref="Save(Stream)"/> into this captioner (same cell).</summary>
    public void LoadWeights(Stream stream)
    {
        var all = new float[ParameterCount];
        Safetensors.Load(stream, _checkpointTensors, all);
        all.AsSpan(0, Decoder.ParameterCount).CopyTo(Decoder.Parameters);
        all.AsSpan(Decoder.ParameterCount).CopyTo(Projection.Parameters);
    }

    private float[] Concatenated()
    {
        var all = new float[ParameterCount];
        Decoder.Parameters.CopyTo(all);
        Projection.Parameters.CopyTo(all.AsSpan(Decoder.ParameterCount));
        return all;
    }

    /// <summary>
    /// Greedy captions for many scenes at once: every scene's projected state is one "agent" of the decoder's
    /// multi-agent <c>Step</c>, which advances them all with matrix-matrix products, feeding each its own last word.
    /// </summary>
    /// <param name="features">[scenes, FeatureSize].</param>
    /// <returns>The words of each caption, without the end marker.</returns>
    public string[][] Greedy(ReadOnlySpan<float> features)
    {
        int f = Scenes.FeatureSize, s = Decoder.StateSize, v = Decoder.OutputSize;
        if (features.Length % f != 0) throw new ArgumentException($"features has {features.Length} floats; expected a multiple of {f}.", nameof(features));
        int n = features.Length / f;
        var captions = new string[n][];
        if (n == 0) return captions;
        var states = new float[n * s];
        for (int i = 0; i < n; i++) Projection.Forward(features.Slice(i * f, f), states.AsSpan(i * s, s));
        var tokens = new int[n];
        Array.Fill(tokens, WordVocabulary.Start);
        var logits = new float[n * v];
        var words = new List<string>[n];
        var done = new bool[n];
        for (int i = 0; i < n; i++) words[i] = new List<string>(Scenes.MaxWords);
        for (int t = 0; t < MaxTokens; t++)
        {
            Decoder.Step(tokens, states, logits);
            bool allDone = true;
            for (int i = 0; i < n; i++)
            {
                if (done[i]) continue;
                int next = Sampling.Greedy(logits.AsSpan(i * v, v));
                tokens[i] = next;
                if (next == WordVocabulary.End) done[i] = true;
                else words[i].Add(Vocabulary.Word(next));
                allDone &= done[i];
            }
            if (allDone) break;
        }
        for (int i = 0; i < n; i++) captions[i] = words[i].ToArray();
        return captions;
    }

    /// <summary>A caption drawn word by word with <see cref="Sampling.Sample"/> at <paramref name="temperature"/>, on the single-stream <c>Step</c>.</summary>
    public string[] Sample(ReadOnlySpan<float> features, float temperature, Rng rng)
    {
        var state = new float[Decoder.StateSize];
        Projection.Forward(features, state);
        var logits = new float[Decoder.OutputSize];
        var scratch = new float[Decoder.OutputSize];
        var words = new List<string>(Scenes.MaxWords);
        int token = WordVocabulary.Start;
        for (int t = 0; t < MaxTokens; t++)
        {
            Decoder.Step(token, state, logits);
            token = Sampling.Sample(logits, temperature, rng, scratch);
            if (token == WordVocabulary.End) break;
            words.Add(Vocabulary.Word(token));
        }
        return words.ToArray();
    }
}
