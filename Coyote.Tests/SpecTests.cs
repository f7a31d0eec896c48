using FluentAssertions;
using VmaLockVerify.Spec;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>The abstract protocol on its own: which outcomes it allows and which it rejects.</summary>
public sealed class SpecTests
{
    private readonly ProtocolSpec spec = new();

    [Fact]
    public void A_read_lock_may_fail_at_any_time_but_succeeds_only_on_an_unmarked_vma()
    {
        this.Allowed(new MmapLockAcquired("w", "mm", LockMode.Write));
        this.Allowed(new VmaStartReadReturned("r", "mm", "vma1", Locked: true));
        this.Allowed(new VmaReadUnlocked("r", "mm", "vma1"));
        this.Allowed(new VmaWriteMarked("w", "mm", "vma1", 0));
        this.Allowed(new VmaStartReadReturned("r", "mm", "vma1", Locked: false));
        this.Rejected(new VmaStartReadReturned("r", "mm", "vma1", Locked: true), "write-locked in the current sequence");
    }

    [Fact]
    public void Vma_start_write_is_idempotent_and_the_sequence_bump_releases_every_mark()
    {
        this.Allowed(new MmapLockAcquired("w", "mm", LockMode.Write));
        this.Allowed(new VmaWriteMarked("w", "mm", "vma1", 0));
        this.Allowed(new VmaStartWriteReturned("w", "mm", "vma1", WasAlreadyMarked: false));
        this.Allowed(new VmaStartWriteReturned("w", "mm", "vma1", WasAlreadyMarked: true));
        this.Allowed(new VmaWriteMarked("w", "mm", "vma2", 0));
        this.spec.IsWriteMarked("mm", "vma2").Should().BeTrue();
        this.Allowed(new MmSequenceBumped("w", "mm", 1));
        this.spec.IsWriteMarked("mm", "vma1").Should().BeFalse();
        this.spec.IsWriteMarked("mm", "vma2").Should().BeFalse();
        this.Allowed(new MmapLockReleased("w", "mm", LockMode.Write));
        this.Allowed(new VmaStartReadReturned("r", "mm", "vma1", Locked: true));
    }

    [Fact]
    public void Unlocking_or_downgrading_with_a_vma_still_marked_is_rejected()
    {
        this.Allowed(new MmapLockAcquired("w", "mm", LockMode.Write));
        this.Allowed(new VmaWriteMarked("w", "mm", "vma1", 0));
        this.Rejected(new MmapLockDowngraded("w", "mm"), "left vma1 write-locked");
    }

    [Fact]
    public void A_proposal_may_release_one_mark_early_but_only_its_writer_and_only_a_marked_vma()
    {
        // vma_end_write() (Harness/Proposals/VmaEndWrite.cs): the section goes on without vma1's mark.
        this.Allowed(new MmapLockAcquired("w", "mm", LockMode.Write));
        this.Allowed(new VmaWriteMarked("w", "mm", "vma1", 0));
        this.Allowed(new VmaWriteMarked("w", "mm", "vma2", 0));
        this.Allowed(new VmaWriteReleased("w", "mm", "vma1"));
        this.spec.IsWriteMarked("mm", "vma1").Should().BeFalse();
        this.spec.IsWriteMarked("mm", "vma2").Should().BeTrue();
        this.Allowed(new VmaStartReadReturned("r", "mm", "vma1", Locked: true));
        this.Rejected(new VmaStartReadReturned("r", "mm", "vma2", Locked: true), "write-locked in the current sequence");
        this.Rejected(new VmaWriteReleased("w", "mm", "vma1"), "vma1 is not write-locked in the current sequence");
        this.Rejected(new VmaWriteReleased("r", "mm", "vma2"), "without holding mm->mmap_lock for write");
    }

    [Fact]
    public void A_downgraded_vma_is_read_locked_by_its_writer_and_open_to_readers()
    {
        // vma_downgrade_write() (Harness/Proposals/VmaDowngradeWrite.cs).
        this.Allowed(new MmapLockAcquired("w", "mm", LockMode.Write));
        this.Allowed(new VmaWriteMarked("w", "mm", "vma1", 0));
        this.Allowed(new VmaWriteDowngraded("w", "mm", "vma1"));
        this.spec.VmasReadLockedBy("w").Should().Equal("vma1");
        this.Allowed(new VmaStartReadReturned("r", "mm", "vma1", Locked: true));
        this.Rejected(new VmaWriteMarked("w", "mm", "vma1", 0), "while r held its read lock");
        this.Allowed(new VmaReadUnlocked("w", "mm", "vma1"));
    }

    [Fact]
    public void Marking_and_the_bump_need_mmap_lock_held_for_write_by_the_same_thread()
    {
        this.Rejected(new VmaWriteMarked("w", "mm", "vma1", 0), "without holding mm->mmap_lock for write");
        this.Allowed(new MmapLockAcquired("r", "mm", LockMode.Read));
        this.Rejected(new MmSequenceBumped("r", "mm", 1), "without holding mmap_lock for write");
    }

    [Fact]
    public void Mmap_lock_admits_one_writer_or_many_readers()
    {
        this.Allowed(new MmapLockAcquired("r1", "mm", LockMode.Read));
        this.Allowed(new MmapLockAcquired("r2", "mm", LockMode.Read));
        this.Rejected(new MmapLockAcquired("w", "mm", LockMode.Write), "while r1, r2 held");
    }

    [Fact]
    public void Fields_change_only_on_a_write_locked_vma_with_no_reader_inside()
    {
        this.Allowed(new MmapLockAcquired("w", "mm", LockMode.Write));
        this.Rejected(new VmaFieldWritten("w", "mm", "vma1", "vm_flags", "VM_READ"), "without write-locking");
        this.Allowed(new VmaCreated("w", "mm", "vma3", 0x14000, 0x16000));
        this.Allowed(new VmaFieldWritten("w", "mm", "vma3", "vm_start", "0x12000", 0x12000));
        this.Allowed(new VmaTreeChanged("w", "mm", "vma3", Inserted: true));
        this.Rejected(new VmaTreeChanged("w", "mm", "vma3", Inserted: false), "without write-locking it first");
    }

    [Fact]
    public void Vm_maybe_guard_alone_may_be_set_atomically_under_a_vma_or_mmap_read_lock()
    {
        // madvise_guard_install() → vma_set_atomic_flag(): set_bit() of VM_MAYBE_GUARD (0x800).
        this.Allowed(new VmaStartReadReturned("g", "mm", "vma1", Locked: true));
        this.Allowed(new VmaFlagSetAtomic("g", "mm", "vma1", 0x33, 0x833));
        this.Allowed(new VmaFlagSetAtomic("g", "mm", "vma1", 0x833, 0x833));
        this.Rejected(new VmaFlagSetAtomic("g", "mm", "vma1", 0x833, 0x20833), "only VM_MAYBE_GUARD");
        this.Rejected(new VmaFlagSetAtomic("g", "mm", "vma1", 0x833, 0x831), "only VM_MAYBE_GUARD");
        this.Rejected(new VmaFieldWritten("g", "mm", "vma1", "vm_flags", "VM_READ|VM_WRITE|VM_MAYREAD|VM_MAYWRITE|VM_MAYBE_GUARD"), "without write-locking");
        this.Allowed(new VmaReadUnlocked("g", "mm", "vma1"));

        // The fall-back: mmap_read_lock() holds the VMA stable too.
        this.Rejected(new VmaFlagSetAtomic("g", "mm", "vma2", 0x33, 0x833), "holding neither its read lock nor mm->mmap_lock");
        this.Allowed(new MmapLockAcquired("g", "mm", LockMode.Read));
        this.Allowed(new VmaFlagSetAtomic("g", "mm", "vma2", 0x33, 0x833));
    }

    [Fact]
    public void A_fault_proceeds_only_on_an_attached_vma_it_holds_and_ends_holding_nothing()
    {
        this.Allowed(new FaultStarted("r", "mm", 0x10000));
        this.Allowed(new VmaStartReadReturned("r", "mm", "vma1", Locked: true));
        this.Allowed(new FaultLockedVma("r", "mm", "vma1", 0x10000));
        this.Rejected(new FaultCompleted("r", "mm", 0x10000, FaultOutcome.Handled("page present")), "still holding the read lock of vma1");

        this.Allowed(new MmapLockAcquired("w", "mm", LockMode.Write));
        this.Allowed(new VmaWriteMarked("w", "mm", "vma2", 0));
        this.Allowed(new VmaDetachedChanged("w", "mm", "vma2", Detached: true));
        this.Allowed(new MmSequenceBumped("w", "mm", 1));
        this.Allowed(new VmaStartReadReturned("r2", "mm", "vma2", Locked: true));
        this.Rejected(new FaultLockedVma("r2", "mm", "vma2", 0x12000), "after vma2 was detached");
    }

    [Fact]
    public void A_reported_range_is_one_the_vma_had_taken_under_a_lock_and_a_maps_read_moves_forward()
    {
        this.Allowed(new VmaInstalledAtBoot("mm", "vma1", 0x10000, 0x12000));
        this.Allowed(new MmapLockAcquired("w", "mm", LockMode.Write));
        this.Allowed(new VmaWriteMarked("w", "mm", "vma1", 1));
        this.Allowed(new VmaFieldWritten("w", "mm", "vma1", "vm_start", "0x11000", 0x11000));
        this.Allowed(new VmaFieldWritten("w", "mm", "vma1", "vm_end", "0x13000", 0x13000));
        this.Allowed(new MmSequenceBumped("w", "mm", 2));
        this.Allowed(new MmapLockReleased("w", "mm", LockMode.Write));

        // vma1 had [0x10000-0x12000), [0x11000-0x12000) and [0x11000-0x13000): never vm_start of
        // the first with vm_end of the last.
        var torn = new VmaRangeReported("r", "mm", "vma1", 0x10000, 0x13000, "show_map_vma", "r's maps");
        this.spec.TornRange(torn).Should().Contain("a range vma1 never had");
        this.spec.TornRange(torn with { Start = 0x11000 }).Should().BeNull("the range now");
        this.spec.TornRange(torn with { End = 0x12000 }).Should().BeNull("the range at boot: stale, not torn");

        this.Rejected(torn with { Start = 0x11000 }, "holding neither its read lock nor mm->mmap_lock");
        this.Allowed(new VmaStartReadReturned("r", "mm", "vma1", Locked: true));
        var again = torn with { Start = 0x11000 };
        this.spec.ReportWentBack(again).Should().Contain("the iteration went back", "a line ending at 0x13000 was shown already");
        this.spec.ReportWentBack(again with { File = null }).Should().BeNull("PROCMAP_QUERY answers stand alone");
        this.Allowed(again with { File = null, Function = "do_procmap_query" });
    }

    [Fact]
    public void A_lookup_retries_only_on_a_vma_a_writer_detached_removed_freed_or_recycled()
    {
        var retry = new VmaLookupRetried("r", "mm", "vma1", "lock_vma_under_rcu");
        this.spec.RetryWithoutProgress(retry).Should().Contain("vma1 is attached and in mm's tree");

        this.Allowed(new MmapLockAcquired("w", "mm", LockMode.Write));
        this.Allowed(new VmaWriteMarked("w", "mm", "vma1", 1));
        this.spec.RetryWithoutProgress(retry).Should().Contain("no writer's progress", "write-locked is not detached: the writer may keep it");
        this.Allowed(new VmaDetachedChanged("w", "mm", "vma1", Detached: true));
        this.spec.RetryWithoutProgress(retry).Should().BeNull("vma1 was detached");

        this.Allowed(new VmaCreated("w", "mm", "vma3", 0x10000, 0x12000, Recycled: true));
        this.Allowed(new VmaTreeChanged("w", "mm", "vma3", Inserted: true));
        this.spec.RetryWithoutProgress(retry with { Vma = "vma3" }).Should().BeNull("the lookup may have found vma3's memory as the VMA it was before");
        this.Allowed(retry);
    }

    [Fact]
    public void A_merge_that_removes_a_vma_with_vm_maybe_guard_hands_it_to_the_vma_that_takes_its_range()
    {
        // vma1 [0x10000, 0x12000) and vma2 [0x14000, 0x16000); a guard install sets VM_MAYBE_GUARD on vma2.
        this.Allowed(new VmaInstalledAtBoot("mm", "vma1", 0x10000, 0x12000, 0x33));
        this.Allowed(new VmaInstalledAtBoot("mm", "vma2", 0x14000, 0x16000, 0x33));
        this.Allowed(new VmaStartReadReturned("g", "mm", "vma2", Locked: true));
        this.Allowed(new VmaFlagSetAtomic("g", "mm", "vma2", 0x33, 0x833));
        this.Allowed(new VmaReadUnlocked("g", "mm", "vma2"));

        // mmap() of the gap: vma_expand() grows vma1 over it and over vma2, and removes vma2.
        this.Merge(vma1Flags: 0x33);
        this.spec.LostStickyFlag(new MmapLockReleased("w", "mm", LockMode.Write))
            .Should().Contain("took vma2 out of mm->mm_mt while vma2 had VM_MAYBE_GUARD set, and vma1, which now covers [0x14000-0x16000) of vma2's range, does not have it");
        this.Allowed(new MmapLockReleased("w", "mm", LockMode.Write));

        // The same merge with the flag handed on (vm_flags_set(target, sticky_flags)).
        var fixedSpec = new SpecTests();
        fixedSpec.Allowed(new VmaInstalledAtBoot("mm", "vma1", 0x10000, 0x12000, 0x33));
        fixedSpec.Allowed(new VmaInstalledAtBoot("mm", "vma2", 0x14000, 0x16000, 0x833));
        fixedSpec.Merge(vma1Flags: 0x833);
        fixedSpec.spec.LostStickyFlag(new MmapLockReleased("w", "mm", LockMode.Write)).Should().BeNull();
    }

    [Fact]
    public void A_store_to_vm_flags_never_clears_vm_maybe_guard_and_a_vma_without_it_may_go()
    {
        this.Allowed(new VmaInstalledAtBoot("mm", "vma1", 0x10000, 0x12000, 0x833));
        this.Allowed(new MmapLockAcquired("w", "mm", LockMode.Write));
        this.Allowed(new VmaWriteMarked("w", "mm", "vma1", 0));
        var cleared = new VmaFieldWritten("w", "mm", "vma1", "vm_flags", "VM_READ|VM_WRITE|VM_MAYREAD|VM_MAYWRITE", 0x33);
        this.spec.LostStickyFlag(cleared).Should().Contain("clearing VM_MAYBE_GUARD");
        this.spec.LostStickyFlag(cleared with { Value = "VM_READ|VM_WRITE|VM_EXEC|VM_MAYREAD|VM_MAYWRITE|VM_MAYBE_GUARD", Raw = 0x837 }).Should().BeNull();

        // munmap of a VMA without sticky flags: nothing to hand on.
        this.Allowed(new VmaInstalledAtBoot("mm", "vma2", 0x14000, 0x16000, 0x33));
        this.Allowed(new VmaWriteMarked("w", "mm", "vma2", 0));
        this.Allowed(new VmaTreeChanged("w", "mm", "vma2", Inserted: false));
        this.spec.LostStickyFlag(new MmapLockDowngraded("w", "mm")).Should().BeNull();
    }

    [Fact]
    public void After_a_write_section_every_vma_that_maps_guard_markers_has_vm_maybe_guard()
    {
        // A guard install on vma1's upper page while __split_vma() gives that page to a new VMA, vma3,
        // which copied vma1's flags before the bit was set.
        this.SplitWhileGuardInstall(0x11000, removed: null);
        this.spec.LostStickyFlag(new MmapLockReleased("w", "mm", LockMode.Write))
            .Should().Be("w's write section left vma3 mapping [0x11000-0x12000), whose page tables hold guard markers, without VM_MAYBE_GUARD: the flag that says a VMA may hold guard regions was not handed on with them");
        this.Allowed(new MmapLockReleased("w", "mm", LockMode.Write));

        // Markers in a VMA without the flag are the guard install's own bug.
        this.Rejected(new GuardRegionInstalled("g", "mm", "vma3", 0x11000, 0x12000), "without setting VM_MAYBE_GUARD first");
    }

    [Theory]
    [InlineData(0x11000UL, true)]
    [InlineData(0x10000UL, false)]
    public void Guard_markers_removed_before_a_write_section_ends_no_longer_need_vm_maybe_guard(ulong removedPage, bool removedVma3s)
    {
        // The split of the test above, with markers on both of vma1's pages and one page's removed
        // (MADV_GUARD_REMOVE, which takes mmap_read_lock() while vma1 is write-locked) before the
        // section ends. Only markers left in vma3's page need its missing flag.
        this.SplitWhileGuardInstall(0x10000, removed: removedPage);
        var verdict = this.spec.LostStickyFlag(new MmapLockReleased("w", "mm", LockMode.Write));
        if (removedVma3s)
        {
            verdict.Should().BeNull("no page vma3 maps holds guard markers any more");
        }
        else
        {
            verdict.Should().Contain("left vma3 mapping [0x11000-0x12000), whose page tables hold guard markers, without VM_MAYBE_GUARD");
        }
    }

    [Fact]
    public void A_page_mapped_into_a_range_mbind_scanned_is_missed_until_the_section_ends()
    {
        this.Rejected(new PagesQueuedForMigration("r", "mm2", "vma9", 0x10000, 0x11000, []), "without holding mm2->mmap_lock for write");
        this.Allowed(new MmapLockAcquired("w", "mm", LockMode.Write));
        this.Allowed(new PagesQueuedForMigration("w", "mm", "vma1", 0x10000, 0x11000, ["page1"]));

        // Outside the scanned range, and in it by the walker itself: nothing missed.
        this.Allowed(new AnonPageMapped("f", "mm", "vma1", 0x11000, "page2", "anon_vma1", ["anon_vma1"]));
        this.Allowed(new AnonPageMapped("w", "mm", "vma1", 0x10000, "page3", "anon_vma1", ["anon_vma1"]));
        this.Rejected(new AnonPageMapped("f", "mm", "vma1", 0x10000, "page4", "anon_vma1", ["anon_vma1"]), "the page was never queued, so the migration leaves it behind");

        // After the write section the new policy applies to what faults allocate.
        this.Allowed(new MmapLockReleased("w", "mm", LockMode.Write));
        this.Allowed(new AnonPageMapped("f", "mm", "vma1", 0x10000, "page5", "anon_vma1", ["anon_vma1"]));
    }

    /// <summary>
    /// The events of __split_vma(vma1 = 0x10000-0x12000) at 0x11000, up to mmap_write_unlock, with
    /// a guard install on vma1 from <paramref name="guardFrom"/> to its end (and the removal of the
    /// page at <paramref name="removed"/>) after the copy, vma3, was made and before vma1 is
    /// write-locked.
    /// </summary>
    private void SplitWhileGuardInstall(ulong guardFrom, ulong? removed)
    {
        this.Allowed(new VmaInstalledAtBoot("mm", "vma1", 0x10000, 0x12000, 0x33));
        this.Allowed(new MmapLockAcquired("w", "mm", LockMode.Write));
        this.Allowed(new VmaCreated("w", "mm", "vma3", 0x11000, 0x12000, Flags: 0x33));
        this.Allowed(new VmaStartReadReturned("g", "mm", "vma1", Locked: true));
        this.Allowed(new VmaFlagSetAtomic("g", "mm", "vma1", 0x33, 0x833));
        this.Allowed(new GuardRegionInstalled("g", "mm", "vma1", guardFrom, 0x12000));
        if (removed is { } page)
        {
            this.Allowed(new GuardRegionRemoved("g", "mm", "vma1", page, page + 0x1000));
        }

        this.Allowed(new VmaReadUnlocked("g", "mm", "vma1"));
        this.Allowed(new VmaWriteMarked("w", "mm", "vma1", 0));
        this.Allowed(new VmaFieldWritten("w", "mm", "vma1", "vm_end", "0x11000", 0x11000));
        this.Allowed(new VmaTreeChanged("w", "mm", "vma1", Inserted: true));
        this.Allowed(new VmaWriteMarked("w", "mm", "vma3", 0));
        this.Allowed(new VmaTreeChanged("w", "mm", "vma3", Inserted: true));
        this.Allowed(new MmSequenceBumped("w", "mm", 1));
    }

    /// <summary>The events of vma_expand(vma1, 0x10000-0x16000, next vma2) with remove_next, in one write section.</summary>
    private void Merge(ulong vma1Flags)
    {
        this.Allowed(new MmapLockAcquired("w", "mm", LockMode.Write));
        this.Allowed(new VmaWriteMarked("w", "mm", "vma1", 0));
        this.Allowed(new VmaWriteMarked("w", "mm", "vma2", 0));
        this.Allowed(new VmaFieldWritten("w", "mm", "vma1", "vm_end", "0x16000", 0x16000));
        this.Allowed(new VmaTreeChanged("w", "mm", "vma2", Inserted: false));
        this.Allowed(new VmaTreeChanged("w", "mm", "vma1", Inserted: true));
        this.Allowed(new VmaDetachedChanged("w", "mm", "vma2", Detached: true));
        this.Allowed(new VmaFieldWritten("w", "mm", "vma1", "vm_flags", $"0x{vma1Flags:x}", vma1Flags));
        this.Allowed(new MmSequenceBumped("w", "mm", 1));
    }

    private void Allowed(ProtocolEvent e) => this.spec.Apply(e).Should().BeNull("{0} is allowed", e.Describe());

    private void Rejected(ProtocolEvent e, string because) => this.spec.Apply(e).Should().Contain(because);
}
