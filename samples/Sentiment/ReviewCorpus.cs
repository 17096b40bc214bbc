using System;
using System.Collections.Generic;
using System.Linq;

namespace RnnGen.Samples.Sentiment;

/// <summary>One generated review: its words, its polarity and what kind of sentence it is.</summary>
/// <param name="Words">Lower-case tokens, punctuation included ("," and ".").</param>
/// <param name="Positive">The review's polarity, known by construction.</param>
/// <param name="Negated">A clause is negated ("not", "never", "hardly", "did not"): a word's polarity flips with context.</param>
/// <param name="Contrast">Two clauses of opposite polarity joined by "but" or "although": the order decides.</param>
public sealed record Review(string[] Words, bool Positive, bool Negated, bool Contrast)
{
    /// <summary>The review as one line of text.</summary>
    public string Text => string.Join(' ', Words).Replace(" ,", ",", StringComparison.Ordinal).Replace(" .", ".", StringComparison.Ordinal);

    /// <summary>Neither negated nor a contrast: the words alone give the polarity.</summary>
    public bool Plain => !Negated && !Contrast;
}

/// <summary>
/// Movie reviews generated from a small grammar whose polarity is known by construction, always the same for a seed.
/// The grammar is built so that word order matters: negation flips a word ("not bad at all", "never boring",
/// "not too long" are positive; "not good", "hardly funny" are negative), "too" turns a neutral word negative
/// ("too long"), and in a contrast the second clause wins ("good but too long" is negative, "too long but good" is
/// positive) — the same bag of words with the opposite label. A bag-of-words model cannot represent that; a GRU can.
/// </summary>
public static class ReviewCorpus
{
    private static readonly string[] Aspects =
        ["movie", "film", "plot", "acting", "story", "ending", "music", "cast", "script", "dialogue", "soundtrack", "director", "pacing", "humor"];

    private static readonly string[] PositiveAdjectives =
        ["good", "great", "wonderful", "brilliant", "funny", "moving", "charming", "clever", "beautiful", "exciting", "fresh", "superb"];

    private static readonly string[] NegativeAdjectives =
        ["bad", "boring", "awful", "dull", "terrible", "weak", "predictable", "messy", "clumsy", "painful", "bland", "lazy"];

    /// <summary>Neither good nor bad alone; "too X" is negative and "not too X" positive.</summary>
    private static readonly string[] Excess = ["long", "short", "slow", "loud", "sweet", "simple", "dark", "busy"];

    private static readonly string[] Intensifiers = ["very", "really", "quite", "truly", "so", "extremely"];

    private static readonly string[] PositiveVerbs = ["loved", "liked", "enjoyed", "adored"];

    /// <summary>Base forms of <see cref="PositiveVerbs"/>, for "i did not love it".</summary>
    private static readonly string[] PositiveVerbBases = ["love", "like", "enjoy", "adore"];

    private static readonly string[] NegativeVerbs = ["hated", "disliked"];

    private static readonly string[][] Openers =
        [["honestly", ","], ["overall", ","], ["to", "be", "fair", ","], ["in", "the", "end", ","], ["frankly", ","], ["well", ","]];

    /// <summary>Every word the grammar can produce, in a fixed order (the vocabulary is built from it, not from a corpus).</summary>
    public static IReadOnlyList<string> AllWords { get; } = CollectWords();

    /// <summary>
    /// Generates <paramref name="trainCount"/> training and <paramref name="testCount"/> held-out reviews, all distinct,
    /// about half positive, deterministically from <paramref name="seed"/>.
    /// </summary>
    /// <remarks>
    /// Which reviews are held out does not depend on the seed or the counts: a review is held out when a fixed hash of
    /// its text says so (<see cref="IsHeldOut"/>, about one in five). So a saved model evaluated with other --train,
    /// --test or --seed values is still never tested on a review it was trained on.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">A count is not positive or is too large.</exception>
    public static (List<Review> Train, List<Review> Test) Generate(int trainCount, int testCount, ulong seed)
    {
        if (trainCount < 1 || trainCount > 2_000_000) throw new ArgumentOutOfRangeException(nameof(trainCount), trainCount, "trainCount must be from 1 to 2,000,000.");
        if (testCount < 1 || testCount > 500_000) throw new ArgumentOutOfRangeException(nameof(testCount), testCount, "testCount must be from 1 to 500,000.");
        var rng = new Rng(seed);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var train = new List<Review>(trainCount);
        var test = new List<Review>(testCount);
        long attempts = 0, limit = 20L * (trainCount + testCount) + 1000;
        while (train.Count < trainCount || test.Count < testCount)
        {
            if (++attempts > limit) throw new InvalidOperationException($"The grammar produced only {train.Count + test.Count} distinct reviews in {limit} attempts.");
            Review review = Next(rng);
            if (!seen.Add(review.Text)) continue;
            if (IsHeldOut(review.Text))
            {
                if (test.Count < testCount) test.Add(review);
            }
            else if (train.Count < trainCount)
            {
                train.Add(review);
            }
        }
        return (train, test);
    }

    /// <summary>Whether a review belongs to the held-out part of everything the grammar can say: FNV-1a of its text, one in five.</summary>
    public static bool IsHeldOut(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        uint hash = 2166136261;
        foreach (char c in text) hash = (hash ^ c) * 16777619;
        return hash % 5 == 0;
    }

    /// <summary>One review: a clause, two clauses agreeing, or two clauses in contrast; sometimes an opener and a full stop.</summary>
    private static Review Next(Rng rng)
    {
        bool positive = rng.NextInt(2) == 0;
        var words = new List<string>(24);
        if (rng.NextInt(5) == 0) words.AddRange(Pick(rng, Openers));
        bool negated;
        bool contrast = false;
        int shape = rng.NextInt(10);
        if (shape < 5)
        {
            negated = Clause(rng, positive, words);
        }
        else if (shape < 7)
        {
            // Two clauses that agree.
            negated = Clause(rng, positive, words);
            words.Add("and");
            negated |= Clause(rng, positive, words);
        }
        else if (shape < 9)
        {
            // "A but B": B decides.
            contrast = true;
            negated = Clause(rng, !positive, words);
            if (rng.NextInt(2) == 0) words.Add(",");
            words.Add("but");
            negated |= Clause(rng, positive, words);
        }
        else
        {
            // "although A, B": B decides.
            contrast = true;
            words.Add("although");
            negated = Clause(rng, !positive, words);
            words.Add(",");
            negated |= Clause(rng, positive, words);
        }
        if (rng.NextInt(2) == 0) words.Add(".");
        return new Review(words.ToArray(), positive, negated, contrast);
    }

    /// <summary>Appends one clause of the given polarity; returns whether it is negated.</summary>
    private static bool Clause(Rng rng, bool positive, List<string> words)
    {
        // Plain adjectives are the most common clause, so single words do carry signal (a bag of words gets most plain
        // reviews right); negation and "too" are frequent enough to learn but flip or override that signal.
        switch (rng.NextInt(10))
        {
            case 0:
            case 1:
            case 2:
            case 3:
                // "the plot was (really) clever"
                Subject(rng, words);
                words.Add(Pick(rng, ["was", "is"]));
                if (rng.NextInt(2) == 0) words.Add(Pick(rng, Intensifiers));
                words.Add(Adjective(rng, positive));
                return false;
            case 4:
            case 5:
                // "the plot was not clever", "was not bad at all", "was never boring", "was hardly funny"
                Subject(rng, words);
                words.Add(Pick(rng, ["was", "is"]));
                string negator = Pick(rng, ["not", "not", "never", "hardly"]);
                words.Add(negator);
                words.Add(Adjective(rng, !positive));
                if (negator == "not" && rng.NextInt(3) == 0)
                {
                    words.Add("at");
                    words.Add("all");
                }
                return true;
            case 6:
            case 7:
                // "the ending was (a bit) too long" (negative), "the ending was not too long" (positive)
                Subject(rng, words);
                words.Add(Pick(rng, ["was", "is"]));
                if (positive) words.Add("not");
                else if (rng.NextInt(3) == 0) words.AddRange(["a", "bit"]);
                words.Add("too");
                words.Add(Pick(rng, Excess));
                return positive;
            default:
                // "i loved the music", "i hated it", "i did not enjoy the acting"
                words.Add("i");
                bool negated = false;
                if (positive)
                {
                    words.Add(Pick(rng, PositiveVerbs));
                }
                else if (rng.NextInt(2) == 0)
                {
                    words.Add(Pick(rng, NegativeVerbs));
                }
                else
                {
                    words.AddRange(["did", "not", Pick(rng, PositiveVerbBases)]);
                    negated = true;
                }
                if (rng.NextInt(3) == 0) words.Add("it");
                else Subject(rng, words);
                return negated;
        }
    }

    private static void Subject(Rng rng, List<string> words)
    {
        words.Add(rng.NextInt(4) == 0 ? "this" : "the");
        words.Add(Pick(rng, Aspects));
    }

    private static string Adjective(Rng rng, bool positive) => Pick(rng, positive ? PositiveAdjectives : NegativeAdjectives);

    private static T Pick<T>(Rng rng, T[] items) => items[rng.NextInt(items.Length)];

    private static List<string> CollectWords()
    {
        var words = new List<string>();
        void Add(IEnumerable<string> more)
        {
            foreach (string w in more)
            {
                if (!words.Contains(w)) words.Add(w);
            }
        }
        Add(["the", "this", "was", "is", "not", "never", "hardly", "at", "all", "a", "bit", "too", "i", "did", "it", "and", "but", "although", ",", "."]);
        Add(Aspects);
        Add(PositiveAdjectives);
        Add(NegativeAdjectives);
        Add(Excess);
        Add(Intensifiers);
        Add(PositiveVerbs);
        Add(PositiveVerbBases);
        Add(NegativeVerbs);
        Add(Openers.SelectMany(o => o));
        return words;
    }
}
