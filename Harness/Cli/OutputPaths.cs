using VmaLockVerify.Harness.Exploration;

namespace VmaLockVerify.Harness.Cli;

/// <summary>
/// The files and folders a verb will write, checked before any exploration starts, so that a bad
/// path is one line naming the option (exit 2) instead of a failure after the whole run that
/// throws its results away; and the writes themselves, which name the option if they still fail.
/// </summary>
public static class OutputPaths
{
    /// <summary>
    /// <paramref name="path"/> (given with <paramref name="option"/>; null: not given) can be
    /// written as a file: not empty, not a directory, in a directory that exists, and writable
    /// (probed by opening it, or by creating and removing it when it does not exist yet).
    /// </summary>
    public static void CheckFile(string option, string? path)
    {
        if (path is null)
        {
            return;
        }

        var full = FullPath(option, path);
        if (Directory.Exists(full))
        {
            throw Bad(option, path, "is a directory, not a file");
        }

        if (Path.GetDirectoryName(full) is { } directory && !Directory.Exists(directory))
        {
            throw Bad(option, path, $"directory {directory} does not exist");
        }

        Write(option, path, () =>
        {
            if (File.Exists(full))
            {
                using var existing = new FileStream(full, FileMode.Open, FileAccess.Write);
            }
            else
            {
                using (new FileStream(full, FileMode.CreateNew, FileAccess.Write))
                {
                }

                File.Delete(full);
            }
        });
    }

    /// <summary>
    /// <paramref name="path"/> can hold files: an existing, writable directory, or one that can be
    /// created (probed by creating it and removing what the probe created).
    /// </summary>
    public static void CheckDirectory(string option, string path)
    {
        var full = FullPath(option, path);
        if (File.Exists(full))
        {
            throw Bad(option, path, "is a file, not a directory");
        }

        var missing = new List<string>();
        for (var dir = full; !Directory.Exists(dir); dir = Path.GetDirectoryName(dir)!)
        {
            if (File.Exists(dir))
            {
                throw Bad(option, path, $"{dir} is a file, not a directory");
            }

            missing.Add(dir);
        }

        Write(option, path, () =>
        {
            Directory.CreateDirectory(full);
            var probe = Path.Combine(full, $".vmalock-probe-{Environment.ProcessId}");
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }

            // Another process checking or writing the same new folder at the same moment may have
            // put something in it (or removed it): what it holds then is not the probe's to remove.
            foreach (var created in missing)
            {
                try
                {
                    Directory.Delete(created);
                }
                catch (IOException) when (!Directory.Exists(created) || Directory.EnumerateFileSystemEntries(created).Any())
                {
                }
            }
        });
    }

    /// <summary>Performs a write (or a probe) of <paramref name="option"/>'s path; a failure is one line naming the option (exit 2).</summary>
    public static void Write(string option, string path, Action write)
    {
        try
        {
            write();
        }
        catch (Exception e) when (IsPathProblem(e))
        {
            throw Bad(option, path, $"cannot be written: {e.Message}");
        }
    }

    private static string FullPath(string option, string path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new HarnessException(ExitCodes.BadInput, $"{option} needs a path, not an empty string");
        }

        try
        {
            return Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        }
        catch (Exception e) when (IsPathProblem(e))
        {
            throw Bad(option, path, $"not a usable path ({e.Message})");
        }
    }

    private static bool IsPathProblem(Exception e) =>
        e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException or System.Security.SecurityException;

    private static HarnessException Bad(string option, string path, string problem) =>
        new(ExitCodes.BadInput, $"{option} {HarnessException.Shorten(path, 120)}: {problem}");
}
