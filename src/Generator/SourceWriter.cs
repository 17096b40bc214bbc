using System;
using System.Text;

namespace RnnGen.Generator;

/// <summary>A minimal indenting text writer for generated source.</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _builder = new();
    private int _indent;

    public void Line(string text = "")
    {
        if (text.Length > 0) _builder.Append(' ', 4 * _indent).Append(text);
        _builder.Append('\n');
    }

    /// <summary>Writes <paramref name="header"/> (none for a bare block) and an opening brace, then indents.</summary>
    public void Open(string header)
    {
        if (header.Length > 0) Line(header);
        Line("{");
        _indent++;
    }

    public void Close(string suffix = "")
    {
        _indent--;
        if (_indent < 0) throw new InvalidOperationException("Unbalanced Close.");
        Line("}" + suffix);
    }

    public void Comment(string text) => Line("// " + text);

    public void Indent() => _indent++;

    public void Unindent() => _indent--;

    public override string ToString() => _builder.ToString();
}
