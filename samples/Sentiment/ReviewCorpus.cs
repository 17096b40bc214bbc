using System;
using System.Collections.Generic;
using System.Linq;

namespace RnnGen.Samples.Sentiment;

/// <summary>
/// The sentence structures held out of training, decided before any review is generated: a review with one of them is
/// never trained on, and the held-out-structure test set is made of them only. Each combines parts that training
/// does see, in a combination it never sees.
/// </summary>
public enum HeldOutStructure
{
    /// <summary>Seen in training.</summary>
    None,

    /// <summary>"never" negating a verb ("i never enjoyed the plot"): training negates verbs only with "did not", and uses "never" only before adjectives.</summary>
    NeverVerb,

    /// <summary>
    /// A whole-clause negation deciding a contrast ("the cast was great but i would not say the plot was clever"):
    /// training has whole-clause negation alone, in "and" reviews and as the losing clause of a contrast, never as the winning one.
    /// </summary>
    ClauseNegationDecidesContrast,

    /// <summary>
    /// A phrase-negated clause deciding "although A, B" ("although the film was slow, the plot was not bad at all"):
    /// training has such clauses deciding "A but B", and "although" with un-negated deciding clauses only.
    /// </summary>
    PhraseNegationAfterAlthough,

    /// <summary>
    /// Whole-clause negation of an excess ("i would not say the ending was too long", positive): training negates
    /// only plain adjectives as a whole clause, and "too X" only inside the phrase ("not too long").
    /// </summary>
    ClauseNegationOfExcess,
}

/// <summary>One generated review: its words, its polarity and what kind of sentence it is.</summary>
/// <param name="Words">Lower-case tokens, punctuation included ("," and ".").</param>
/// <param name="Positive">The review's polarity, known by construction.</param>
/// <param name="Negated">A clause is negated ("not", "never", "hardly", "did not", "i would not say ..."): a word's polarity flips with context.</param>
/// <param name="Contrast">Two clauses of opposite polarity joined by "but" or "although": the order decides.</param>
/// <param name="HeldOut">The held-out structure the review has, or <see cref="HeldOutStructure.None"/>.</param>
public sealed record Review(string[] Words, bool Positive, bool Negated, bool Contrast, HeldOutStructure HeldOut)
{
    /// <summary>The review as one line of text.</summary>
    public string Text => string.Join(' ', Words).Replace(" ,", ",", StringComparison.Ordinal).Replace(" .", ".", StringComparison.Ordinal);

    /// <summary>Neither negated nor a contrast: the words alone give the polarity.</summary>
    public bool Plain => !Negated && !Contrast;
}

/// <summary>The generated reviews of one run, in four disjoint sets.</summary>
/// <param name="Train">Training reviews: structures seen in training only.</param>
/// <param name="Validation">Other texts of the training structures, for watching training (no choice is made on the test sets).</param>
/// <param name="SeenStructures">Test: other texts of the training structures (new texts, seen patterns).</param>
/// <param name="HeldOutStructures">Test: reviews of the <see cref="HeldOutStructure"/>s only, about as many of each.</param>
public sealed record ReviewSplits(List<Review> Train, List<Review> Validation, List<Review> SeenStructures, List<Review> HeldOutStructures);

/// <summary>
/// Synthetic movie reviews generated from a small grammar whose polarity is known by construction, always the same
/// for a seed. The grammar is built so that word order matters: negation flips a word ("not bad at all", "never
/// boring", "not too long" are positive; "not good", "hardly funny" are negative), "too" turns a neutral word
/// negative ("too long"), a whole clause can be negated ("i would not say the plot was clever"), and in a contrast
/// the second clause wins ("good but too long" is negative, "too long but good" is positive) — the same bag of words
/// with the opposite label. A bag-of-words model cannot represent that; a GRU can.
/// </summary>
/// <remarks>
/// The split is by structure, not by text: the <see cref="HeldOutStructure"/>s are fixed in code, every review knows
/// which (if any) it has, and training never sees one. Texts of the training structures are split further by a fixed
/// hash of the text (<see cref="TextBucket"/>), so the seen-structure test and validation sets hold texts no training
/// set has, whatever the seed or the sizes.
/// </remarks>
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

    /// <summary>Whole-clause negations: "i would not say [the plot was clever]".</summary>
    private static readonly string[][] ClauseNegations = [["i", "would", "not", "say"], ["it", "is", "not", "true", "that"]];

    private static readonly string[][] Openers =
        [["honestly", ","], ["overall", ","], ["to", "be", "fair", ","], ["in", "the", "end", ","], ["frankly", ","], ["well", ","]];

    /// <summary>Every word the grammar can produce, in a fixed order (the vocabulary is built from it, not from a corpus).</summary>
    public static IReadOnlyList<string> AllWords { get; } = CollectWords();

    /// <summary>The held-out structures, in the order they are reported.</summary>
    public static IReadOnlyList<HeldOutStructure> HeldOutStructures { get; } =
        [HeldOutStructure.NeverVerb, HeldOutStructure.ClauseNegationDecidesContrast, HeldOutStructure.PhraseNegationAfterAlthough, HeldOutStructure.ClauseNegationOfExcess];

    /// <summary>
    /// Generates the four sets, all reviews distinct, about half positive, deterministically from <paramref name="seed"/>:
    /// <paramref name="trainCount"/> training and <paramref name="validationCount"/> validation reviews and
    /// <paramref name="seenTestCount"/> test reviews of the training structures, and <paramref name="heldOutTestCount"/>
    /// test reviews of the held-out structures (a quarter of each).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A count is not positive or is too large.</exception>
    public static ReviewSplits Generate(int trainCount, int validationCount, int seenTestCount, int heldOutTestCount, ulong seed)
    {
        if (trainCount < 1 || trainCount > 2_000_000) throw new ArgumentOutOfRangeException(nameof(trainCount), trainCount, "trainCount must be from 1 to 2,000,000.");
        if (validationCount < 1 || validationCount > 500_000) throw new ArgumentOutOfRangeException(nameof(validationCount), validationCount, "validationCount must be from 1 to 500,000.");
        if (seenTestCount < 1 || seenTestCount > 500_000) throw new ArgumentOutOfRangeException(nameof(seenTestCount), seenTestCount, "seenTestCount must be from 1 to 500,000.");
        if (heldOutTestCount < 1 || heldOutTestCount > 500_000) throw new ArgumentOutOfRangeException(nameof(heldOutTestCount), heldOutTestCount, "heldOutTestCount must be from 1 to 500,000.");
        var rng = new Rng(seed);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var splits = new ReviewSplits(new List<Review>(trainCount), new List<Review>(validationCount), new List<Review>(seenTestCount), new List<Review>(heldOutTestCount));
        // The held-out test set takes about as many reviews of each held-out structure (the natural mix is uneven).
        int structures = HeldOutStructures.Count;
        var quota = new int[structures + 1];
        for (int k = 0; k < structures; k++) quota[k + 1] = heldOutTestCount / structures + (k < heldOutTestCount % structures ? 1 : 0);
        long attempts = 0, limit = 100L * ((long)trainCount + validationCount + seenTestCount + heldOutTestCount) + 10_000;
        while (splits.Train.Count < trainCount || splits.Validation.Count < validationCount
            || splits.SeenStructures.Count < seenTestCount || splits.HeldOutStructures.Count < heldOutTestCount)
        {
            if (++attempts > limit) throw new InvalidOperationException($"The grammar produced too few distinct reviews of some kind in {limit} attempts.");
            Review review = Next(rng);
            if (review.HeldOut != HeldOutStructure.None)
            {
                if (quota[(int)review.HeldOut] > 0 && seen.Add(review.Text))
                {
                    quota[(int)review.HeldOut]--;
                    splits.HeldOutStructures.Add(review);
                }
                continue;
            }
            List<Review> set = TextBucket(review.Text) switch
            {
                0 => splits.SeenStructures,
                1 => splits.Validation,
                _ => splits.Train,
            };
            int wanted = set == splits.Train ? trainCount : set == splits.Validation ? validationCount : seenTestCount;
            if (set.Count < wanted && seen.Add(review.Text)) set.Add(review);
        }
        return splits;
    }

    /// <summary>
    /// Which part of the training structures' texts a review belongs to, by FNV-1a of its text modulo 10: 0 the
    /// seen-structure test set, 1 validation, 2 to 9 training. Fixed, so no seed or size moves a text across.
    /// </summary>
    public static int TextBucket(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        uint hash = 2166136261;
        foreach (char c in text) hash = (hash ^ c) * 16777619;
        return (int)(hash % 10);
    }

    /// <summary>What one clause is: its kind, whether it is negated, and (for held-out rules) how.</summary>
    private enum ClauseKind
    {
        Adjective,
        NegatedAdjective,
        Excess,
        NegatedExcess,
        Verb,
        NegatedVerb,
        NeverVerb,
        ClauseNegation,
        ClauseNegationOfExcess,
    }

    private static bool IsNegated(ClauseKind kind) => kind is not (ClauseKind.Adjective or ClauseKind.Excess or ClauseKind.Verb);

    /// <summary>Negated inside the phrase ("not bad", "never boring", "did not enjoy", "not too long"), not as a whole clause.</summary>
    private static bool IsPhraseNegated(ClauseKind kind) => kind is ClauseKind.NegatedAdjective or ClauseKind.NegatedExcess or ClauseKind.NegatedVerb or ClauseKind.NeverVerb;

    private static bool IsClauseNegated(ClauseKind kind) => kind is ClauseKind.ClauseNegation or ClauseKind.ClauseNegationOfExcess;

    /// <summary>One review: a clause, two clauses agreeing, or two clauses in contrast; sometimes an opener and a full stop.</summary>
    private static Review Next(Rng rng)
    {
        bool positive = rng.NextInt(2) == 0;
        var words = new List<string>(28);
        if (rng.NextInt(5) == 0) words.AddRange(Pick(rng, Openers));
        ClauseKind first, second;
        bool contrast = false, although = false;
        int shape = rng.NextInt(10);
        if (shape < 5)
        {
            first = second = Clause(rng, positive, words);
        }
        else if (shape < 7)
        {
            // Two clauses that agree.
            first = Clause(rng, positive, words);
            words.Add("and");
            second = Clause(rng, positive, words);
        }
        else if (shape < 9)
        {
            // "A but B": B decides.
            contrast = true;
            first = Clause(rng, !positive, words);
            if (rng.NextInt(2) == 0) words.Add(",");
            words.Add("but");
            second = Clause(rng, positive, words);
        }
        else
        {
            // "although A, B": B decides.
            contrast = although = true;
            words.Add("although");
            first = Clause(rng, !positive, words);
            words.Add(",");
            second = Clause(rng, positive, words);
        }
        if (rng.NextInt(2) == 0) words.Add(".");

        // The held-out rules, in the order of HeldOutStructure; the first that applies names the review's.
        HeldOutStructure heldOut =
            first == ClauseKind.NeverVerb || second == ClauseKind.NeverVerb ? HeldOutStructure.NeverVerb
            : contrast && IsClauseNegated(second) ? HeldOutStructure.ClauseNegationDecidesContrast
            : although && IsPhraseNegated(second) ? HeldOutStructure.PhraseNegationAfterAlthough
            : first == ClauseKind.ClauseNegationOfExcess || second == ClauseKind.ClauseNegationOfExcess ? HeldOutStructure.ClauseNegationOfExcess
            : HeldOutStructure.None;
        return new Review(words.ToArray(), positive, IsNegated(first) || IsNegated(second), contrast, heldOut);
    }

    /// <summary>Appends one clause of the given polarity; returns its kind.</summary>
    private static ClauseKind Clause(Rng rng, bool positive, List<string> words)
    {
        // Plain adjectives are the most common clause, so single words do carry signal (a bag of words gets most plain
        // reviews right); negation and "too" are frequent enough to learn but flip or override that signal.
        int kind = rng.NextInt(20);
        if (kind < 7)
        {
            // "the plot was (really) clever"
            AdjectiveClause(rng, positive, words);
            return ClauseKind.Adjective;
        }
        if (kind < 11)
        {
            // "the plot was not clever", "was not bad at all", "was never boring", "was hardly funny"
            Subject(rng, words);
            words.Add(Pick(rng, ["was", "is"]));
            string negator = Pick(rng, ["not", "not", "never", "hardly"]);
            words.Add(negator);
            words.Add(Adjective(rng, !positive));
            if (negator == "not" && rng.NextInt(3) == 0) words.AddRange(["at", "all"]);
            return ClauseKind.NegatedAdjective;
        }
        if (kind < 14)
        {
            // "the ending was (a bit) too long" (negative), "the ending was not too long" (positive)
            ExcessClause(rng, positive, words);
            return positive ? ClauseKind.NegatedExcess : ClauseKind.Excess;
        }
        if (kind < 17)
        {
            // "i loved the music", "i hated it", "i did not enjoy the acting", "i never enjoyed the acting"
            words.Add("i");
            ClauseKind verb = ClauseKind.Verb;
            if (positive)
            {
                words.Add(Pick(rng, PositiveVerbs));
            }
            else
            {
                switch (rng.NextInt(4))
                {
                    case 0:
                    case 1:
                        words.Add(Pick(rng, NegativeVerbs));
                        break;
                    case 2:
                        words.AddRange(["did", "not", Pick(rng, PositiveVerbBases)]);
                        verb = ClauseKind.NegatedVerb;
                        break;
                    default:
                        words.AddRange(["never", Pick(rng, PositiveVerbs)]);
                        verb = ClauseKind.NeverVerb;
                        break;
                }
            }
            if (rng.NextInt(3) == 0) words.Add("it");
            else Subject(rng, words);
            return verb;
        }
        // Whole-clause negation: "i would not say the plot was clever" (negative), "... was boring" (positive),
        // "... the ending was too long" (positive), "... was not too long" is not generated (a double negation).
        words.AddRange(Pick(rng, ClauseNegations));
        if (positive && rng.NextInt(2) == 0)
        {
            ExcessClause(rng, positive: false, words);
            return ClauseKind.ClauseNegationOfExcess;
        }
        AdjectiveClause(rng, !positive, words);
        return ClauseKind.ClauseNegation;
    }

    private static void AdjectiveClause(Rng rng, bool positive, List<string> words)
    {
        Subject(rng, words);
        words.Add(Pick(rng, ["was", "is"]));
        if (rng.NextInt(2) == 0) words.Add(Pick(rng, Intensifiers));
        words.Add(Adjective(rng, positive));
    }

    private static void ExcessClause(Rng rng, bool positive, List<string> words)
    {
        Subject(rng, words);
        words.Add(Pick(rng, ["was", "is"]));
        if (positive) words.Add("not");
        else if (rng.NextInt(3) == 0) words.AddRange(["a", "bit"]);
        words.Add("too");
        words.Add(Pick(rng, Excess));
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
        Add(ClauseNegations.SelectMany(c => c));
        Add(Openers.SelectMany(o => o));
        return words;
    }
}
