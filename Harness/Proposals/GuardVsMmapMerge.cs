using VmaLockVerify.Harness.Scenarios;

namespace VmaLockVerify.Harness.Proposals;

/// <summary>
/// madvise-guard-vs-mmap-merge (a guard install under vma2's read lock while mmap() merges vma1,
/// the gap and vma2) on a proposal's kernel, with the verdict expected under one memory model: for
/// the fixes of vma_expand()'s sticky flags, which differ in what they fix under sc and under lkmm.
/// </summary>
public sealed class GuardVsMmapMerge(string name, string description, string? expected, string memory) : ProposalScenario
{
    public override string Name => name;

    public override string Description => description;

    public override string? Expected => expected;

    public override string? Memory => memory;

    public override Task RunAsync(BootedKernel kernel, int readers) => MadviseGuardVsMmapMerge.Run(kernel, readers);
}
