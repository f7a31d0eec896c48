namespace VmaLockVerify.Harness.Exploration;

/// <summary>The process exit codes of vmalock, one meaning each.</summary>
public static class ExitCodes
{
    /// <summary>Explored and found nothing; regenerate succeeded.</summary>
    public const int Clean = 0;

    /// <summary>explore found a bug (a trace was written); replay reproduced the recorded bug.</summary>
    public const int BugFound = 1;

    /// <summary>Bad options or names, a missing or malformed trace file.</summary>
    public const int BadInput = 2;

    /// <summary>The harness cannot run honestly: assemblies not rewritten, uncontrolled concurrency.</summary>
    public const int NotHonest = 3;

    /// <summary>The trace no longer replays against this code: it must be regenerated.</summary>
    public const int StaleTrace = 4;
}

/// <summary>A problem to report as one line with its exit code.</summary>
public sealed class HarnessException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    /// <summary>A value an error line quotes, cut to <paramref name="max"/> characters so a huge one keeps the line readable.</summary>
    public static string Shorten(string text, int max = 60) => text.Length <= max ? text : $"{text[..(max - 3)]}...";
}
