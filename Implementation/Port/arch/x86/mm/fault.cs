using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.Port;

/// <summary>
/// arch/x86/mm/fault.c: the page-fault entry, do_user_addr_fault() with its per-VMA lock attempt
/// and its fallback to mmap_read_lock.
/// </summary>
public partial interface Linux
{
    /// <summary>do_user_addr_fault(), arch/x86/mm/fault.c, v6.4. Returns how the fault ended.</summary>
    FaultOutcome DoUserAddrFault(MmStruct mm, ulong address, bool write)
    {
        this.World.Emit(new FaultStarted(this.Thread, mm.Name, address));
        FaultOutcome outcome;
        using (var fn = this.World.Enter("do_user_addr_fault", $"{VmAreaStruct.Hex(address)}, {(write ? "write" : "read")}"))
        {
            outcome = this.DoUserAddrFaultUnderVmaLock(mm, address, write) ?? this.DoUserAddrFaultUnderMmapLock(mm, address, write);
        }

        this.World.Emit(new FaultCompleted(this.Thread, mm.Name, address, outcome));
        return outcome;
    }

    /// <summary>
    /// The FAULT_FLAG_VMA_LOCK part of do_user_addr_fault(), v6.4: lock_vma_under_rcu(), then
    /// handle_mm_fault() under the VMA lock; null when the fault must be redone under mmap_lock
    /// (<c>goto lock_mmap</c>).
    /// </summary>
    private FaultOutcome? DoUserAddrFaultUnderVmaLock(MmStruct mm, ulong address, bool write)
    {
        var vma = this.LockVmaUnderRcu(mm, address);
        if (vma is null)
        {
            this.World.Emit(new FaultFellBack(this.Thread, mm.Name, address, "lock_vma_under_rcu returned NULL"));
            return null;
        }

        if (AccessError(vma, write))
        {
            this.VmaEndRead(vma);
            this.World.Emit(new FaultFellBack(this.Thread, mm.Name, address, "access_error"));
            return null;
        }

        var fault = this.HandleMmFault(vma, address, write, underVmaLock: true);
        this.VmaEndRead(vma);
        if ((fault.Fault & VmFault.Retry) == 0)
        {
            this.World.CountVmEvent("VMA_LOCK_SUCCESS");
            return fault;
        }

        this.World.CountVmEvent("VMA_LOCK_RETRY");
        this.World.Emit(new FaultFellBack(this.Thread, mm.Name, address, VmFault.Retry.KernelName()));
        return null;
    }

    /// <summary>The <c>lock_mmap:</c> part of do_user_addr_fault(), v6.5: lock_mm_and_find_vma() and handle_mm_fault() under mmap_read_lock.</summary>
    private FaultOutcome DoUserAddrFaultUnderMmapLock(MmStruct mm, ulong address, bool write)
    {
        var vma = this.LockMmAndFindVma(mm, address);
        if (vma is null)
        {
            return FaultOutcome.Segv("bad_area"); // lock_mm_and_find_vma() has dropped mmap_lock
        }

        var outcome = AccessError(vma, write) ? FaultOutcome.Segv("access_error") : this.HandleMmFault(vma, address, write, underVmaLock: false);
        this.MmapReadUnlock(mm);
        return outcome;
    }

    /// <summary>access_error(), arch/x86/mm/fault.c: the fault's kind against vm_flags.</summary>
    protected static bool AccessError(VmAreaStruct vma, bool write)
    {
        var flags = vma.VmFlags.ReadOnce();
        return write ? (flags & (ulong)VmFlags.Write) == 0 : (flags & (ulong)(VmFlags.Read | VmFlags.Exec | VmFlags.Write)) == 0;
    }
}
