using FluentAssertions;
using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Traces;
using VmaLockVerify.Invariants;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>
/// explore --memory lkmm: the port on the LKMM view machine. v6.4 as released (relaxed
/// mm_lock_seq store in vma_end_write_all(), READ_ONCE re-check, plain vm_lock_seq: what
/// b1f02b95758d fixed in v6.5) is clean under sc and caught under lkmm, by NoReadLockOnDetachedVma
/// (a stale vma->detached) and by NoDataRace (the plain vm_lock_seq), which reports first when
/// every invariant is registered; v6.5 is clean under lkmm; the same seed gives the same run; a
/// trace records its model and replays under it.
/// </summary>
public sealed class LkmmExploreTests
{
    /// <summary>The budget the 6.4 race must be found within (seed 1 finds it in a few iterations).</summary>
    private const uint Budget = 200;

    private static RunRequest Munmap(string generation, string memory) =>
        TestSupport.Request("fault-vs-munmap", generation, iterations: Budget) with { Memory = memory };

    [Fact]
    public void V6_4_is_clean_under_sc_and_its_relaxed_mm_lock_seq_is_caught_under_lkmm()
    {
        var sc = Explorer.Run(Munmap("6.4", RunRequest.ScMemory));
        sc.Bug.Should().BeNull("under sequential consistency v6.4's orderings are enough");
        sc.IterationsRun.Should().Be(Budget);

        var lkmm = Explorer.Run(Munmap("6.4", RunRequest.LkmmMemory) with { Invariants = [InvariantRegistry.Find(nameof(NoReadLockOnDetachedVma))!] });
        lkmm.Bug.Should().NotBeNull("a fault can see mm_lock_seq advanced and still read vma->detached from before munmap set it");
        lkmm.Bug!.Invariant.Should().Be("NoReadLockOnDetachedVma");
        lkmm.IterationsRun.Should().BeLessThanOrEqualTo(Budget);
    }

    [Fact]
    public void V6_4s_plain_vm_lock_seq_is_the_first_report_under_lkmm_a_data_race()
    {
        var result = Explorer.Run(Munmap("6.4", RunRequest.LkmmMemory));
        result.Bug.Should().NotBeNull();
        result.Bug!.Invariant.Should().Be(nameof(NoDataRace), "the race on vm_lock_seq happens before the stale vma->detached it allows is read");
        result.Bug.Message.Should().Contain("data race on vma1->vm_lock_seq").And.Contain("in vma_start_read").And.Contain("in vma_start_write");
    }

    [Fact]
    public void V6_5_release_acquire_keeps_fault_vs_munmap_clean_under_lkmm()
    {
        var result = Explorer.Run(Munmap("6.5", RunRequest.LkmmMemory));
        result.Bug.Should().BeNull();
        result.IterationsRun.Should().Be(Budget);
        result.Uncontrolled.Should().BeEmpty();
        result.IterationsAtStepBound.Should().Be(0);
    }

    [Fact]
    public void The_same_seed_gives_the_same_lkmm_run_and_its_trace_replays_under_lkmm()
    {
        var first = Explorer.Run(Munmap("6.4", RunRequest.LkmmMemory));
        var second = Explorer.Run(Munmap("6.4", RunRequest.LkmmMemory));
        second.IterationsRun.Should().Be(first.IterationsRun);
        second.Bug.Should().Be(first.Bug);
        second.ReproducibleTrace.Should().Be(first.ReproducibleTrace);

        var trace = TraceFile.From(first);
        trace.Options.Memory.Should().Be(RunRequest.LkmmMemory);
        trace.Command.Should().Contain("--memory lkmm");

        var replayed = Explorer.Run(first.Request, reproducibleTrace: first.ReproducibleTrace);
        replayed.Bug.Should().Be(first.Bug, "the schedule, memory-model choices included, replays exactly");
    }
}
