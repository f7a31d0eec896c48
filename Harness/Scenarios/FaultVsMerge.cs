using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Harness.Scenarios;

/// <summary>
/// Faults on both VMAs while a writer merges them (two vma_start_write, one of them twice, released
/// by one sequence bump; vma2 detached and freed), then, in a second mmap-write section, splits the
/// result again (vma1 shrinks under faults that found it with its larger range).
/// </summary>
public sealed class FaultVsMerge : Scenario
{
    public override string Name => "fault-vs-merge";

    public override string Description => "faults in vma1 and vma2 while vma_merge(vma1, vma2) expands vma1 and frees vma2, then __split_vma shrinks vma1 again";

    public override Task RunAsync(BootedKernel kernel, int readers)
    {
        var (mm, vma1, vma2) = TwoAdjacentVmas(kernel);
        var writer = MergeThenSplit(kernel, mm, vma1, vma2);
        return Task.WhenAll(Faults(kernel, mm, readers, i => i % 2 == 0 ? Vma2Start + PageTable.PageSize : Vma1Start + PageTable.PageSize).Append(writer));
    }
}
