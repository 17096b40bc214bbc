using System;
using System.Collections.Generic;

namespace RnnGen.Samples.Tagger;

/// <summary>
/// A small tagged corpus generated from an English-like grammar, for running the sample without data: sentences such
/// as "My dog ate the assignment ." with their Universal POS tags, tagged the way UD English tags them (possessives
/// and "that" as an object are PRON, copulas and modals AUX, infinitival "to" PART). Always the same sentences.
/// </summary>
/// <remarks>
/// <para>
/// What makes it a tagging problem rather than a lookup: many words take their tag from the context — "the run" /
/// "they run", "the book" / "we book", "the walks" / "she walks", "that book" / "said that" / "saw that", "to the park"
/// / "wanted to play", "a can of beans" / "we can swim", "after dinner" / "after they ate", "like a bird" / "they
/// like", "a fast car" / "ran fast", "Well ," / "slept well".
/// </para>
/// <para>
/// And unknown words: about one slot in eight is filled with an invented word built from a nonsense stem and a
/// suffix that gives its tag away (-ly adverbs, -ed and -ing verbs, -ness/-tion/-ment nouns, -ful/-ous/-ish/-able
/// adjectives, capitalized names), in positions where the context alone does not decide (after "was": an -ing verb or
/// an adjective; after a subject: an -ed verb or an -ly adverb). The training split and the dev split draw their stems
/// from two disjoint sets, so every invented word of the dev split is unseen in training and only its spelling and
/// context can tag it, which is what the character model is for. Numbers written in digits are mostly unseen too.
/// </para>
/// </remarks>
public static class SyntheticTreebank
{
    /// <summary>Sentences in the default training split.</summary>
    public const int DefaultTrainSentences = 4000;

    /// <summary>Sentences in the default dev split.</summary>
    public const int DefaultDevSentences = 800;

    private const ulong Seed = 20250301;

    /// <summary>Generates the training and dev splits, the same sentences on every call with the same sizes.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    public static (List<TaggedSentence> Train, List<TaggedSentence> Dev) Generate(int trainSentences = DefaultTrainSentences, int devSentences = DefaultDevSentences)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(trainSentences);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(devSentences);
        (string[] trainStems, string[] devStems) = MakeStems(new Rng(Seed));
        // Separate streams: the dev split does not change when the training split grows.
        List<TaggedSentence> train = new Writer(new Rng(Seed + 1), trainStems).Sentences(trainSentences);
        List<TaggedSentence> dev = new Writer(new Rng(Seed + 2), devStems).Sentences(devSentences);
        return (train, dev);
    }

    // Tag ids (UniversalTags order).
    private const int Adj = 0, Adp = 1, Adv = 2, Aux = 3, Cconj = 4, Det = 5, Intj = 6, Noun = 7, Num = 8, Part = 9, Pron = 10, Propn = 11, Punct = 12, Sconj = 13, Verb = 15;

    /// <summary>A verb's forms and how it is used; <see cref="AlsoNoun"/> verbs double as nouns ("the run", "two walks").</summary>
    private sealed record VerbForms(string Base, string Past, string Ing, string Third, bool Transitive, bool AlsoNoun = false);

    private static readonly VerbForms[] Verbs =
    [
        // Noun-verb ambiguous words.
        new("run", "ran", "running", "runs", false, true),
        new("walk", "walked", "walking", "walks", false, true),
        new("play", "played", "playing", "plays", true, true),
        new("watch", "watched", "watching", "watches", true, true),
        new("book", "booked", "booking", "books", true, true),
        new("call", "called", "calling", "calls", true, true),
        new("drink", "drank", "drinking", "drinks", true, true),
        new("cook", "cooked", "cooking", "cooks", true, true),
        new("dance", "danced", "dancing", "dances", false, true),
        new("talk", "talked", "talking", "talks", false, true),
        new("swim", "swam", "swimming", "swims", false, true),
        new("visit", "visited", "visiting", "visits", true, true),
        new("park", "parked", "parking", "parks", true, true),
        new("paint", "painted", "painting", "paints", true, true),
        new("plan", "planned", "planning", "plans", true, true),
        new("dream", "dreamed", "dreaming", "dreams", false, true),
        new("jump", "jumped", "jumping", "jumps", false, true),
        new("smile", "smiled", "smiling", "smiles", false, true),
        new("light", "lit", "lighting", "lights", true, true),
        // Verbs only.
        new("eat", "ate", "eating", "eats", true),
        new("see", "saw", "seeing", "sees", true),
        new("take", "took", "taking", "takes", true),
        new("find", "found", "finding", "finds", true),
        new("write", "wrote", "writing", "writes", true),
        new("read", "read", "reading", "reads", true),
        new("love", "loved", "loving", "loves", true),
        new("like", "liked", "liking", "likes", true),
        new("open", "opened", "opening", "opens", true),
        new("clean", "cleaned", "cleaning", "cleans", true),
        new("carry", "carried", "carrying", "carries", true),
        new("bring", "brought", "bringing", "brings", true),
        new("make", "made", "making", "makes", true),
        new("help", "helped", "helping", "helps", true),
        new("finish", "finished", "finishing", "finishes", true),
        new("sleep", "slept", "sleeping", "sleeps", false),
        new("sit", "sat", "sitting", "sits", false),
        new("laugh", "laughed", "laughing", "laughs", false),
        new("arrive", "arrived", "arriving", "arrives", false),
        new("wait", "waited", "waiting", "waits", false),
    ];

    private static readonly string[] Nouns =
    [
        "dog", "cat", "teacher", "student", "assignment", "letter", "house", "garden", "river", "song", "friend", "dinner",
        "window", "table", "town", "computer", "bird", "apple", "tale", "picture", "door", "road", "car", "phone", "idea",
        "problem", "question", "answer", "box", "boat", "game", "bread", "soup", "bean", "morning", "doctor", "baby",
    ];

    private static readonly string[] Adjectives =
    [
        "big", "small", "happy", "old", "new", "red", "long", "quick", "lazy", "green", "quiet", "hungry", "tired", "warm",
        "cold", "strange", "fast", "little", "young", "bright",
    ];

    private static readonly string[] MannerAdverbs = ["quickly", "slowly", "happily", "quietly", "carefully", "loudly", "fast", "well", "badly"];
    private static readonly string[] PreverbAdverbs = ["often", "never", "always", "quickly", "slowly", "suddenly", "finally"];
    private static readonly string[] TimeAdverbs = ["yesterday", "today", "soon", "again", "later"];
    private static readonly string[] Prepositions = ["in", "on", "at", "with", "from", "under", "near", "behind", "after", "before", "like", "to"];
    private static readonly string[] Subordinators = ["because", "when", "if", "while", "after", "before"];
    private static readonly string[] Coordinators = ["and", "but", "or"];
    private static readonly string[] Modals = ["will", "can", "should", "must", "might", "could"];
    private static readonly string[] Determiners = ["the", "the", "the", "a", "this", "that", "every", "some", "no"];
    private static readonly string[] Possessives = ["my", "your", "his", "her", "our", "their"];
    private static readonly string[] ObjectPronouns = ["me", "you", "him", "her", "us", "them", "it", "that"];
    private static readonly string[] SayVerbs = ["said", "thought", "knew", "heard", "believed"];
    private static readonly string[] WantVerbs = ["wanted", "tried", "needed", "liked", "hoped", "planned"];
    private static readonly string[] Names = ["Anna", "Tom", "Maria", "Sam", "Lily", "Ben", "Paris", "London", "Rome", "Emma"];
    private static readonly string[] NumberWords = ["two", "three", "four", "five", "ten", "twenty"];
    private static readonly string[] Interjections = ["oh", "wow", "yes", "well", "hey"];

    private static readonly string[] NounSuffixes = ["ness", "tion", "ment"];
    private static readonly string[] AdjectiveSuffixes = ["ful", "ous", "ish", "able"];
    private static readonly string[] NameEndings = ["a", "o", "ia", "us", ""];

    /// <summary>Nonsense stems like "blork" or "snapim", split into a training set and a disjoint dev set.</summary>
    private static (string[] Train, string[] Dev) MakeStems(Rng rng)
    {
        string[] onsets = ["b", "bl", "br", "d", "dr", "f", "fl", "fr", "g", "gl", "gr", "k", "kl", "m", "n", "p", "pl", "pr", "sk", "sl", "sn", "sp", "st", "t", "tr", "v", "z", "zw"];
        string[] vowels = ["a", "e", "i", "o", "u", "oo", "ee", "ai"];
        string[] codas = ["b", "d", "g", "k", "m", "n", "p", "rk", "rp", "rt", "sh", "nd", "mp", "x", "z", "lt", "ng"];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string word in Nouns) seen.Add(word);
        foreach (string word in Adjectives) seen.Add(word);
        foreach (VerbForms verb in Verbs) seen.Add(verb.Base);
        var stems = new List<string>();
        while (stems.Count < 450)
        {
            string stem = Pick(rng, onsets) + Pick(rng, vowels) + Pick(rng, codas);
            if (rng.NextInt(3) == 0) stem += Pick(rng, vowels) + Pick(rng, codas);
            if (seen.Add(stem)) stems.Add(stem);
        }
        return (stems.GetRange(0, 300).ToArray(), stems.GetRange(300, 150).ToArray());
    }

    private static T Pick<T>(Rng rng, T[] items) => items[rng.NextInt(items.Length)];

    /// <summary>Grammatical person of a subject, for agreement ("I am", "she is", "they are"; "she runs", "they run").</summary>
    private enum Person
    {
        First,
        Third,
        Plural,
    }

    /// <summary>Writes sentences from one random stream, filling invented-word slots from one stem set.</summary>
    private sealed class Writer
    {
        /// <summary>Chance that a slot which can take an invented word gets one.</summary>
        private const int InventedOneIn = 8;

        private readonly Rng _rng;
        private readonly string[] _stems;
        private readonly List<string> _words = new();
        private readonly List<int> _tags = new();

        public Writer(Rng rng, string[] stems)
        {
            _rng = rng;
            _stems = stems;
        }

        public List<TaggedSentence> Sentences(int count)
        {
            var sentences = new List<TaggedSentence>(count);
            for (int i = 0; i < count; i++)
            {
                _words.Clear();
                _tags.Clear();
                Sentence();
                string first = _words[0];
                if (first != "I" && char.IsLower(first[0])) _words[0] = char.ToUpperInvariant(first[0]) + first.Substring(1);
                sentences.Add(new TaggedSentence(_words.ToArray(), _tags.ToArray()));
            }
            return sentences;
        }

        private void Add(string word, int tag)
        {
            _words.Add(word);
            _tags.Add(tag);
        }

        private int Roll(int n) => _rng.NextInt(n);

        private bool Invent() => Roll(InventedOneIn) == 0;

        private string Stem() => Pick(_rng, _stems);

        private void Sentence()
        {
            int shape = Roll(20);
            if (shape < 11)
            {
                Clause();
            }
            else if (shape < 14)
            {
                Clause();
                Add(Pick(_rng, Coordinators), Cconj);
                Clause();
            }
            else if (shape < 17)
            {
                Clause();
                Subordinate();
            }
            else if (shape < 19)
            {
                Subordinate();
                Add(",", Punct);
                Clause();
            }
            else
            {
                Add(Pick(_rng, Interjections), Intj);
                Add(",", Punct);
                Clause();
            }
            Add(Roll(10) switch { < 7 => ".", < 9 => "!", _ => "?" }, Punct);
        }

        /// <summary>"because they ran", "after the dog ate the apple".</summary>
        private void Subordinate()
        {
            Add(Pick(_rng, Subordinators), Sconj);
            Clause();
        }

        private void Clause()
        {
            Person person = Subject();
            switch (Roll(11))
            {
                case 0:
                case 1:
                    // Past tense: "ate the assignment", "ran to the park", "blicked the cat".
                    PastVerb(out bool transitive);
                    if (transitive) Object();
                    else if (Roll(2) == 0) Add(Pick(_rng, MannerAdverbs), Adv);
                    if (Roll(3) == 0) PrepositionalPhrase();
                    break;
                case 2:
                    // Modal: "can swim", "will not book the table".
                    Add(Pick(_rng, Modals), Aux);
                    if (Roll(4) == 0) Add("not", Part);
                    BaseVerbPhrase();
                    break;
                case 3:
                    // Present tense with agreement: "they run to the park", "she watches the birds".
                    VerbForms present = Pick(_rng, Verbs);
                    Add(person == Person.Third ? present.Third : present.Base, Verb);
                    if (present.Transitive) Object();
                    else if (Roll(2) == 0) PrepositionalPhrase();
                    break;
                case 4:
                    // Copula: "was happy", "is very tired", "were snarpful", "is in the garden".
                    Copula(person);
                    if (Roll(5) == 0) Add("not", Part);
                    int complement = Roll(4);
                    if (complement == 0) PrepositionalPhrase();
                    else
                    {
                        if (complement == 1) Add("very", Adv);
                        Adjective();
                    }
                    break;
                case 5:
                    // Progressive: "was eating the soup", "are glorping".
                    Copula(person);
                    if (Invent()) Add(Stem() + "ing", Verb);
                    else
                    {
                        VerbForms progressive = Pick(_rng, Verbs);
                        Add(progressive.Ing, Verb);
                        if (progressive.Transitive) Object();
                    }
                    break;
                case 6:
                    // "wanted to play the game": infinitival to is PART.
                    Add(Pick(_rng, WantVerbs), Verb);
                    Add("to", Part);
                    BaseVerbPhrase();
                    break;
                case 7:
                    // "said that they ran": that is SCONJ.
                    Add(Pick(_rng, SayVerbs), Verb);
                    if (Roll(3) > 0) Add("that", Sconj);
                    Clause();
                    break;
                case 8:
                    // Adverb before the verb: "quickly ate the apple", "snorply opened the door".
                    if (Invent()) Add(Stem() + "ly", Adv);
                    else Add(Pick(_rng, PreverbAdverbs), Adv);
                    PastVerb(out bool transitive8);
                    if (transitive8) Object();
                    break;
                case 9:
                    // "did not see the dog".
                    Add(person == Person.Third ? "does" : "did", Aux);
                    Add("not", Part);
                    BaseVerbPhrase();
                    break;
                default:
                    // Intransitive past and an adverb: "ran fast", "slept blorkly", "danced yesterday".
                    VerbForms intransitive = PickIntransitive();
                    Add(intransitive.Past, Verb);
                    if (Invent()) Add(Stem() + "ly", Adv);
                    else if (Roll(3) == 0) Add(Pick(_rng, TimeAdverbs), Adv);
                    else Add(Pick(_rng, MannerAdverbs), Adv);
                    break;
            }
            if (Roll(12) == 0) Add(Pick(_rng, TimeAdverbs), Adv);
        }

        private VerbForms PickIntransitive()
        {
            while (true)
            {
                VerbForms verb = Pick(_rng, Verbs);
                if (!verb.Transitive) return verb;
            }
        }

        private void PastVerb(out bool transitive)
        {
            if (Invent())
            {
                Add(Stem() + "ed", Verb);
                transitive = Roll(2) == 0;
                return;
            }
            VerbForms verb = Pick(_rng, Verbs);
            Add(verb.Past, Verb);
            transitive = verb.Transitive;
        }

        /// <summary>A base-form verb and its object: "play the game", "swim", "book a table".</summary>
        private void BaseVerbPhrase()
        {
            VerbForms verb = Pick(_rng, Verbs);
            Add(verb.Base, Verb);
            if (verb.Transitive) Object();
            else if (Roll(2) == 0) PrepositionalPhrase();
        }

        private void Copula(Person person)
        {
            bool past = Roll(2) == 0;
            string form = person switch
            {
                Person.First => past ? "was" : "am",
                Person.Third => past ? "was" : "is",
                _ => past ? "were" : "are",
            };
            Add(form, Aux);
        }

        private Person Subject()
        {
            int kind = Roll(20);
            if (kind < 7)
            {
                switch (Roll(7))
                {
                    case 0: Add("I", Pron); return Person.First;
                    case 1: Add("you", Pron); return Person.Plural;
                    case 2: Add("we", Pron); return Person.Plural;
                    case 3: Add("they", Pron); return Person.Plural;
                    case 4: Add("he", Pron); return Person.Third;
                    case 5: Add("she", Pron); return Person.Third;
                    default: Add("it", Pron); return Person.Third;
                }
            }
            if (kind < 17) return NounPhrase();
            Name();
            return Person.Third;
        }

        private void Object()
        {
            int kind = Roll(10);
            if (kind < 3) Add(Pick(_rng, ObjectPronouns), Pron);
            else if (kind < 9) NounPhrase();
            else Name();
        }

        private void Name()
        {
            if (Invent())
            {
                string stem = Stem();
                Add(char.ToUpperInvariant(stem[0]) + stem.Substring(1) + Pick(_rng, NameEndings), Propn);
            }
            else
            {
                Add(Pick(_rng, Names), Propn);
            }
        }

        /// <summary>"the dog", "my old phone", "two walks", "a can of beans", "the book on the table"; returns its person.</summary>
        private Person NounPhrase()
        {
            int kind = Roll(20);
            if (kind == 0)
            {
                Add(Roll(2) == 0 ? "a" : "the", Det);
                Add("can", Noun);
                Add("of", Adp);
                Add(Roll(2) == 0 ? "beans" : "soup", Noun);
                return Person.Third;
            }
            if (kind < 4)
            {
                Number();
                if (Roll(2) == 0) Adjective();
                Head(plural: true);
                return Person.Plural;
            }
            if (kind < 8) Add(Pick(_rng, Possessives), Pron);
            else Add(Pick(_rng, Determiners), Det);
            if (Roll(3) == 0) Adjective();
            bool plural = Roll(6) == 0;
            Head(plural);
            if (Roll(10) == 0) PrepositionalPhrase();
            return plural ? Person.Plural : Person.Third;
        }

        private void Head(bool plural)
        {
            if (Invent())
            {
                Add(Stem() + Pick(_rng, NounSuffixes) + (plural ? "s" : ""), Noun);
                return;
            }
            if (Roll(3) == 0)
            {
                // A noun-verb word used as a noun: "the run", "two books", "her dreams".
                VerbForms verb;
                do verb = Pick(_rng, Verbs);
                while (!verb.AlsoNoun);
                Add(plural ? verb.Third : verb.Base, Noun);
                return;
            }
            string noun = Pick(_rng, Nouns);
            Add(plural ? Plural(noun) : noun, Noun);
        }

        private static string Plural(string noun) => noun switch
        {
            "baby" => "babies",
            "box" => "boxes",
            _ => noun + "s",
        };

        private void Adjective()
        {
            if (Invent()) Add(Stem() + Pick(_rng, AdjectiveSuffixes), Adj);
            else Add(Pick(_rng, Adjectives), Adj);
        }

        private void Number()
        {
            if (Roll(2) == 0) Add(Pick(_rng, NumberWords), Num);
            else Add((2 + Roll(1999)).ToString(System.Globalization.CultureInfo.InvariantCulture), Num);
        }

        private void PrepositionalPhrase()
        {
            Add(Pick(_rng, Prepositions), Adp);
            if (Roll(5) == 0) Name();
            else NounPhrase();
        }
    }
}
