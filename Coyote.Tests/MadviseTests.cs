using FluentAssertions;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Spec;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>
/// v7.0's madvise() under the VMA read lock, run directly on one thread: MADV_FREE and
/// MADV_GUARD_REMOVE take vma1's read lock when the range lies in it, and fall back to
/// mmap_read_lock() when a split has made the range span two VMAs; either way the page walk's
/// lock check passes and the behaviour's effect is there. The scenario madvise-free-vs-split
/// reaches both paths only on some schedules.
/// </summary>
public sealed class MadviseTests
{
    private const VmFlags ReadWrite = VmFlags.Read | VmFlags.Write | VmFlags.MayRead | VmFlags.MayWrite;
    private const ulong Vma1Start = 0x10000;
    private const ulong Upper = 0x11000;
    private const ulong Vma1End = 0x12000;

    private readonly KernelWorld world = new(new SequentialControl());
    private readonly List<ProtocolEvent> events = [];
    private readonly Linux7_0 linux;
    private readonly MmStruct mm;
    private readonly VmAreaStruct vma1;
    private readonly Folio[] folios;

    public MadviseTests()
    {
        this.linux = (Linux7_0)Generations.Find("7.0")!.Create(this.world);
        this.world.AddObserver(new Recorder(this.events));
        this.mm = new MmStruct(this.world, "mm");
        var anonVma = new AnonVma(this.world, "anon_vma1");
        this.vma1 = this.linux.VmAreaAlloc(this.mm, "vma1", Vma1Start, Vma1End, ReadWrite, anonVma);
        this.linux.InstallAtSetup(this.mm, this.vma1);
        this.folios = [new Folio(this.world, anonVma), new Folio(this.world, anonVma)];
        this.mm.PageTable.Populate(Vma1Start, new Pte(this.folios[0], Writable: true));
        this.mm.PageTable.Populate(Upper, new Pte(this.folios[1], Writable: true));
    }

    [Fact]
    public void Madv_free_of_one_vma_takes_its_read_lock_and_marks_each_mapped_page_lazyfree()
    {
        this.Madvise(Vma1Start, Vma1End - Vma1Start, MadviseBehavior.Free).Should().Be(0);

        this.events.OfType<VmaStartReadReturned>().Should().ContainSingle(e => e.Thread == "madvise0" && e.Vma == "vma1" && e.Locked);
        this.events.OfType<MmapLockAcquired>().Should().NotContain(e => e.Thread == "madvise0", "the VMA lock sufficed");
        this.folios.Should().OnlyContain(f => f.LazyFree);
    }

    [Fact]
    public void Madv_free_across_a_split_falls_back_to_mmap_read_lock_and_marks_the_pages_of_both_vmas()
    {
        this.world.RunAs("writer", this.mm.Name, () =>
        {
            this.linux.MmapWriteLock(this.mm);
            this.linux.__SplitVma(this.vma1, Upper);
            this.linux.MmapWriteUnlock(this.mm);
        });

        this.Madvise(Vma1Start, Vma1End - Vma1Start, MadviseBehavior.Free).Should().Be(0);

        this.events.OfType<MmapLockAcquired>().Should().ContainSingle(e => e.Thread == "madvise0" && e.Mode == LockMode.Read);
        this.folios.Should().OnlyContain(f => f.LazyFree, "the fall-back walks vma1 and the new VMA");
    }

    [Fact]
    public void Madv_guard_remove_under_the_vma_lock_reports_the_markers_gone_and_keeps_vm_maybe_guard()
    {
        this.Madvise(Upper, Vma1End - Upper, MadviseBehavior.GuardInstall).Should().Be(0, "the populated page is zapped and the walk tried again");
        this.events.OfType<GuardRegionInstalled>().Should().ContainSingle().Which.Should().Be(new GuardRegionInstalled("madvise0", "mm", "vma1", Upper, Vma1End));
        this.mm.PageTable.Pte(Upper).Peek().Should().BeNull();

        this.Madvise(Upper, Vma1End - Upper, MadviseBehavior.GuardRemove).Should().Be(0);

        this.events.OfType<GuardRegionRemoved>().Should().ContainSingle().Which.Should().Be(new GuardRegionRemoved("madvise0", "mm", "vma1", Upper, Vma1End));
        this.events.OfType<MmapLockAcquired>().Should().NotContain(e => e.Thread == "madvise0");
        this.vma1.VmFlags.Peek().Should().Match(f => (f & (ulong)VmFlags.MaybeGuard) != 0, "VM_MAYBE_GUARD says only that guards may be there");
    }

    private int Madvise(ulong start, ulong length, MadviseBehavior behavior)
    {
        var result = 0;
        this.world.RunAs("madvise0", this.mm.Name, () => result = this.linux.DoMadvise(this.mm, start, length, behavior));
        return result;
    }

    private sealed class Recorder(List<ProtocolEvent> events) : IProtocolObserver
    {
        public void Observe(ProtocolEvent e) => events.Add(e);
    }
}
