using FluentAssertions;
using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Traces;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>
/// explore --memory lkmm: the port on the LKMM view machine. v6.4 as released (relaxed
/// mm_lock_seq store in vma_end_write_all(), READ_ONCE re-check, plain vm_lock_seq: what
/// b1f02b95758d fixed in v6.5) is clean under sc and caught under lkmm; v6.5 is clean under lkmm;
/// the same seed gives the same run; a trace records its model and replays under it.
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

        var lkmm = Explorer.Run(Munmap("6.4", RunRequest.LkmmMemory));
        lkmm.Bug.Should().NotBeNull("a fault can see mm_lock_seq advanced and still read vma->detached from before munmap set it");
        lkmm.Bug!.Invariant.Should().Be("NoReadLockOnDetachedVma");
        lkmm.IterationsRun.Should().BeLessThanOrEqualTo(Budget);
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

    /// <summary>
    /// A known limit, pinned: v6.15's vma_refcount_put() without the release of its decrement is
    /// clean under lkmm. What the release forbids needs load buffering (a read-section load returning
    /// a store the writer makes after it saw the count drop), which the promise-free machine cannot
    /// produce; the read section's stores are under page_table_lock, which orders them anyway
    /// (<see cref="Harness.Mutants.RefcountPutNoRelease"/>). If this fails, the model has learnt
    /// something: register the mutant and save its trace.
    /// </summary>
    [Theory]
    [InlineData("fault-vs-munmap")]
    [InlineData("fault-vs-mprotect")]
    public void The_last_put_without_release_is_a_known_limit_clean_under_lkmm(string scenario)
    {
        var request = TestSupport.Request(scenario, "6.15", iterations: Budget) with
        {
            Mutant = new Harness.Mutants.RefcountPutNoRelease(),
            Memory = RunRequest.LkmmMemory,
        };

        var result = Explorer.Run(request);

        result.Bug.Should().BeNull("the ordering it removes needs load buffering, which the model cannot produce");
        result.IterationsRun.Should().Be(Budget);
        result.IterationsAtStepBound.Should().Be(0);
    }

    [Fact]
    public void Under_sc_no_load_returns_an_older_store_and_under_lkmm_the_replay_names_the_store_it_missed()
    {
        var sc = new Implementation.Kernel.TraceRecorder();
        var clean = Explorer.Run(TestSupport.Request("fault-vs-mprotect", "6.5", "seq-without-release-acquire", iterations: 20) with { Memory = RunRequest.ScMemory }, sc);
        clean.Bug.Should().BeNull();
        sc.Steps.Should().NotContain(s => s.Unseen != null || s.Event is Spec.VmaFieldReadOlderStore);

        var replay = Replayer.Replay(TestSupport.SavedTraces.Single(p => p.Contains("seq-without-release-acquire", StringComparison.Ordinal)));
        replay.Result.Bug!.Invariant.Should().Be("NoStaleVmaFieldUnderReadLock");
        var steps = replay.Steps;

        var stale = steps.Last(s => s.Unseen is not null && s.Location == "vma1->vm_flags");
        var missed = stale.Unseen!.Last();
        missed.Step.Should().NotBeNull("a replay numbers the store the load did not see");
        var store = steps[missed.Step!.Value];
        store.Should().Match<Implementation.Kernel.TraceStep>(s => s.Thread == missed.Thread && s.Location == "vma1->vm_flags" && s.Value == missed.Value && s.Text.StartsWith("WRITE_ONCE", StringComparison.Ordinal));
        stale.Value.Should().NotBe(missed.Value);
        Harness.Traces.TraceRenderer.Marked(stale).Should().Contain($"(an older store; not seen: {missed.Thread}'s {missed.Value} at step {missed.Step})");
    }
}
