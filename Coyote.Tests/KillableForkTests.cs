using FluentAssertions;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>
/// v7.0's dup_mmap() when a fatal signal ends its wait for a parent VMA's readers (its -EINTR exit,
/// goto loop_out), run directly on one thread with a signal always pending (SequentialControl takes every rare event): the path the
/// fault-vs-killable-fork scenario reaches only on some schedules.
/// </summary>
public sealed class KillableForkTests
{
    private const VmFlags ReadWrite = VmFlags.Read | VmFlags.Write | VmFlags.MayRead | VmFlags.MayWrite;

    [Fact]
    public void A_fatal_signal_in_the_wait_for_a_vmas_readers_returns_eintr_and_tears_down_the_childs_copies()
    {
        var world = new KernelWorld(new SequentialControl());
        var linux = (Linux7_0)Generations.Find("7.0")!.Create(world);
        var mm = new MmStruct(world, "mm");
        var vma1 = linux.VmAreaAlloc(mm, "vma1", 0x10000, 0x12000, ReadWrite, anonVma: null);
        var vma2 = linux.VmAreaAlloc(mm, "vma2", 0x12000, 0x14000, ReadWrite, anonVma: null);
        linux.InstallAtSetup(mm, vma1);
        linux.InstallAtSetup(mm, vma2);

        // fault0 holds vma2's read lock, so dup_mmap() has to wait for it when it reaches vma2.
        world.RunAs("fault0", mm.Name, () =>
        {
            world.Rcu.ReadLock();
            linux.VmaStartRead(mm, vma2).Should().Be(ReadLockOutcome.Locked);
            world.Rcu.ReadUnlock();
        });

        var child = new MmStruct(world, "child");
        var retval = 0;
        world.RunAs("forker", mm.Name, () =>
        {
            retval = linux.DupMmap(child, mm);
            child.MmMt.FindVma(0).Should().BeNull("the copy of vma1, made before the signal, is torn down and nothing of vma2 was copied");
            mm.MmapLock.IsLocked().Should().BeFalse("both mmap_locks are released on the way out");
            child.MmapLock.IsLocked().Should().BeFalse();
        });

        retval.Should().Be(-Errno.EINTR);
        vma2.VmRefcnt.Peek().Should().Be(2, "vma2 is attached with fault0's reference: the killed wait took its exclusion back");
        vma1.VmRefcnt.Peek().Should().Be(1, "vma1 was write-locked and copied, then released with the mmap_lock: attached, no reader");
    }
}
