using System.Runtime.CompilerServices;

namespace VmaLockVerify.Implementation.Kernel;

/// <summary>
/// Text for the trace, formatted only while a trace is being recorded. A kernel function's
/// arguments and a choice's description are written as interpolated strings at the call
/// (<c>world.Enter("vma_start_read", $"{mm.Name}, {vma.Name}")</c>); with this handler the
/// compiler skips every hole when <see cref="KernelWorld.Recording"/> is false, so exploration,
/// which records nothing, builds none of those strings.
/// </summary>
[InterpolatedStringHandler]
public ref struct TraceText
{
    private DefaultInterpolatedStringHandler text;
    private readonly bool recording;

    public TraceText(int literalLength, int formattedCount, KernelWorld world, out bool shouldAppend)
    {
        this.recording = shouldAppend = world.Recording;
        this.text = shouldAppend ? new DefaultInterpolatedStringHandler(literalLength, formattedCount) : default;
    }

    public void AppendLiteral(string value) => this.text.AppendLiteral(value);

    public void AppendFormatted(string? value) => this.text.AppendFormatted(value);

    public void AppendFormatted<T>(T value) => this.text.AppendFormatted(value);

    public void AppendFormatted<T>(T value, string? format) => this.text.AppendFormatted(value, format);

    public void AppendFormatted<T>(T value, int alignment) => this.text.AppendFormatted(value, alignment);

    /// <summary>The text; empty when nothing records (no hole was formatted).</summary>
    public string ToStringAndClear() => this.recording ? this.text.ToStringAndClear() : string.Empty;
}
