using VmaLockVerify.Harness.Scenarios;

namespace VmaLockVerify.Harness.Proposals;

/// <summary>
/// A registry scenario's threads on a proposal's kernel, with the verdict expected under one
/// memory model: for a fix of a race a registry scenario shows on the generation as released
/// (madvise-guard-vs-mmap-merge, madvise-guard-vs-mprotect), whose verdict may differ under sc
/// and under lkmm.
/// </summary>
public sealed class PatchedScenario(string name, string description, string? expected, string memory, Func<BootedKernel, int, Task> run) : ProposalScenario
{
    public override string Name => name;

    public override string Description => description;

    public override string? Expected => expected;

    public override string? Memory => memory;

    public override Task RunAsync(BootedKernel kernel, int readers) => run(kernel, readers);
}
