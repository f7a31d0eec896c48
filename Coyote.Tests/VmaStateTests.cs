using FluentAssertions;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>
/// A VMA carries its kernel version's per-VMA lock state only: up to v6.14 the vm_lock
/// rw_semaphore and the detached flag, from v6.15 vm_refcnt. Reaching for another version's field
/// is an error that names it.
/// </summary>
public sealed class VmaStateTests
{
    [Theory]
    [InlineData("6.4", false)]
    [InlineData("6.5", false)]
    [InlineData("6.14", false)]
    [InlineData("6.15", true)]
    [InlineData("7.0", true)]
    public void A_vma_has_only_its_versions_lock_state(string generation, bool refcounted)
    {
        Generations.All.Select(g => g.Name).Should().Contain(generation);
        var world = new KernelWorld(new SequentialControl());
        var linux = Generations.Find(generation)!.Create(world);
        var vma = linux.VmAreaAlloc(new MmStruct(world, "mm"), "vma1", 0x10000, 0x12000, VmFlags.Read | VmFlags.MayRead, anonVma: null);

        var rwsem = () => vma.VmLock;
        var detached = () => vma.Detached;
        var refcnt = () => vma.VmRefcnt;
        if (refcounted)
        {
            refcnt().Peek().Should().Be(0, "a new VMA is detached until vma_mark_attached()");
            rwsem.Should().Throw<InvalidOperationException>().WithMessage("vma1->vm_lock: vma1 is a v6.15+ VMA, locked by vm_refcnt*");
            detached.Should().Throw<InvalidOperationException>().WithMessage("vma1->detached:*");
        }
        else
        {
            rwsem().IsLocked().Should().BeFalse();
            detached().Peek().Should().BeFalse();
            refcnt.Should().Throw<InvalidOperationException>().WithMessage("vma1->vm_refcnt: vma1 is a VMA before v6.15*");
        }
    }
}
