using System;
using System.Collections.Generic;
using System.Linq;

namespace RnnGen.Samples.Caption;

/// <summary>One group of identical objects in a scene: "two small red circles on the left".</summary>
/// <param name="Count">1 to 3.</param>
/// <param name="Size">An index into <see cref="Scenes.Sizes"/>: small, medium (not named in captions) or big.</param>
/// <param name="Color">An index into <see cref="Scenes.Colors"/>.</param>
/// <param name="Shape">An index into <see cref="Scenes.Shapes"/>.</param>
/// <param name="Position">An index into <see cref="Scenes.Positions"/>.</param>
public sealed record SceneObject(int Count, int Size, int Color, int Shape, int Position);

/// <summary>A scene: one or two object groups, the feature vector a model sees, and the caption it should write.</summary>
/// <param name="Objects">The groups, in caption order.</param>
/// <param name="Features">The <see cref="Scenes.FeatureSize"/> floats standing in for an image encoder's output.</param>
/// <param name="Words">The caption's words, without the end marker.</param>
public sealed record Scene(IReadOnlyList<SceneObject> Objects, float[] Features, IReadOnlyList<string> Words)
{
    /// <summary>The caption as text.</summary>
    public string Caption => string.Join(' ', Words);
}

/// <summary>
/// A deterministic generator of synthetic scenes and their captions: the image-captioning task without the image.
/// Where a captioner would put a CNN, a scene here is already a feature vector, mixing one-hot and continuous,
/// noisy encodings (count one-hot, size as a noisy scalar, colour as noisy RGB, shape one-hot, position as noisy x, y)
/// plus distractor dimensions of pure noise. The decoder must turn thresholds on those values into words.
/// </summary>
/// <example>
/// Features of a two-group scene give the caption
/// <c>two small red circles on the left and a big blue square at the top</c>.
/// </example>
public static class Scenes
{
    /// <summary>Object groups a scene can hold; the feature vector has one slot per group.</summary>
    public const int MaxObjects = 2;

    /// <summary>Floats per object slot: present, count one-hot (3), size, RGB (3), shape one-hot (3), x, y.</summary>
    public const int SlotSize = 13;

    /// <summary>Dimensions of pure noise appended after the slots, which the model must learn to ignore.</summary>
    public const int NoiseSize = 6;

    /// <summary>Length of a scene's feature vector.</summary>
    public const int FeatureSize = MaxObjects * SlotSize + NoiseSize;

    /// <summary>Longest caption in words (two groups of count, size, colour, shape, three position words, and "and").</summary>
    public const int MaxWords = 2 * 7 + 1;

    /// <summary>Count words by count - 1.</summary>
    public static IReadOnlyList<string> Counts { get; } = ["a", "two", "three"];

    /// <summary>Size words; medium objects are captioned without one, so captions differ in length.</summary>
    public static IReadOnlyList<string> Sizes { get; } = ["small", "", "big"];

    /// <summary>Colour words.</summary>
    public static IReadOnlyList<string> Colors { get; } = ["red", "green", "blue", "yellow", "orange", "white"];

    /// <summary>Shape words, singular.</summary>
    public static IReadOnlyList<string> Shapes { get; } = ["circle", "square", "triangle"];

    /// <summary>Position phrases.</summary>
    public static IReadOnlyList<string> Positions { get; } = ["on the left", "on the right", "at the top", "at the bottom", "in the middle"];

    /// <summary>The attributes scored separately by the evaluation, in report order.</summary>
    public static IReadOnlyList<string> Attributes { get; } = ["count", "size", "color", "shape", "position"];

    // The colours as RGB; orange sits between red and yellow, so it needs two thresholds on green.
    private static readonly float[][] Rgb =
    [
        [1f, 0f, 0f], [0f, 1f, 0f], [0f, 0f, 1f], [1f, 1f, 0f], [1f, 0.5f, 0f], [1f, 1f, 1f],
    ];

    // Centres of the five regions in [-1, 1]², y growing downwards as on a screen.
    private static readonly float[][] Centers =
    [
        [-0.7f, 0f], [0.7f, 0f], [0f, -0.7f], [0f, 0.7f], [0f, 0f],
    ];

    /// <summary>Every word a caption can use (the vocabulary after the reserved ids).</summary>
    public static IReadOnlyList<string> AllWords { get; } =
        Counts
            .Concat(Sizes.Where(s => s.Length > 0))
            .Concat(Colors)
            .Concat(Shapes)
            .Concat(Shapes.Select(Plural))
            .Concat(Positions.SelectMany(p => p.Split(' ')))
            .Append("and")
            .Distinct(StringComparer.Ordinal)
            .ToArray();

    /// <summary>Generates <paramref name="count"/> scenes, the same ones for the same seed on every machine.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    public static Scene[] Generate(int count, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var rng = new Rng(seed);
        var scenes = new Scene[count];
        for (int i = 0; i < count; i++) scenes[i] = Generate(rng);
        return scenes;
    }

    /// <summary>One random scene: one group, or two (half the time).</summary>
    public static Scene Generate(Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        int groups = rng.NextInt(2) + 1;
        var objects = new SceneObject[groups];
        for (int k = 0; k < groups; k++)
        {
            objects[k] = new SceneObject(
                Count: rng.NextInt(Counts.Count) + 1,
                Size: rng.NextInt(Sizes.Count),
                Color: rng.NextInt(Colors.Count),
                Shape: rng.NextInt(Shapes.Count),
                Position: rng.NextInt(Positions.Count));
        }
        return new Scene(objects, Encode(objects, rng), Describe(objects));
    }

    /// <summary>The feature vector of a scene, with fresh noise from <paramref name="rng"/>.</summary>
    public static float[] Encode(IReadOnlyList<SceneObject> objects, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(objects);
        ArgumentNullException.ThrowIfNull(rng);
        if (objects.Count is < 1 or > MaxObjects) throw new ArgumentException($"A scene has 1 to {MaxObjects} object groups; got {objects.Count}.", nameof(objects));
        var features = new float[FeatureSize];
        for (int k = 0; k < objects.Count; k++)
        {
            SceneObject o = objects[k];
            Span<float> slot = features.AsSpan(k * SlotSize, SlotSize);
            slot[0] = 1f;
            slot[o.Count] = 1f;                                            // [1..3]
            slot[4] = (o.Size - 1) + Jitter(rng, 0.25f);                   // -1, 0, 1 for small, medium, big
            for (int c = 0; c < 3; c++) slot[5 + c] = 2f * Rgb[o.Color][c] - 1f + Jitter(rng, 0.15f);
            slot[8 + o.Shape] = 1f;
            slot[11] = Centers[o.Position][0] + Jitter(rng, 0.2f);
            slot[12] = Centers[o.Position][1] + Jitter(rng, 0.2f);
        }
        for (int i = MaxObjects * SlotSize; i < FeatureSize; i++) features[i] = Jitter(rng, 1f);
        return features;
    }

    /// <summary>The caption's words: "two small red circles on the left and a blue square at the top".</summary>
    public static string[] Describe(IReadOnlyList<SceneObject> objects)
    {
        ArgumentNullException.ThrowIfNull(objects);
        var words = new List<string>(MaxWords);
        for (int k = 0; k < objects.Count; k++)
        {
            SceneObject o = objects[k];
            if (k > 0) words.Add("and");
            words.Add(Counts[o.Count - 1]);
            if (Sizes[o.Size].Length > 0) words.Add(Sizes[o.Size]);
            words.Add(Colors[o.Color]);
            words.Add(o.Count == 1 ? Shapes[o.Shape] : Plural(Shapes[o.Shape]));
            words.AddRange(Positions[o.Position].Split(' '));
        }
        return words.ToArray();
    }

    /// <summary>
    /// Reads a caption back into object groups, leniently, so a wrong caption can still be scored attribute by
    /// attribute: groups are split at "and"; an attribute whose word is missing or unknown is -1.
    /// </summary>
    public static SceneObject[] Parse(IReadOnlyList<string> words)
    {
        ArgumentNullException.ThrowIfNull(words);
        var groups = new List<SceneObject>();
        var group = new List<string>();
        foreach (string word in words.Append("and"))
        {
            if (word != "and")
            {
                group.Add(word);
                continue;
            }
            if (group.Count > 0) groups.Add(ParseGroup(group));
            group.Clear();
        }
        return groups.ToArray();
    }

    private static SceneObject ParseGroup(List<string> words)
    {
        int count = IndexOf(Counts, words[0]) is int c and >= 0 ? c + 1 : -1;
        int size = 1; // medium unless a size word is there
        int color = -1, shape = -1, position = -1;
        foreach (string word in words)
        {
            if (word == "small") size = 0;
            else if (word == "big") size = 2;
            if (color < 0) color = IndexOf(Colors, word);
            if (shape < 0) shape = Math.Max(IndexOf(Shapes, word), Shapes.Select(Plural).ToList().IndexOf(word));
            if (position < 0) position = Array.FindIndex(Positions.ToArray(), p => p.EndsWith(" " + word, StringComparison.Ordinal));
        }
        return new SceneObject(count, size, color, shape, position);
    }

    /// <summary>The value of attribute <paramref name="attribute"/> (an index into <see cref="Attributes"/>).</summary>
    public static int Attribute(SceneObject o, int attribute) => attribute switch
    {
        0 => o.Count,
        1 => o.Size,
        2 => o.Color,
        3 => o.Shape,
        4 => o.Position,
        _ => throw new ArgumentOutOfRangeException(nameof(attribute), attribute, $"Expected 0 to {Attributes.Count - 1}."),
    };

    private static string Plural(string shape) => shape + "s";

    private static int IndexOf(IReadOnlyList<string> list, string word)
    {
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i].Length > 0 && list[i] == word) return i;
        }
        return -1;
    }

    private static float Jitter(Rng rng, float amplitude) => amplitude * (2f * rng.NextSingle() - 1f);
}
