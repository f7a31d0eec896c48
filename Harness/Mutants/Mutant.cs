using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.VmaLock;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// A deliberately broken port: one step of one kernel function overridden in a subclass, so the
/// whole mutation is visible in one file. Each mutant says what it breaks, where that comes from,
/// the scenario that exposes it and the invariant that must catch it. Adding one is a class in
/// this folder plus a line in <see cref="MutantRegistry"/>.
/// </summary>
public abstract class Mutant
{
    public abstract string Name { get; }

    /// <summary>One line: the change, in kernel terms.</summary>
    public abstract string Description { get; }

    /// <summary>The kernel fix it reverts, or the history it stands for.</summary>
    public abstract string Origin { get; }

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

    /// <summary>Whether the mutation exists in this generation.</summary>
    public virtual bool AppliesTo(GenerationInfo generation) => generation.Kind == VmaLockKind.Rwsem;

    /// <summary>The mutated per-VMA lock, or null to keep the generation's own.</summary>
    public virtual VmaLockGeneration? CreateLocking(KernelWorld world, GenerationInfo generation) => null;

    /// <summary>The mutated writers, or null to keep the correct ones.</summary>
    public virtual MmOperations? CreateOperations(KernelWorld world, VmaLockGeneration locking) => null;
}

/// <summary>A mutant of the rw_semaphore generations (6.4, 6.5, 6.14): its port overrides one step of <see cref="SeqRwsemGeneration"/>.</summary>
public abstract class RwsemMutant : Mutant
{
    public sealed override VmaLockGeneration CreateLocking(KernelWorld world, GenerationInfo generation) =>
        this.Port(world, generation.Name, generation.Ordering);

    /// <summary>The mutated generation: a subclass of <see cref="SeqRwsemGeneration"/> with one step overridden.</summary>
    protected abstract SeqRwsemGeneration Port(KernelWorld world, string name, SequenceOrdering ordering);
}

/// <summary>A mutant of the reference-count generation (6.15): its port overrides one step of <see cref="RefcountGeneration"/>.</summary>
public abstract class RefcountMutant : Mutant
{
    public override bool AppliesTo(GenerationInfo generation) => generation.Kind == VmaLockKind.Refcount;

    public sealed override VmaLockGeneration CreateLocking(KernelWorld world, GenerationInfo generation) => this.Port(world, generation.Name);

    /// <summary>The mutated generation: a subclass of <see cref="RefcountGeneration"/> with one step overridden.</summary>
    protected abstract RefcountGeneration Port(KernelWorld world, string name);
}
