namespace VmaLockVerify.Harness.Mutants;

/// <summary>Every mutant the command line knows.</summary>
public static class MutantRegistry
{
    public static IReadOnlyList<Mutant> All { get; } =
    [
        new SkipRecheck(),
        new NoDrain(),
        new SkipDetachedCheck(),
        new MadviseUnderReadLock(),
        new RangeFailNoEndRead(),
        new NarrowSeq(),
        new MmUafAfterRecycle(),
        new DoublePutOnFailure(),
        new RefcountFromZero(),
        new KillableKeepsOffset(),
        new KillableIgnoresEintr(),
        new ForkIgnoresEintr(),
        new RetryWithoutMasSet(),
        new QueryKmallocUnderRcu(),
        new MapsNoPositionCheck(),
        new AgainWhenExcluded(),
        new StackExpandNoLock(),
        new UpReadWithoutRcu(),
        new StartReadSleeps(),
        new MmapRegionLockOrder(),
        new ForkNoParentLock(),
        new AnonVmaCheckBeforeLock(),
        new NewVmaVisibleUnlocked(),
        new ForkDuringAnonVmaPrepare(),
        new SeqWithoutReleaseAcquire(),
        new SeqcountEndNoWmb(),
        new RefcountGetNoAcquire(),
        new TrylockNoAcquire(),
        new RefcountPutNoRelease(),
        new GuardFlagPlainRmw(),
        new MbindWalkUnlocked(),
    ];

    public static Mutant? Find(string name) => All.FirstOrDefault(m => m.Name == name);
}
