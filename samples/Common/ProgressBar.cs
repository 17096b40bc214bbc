using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text;

namespace RnnGen.Samples;

/// <summary>
/// A single-line progress display for training loops: a bar, the position (step/total, or elapsed/time budget),
/// the ETA and fields the caller supplies (loss, chars/s, ...).
/// </summary>
/// <remarks>
/// <para>
/// On an interactive console the line is redrawn in place with '\r' at most every <see cref="RedrawInterval"/>, cut
/// to the console width so it never wraps. When the output is redirected (a file, a pipe, a CI log), or the writer is
/// not the console, it prints a plain line every <see cref="PlainInterval"/> instead, so logs stay readable.
/// </para>
/// <para>
/// Write other messages through <see cref="WriteLine"/> while the bar is shown: it clears the bar first and redraws
/// it after. Call <see cref="Finish"/> (or dispose) at the end to leave the last state on its own line.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// using var bar = new ProgressBar(Console.Out, totalSteps: 1000);
/// for (int step = 1; step &lt;= 1000; step++)
/// {
///     float loss = TrainStep();
///     if (bar.IsDue) bar.Update(step, ("loss", loss.ToString("F3")));
/// }
/// bar.Finish();
/// </code>
/// </example>
public sealed class ProgressBar : IDisposable
{
    private const int FallbackWidth = 100;
    private const int BarWidth = 20;

    private readonly TextWriter _writer;
    private readonly Stopwatch _clock;
    private readonly StringBuilder _line = new();
    private TimeSpan? _lastDraw;
    private int _drawnLength;
    private long _step;
    private (string Name, string Value)[] _fields = [];
    private bool _finished;

    /// <summary>Creates a progress display.</summary>
    /// <param name="writer">Where to write; usually <see cref="Console.Out"/>.</param>
    /// <param name="totalSteps">The number of steps, or 0 when the run is bounded by <paramref name="timeBudget"/> only.</param>
    /// <param name="timeBudget">The time budget, or null. With both, progress is whichever is further along.</param>
    /// <param name="live">
    /// Redraw in place (true) or print plain lines (false); by default live only when <paramref name="writer"/> is
    /// <see cref="Console.Out"/> and the output is not redirected.
    /// </param>
    /// <param name="clock">A running stopwatch to measure elapsed time with (one is started when null).</param>
    public ProgressBar(TextWriter writer, long totalSteps = 0, TimeSpan? timeBudget = null, bool? live = null, Stopwatch? clock = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentOutOfRangeException.ThrowIfNegative(totalSteps);
        if (timeBudget is { } budget && budget < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeBudget), budget, "The time budget must not be negative.");
        _writer = writer;
        TotalSteps = totalSteps;
        TimeBudget = timeBudget is { } b && b > TimeSpan.Zero ? b : null;
        Live = live ?? (ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected);
        _clock = clock ?? Stopwatch.StartNew();
    }

    /// <summary>The total number of steps, 0 when unknown.</summary>
    public long TotalSteps { get; }

    /// <summary>The time budget, if any.</summary>
    public TimeSpan? TimeBudget { get; }

    /// <summary>Whether the line is redrawn in place.</summary>
    public bool Live { get; }

    /// <summary>Least time between two redraws of a live bar.</summary>
    public TimeSpan RedrawInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Least time between two plain lines when not live.</summary>
    public TimeSpan PlainInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Time since the bar was created (or since the given clock started).</summary>
    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>
    /// Whether an <see cref="Update"/> now would draw anything; check it first to skip formatting the fields when
    /// the bar would not be redrawn anyway.
    /// </summary>
    public bool IsDue => !_finished && (_lastDraw is not { } last || _clock.Elapsed - last >= (Live ? RedrawInterval : PlainInterval));

    /// <summary>How far along the run is, in [0, 1]: the larger of step/total and elapsed/budget (0 when neither is known).</summary>
    public double Fraction
    {
        get
        {
            double fraction = 0;
            if (TotalSteps > 0) fraction = (double)_step / TotalSteps;
            if (TimeBudget is { } budget) fraction = Math.Max(fraction, _clock.Elapsed / budget);
            return Math.Clamp(fraction, 0, 1);
        }
    }

    /// <summary>Records the current step and fields, and draws them if <see cref="IsDue"/>.</summary>
    /// <param name="step">Steps done so far.</param>
    /// <param name="fields">Name/value pairs shown after the position, e.g. ("loss", "1.234").</param>
    public void Update(long step, params ReadOnlySpan<(string Name, string Value)> fields)
    {
        Record(step, fields);
        if (IsDue) Draw();
    }

    /// <summary>Like <see cref="Update"/>, but draws now whatever the interval.</summary>
    public void Redraw(long step, params ReadOnlySpan<(string Name, string Value)> fields)
    {
        Record(step, fields);
        if (!_finished) Draw();
    }

    /// <summary>Writes a message on its own line, keeping the live bar below it.</summary>
    public void WriteLine(string message)
    {
        if (Live && _drawnLength > 0 && !_finished)
        {
            Clear();
            _writer.WriteLine(message);
            Draw();
        }
        else
        {
            _writer.WriteLine(message);
        }
    }

    /// <summary>Draws the last state once more and ends its line; later calls do nothing.</summary>
    public void Finish()
    {
        if (_finished) return;
        Draw();
        if (Live) _writer.WriteLine();
        _writer.Flush();
        _finished = true;
    }

    /// <summary>Same as <see cref="Finish"/>.</summary>
    public void Dispose() => Finish();

    /// <summary>The text of the line as it would be drawn now (no '\r', not cut to the console width).</summary>
    public string Render()
    {
        TimeSpan elapsed = _clock.Elapsed;
        double fraction = Fraction;
        _line.Clear();
        int filled = (int)Math.Round(fraction * BarWidth);
        _line.Append('[').Append('#', filled).Append('.', BarWidth - filled).Append("] ");
        _line.Append(((int)Math.Floor(fraction * 100)).ToString(CultureInfo.InvariantCulture).PadLeft(3)).Append("% ");
        _line.Append("step ").Append(_step.ToString(CultureInfo.InvariantCulture));
        if (TotalSteps > 0) _line.Append('/').Append(TotalSteps.ToString(CultureInfo.InvariantCulture));
        _line.Append(' ').Append(FormatDuration(elapsed));
        if (TimeBudget is { } budget) _line.Append('/').Append(FormatDuration(budget));
        if (fraction > 0 && fraction < 1 && elapsed > TimeSpan.FromSeconds(1))
        {
            TimeSpan remaining = elapsed * ((1 - fraction) / fraction);
            _line.Append(" ETA ").Append(FormatDuration(remaining));
        }
        foreach ((string name, string value) in _fields) _line.Append(" | ").Append(name).Append(' ').Append(value);
        return _line.ToString();
    }

    /// <summary>A duration as "42s", "3m05s" or "2h03m".</summary>
    public static string FormatDuration(TimeSpan duration)
    {
        if (duration < TimeSpan.Zero) duration = TimeSpan.Zero;
        if (duration.TotalSeconds < 60) return ((int)duration.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s";
        if (duration.TotalMinutes < 60) return $"{(int)duration.TotalMinutes}m{duration.Seconds:00}s";
        return $"{(int)duration.TotalHours}h{duration.Minutes:00}m";
    }

    private void Record(long step, ReadOnlySpan<(string Name, string Value)> fields)
    {
        _step = step;
        if (_fields.Length != fields.Length) _fields = new (string, string)[fields.Length];
        fields.CopyTo(_fields);
    }

    private void Draw()
    {
        string text = Render();
        _lastDraw = _clock.Elapsed;
        if (!Live)
        {
            _writer.WriteLine(text);
            _writer.Flush();
            return;
        }
        // Stay one column short of the width: writing the last column makes some terminals wrap.
        int width = ConsoleWidth() - 1;
        if (text.Length > width) text = text.Substring(0, Math.Max(0, width));
        _writer.Write('\r');
        _writer.Write(text);
        if (_drawnLength > text.Length) _writer.Write(new string(' ', _drawnLength - text.Length));
        _drawnLength = text.Length;
        _writer.Flush();
    }

    private void Clear()
    {
        _writer.Write('\r');
        _writer.Write(new string(' ', _drawnLength));
        _writer.Write('\r');
        _drawnLength = 0;
    }

    private static int ConsoleWidth()
    {
        try
        {
            int width = Console.WindowWidth;
            return width > 10 ? width : FallbackWidth;
        }
        catch (Exception e) when (e is IOException or PlatformNotSupportedException or InvalidOperationException or ArgumentOutOfRangeException)
        {
            return FallbackWidth;
        }
    }
}
