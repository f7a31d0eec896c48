using System.Reflection;
using System.Text.RegularExpressions;
using VmaLockVerify.Implementation.Locking;
using VmaLockVerify.Implementation.Port;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>One kernel function whose body differs between a generation's kernel and a mutant's.</summary>
/// <param name="Name">The kernel's name: "lock_vma_under_rcu".</param>
/// <param name="Base">The body the generation uses.</param>
/// <param name="Mutated">The body the mutant uses instead.</param>
public sealed record ReplacedFunction(string Name, MethodInfo Base, MethodInfo Mutated);

/// <summary>
/// Which body each kernel function has in a booted kernel class, read by reflection: the runtime's
/// own answer (the interface map's most specific implementation), so what it reports is what runs.
/// </summary>
public static partial class KernelFunctions
{
    /// <summary>The functions whose body differs between <paramref name="generation"/>'s kernel and <paramref name="mutant"/>'s, and the rw_semaphore operations the mutant's own rw_semaphore overrides.</summary>
    public static IReadOnlyList<ReplacedFunction> Replaced(Type generation, Type mutant, Type mutantFile)
    {
        var bases = Bodies(generation);
        var mutated = Bodies(mutant);
        var replaced = mutated.Values
            .Where(f => bases.TryGetValue(Id(f.Function), out var body) && !Same(body.Body, f.Body))
            .Select(f => new ReplacedFunction(KernelName(f.Function), bases[Id(f.Function)].Body, f.Body))
            .ToList();
        replaced.AddRange(
            from nested in mutantFile.GetNestedTypes(BindingFlags.Public | BindingFlags.NonPublic)
            where nested.IsSubclassOf(typeof(RwSemaphore))
            from method in nested.GetMethods(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
            where method.GetBaseDefinition().DeclaringType == typeof(RwSemaphore)
            select new ReplacedFunction(KernelName(method), method.GetBaseDefinition(), method));
        return replaced;
    }

    /// <summary>The functions <paramref name="patched"/>'s kernel has and <paramref name="generation"/>'s does not (a proposal's new functions), and the bodies it runs.</summary>
    public static IReadOnlyList<(string Name, MethodInfo Body)> Added(Type generation, Type patched)
    {
        var bases = Bodies(generation);
        // An interface's explicit overrides (Patch.VmaEndWrite) are methods of it too: only the
        // declarations (no '.' in the name) are functions.
        return [.. Bodies(patched).Where(f => !bases.ContainsKey(f.Key) && !f.Value.Function.Name.Contains('.', StringComparison.Ordinal))
            .Select(f => (KernelName(f.Value.Function), f.Value.Body))];
    }

    /// <summary>
    /// Every kernel function of <paramref name="kernel"/> (a <see cref="Booted"/> class) and the
    /// body it runs, by the function's <see cref="Id"/>.
    /// </summary>
    public static IReadOnlyDictionary<(Module Module, int Token), (MethodInfo Function, MethodInfo Body)> Bodies(Type kernel)
    {
        var bodies = new Dictionary<(Module, int), (MethodInfo, MethodInfo)>();
        foreach (var port in kernel.GetInterfaces().Where(i => typeof(Linux).IsAssignableFrom(i)))
        {
            var map = kernel.GetInterfaceMap(port);
            for (var i = 0; i < map.InterfaceMethods.Length; i++)
            {
                if (!map.InterfaceMethods[i].IsSpecialName)
                {
                    bodies[Id(map.InterfaceMethods[i])] = (map.InterfaceMethods[i], map.TargetMethods[i]);
                }
            }
        }

        return bodies;
    }

    /// <summary>
    /// A function's identity: its module and metadata token (a MethodInfo's equality depends on
    /// the type it was reflected from; tokens alone repeat across modules, and a proposal declares
    /// functions in vmalock's module, the port in the Implementation's).
    /// </summary>
    public static (Module Module, int Token) Id(MethodInfo function) => (function.Module, function.MetadataToken);

    /// <summary>Whether two methods are the same body.</summary>
    public static bool Same(MethodInfo a, MethodInfo b) => a.Module == b.Module && a.MetadataToken == b.MetadataToken;

    /// <summary>The kernel's name of a ported function: VmaStartRead → vma_start_read, __SplitVma → __split_vma.</summary>
    public static string KernelName(MethodInfo function)
    {
        var name = function.Name[(function.Name.LastIndexOf('.') + 1)..];
        return UpperCase().Replace(name, m => (m.Index == 0 || name[m.Index - 1] == '_' ? string.Empty : "_") + m.Value.ToLowerInvariant());
    }

    [GeneratedRegex("[A-Z]")]
    private static partial Regex UpperCase();
}
