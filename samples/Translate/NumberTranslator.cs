using System;
using System.Collections.Generic;
using System.IO;

namespace RnnGen.Samples.Translate;

/// <summary>
/// The encoder-decoder: the encoder GRU reads the source words, its final state starts the decoder GRU, which writes
/// the target one token at a time. Holds both models and the vocabularies, encodes batches of sentences into decoder
/// start states, translates by greedy decoding or beam search, and saves or loads both models as one safetensors file.
/// </summary>
public sealed class NumberTranslator
{
    /// <summary>Sentences encoded (and decoded) together at inference.</summary>
    private const int InferenceBatch = 128;

    /// <summary>Floats in one decoder state; the encoder's final state has the same size and layout.</summary>
    public const int StateSize = NumberDecoder.StateSize;

    /// <summary>Creates both models with PyTorch's default initialization (the decoder from <paramref name="seed"/> + 1).</summary>
    public NumberTranslator(int seed)
    {
        Encoder = new NumberEncoder(seed);
        Decoder = new NumberDecoder(seed + 1);
    }

    /// <summary>Source word ids: &lt;pad&gt;, &lt;unk&gt;, &lt;start&gt;, &lt;end&gt;, then the number words.</summary>
    public static WordVocabulary SourceVocabulary { get; } = WordVocabulary.FromWords(NumberCorpus.SourceWords, Seq2Seq.SourceVocabulary);

    /// <summary>Target ids: the same four reserved ids, then the digits 0-9.</summary>
    public static WordVocabulary TargetVocabulary { get; } = WordVocabulary.FromWords(NumberCorpus.TargetWords, Seq2Seq.TargetVocabulary);

    /// <summary>The encoder GRU (no head: only its final state is used).</summary>
    public NumberEncoder Encoder { get; }

    /// <summary>The decoder GRU with its head over the target vocabulary.</summary>
    public NumberDecoder Decoder { get; }

    /// <summary>Learnable floats of both models.</summary>
    public static int ParameterCount => NumberEncoder.ParameterCount + NumberDecoder.ParameterCount;

    /// <summary>
    /// Converts states from the batched layout Forward uses, [NumLayers, batch, Hidden] (then c likewise for LSTM),
    /// to the agent layout of multi-agent Step, [batch, StateSize] with each sequence's state contiguous.
    /// </summary>
    public static void BatchToAgents(ReadOnlySpan<float> batched, int batch, int hidden, Span<float> agents)
    {
        int stateSize = batched.Length / batch;
        int rows = stateSize / hidden; // layers (x2 for LSTM)
        for (int row = 0; row < rows; row++)
        {
            for (int b = 0; b < batch; b++)
            {
                batched.Slice((row * batch + b) * hidden, hidden).CopyTo(agents.Slice((b * rows + row) * hidden, hidden));
            }
        }
    }

    /// <summary>
    /// Encodes the given source sentences in batches of similar length, returning each one's decoder start state in
    /// the agent layout ([sentences, StateSize], in the order given).
    /// </summary>
    public float[] EncodeAll(IReadOnlyList<int[]> sources)
    {
        var states = new float[sources.Count * StateSize];
        if (sources.Count == 0) return states;
        var lengths = new int[sources.Count];
        int maxSteps = 0;
        for (int i = 0; i < lengths.Length; i++)
        {
            lengths[i] = sources[i].Length;
            maxSteps = Math.Max(maxSteps, lengths[i]);
        }
        var tokens = new int[maxSteps * InferenceBatch];
        var batchLengths = new int[InferenceBatch];
        var output = new float[maxSteps * InferenceBatch * NumberEncoder.OutputSize];
        var final = new float[InferenceBatch * StateSize];
        var agents = new float[InferenceBatch * StateSize];
        foreach (int[] indices in Batching.BucketByLength(lengths, InferenceBatch))
        {
            int n = indices.Length;
            int steps = Batching.PadTokens(sources, indices, tokens, batchLengths, WordVocabulary.Padding);
            Encoder.Forward(tokens.AsSpan(0, steps * n), n, batchLengths.AsSpan(0, n), output.AsSpan(0, steps * n * NumberEncoder.OutputSize), default, final.AsSpan(0, n * StateSize));
            BatchToAgents(final.AsSpan(0, n * StateSize), n, NumberEncoder.HiddenSize, agents.AsSpan(0, n * StateSize));
            for (int k = 0; k < n; k++) agents.AsSpan(k * StateSize, StateSize).CopyTo(states.AsSpan(indices[k] * StateSize, StateSize));
        }
        return states;
    }

    /// <summary>Greedy translations (target ids, without &lt;end&gt;) of the given source sentences.</summary>
    public int[][] TranslateGreedy(IReadOnlyList<int[]> sources, int maxLength)
    {
        float[] states = EncodeAll(sources);
        var results = new int[sources.Count][];
        for (int start = 0; start < sources.Count; start += InferenceBatch)
        {
            int n = Math.Min(InferenceBatch, sources.Count - start);
            int[][] chunk = Decoding.Greedy(Decoder, states.AsSpan(start * StateSize, n * StateSize), n, maxLength);
            chunk.CopyTo(results, start);
        }
        return results;
    }

    /// <summary>Beam-search translations of the given source sentences: per sentence, up to <paramref name="width"/> hypotheses, best first.</summary>
    public Hypothesis[][] TranslateBeam(IReadOnlyList<int[]> sources, int width, int maxLength)
    {
        float[] states = EncodeAll(sources);
        var results = new Hypothesis[sources.Count][];
        for (int start = 0; start < sources.Count; start += InferenceBatch)
        {
            int n = Math.Min(InferenceBatch, sources.Count - start);
            Hypothesis[][] chunk = Decoding.Beam(Decoder, states.AsSpan(start * StateSize, n * StateSize), n, width, maxLength);
            chunk.CopyTo(results, start);
        }
        return results;
    }

    /// <summary>
    /// Saves both models as one safetensors file, named as the state_dict of a PyTorch module with submodules
    /// <c>encoder</c> and <c>decoder</c> (encoder.embedding.weight, ..., decoder.head.bias).
    /// </summary>
    public void Save(string path)
    {
        var tensors = new List<TensorInfo>();
        foreach (TensorInfo t in NumberEncoder.Tensors) tensors.Add(new TensorInfo(EncoderPrefix + t.Name, t.Offset, [.. t.Shape]));
        foreach (TensorInfo t in NumberDecoder.Tensors) tensors.Add(new TensorInfo(DecoderPrefix + t.Name, NumberEncoder.ParameterCount + t.Offset, [.. t.Shape]));
        var parameters = new float[ParameterCount];
        Encoder.Parameters.CopyTo(parameters);
        Decoder.Parameters.CopyTo(parameters.AsSpan(NumberEncoder.ParameterCount));
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        Safetensors.Save(path, tensors, parameters);
    }

    /// <summary>Loads both models from a file written by <see cref="Save"/> (or by PyTorch from the module above).</summary>
    /// <exception cref="SafetensorsException">The file does not hold this encoder and decoder.</exception>
    public void Load(string path)
    {
        // Each load validates the whole file and skips the other model's tensors (outside its prefix). Both go into
        // fresh models first, so a file that fits only one of them leaves this translator unchanged.
        var encoder = new NumberEncoder();
        var decoder = new NumberDecoder();
        encoder.LoadSafetensors(path, new SafetensorsOptions { Prefix = EncoderPrefix });
        decoder.LoadSafetensors(path, new SafetensorsOptions { Prefix = DecoderPrefix });
        encoder.Parameters.CopyTo(Encoder.Parameters);
        decoder.Parameters.CopyTo(Decoder.Parameters);
    }

    private const string EncoderPrefix = "encoder.";
    private const string DecoderPrefix = "decoder.";
}
