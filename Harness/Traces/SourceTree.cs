using VmaLockVerify.Implementation.Kernel;

namespace VmaLockVerify.Harness.Traces;

/// <summary>The checkout the port's source lines (<see cref="SourceLine"/>) are relative to.</summary>
public static class SourceTree
{
    /// <summary>The file that marks the repository root.</summary>
    public const string Marker = "VmaLockVerify.sln";

    /// <summary>
    /// The folder holding <see cref="Marker"/> at or above where vmalock runs from (its build
    /// output lives inside the checkout), or null when it runs from elsewhere.
    /// </summary>
    public static string? FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, Marker)))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
