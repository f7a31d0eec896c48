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

    /// <summary>
    /// v6.15's last put without release (refcount-put-no-release): the fault's plain re-check of
    /// vm_lock_seq is no longer ordered before __vma_start_write()'s WRITE_ONCE, a data race. The
    /// protocol invariants stay clean: what the release forbids beyond that needs load buffering (a
    /// read-section load returning a store the writer makes after it saw the count drop), which the
    /// promise-free machine cannot produce, and the read section's stores are under
    /// page_table_lock, which orders them anyway. If the second half fails, the model has learnt
    /// something: say what catches it.
    /// </summary>
    [Theory]
    [InlineData("fault-vs-munmap")]
    [InlineData("fault-vs-mprotect")]
    public void The_last_put_without_release_is_a_data_race_and_beyond_it_a_known_limit(string scenario)
    {
        var all = Explorer.Run(TestSupport.Request(scenario, "6.15", "refcount-put-no-release", iterations: Budget));
        all.Bug.Should().NotBeNull();
        all.Bug!.Invariant.Should().Be("NoDataRace");
        all.Bug.Message.Should().Contain("WRITE_ONCE vma1->vm_lock_seq in __vma_start_write").And.Contain("load vma1->vm_lock_seq in vma_start_read");

        var invariants = InvariantRegistry.All.Where(i => i.Name != "NoDataRace").Select(i => i.Name).ToArray();
        var result = Explorer.Run(TestSupport.Request(scenario, "6.15", "refcount-put-no-release", iterations: Budget, invariants: invariants));
        result.Bug.Should().BeNull("what the release forbids beyond the race needs load buffering, which the model cannot produce");
        result.IterationsRun.Should().Be(Budget);
        result.IterationsAtStepBound.Should().Be(0);
    }

    [Fact]
    public void Under_sc_no_load_returns_an_older_store_and_under_lkmm_the_replay_names_the_store_it_missed()
    {
        var sc = new Harness.Traces.TraceRecorder();
        var clean = Explorer.Run(TestSupport.Request("fault-vs-mprotect", "6.5", "seq-without-release-acquire", iterations: 20) with { Memory = RunRequest.ScMemory }, sc);
        clean.Bug.Should().BeNull();
        sc.Steps.Should().NotContain(s => s.Unseen != null || s.Event is Spec.VmaFieldReadOlderStore);

        var path = TestSupport.SavedTraces.Single(p => p.Contains("seqcount-end-no-wmb", StringComparison.Ordinal));
        var replay = Replayer.Replay(path);
        replay.Result.Bug!.Invariant.Should().Be("NoStaleVmaFieldUnderReadLock");
        var steps = replay.Steps;

        var stale = steps.Last(s => s.Unseen is not null && s.Location == "vma1->vm_flags");
        var missed = stale.Unseen!.Last();
        missed.Step.Should().NotBeNull("a replay numbers the store the load did not see");
        var store = steps[missed.Step!.Value];
        store.Should().Match<Harness.Traces.TraceStep>(s => s.Thread == missed.Thread && s.Location == "vma1->vm_flags" && s.Value == missed.Value && s.Text.StartsWith("WRITE_ONCE", StringComparison.Ordinal));
        stale.Value.Should().NotBe(missed.Value);
        var line = $"(an older store; not seen: {missed.Thread}'s {missed.Value} at step {missed.Step})";
        Harness.Traces.TraceRenderer.Marked(stale).Should().Contain(line, "the table, the HTML page and SARIF's code flow print a step as Marked does");

        var html = Path.Combine(Path.GetTempPath(), $"vmalock-{Guid.NewGuid():N}.html");
        try
        {
            var (_, json, _) = TestSupport.Vmalock("replay", path, "--format", "json");
            var step = System.Text.Json.Nodes.JsonNode.Parse(json)!["blocks"]!.AsArray().SelectMany(b => b!["steps"]!.AsArray()).Single(s => s!["index"]!.GetValue<int>() == stale.Index)!;
            step["olderStore"]!["unseen"]![stale.Unseen!.Count - 1]!["step"]!.GetValue<int>().Should().Be(missed.Step!.Value);
            step["olderStore"]!["unseen"]![stale.Unseen!.Count - 1]!["thread"]!.GetValue<string>().Should().Be(missed.Thread.Name);

            TestSupport.Vmalock("replay", path, "--html", html);
            File.ReadAllText(html).Should().Contain(System.Net.WebUtility.HtmlEncode(line));
        }
        finally
        {
            File.Delete(html);
        }
    }

    /// <summary>
    /// A finding, pinned: from v6.14 mmap_write_lock() makes mm_lock_seq odd with a plain increment
    /// (mm_lock_seqcount_begin(): s->sequence++; smp_wmb()). With two writers, a fault's re-check can
    /// acquire the odd value of the second writer's mmap_write_lock(), which differs from the
    /// first writer's vm_lock_seq, so the fault keeps the VMA; but that increment is not a release,
    /// so the acquire learns nothing of the first writer's section, which ended before it, and the
    /// fault reads vm_flags from before it. LKMM allows this (an ISA2 chain whose middle link,
    /// up_write() to down_write() to the plain increment, is not a release: only release-acquire
    /// links are transitive). v6.5, without the increment in mmap_write_lock(), is clean here.
    /// </summary>
    [Theory]
    [InlineData("6.14")]
    [InlineData("6.15")]
    [InlineData("7.0")]
    public void From_v6_14_a_plain_mm_lock_seqcount_begin_lets_a_fault_read_an_ended_sections_field_under_lkmm(string generation)
    {
        var lkmm = Explorer.Run(TestSupport.Request("long-fault-vs-writers", generation, iterations: 400) with { Memory = RunRequest.LkmmMemory });
        lkmm.Bug.Should().NotBeNull();
        lkmm.Bug!.Invariant.Should().Be("NoStaleVmaFieldUnderReadLock");
        lkmm.Bug.Message.Should().Contain("read vma1->vm_flags");
    }

    /// <summary>
    /// The main job's other known finding (KnownBugs): v6.5's lock_vma_under_rcu() reads
    /// vma->anon_vma plain under the VMA read lock while a fault under mmap_lock installs it in
    /// __anon_vma_prepare(), a data race of the kernel's text. Still found, so leaving NoDataRace
    /// out of those runs hides nothing new.
    /// </summary>
    [Theory]
    [InlineData("fault-vs-mmap")]
    [InlineData("fault-vs-mremap-munmap")]
    [InlineData("fault-vs-mremap-fork")]
    public void V6_5s_plain_anon_vma_check_is_a_data_race_under_lkmm(string scenario)
    {
        var result = Explorer.Run(TestSupport.Request(scenario, "6.5", iterations: 400, invariants: "NoDataRace") with { Memory = RunRequest.LkmmMemory });
        result.Bug.Should().NotBeNull();
        result.Bug!.Message.Should().MatchRegex(@"^data race on vma\d->anon_vma: \w+ (load|WRITE_ONCE) vma\d->anon_vma in (lock_vma_under_rcu|__anon_vma_prepare) races with ");
    }

    /// <summary>
    /// The main job's known findings on 7.0 (KnownBugs) that are interleavings, so found under sc
    /// as under lkmm, with every invariant judging (leaving NoLostStickyFlag out of the main job's
    /// runs of these scenarios hides nothing else). Each writer reads the VMA's flags, or copies
    /// them, before write-locking it, and a guard install holding the read lock sets
    /// VM_MAYBE_GUARD in between: vma_expand() reads next's sticky flags before
    /// vma_start_write(next) and the merged VMA lacks it; do_mprotect_pkey() computes the new
    /// flags early and mprotect_fixup()'s store drops it; __split_vma() copies the VMA early and
    /// the new VMA maps the guard markers without it.
    /// </summary>
    [Theory]
    [InlineData("madvise-guard-vs-mmap-merge", RunRequest.ScMemory, "writer's write section took vma2 out of mm->mm_mt while vma2 had VM_MAYBE_GUARD set, and vma1, which now covers [0x14000-0x16000)")]
    [InlineData("madvise-guard-vs-mmap-merge", RunRequest.LkmmMemory, "writer's write section took vma2 out of mm->mm_mt while vma2 had VM_MAYBE_GUARD set, and vma1, which now covers [0x14000-0x16000)")]
    [InlineData("madvise-guard-vs-mprotect", RunRequest.ScMemory, "writer stored vma1->vm_flags = VM_READ|VM_WRITE|VM_EXEC|VM_MAYREAD|VM_MAYWRITE, clearing VM_MAYBE_GUARD")]
    [InlineData("madvise-guard-vs-mprotect", RunRequest.LkmmMemory, "writer stored vma1->vm_flags = VM_READ|VM_WRITE|VM_EXEC|VM_MAYREAD|VM_MAYWRITE, clearing VM_MAYBE_GUARD")]
    [InlineData("madvise-guard-vs-split", RunRequest.ScMemory, "writer's write section left vma3 mapping [0x11000-0x12000), whose page tables hold guard markers, without VM_MAYBE_GUARD")]
    [InlineData("madvise-guard-vs-split", RunRequest.LkmmMemory, "writer's write section left vma3 mapping [0x11000-0x12000), whose page tables hold guard markers, without VM_MAYBE_GUARD")]
    public void V7_0s_writers_lose_the_guard_flag_a_guard_install_sets_before_they_write_lock_the_vma(string scenario, string memory, string messageStart)
    {
        var result = Explorer.Run(TestSupport.Request(scenario, "7.0", iterations: 50) with { Memory = memory });
        result.Bug.Should().NotBeNull();
        result.Bug!.Invariant.Should().Be("NoLostStickyFlag");
        result.Bug.Message.Should().StartWith(messageStart);
    }

    /// <summary>
    /// The main job's known finding on 7.0 under LKMM only: mseal_apply()'s vm_flags_set() reads
    /// vm_flags after vma_start_write(), so sequential consistency keeps the guard install's
    /// VM_MAYBE_GUARD; but the write lock's wait for readers reads vm_refcnt relaxed and acquires
    /// nothing of what the reader stored, so under LKMM the read can miss the bit and the store drop it.
    /// </summary>
    [Fact]
    public void V7_0s_mseal_keeps_the_guard_flag_under_sc_and_can_drop_it_under_lkmm()
    {
        var sc = Explorer.Run(TestSupport.Request("madvise-guard-vs-mseal", "7.0", iterations: Budget));
        sc.Bug.Should().BeNull("vm_flags_set() reads vm_flags after the write lock");
        sc.IterationsRun.Should().Be(Budget);

        var lkmm = Explorer.Run(TestSupport.Request("madvise-guard-vs-mseal", "7.0", iterations: 1000) with { Memory = RunRequest.LkmmMemory });
        lkmm.Bug.Should().NotBeNull();
        lkmm.Bug!.Invariant.Should().Be("NoLostStickyFlag");
        lkmm.Bug.Message.Should().Be("writer stored vma1->vm_flags = VM_READ|VM_WRITE|VM_MAYREAD|VM_MAYWRITE|VM_SEALED, clearing VM_MAYBE_GUARD, a sticky flag that nothing clears");
    }

    [Fact]
    public void V6_5_without_the_increment_in_mmap_write_lock_keeps_long_fault_vs_writers_clean_under_lkmm()
    {
        var result = Explorer.Run(TestSupport.Request("long-fault-vs-writers", "6.5", iterations: Budget) with { Memory = RunRequest.LkmmMemory });
        result.Bug.Should().BeNull("only vma_end_write_all() moves v6.5's mm_lock_seq on, with smp_store_release()");
        result.IterationsRun.Should().Be(Budget);
    }

    [Theory]
    [InlineData("refcount-get-no-acquire", "6.15")]
    [InlineData("trylock-no-acquire", "6.5")]
    public void Without_the_acquire_the_plain_recheck_of_vm_lock_seq_races_and_read_locks_a_write_marked_vma(string mutant, string generation)
    {
        // The kernel's re-check reads vma->vm_lock_seq plain, relying on the acquire (of the
        // refcount increment from v6.15, of down_read_trylock() before): with every invariant the
        // first report is that data race; without NoDataRace the consequence itself, a read lock
        // on a VMA write-marked in the current sequence.
        var all = Explorer.Run(TestSupport.Request("fault-vs-mprotect", generation, mutant, iterations: Budget));
        all.Bug.Should().NotBeNull();
        all.Bug!.Invariant.Should().Be("NoDataRace");
        all.Bug.Message.Should().Contain("fault").And.Contain("load vma1->vm_lock_seq in vma_start_read");

        var invariants = InvariantRegistry.All.Where(i => i.Name != "NoDataRace").Select(i => i.Name).ToArray();
        var protocol = Explorer.Run(TestSupport.Request("fault-vs-mprotect", generation, mutant, iterations: Budget, invariants: invariants));
        protocol.Bug.Should().NotBeNull();
        protocol.Bug!.Invariant.Should().Be("NoReadOnWriteMarkedVma");
    }

    [Fact]
    public void Without_the_acquire_of_its_increment_vma_start_read_checks_a_recycled_vmas_old_vm_mm()
    {
        // refcount-get-no-acquire's second consequence (its own scenario shows the first, a stale
        // vm_lock_seq): the vm_mm check after the increment reads the mm the VMA had before it was
        // recycled, so the reader drops its reference without pinning the new mm (B11 again). With
        // NoDataRace registered, the plain re-check's race is reported first, as in fault-vs-mprotect.
        var invariants = InvariantRegistry.All.Where(i => i.Name != "NoDataRace").Select(i => i.Name).ToArray();
        var result = Explorer.Run(TestSupport.Request("fault-vs-recycle", "6.15", "refcount-get-no-acquire", iterations: Budget, invariants: invariants));
        result.Request.Memory.Should().Be(RunRequest.LkmmMemory);
        result.Bug.Should().NotBeNull();
        result.Bug!.Invariant.Should().Be("VmaPutHoldsMm");

        var sc = Explorer.Run(result.Request with { Memory = RunRequest.ScMemory, Iterations = Budget });
        sc.Bug.Should().BeNull();
    }
}
