using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Harness.Scenarios;

/// <summary>
/// Faults on vma1 while a writer moves vma1's pages away with mremap(MREMAP_DONTUNMAP), which
/// leaves vma1 in place without pages or an anon_vma, and then does one more thing: unmaps vma2,
/// vma1's neighbour (<see cref="ThenMunmap"/>, docs/protocol.md 8, B3), or forks the process
/// (<see cref="ThenFork"/>, B1 by way of anon_vma). A fault that finds vma1 without an anon_vma
/// must not give it one without mmap_lock.
/// </summary>
public sealed class FaultVsMremap : Scenario
{
    /// <summary>Where mremap moves vma1 to.</summary>
    private const ulong MovedTo = MmStruct.TaskBase + 0x8000;

    private readonly string then;
    private readonly string description;
    private readonly Action<BootedKernel, MmStruct> afterwards;

    private FaultVsMremap(string then, string description, Action<BootedKernel, MmStruct> afterwards)
    {
        this.then = then;
        this.description = description;
        this.afterwards = afterwards;
    }

    /// <summary>fault-vs-mremap-munmap: then munmap(vma2), which frees the neighbour find_mergeable_anon_vma looks at.</summary>
    public static FaultVsMremap ThenMunmap { get; } = new(
        "munmap",
        "faults in vma1 while mremap(MREMAP_DONTUNMAP) moves vma1's pages away (vma1 loses its anon_vma), then munmap(vma2) frees its neighbour",
        (kernel, mm) => kernel.Linux.DoVmiMunmap(mm, Vma2Start));

    /// <summary>fault-vs-mremap-fork: then fork() (dup_mmap), which copies vma1 and its page table into a child.</summary>
    public static FaultVsMremap ThenFork { get; } = new(
        "fork",
        "faults in vma1 while mremap(MREMAP_DONTUNMAP) leaves vma1 without pages or an anon_vma, then fork() (dup_mmap) copies the process",
        (kernel, mm) => kernel.Linux.DupMmap(new MmStruct(kernel.World, "child"), mm));

    public override string Name => $"fault-vs-mremap-{this.then}";

    public override string Description => this.description;

    public override Task RunAsync(BootedKernel kernel, int readers)
    {
        var (mm, _, _) = TwoAdjacentVmas(kernel);
        var writer = Writer(kernel, "writer", mm, () =>
        {
            kernel.Linux.Mremap(mm, Vma1Start, MovedTo);
            this.afterwards(kernel, mm);
        });
        return Task.WhenAll(Faults(kernel, mm, readers, i => Vma1Start + ((ulong)(i % 2) * PageTable.PageSize)).Append(writer));
    }
}
