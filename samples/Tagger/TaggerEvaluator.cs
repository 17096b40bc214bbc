using System;
using System.Collections.Generic;
using System.IO;

namespace RnnGen.Samples.Tagger;

/// <summary>What scoring a saved model did: the file, its size and the scores (null when only text was tagged).</summary>
/// <remarks><c>ByWeights</c>: the scores with the weights read as float, bfloat16 and int8, one sentence at a time (null without a file or with <see cref="TaggerOptions.EvalWeights"/> empty).</remarks>
public sealed record EvaluationResult(string ModelPath, string? DataPath, int Sentences, TaggingScore? Score, string? TaggedText, WeightScores? ByWeights = null);

/// <summary>Loads a saved tagger and scores it on a CoNLL-U file (<c>--eval</c>) and/or tags a line of text (<c>--tag</c>).</summary>
public static class TaggerEvaluator
{
    /// <summary>Runs the evaluation the options ask for.</summary>
    /// <exception cref="ArgumentException">The options do not name a model.</exception>
    /// <exception cref="IOException">The model, its vocabulary or the CoNLL-U file cannot be read or do not fit.</exception>
    public static EvaluationResult Run(TaggerOptions options, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        options.Validate();
        string modelPath = options.ModelPath ?? throw new ArgumentException("ModelPath is required to evaluate.");
        TaggerNetwork network = TaggerNetwork.Load(modelPath);
        log.WriteLine($"Loaded {modelPath}: hidden {network.Hidden}, {network.Vocabulary.Count:N0} words, {network.ParameterCount:N0} parameters.");

        TaggingScore? score = null;
        WeightScores? byWeights = null;
        int sentences = 0;
        if (options.EvalPath is { } path)
        {
            List<TaggedSentence> data = Conllu.Read(path);
            if (data.Count == 0) throw new InvalidDataException($"'{path}' holds no sentences.");
            var corpus = new EncodedCorpus(data, network.Vocabulary, new FormTable());
            var clock = System.Diagnostics.Stopwatch.StartNew();
            score = network.Evaluate(corpus);
            sentences = data.Count;
            log.WriteLine($"{path}: {data.Count:N0} sentences, UPOS accuracy {TaggerTrainer.Describe(score.Value)} ({clock.Elapsed.TotalSeconds:0.0}s).");
            byWeights = WeightScores.Measure(network, corpus, options.EvalWeights, log);
        }
        string? tagged = null;
        if (options.TagText is { } text)
        {
            tagged = TaggerTrainer.TagText(network, text);
            log.WriteLine(tagged);
        }
        return new EvaluationResult(modelPath, options.EvalPath, sentences, score, tagged, byWeights);
    }
}
