using System;
using System.Collections.Generic;
using System.Globalization;

namespace RnnGen.Samples.Translate;

/// <summary>One sentence pair: English number words and the number's digits.</summary>
/// <param name="Number">The number.</param>
/// <param name="Words">e.g. ["three", "hundred", "and", "twelve"].</param>
/// <param name="Digits">e.g. ["3", "1", "2"].</param>
public sealed record NumberPair(int Number, string[] Words, string[] Digits)
{
    /// <summary>The source sentence as text.</summary>
    public string Source => string.Join(' ', Words);

    /// <summary>The target sentence as text.</summary>
    public string Target => string.Join(' ', Digits);
}

/// <summary>
/// A small parallel corpus made on the fly: numbers from 0 to 999,999 written in British English words ("three hundred
/// and twelve", "forty thousand and six") and as digits ("3 1 2", "4 0 0 0 6"). Translating one into the other needs
/// word order and structure, not a word-for-word table: "hundred" and "thousand" become a number of digits, missing
/// tens and units become zeros, "and" becomes nothing, and "twelve" becomes two digits.
/// </summary>
public static class NumberCorpus
{
    /// <summary>Longest numbers the words can express here (999,999).</summary>
    public const int MaxDigits = 6;

    private static readonly string[] Units =
    [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
        "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
    ];

    private static readonly string[] Tens = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];

    /// <summary>Every source word, in a fixed order (the source vocabulary).</summary>
    public static IReadOnlyList<string> SourceWords { get; } = [.. Units, .. Tens[2..], "hundred", "thousand", "and"];

    /// <summary>Every target word: the ten digits (the target vocabulary).</summary>
    public static IReadOnlyList<string> TargetWords { get; } = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    /// <summary>The words of <paramref name="number"/>, in [0, 999,999].</summary>
    /// <exception cref="ArgumentOutOfRangeException">The number is out of range.</exception>
    public static string[] ToWords(int number)
    {
        if (number is < 0 or > 999_999) throw new ArgumentOutOfRangeException(nameof(number), number, "Expected a number from 0 to 999,999.");
        if (number == 0) return ["zero"];
        var words = new List<string>(12);
        int thousands = number / 1000, rest = number % 1000;
        if (thousands > 0)
        {
            BelowThousand(thousands, words);
            words.Add("thousand");
            // "three thousand and six", but "three thousand one hundred and six".
            if (rest is > 0 and < 100) words.Add("and");
        }
        if (rest > 0) BelowThousand(rest, words);
        return words.ToArray();
    }

    /// <summary>The digits of <paramref name="number"/> as separate words.</summary>
    public static string[] ToDigits(int number)
    {
        string text = number.ToString(CultureInfo.InvariantCulture);
        var digits = new string[text.Length];
        for (int i = 0; i < text.Length; i++) digits[i] = text[i].ToString();
        return digits;
    }

    /// <summary>The pair of <paramref name="number"/>.</summary>
    public static NumberPair Pair(int number) => new(number, ToWords(number), ToDigits(number));

    /// <summary>
    /// <paramref name="trainCount"/> training and <paramref name="testCount"/> held-out pairs of distinct numbers with 1
    /// to <paramref name="maxDigits"/> digits, each list in random order, deterministic for a seed. The digit count of
    /// each draw is uniform, so short numbers are not swamped by the many long ones (until they run out).
    /// </summary>
    /// <remarks>
    /// Which numbers are held out does not depend on the seed or the counts: a fixed hash of the number decides
    /// (<see cref="IsHeldOut"/>, one number in four). So a saved model evaluated with other --train, --test or --seed
    /// values is still never tested on a number it was trained on.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">maxDigits is out of range, or more numbers are asked for than its split has (see <see cref="Available"/>).</exception>
    public static (List<NumberPair> Train, List<NumberPair> Test) Generate(int trainCount, int testCount, int maxDigits, ulong seed)
    {
        (int trainAvailable, int testAvailable) = Available(maxDigits);
        if (trainCount < 1 || trainCount > trainAvailable)
            throw new ArgumentOutOfRangeException(nameof(trainCount), trainCount, $"trainCount must be from 1 to {trainAvailable:N0} (the training share of the numbers with at most {maxDigits} digit(s)).");
        if (testCount < 1 || testCount > testAvailable)
            throw new ArgumentOutOfRangeException(nameof(testCount), testCount, $"testCount must be from 1 to {testAvailable:N0} (the held-out share of the numbers with at most {maxDigits} digit(s)).");
        var rng = new Rng(seed);
        var seen = new HashSet<int>();
        var train = new List<NumberPair>(trainCount);
        var test = new List<NumberPair>(testCount);
        bool Take(int number)
        {
            if (!seen.Add(number)) return false;
            if (IsHeldOut(number))
            {
                if (test.Count < testCount) test.Add(Pair(number));
            }
            else if (train.Count < trainCount)
            {
                train.Add(Pair(number));
            }
            return train.Count == trainCount && test.Count == testCount;
        }

        bool full = false;
        for (long attempt = 0; !full && attempt < 20L * (trainCount + testCount); attempt++)
        {
            int digits = 1 + rng.NextInt(maxDigits);
            int low = digits == 1 ? 0 : Power10(digits - 1);
            full = Take(low + rng.NextInt(Power10(digits) - low));
        }
        if (!full)
        {
            // Nearly every number is wanted: a shuffled enumeration of the rest is quicker than more rejections.
            var rest = new List<int>();
            for (int n = 0; n < Power10(maxDigits); n++)
            {
                if (!seen.Contains(n)) rest.Add(n);
            }
            Shuffle(rest, rng);
            for (int i = 0; !full; i++) full = Take(rest[i]);
        }
        // Short numbers run out first, so late draws are mostly long ones: shuffle, so that any prefix has the same mix.
        Shuffle(train, rng);
        Shuffle(test, rng);
        return (train, test);
    }

    /// <summary>How many numbers with at most <paramref name="maxDigits"/> digits are in the training and in the held-out split.</summary>
    /// <exception cref="ArgumentOutOfRangeException">maxDigits is not from 1 to <see cref="MaxDigits"/>.</exception>
    public static (int Train, int Test) Available(int maxDigits)
    {
        if (maxDigits is < 1 or > MaxDigits) throw new ArgumentOutOfRangeException(nameof(maxDigits), maxDigits, $"maxDigits must be from 1 to {MaxDigits}.");
        int total = Power10(maxDigits), test = 0;
        for (int n = 0; n < total; n++)
        {
            if (IsHeldOut(n)) test++;
        }
        return (total - test, test);
    }

    /// <summary>Whether a number belongs to the held-out split: a fixed hash (SplitMix64's finalizer) of it, one in four.</summary>
    public static bool IsHeldOut(int number)
    {
        ulong z = (ulong)number + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return z % 4 == 0;
    }

    private static int Power10(int exponent)
    {
        int result = 1;
        for (int i = 0; i < exponent; i++) result *= 10;
        return result;
    }

    private static void Shuffle<T>(List<T> items, Rng rng)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private static void BelowThousand(int number, List<string> words)
    {
        int hundreds = number / 100, rest = number % 100;
        if (hundreds > 0)
        {
            words.Add(Units[hundreds]);
            words.Add("hundred");
            if (rest > 0) words.Add("and");
        }
        if (rest == 0) return;
        if (rest < 20)
        {
            words.Add(Units[rest]);
            return;
        }
        words.Add(Tens[rest / 10]);
        if (rest % 10 > 0) words.Add(Units[rest % 10]);
    }
}
