namespace VmaLockVerify.Harness.Scenarios;

/// <summary>Every scenario, in the order explore runs them.</summary>
public static class ScenarioRegistry
{
    public static IReadOnlyList<Scenario> All { get; } =
    [
        new FaultVsMprotect(),
        new FaultVsMunmap(),
        new FaultVsMerge(),
        new FaultVsTwoWriters(),
        new FaultVsDowngrade(),
        new LongFaultVsWriters(),
        new FaultVsRecycle(),
        FaultVsKillableWrite.Mprotect,
        FaultVsKillableWrite.Fork,
        new LockedReadUnderMmapReadLock(),
        new FaultVsStackExpand(),
        new FaultVsFileMmap(),
        new FaultVsFork(),
        FaultVsMremap.ThenMunmap,
        new FaultVsMmap(),
        FaultVsMremap.ThenFork,
        new FaultRetryVsMunmap(),
        new MapsReaderVsWriters(),
        new ProcmapQueryVsMunmap(),
        new MadviseGuardVsMerge(),
        new MadviseGuardVsMmapMerge(),
        new MadviseGuardVsMprotect(),
        new MadviseGuardVsMseal(),
        new MadviseGuardVsSplit(),
        new MadviseFreeVsSplit(),
        new MbindVsFault(),
    ];

    public static Scenario? Find(string name) => All.FirstOrDefault(s => s.Name == name);
}
