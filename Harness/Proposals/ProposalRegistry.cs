namespace VmaLockVerify.Harness.Proposals;

/// <summary>Every proposal the command line knows.</summary>
public static class ProposalRegistry
{
    public static IReadOnlyList<Proposal> All { get; } =
    [
        new VmaEndWrite(),
        new VmaDowngradeWrite(),
        new VmaExpandStickyAfterLock(),
        new ExcludeReadersAcquire(),
        new MprotectKeepsAtomicFlags(),
        new SplitLocksBeforeDup(),
    ];

    public static Proposal? Find(string name) => All.FirstOrDefault(p => p.Name == name);

    /// <summary>The proposal a scenario belongs to, if it is one of a proposal's.</summary>
    public static Proposal? OwnerOf(string scenario) => All.FirstOrDefault(p => p.Scenario(scenario) is not null);
}
