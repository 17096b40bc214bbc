using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace RnnGen.Samples.Tagger;

/// <summary>A sentence as words and their Universal POS tag ids (<see cref="UniversalTags"/>), the same length.</summary>
public sealed record TaggedSentence(string[] Words, int[] Tags)
{
    /// <summary>The words as "word/TAG" pairs, e.g. for printing.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        for (int i = 0; i < Words.Length; i++)
        {
            if (i > 0) text.Append(' ');
            text.Append(Words[i]).Append('/').Append(UniversalTags.Name(Tags[i]));
        }
        return text.ToString();
    }
}

/// <summary>
/// Reads and writes the parts of CoNLL-U (https://universaldependencies.org/format.html) a POS tagger needs: column 2
/// (FORM) and column 4 (UPOS) of each word line. Comment lines (<c>#</c>), multi-word token lines (ids like
/// <c>3-4</c>: the surface token whose words follow on their own lines) and empty nodes (ids like <c>5.1</c>) are
/// skipped; a blank line ends a sentence.
/// </summary>
public static class Conllu
{
    /// <summary>Reads every sentence of a CoNLL-U file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">A word line has fewer than 4 columns or a tag that is not a UPOS tag; the message names the file and line.</exception>
    public static List<TaggedSentence> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"CoNLL-U file '{path}' not found (full path {Path.GetFullPath(path)}).", path);
        using var reader = new StreamReader(path, Encoding.UTF8);
        return Read(reader, path);
    }

    /// <summary>Reads every sentence from <paramref name="reader"/>; <paramref name="name"/> is used in error messages.</summary>
    /// <exception cref="InvalidDataException">A word line is malformed; the message names the line.</exception>
    public static List<TaggedSentence> Read(TextReader reader, string name)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var sentences = new List<TaggedSentence>();
        var words = new List<string>();
        var tags = new List<int>();
        int lineNumber = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (line.Length == 0 || string.IsNullOrWhiteSpace(line))
            {
                Flush();
                continue;
            }
            if (line[0] == '#') continue;
            string[] columns = line.Split('\t');
            if (columns.Length < 4)
                throw new InvalidDataException($"{name}:{lineNumber}: expected tab-separated CoNLL-U columns (at least ID, FORM, LEMMA, UPOS); found {columns.Length}.");
            string id = columns[0];
            if (id.Contains('-') || id.Contains('.')) continue; // multi-word token or empty node: not a word to tag
            if (!int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                throw new InvalidDataException($"{name}:{lineNumber}: '{id}' is not a word id (expected 1, 2, ..., or a range like 3-4 or an empty node like 5.1).");
            int tag = UniversalTags.Id(columns[3]);
            if (tag < 0)
                throw new InvalidDataException(
                    $"{name}:{lineNumber}: UPOS '{columns[3]}' of '{columns[1]}' is not one of the 17 Universal POS tags ({string.Join(" ", UniversalTags.Names)}).");
            words.Add(columns[1]);
            tags.Add(tag);
        }
        Flush();
        return sentences;

        void Flush()
        {
            if (words.Count == 0) return;
            sentences.Add(new TaggedSentence(words.ToArray(), tags.ToArray()));
            words.Clear();
            tags.Clear();
        }
    }

    /// <summary>Writes sentences as minimal CoNLL-U: ID, FORM and UPOS filled in, the other columns "_".</summary>
    public static void Write(TextWriter writer, IEnumerable<TaggedSentence> sentences)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(sentences);
        int number = 0;
        foreach (TaggedSentence sentence in sentences)
        {
            number++;
            writer.Write("# sent_id = ");
            writer.WriteLine(number.ToString(CultureInfo.InvariantCulture));
            writer.Write("# text = ");
            writer.WriteLine(string.Join(' ', sentence.Words));
            for (int i = 0; i < sentence.Words.Length; i++)
            {
                writer.Write((i + 1).ToString(CultureInfo.InvariantCulture));
                writer.Write('\t');
                writer.Write(sentence.Words[i]);
                writer.Write("\t_\t");
                writer.Write(UniversalTags.Name(sentence.Tags[i]));
                writer.WriteLine("\t_\t_\t_\t_\t_\t_");
            }
            writer.WriteLine();
        }
    }
}
