using System.Reflection;
using Microsoft.Coyote.Rewriting;

namespace VmaLockVerify.Harness.Exploration;

/// <summary>
/// Refuses to explore unless every assembly whose code runs under the controlled scheduler has been
/// rewritten by `coyote rewrite` (the build does it): unrewritten code would run with real
/// concurrency that Coyote neither controls nor records, so "no bug found" would mean nothing.
/// </summary>
public static class RewriteCheck
{
    /// <summary>The assemblies that run under the scheduler: the Spec, the port, the monitors, the scenarios.</summary>
    public static IReadOnlyList<Assembly> ControlledAssemblies { get; } =
    [
        typeof(Spec.ProtocolSpec).Assembly,
        typeof(Implementation.Kernel.KernelWorld).Assembly,
        typeof(Invariants.InvariantMonitor).Assembly,
        typeof(RewriteCheck).Assembly,
    ];

    /// <summary>The names of the assemblies in the list that are not rewritten.</summary>
    public static IReadOnlyList<string> FindUnrewritten(IEnumerable<Assembly> assemblies) =>
        assemblies.Where(a => !RewritingEngine.IsAssemblyRewritten(a)).Select(a => a.GetName().Name ?? a.FullName ?? "?").ToList();

    /// <summary>Throws (exit 3) if any controlled assembly is not rewritten.</summary>
    public static void EnsureRewritten(IEnumerable<Assembly> assemblies)
    {
        var missing = FindUnrewritten(assemblies);
        if (missing.Count > 0)
        {
            throw new HarnessException(
                ExitCodes.NotHonest,
                $"not rewritten for Coyote: {string.Join(", ", missing)} (run the rewritten copy in bin/<configuration>/net10.0-rewritten/, which 'dotnet build' makes with 'coyote rewrite'); refusing to explore uncontrolled code");
        }
    }
}
