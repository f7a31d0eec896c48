using FluentAssertions;
using VmaLockVerify.Harness.Traces;
using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Invariants;
using VmaLockVerify.Spec;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>
/// Every invariant fires on its own: registered alone, it catches a mutant that breaks its property
/// (so no other monitor is needed for it to go red), under PCT within 1,000 iterations (seed 1).
/// </summary>
public sealed class InvariantTests
{
    /// <summary>Invariant, mutant, a part of the expected message, and the strategy and budget (seed 1) it must be caught within.</summary>
    public static TheoryData<string, string, string, string, uint> Firing() => new()
    {
        { nameof(NoReadOnWriteMarkedVma), "skip-recheck", "vma_start_read(vma1) succeeded", "pct", 1000 },
        { nameof(WriterExcludesReaders), "no-drain", "held its read lock", "pct", 1000 },
        { nameof(WriterExcludesReaders), "narrow-seq", "returned to writer as already write-locked while fault", "pct", 1000 },
        { nameof(VmaWriteRequiresMmapWriteLock), "madvise-under-read-lock", "holding mm->mmap_lock only for read", "pct", 1000 },
        { nameof(NoReadLockOnDetachedVma), "skip-detached-check", "was detached", "pct", 1000 },
        { nameof(ReadLocksReleased), "range-fail-no-end-read", "still holding the read lock", "pct", 1000 },
        { nameof(SpecConformance), "skip-recheck", "while vma1 is write-locked in the current sequence", "pct", 1000 },
        { nameof(SpecConformance), "no-drain", "while fault", "pct", 1000 },
        { nameof(SpecConformance), "skip-detached-check", "after vma1 was detached", "pct", 1000 },
        { nameof(SpecConformance), "madvise-under-read-lock", "without holding mm->mmap_lock for write", "pct", 1000 },
        { nameof(SpecConformance), "range-fail-no-end-read", "still holding the read lock", "pct", 1000 },
        { nameof(SpecConformance), "narrow-seq", "returned but vma1 is not write-locked in the current sequence", "pct", 1000 },
        { nameof(VmaPutHoldsMm), "mm-uaf-after-recycle", "dropped its reference on vma3 of mm2 without mmgrab(mm2)", "pct", 2000 },
        { nameof(NoReadLockOnDetachedVma), "refcount-from-zero", "was detached", "pct", 1000 },
        { nameof(SpecConformance), "mm-uaf-after-recycle", "without holding mm2", "pct", 2000 },
        { nameof(SpecConformance), "double-put-on-failure", "which does not hold its read lock", "pct", 1000 },
        { nameof(SpecConformance), "refcount-from-zero", "after vma1 was detached", "pct", 1000 },
        { nameof(LockOrder), "mmap-region-lock-order", "while holding file1->i_mmap_rwsem (i_mmap_rwsem): i_mmap_rwsem -> vm_lock inverts", "pct", 1000 },
        { nameof(NoTornVmaRange), "maps-no-position-check", "the iteration went back", "portfolio", 1000 },
        { nameof(NoRetryWithoutProgress), "again-when-excluded", "retries its lookup although vma1 is attached", "pct", 100 },
        { nameof(NoSleepUnderRcu), "start-read-sleeps", "calls down_read(vma1->vm_lock) in vma_start_read inside an RCU read-side critical section", "pct", 10 },
        { nameof(NoUseAfterFree), "up-read-without-rcu", "fault1 writes vma1->vm_lock->wait_lock (raw_spin_lock_irqsave) in rwsem_wake", "portfolio", 1000 },
        { nameof(NoLostWrite), "fork-no-parent-lock", "a page mm no longer maps there: the store is lost", "portfolio", 500 },
        { nameof(SpecConformance), "fork-no-parent-lock", "is lost", "portfolio", 500 },
        { nameof(NoUseAfterFree), "anon-vma-check-before-lock", "in find_mergeable_anon_vma; vma2 was freed by writer", "pct", 1000 },
        { nameof(SpecConformance), "anon-vma-check-before-lock", "ran anon_vma_prepare(vma1) without holding mm->mmap_lock", "pct", 1000 },
        { nameof(AnonVmaConsistency), "fork-during-anon-vma-prepare", "is linked to no anon_vma: rmap walks of", "pct", 1000 },
        { nameof(SpecConformance), "fork-during-anon-vma-prepare", "without holding mm->mmap_lock", "pct", 1000 },
        { nameof(WriterExcludesReaders), "new-vma-visible-unlocked", "changed vma3->vm_page_prot to PAGE_COPY while fault", "pct", 1000 },
        { nameof(SpecConformance), "new-vma-visible-unlocked", "changed vma3->vm_page_prot without write-locking vma3", "pct", 1000 },
        { nameof(NoPageMissedByMigration), "mbind-walk-unlocked", "was never queued, so the migration leaves it behind", "pct", 1000 },
        { nameof(SpecConformance), "mbind-walk-unlocked", "was never queued, so the migration leaves it behind", "pct", 1000 },
        { nameof(NoStaleVmaFieldUnderReadLock), "seq-without-release-acquire", "before fault0's vma_start_read(vma1) succeeded, had overwritten it with", "portfolio", 200 },
    };

    /// <summary>
    /// Invariants a released kernel breaks, with no mutant: invariant, scenario, generation, memory
    /// model, a part of the expected message, and the budget (portfolio, seed 1). v6.4 shipped the
    /// plain vm_lock_seq that b1f02b95758d made READ_ONCE/WRITE_ONCE in v6.5; v7.0's vma_expand()
    /// reads next's sticky flags before write-locking next (found at iteration 5).
    /// </summary>
    public static TheoryData<string, string, string, string, string, uint> FiringOnReleasedKernels() => new()
    {
        { nameof(NoDataRace), "fault-vs-mprotect", "6.4", RunRequest.LkmmMemory, "data race on vma1->vm_lock_seq", 100 },
        { nameof(NoLostStickyFlag), "madvise-guard-vs-mmap-merge", "7.0", RunRequest.LkmmMemory, "the merge lost a sticky flag", 10 },
    };

    [Fact]
    public void Every_invariant_has_a_firing_test()
    {
        Firing().Concat(FiringOnReleasedKernels()).Select(row => (string)row[0]).Distinct()
            .Should().BeEquivalentTo(InvariantRegistry.All.Select(i => i.Name));
    }

    [Theory]
    [MemberData(nameof(FiringOnReleasedKernels))]
    public void Invariant_alone_catches_the_released_kernel(string invariant, string scenario, string generation, string memory, string messagePart, uint budget)
    {
        var result = Explorer.Run(TestSupport.Request(scenario, generation, iterations: budget, invariants: invariant) with { Memory = memory });

        result.Bug.Should().NotBeNull();
        result.Bug!.Invariant.Should().Be(invariant);
        result.Bug.Message.Should().Contain(messagePart);
    }

    [Fact]
    public void A_data_race_names_both_accesses_and_the_replay_names_their_trace_steps()
    {
        var found = Explorer.Run(TestSupport.Request("fault-vs-mprotect", "6.4", iterations: 100, invariants: nameof(NoDataRace)) with { Memory = RunRequest.LkmmMemory });
        found.Bug!.Message.Should().MatchRegex(@"^data race on vma1->vm_lock_seq: \w+ (load|store) vma1->vm_lock_seq in vma_start_(read|write) races with \w+ (load|store) vma1->vm_lock_seq in vma_start_(read|write), and neither happens before the other$");

        var recorder = new TraceRecorder();
        var replayed = Explorer.Run(found.Request, recorder, found.ReproducibleTrace);
        var race = recorder.Steps.Select(s => s.Event).OfType<DataRace>().Single();
        replayed.Bug!.Message.Should().Be(found.Bug.Message, "a saved trace replays to the message it was found with");
        race.Describe().Should().Contain($"(step {race.Earlier.Step})").And.Contain($"(step {race.Access.Step})", "the replay's table names both steps");
        recorder.Steps[race.Earlier.Step!.Value].Text.Should().Be($"{race.Earlier.Op} vma1->vm_lock_seq = {recorder.Steps[race.Earlier.Step.Value].Value}", "the earlier access is the step it names");
        race.Access.Step.Should().Be(recorder.Steps.Count - 1, "the race is reported at the access that completes it, the last step recorded");
    }

    [Fact]
    public void No_data_race_is_reported_under_sc_or_on_v6_5()
    {
        var sc = Explorer.Run(TestSupport.Request("fault-vs-mprotect", "6.4", iterations: 100, invariants: nameof(NoDataRace)));
        sc.Bug.Should().BeNull("under sequential consistency the memory model reports no races");
        sc.IterationsRun.Should().Be(100);

        var v65 = Explorer.Run(TestSupport.Request("fault-vs-mprotect", "6.5", iterations: 100, invariants: nameof(NoDataRace)) with { Memory = RunRequest.LkmmMemory });
        v65.Bug.Should().BeNull("b1f02b95758d made vm_lock_seq's accesses READ_ONCE/WRITE_ONCE");
        v65.IterationsRun.Should().Be(100);
    }

    [Theory]
    [MemberData(nameof(Firing))]
    public void Invariant_alone_catches_the_mutant(string invariant, string mutant, string messagePart, string strategy, uint budget)
    {
        var found = MutantRegistry.Find(mutant)!;
        var generation = Generations.All.First(found.AppliesTo).Name;
        var result = Explorer.Run(TestSupport.Request(found.Scenario, generation, mutant, strategy, iterations: budget, invariants: invariant));

        result.Bug.Should().NotBeNull();
        result.Bug!.Invariant.Should().Be(invariant);
        result.Bug.Message.Should().Contain(messagePart);
    }

    /// <summary>A lock class the port does not have, for the lock-order tests.</summary>
    private static readonly LockClass AnonLock = new("anon_lock");

    [Fact]
    public void Lock_order_learns_from_the_run_and_ignores_trylocks()
    {
        var monitor = new LockOrder();
        monitor.Judge(new LockAcquiring("a", "x->anon_lock", AnonLock, LockMode.Write, Trylock: false)).Should().BeNull();
        monitor.Judge(new LockAcquiring("a", "vma1->vm_lock", LockClass.VmLock, LockMode.Write, Trylock: false)).Should().BeNull("the first time anon_lock -> vm_lock is seen, it is learned");
        monitor.Judge(new LockReleasing("a", "vma1->vm_lock", LockClass.VmLock)).Should().BeNull();
        monitor.Judge(new LockReleasing("a", "x->anon_lock", AnonLock)).Should().BeNull();

        monitor.Judge(new LockAcquiring("b", "vma2->vm_lock", LockClass.VmLock, LockMode.Read, Trylock: false)).Should().BeNull();
        monitor.Judge(new LockAcquiring("b", "y->anon_lock", AnonLock, LockMode.Write, Trylock: true)).Should().BeNull("a trylock cannot wait, so it adds no edge");
        monitor.Judge(new LockReleasing("b", "y->anon_lock", AnonLock)).Should().BeNull();
        monitor.Judge(new LockAcquiring("b", "z->anon_lock", AnonLock, LockMode.Write, Trylock: false))
            .Should().Be("b takes z->anon_lock (anon_lock) while holding vma2->vm_lock (vm_lock): vm_lock -> anon_lock inverts anon_lock -> vm_lock (a holding x->anon_lock while taking vma1->vm_lock)");
    }

    [Fact]
    public void Lock_order_keeps_what_earlier_iterations_learnt()
    {
        var order = new LockClassOrder();
        order.BeginIteration();
        var first = new LockOrder();
        first.Judge(new LockOrderCarriedOver(order)).Should().BeNull();
        first.Judge(new LockAcquiring("a", "x->anon_lock", AnonLock, LockMode.Write, Trylock: false)).Should().BeNull();
        first.Judge(new LockAcquiring("a", "vma1->vm_lock", LockClass.VmLock, LockMode.Write, Trylock: false)).Should().BeNull();

        order.BeginIteration();
        order.Start.Learnt.Should().Equal(new LockOrderEdge("anon_lock", "vm_lock", "a holding x->anon_lock while taking vma1->vm_lock", 1));
        var second = new LockOrder();
        second.Judge(new LockOrderCarriedOver(order)).Should().BeNull();
        second.Judge(new LockAcquiring("b", "vma2->vm_lock", LockClass.VmLock, LockMode.Read, Trylock: false)).Should().BeNull();
        second.Judge(new LockAcquiring("b", "y->anon_lock", AnonLock, LockMode.Write, Trylock: false))
            .Should().Be("b takes y->anon_lock (anon_lock) while holding vma2->vm_lock (vm_lock): vm_lock -> anon_lock inverts anon_lock -> vm_lock (a holding x->anon_lock while taking vma1->vm_lock, iteration 1)",
                "the order iteration 1 saw still holds in iteration 2, as lockdep's graph holds for a whole boot");
    }

    [Fact]
    public void Every_invariant_states_its_property_in_one_sentence()
    {
        foreach (var invariant in InvariantRegistry.All)
        {
            invariant.Property.Should().EndWith(".").And.NotContain("\n");
            invariant.Property.TrimEnd('.').Should().NotContain(". ", "{0} states one sentence", invariant.Name);
        }
    }
}
