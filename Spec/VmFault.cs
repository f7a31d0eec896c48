namespace VmaLockVerify.Spec;

/// <summary>
/// vm_fault_t, include/linux/mm_types.h (enum vm_fault_reason), v6.4: the bits handle_mm_fault()
/// returns, with the kernel's values. Only the ones the port produces.
/// </summary>
[Flags]
public enum VmFault
{
    /// <summary>0, no bit set: the fault was handled.</summary>
    None = 0,

    /// <summary>VM_FAULT_OOM: no memory for what the fault needed (here: anon_vma_prepare() failed).</summary>
    Oom = 0x000001,

    /// <summary>VM_FAULT_RETRY: the handler could not finish under the lock it was called with; the fault is redone under mmap_lock.</summary>
    Retry = 0x000400,
}

/// <summary>Kernel spellings of <see cref="VmFault"/>.</summary>
public static class VmFaultNames
{
    /// <summary>
    /// The kernel's name of each bit set, joined by <c>|</c> as the kernel's code ORs them
    /// (<c>VM_FAULT_OOM</c>, <c>VM_FAULT_RETRY</c>); <c>handled</c> for 0. A bit the port does not
    /// name is printed as its value.
    /// </summary>
    public static string KernelName(this VmFault fault)
    {
        if (fault == VmFault.None)
        {
            return "handled";
        }

        var names = new List<string>();
        foreach (var (bit, name) in Names)
        {
            if ((fault & bit) != 0)
            {
                names.Add(name);
                fault &= ~bit;
            }
        }

        if (fault != VmFault.None)
        {
            names.Add($"0x{(int)fault:x6}");
        }

        return string.Join("|", names);
    }

    private static readonly (VmFault Bit, string Name)[] Names =
    [
        (VmFault.Oom, "VM_FAULT_OOM"),
        (VmFault.Retry, "VM_FAULT_RETRY"),
    ];
}

/// <summary>
/// How a page fault, or a handler on its way, ended: the vm_fault_t handle_mm_fault() returned, or
/// the SIGSEGV do_user_addr_fault() sends before calling it (bad_area(), bad_area_access_error());
/// with the port's reason for it, if any. Printed in kernel words, the reason in parentheses:
/// <c>handled (page present)</c>, <c>VM_FAULT_RETRY</c>, <c>VM_FAULT_OOM (no anon_vma)</c>,
/// <c>SIGSEGV (bad_area)</c>.
/// </summary>
public readonly record struct FaultOutcome(VmFault Fault, string? Reason = null, bool Sigsegv = false)
{
    /// <summary>handle_mm_fault() returned 0, for the given reason.</summary>
    public static FaultOutcome Handled(string reason) => new(VmFault.None, reason);

    /// <summary>do_user_addr_fault() sent SIGSEGV without calling handle_mm_fault() (the kernel function that did, as the reason).</summary>
    public static FaultOutcome Segv(string reason) => new(VmFault.None, reason, Sigsegv: true);

    public static implicit operator FaultOutcome(VmFault fault) => new(fault);

    public override string ToString() =>
        (this.Sigsegv ? "SIGSEGV" : this.Fault.KernelName()) + (this.Reason is null ? "" : $" ({this.Reason})");
}
