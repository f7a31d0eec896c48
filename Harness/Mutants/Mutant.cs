using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Port;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// One file that patches the port with whole kernel functions: an interface (Patch) that
/// overrides the functions it <see cref="Replaces"/> (and, for a proposal, declares those it
/// adds), and the kernel it makes on each generation it is for (<see cref="Kernels"/>): the
/// generation's kernel with the patch on top, which the compiler accepts only where the
/// generation still has the versions the patch replaces. A <see cref="Mutant"/> is expected to be
/// caught; a proposal (Harness/Proposals/) to be clean.
/// </summary>
public abstract class KernelPatch
{
    public abstract string Name { get; }

    /// <summary>One line: the change, in kernel terms.</summary>
    public abstract string Description { get; }

    /// <summary>Where it comes from: the kernel fix a mutant reverts, or the history it stands for; the thread a proposal was made in.</summary>
    public abstract string Origin { get; }

    /// <summary>
    /// The kernel functions whose bodies it replaces, as the kernel names them
    /// (<c>lock_vma_under_rcu</c>): exactly the functions whose version its kernels use differs
    /// from the generation's (a test checks it); <c>vmalock show</c> prints the difference.
    /// </summary>
    public abstract IReadOnlyList<string> Replaces { get; }

    /// <summary>The patched kernel on each generation the patch is for.</summary>
    public abstract IReadOnlyList<MutantKernel> Kernels { get; }

    /// <summary>Whether the patch is for this generation (a mutant: the mutation exists in it).</summary>
    public bool AppliesTo(GenerationInfo generation) => this.Kernels.Any(k => k.Generation == generation.Name);

    /// <summary>Boots the patched kernel of <paramref name="generation"/> (one it <see cref="AppliesTo"/>).</summary>
    public Linux Create(KernelWorld world, GenerationInfo generation) => this.Kernels.First(k => k.Generation == generation.Name).Create(world);
}

/// <summary>
/// A deliberately broken port: whole kernel functions replaced by their pre-fix bodies (or, for a
/// mutation no fix made, by the body with the mutation), in one file. The file declares an
/// interface (Patch) that overrides the functions it <see cref="KernelPatch.Replaces"/>, and the kernel it
/// makes on each generation it exists in (<see cref="KernelPatch.Kernels"/>): the generation's kernel with
/// the patch on top, which the compiler accepts only where the generation still has the versions
/// the patch replaces. Each mutant says what it breaks, where that comes from, the scenario that
/// exposes it and the invariant that must catch it. Adding one is a class in this folder plus a
/// line in <see cref="MutantRegistry"/>.
/// </summary>
public abstract class Mutant : KernelPatch
{
    /// <summary>The scenario that exposes it (explore's default when --mutant is given without --scenario).</summary>
    public abstract string Scenario { get; }

    /// <summary>The invariant that must report it.</summary>
    public abstract string CaughtBy { get; }

    /// <summary>
    /// The memory model under which <see cref="CaughtBy"/> reports it: sc, or lkmm for an ordering
    /// mutant (a relaxed or missing barrier), which is clean under sc (a test asserts it).
    /// </summary>
    public virtual string Memory => Exploration.RunRequest.ScMemory;

    /// <summary>
    /// Where <see cref="CaughtBy"/> is the kernel's own check (kernel-bug), which one: the
    /// assertion or warning, and the function it is in, as the kernel names them.
    /// </summary>
    public virtual string? KernelCheck => null;

    /// <summary>
    /// The memory models (<see cref="Exploration.RunChecks.MemoryModels"/>) under which the mutation is
    /// expected to be caught: both by default; an ordering mutant, clean under sequential
    /// consistency, says lkmm only (bench shows its sc column as clean, as expected).
    /// </summary>
    public virtual IReadOnlyList<string> CaughtUnder => Exploration.RunChecks.MemoryModels;

}

/// <summary>A mutant's kernel on one generation: that generation's functions with the mutant's patch on top.</summary>
/// <param name="Generation">The generation's name ("6.4").</param>
/// <param name="Kernel">The booted kernel's class.</param>
/// <param name="Create">Boots it.</param>
public sealed record MutantKernel(string Generation, Type Kernel, Func<KernelWorld, Linux> Create)
{
    /// <summary>The mutated kernel of <paramref name="generation"/>, booted by <paramref name="create"/>.</summary>
    public static MutantKernel On<TKernel>(string generation, Func<KernelWorld, TKernel> create)
        where TKernel : Booted => new(generation, typeof(TKernel), w => create(w));
}
