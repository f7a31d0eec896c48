using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Harness.Scenarios;

/// <summary>
/// A writer write-locks a VMA with
/// vma_start_write_killable() while faults hold it, and a fatal signal may end its wait for the
/// readers; the writer must then give the exclusion back (the VMA neither stays excluded nor counts
/// as write-locked) and leave through its -EINTR exit without touching what it did not lock.
/// </summary>
public sealed class FaultVsKillableWrite : Scenario
{
    private readonly string name;
    private readonly string description;
    private readonly Func<GenerationInfo, bool> runsOn;
    private readonly Func<int, ulong> faultAt;
    private readonly Action<BootedKernel, MmStruct> writes;

    private FaultVsKillableWrite(string name, string description, Func<GenerationInfo, bool> runsOn, Func<int, ulong> faultAt, Action<BootedKernel, MmStruct> writes)
    {
        this.name = name;
        this.description = description;
        this.runsOn = runsOn;
        this.faultAt = faultAt;
        this.writes = writes;
    }

    /// <summary>
    /// fault-vs-killable-write: faults in vma1 while mprotect write-locks it with
    /// vma_start_write_killable() (the port's killable mprotect; v6.19's function). Before 6.19 the
    /// wait is not killable.
    /// </summary>
    public static FaultVsKillableWrite Mprotect { get; } = new(
        "fault-vs-killable-write",
        "faults in vma1 while mprotect(vma1) uses vma_start_write_killable() and may be killed while it waits",
        _ => true,
        i => Vma1Start + ((ulong)(i % 2) * PageTable.PageSize),
        (kernel, mm) =>
        {
            kernel.Linux.DoMprotectPkey(mm, Vma1Start, ReadWrite | VmFlags.Exec, killable: true);
            kernel.Linux.DoMprotectPkey(mm, Vma1Start, ReadWrite, killable: true);
        });

    /// <summary>
    /// fault-vs-killable-fork: faults in vma1 and vma2 while fork()'s dup_mmap() write-locks each
    /// with vma_start_write_killable() (v6.19, 7370f8e1b3a8) and copies it; a fatal signal while it
    /// waits for vma2's readers leaves vma1's copy to be torn down. 7.0 only: the earlier
    /// generations' dup_mmap() uses vma_start_write().
    /// </summary>
    public static FaultVsKillableWrite Fork { get; } = new(
        "fault-vs-killable-fork",
        "faults in vma1 and vma2 while fork() (dup_mmap) write-locks each with vma_start_write_killable() and may be killed while it waits",
        FromV7_0,
        i => i % 2 == 0 ? Vma1Start : Vma2Start,
        (kernel, mm) => kernel.Linux.DupMmap(new MmStruct(kernel.World, "child"), mm));

    public override string Name => this.name;

    public override string Description => this.description;

    public override bool RunsOn(GenerationInfo generation) => this.runsOn(generation);

    public override Task RunAsync(BootedKernel kernel, int readers)
    {
        var (mm, _, _) = TwoAdjacentVmas(kernel);
        var writer = Writer(kernel, "writer", mm, () => this.writes(kernel, mm));
        return Task.WhenAll(Faults(kernel, mm, readers, this.faultAt).Append(writer));
    }
}
