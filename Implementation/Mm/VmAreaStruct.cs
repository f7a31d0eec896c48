using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Locking;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.Mm;

/// <summary>
/// struct vm_area_struct (include/linux/mm_types.h, v6.4 with CONFIG_PER_VMA_LOCK): the range and
/// the fields page faults read, and the per-VMA lock state: vm_lock (a separately allocated
/// struct vma_lock holding an rw_semaphore), vm_lock_seq and detached. Stores to the fields
/// readers depend on are reported to the monitors as they happen.
/// </summary>
public sealed class VmAreaStruct : KernelObject
{
    public VmAreaStruct(
        KernelWorld world, MmStruct mm, string name, ulong start, ulong end, VmFlags flags, AnonVma? anonVma, Func<int, string>? seqFormat = null)
        : base(world, name)
    {
        this.VmMm = mm;
        this.IsAnonymous = true;
        this.VmStart = this.Field("vm_start", start, Hex);
        this.VmEnd = this.Field("vm_end", end, Hex);
        this.VmFlags = this.Field("vm_flags", (ulong)flags, VmFlagsFormat.Describe);
        this.AnonVma = this.Field<AnonVma?>("anon_vma", anonVma, a => a?.Name ?? "NULL");
        this.VmLock = new RwSemaphore(world, $"{name}->vm_lock");
        this.VmLockSeq = new SharedVar<int>(world, this, "vm_lock_seq", -1, seqFormat);
        this.Detached = new SharedVar<bool>(world, this, "detached", false, d => d ? "true" : "false");
    }

    /// <summary>vma->vm_mm: the address space the VMA belongs to.</summary>
    public MmStruct VmMm { get; }

    /// <summary>vma->vm_start.</summary>
    public SharedVar<ulong> VmStart { get; }

    /// <summary>vma->vm_end (exclusive).</summary>
    public SharedVar<ulong> VmEnd { get; }

    /// <summary>vma->vm_flags.</summary>
    public SharedVar<ulong> VmFlags { get; }

    /// <summary>vma->anon_vma.</summary>
    public SharedVar<AnonVma?> AnonVma { get; }

    /// <summary>vma->vm_lock->lock: the per-VMA rw_semaphore.</summary>
    public RwSemaphore VmLock { get; }

    /// <summary>vma->vm_lock_seq: equal to mm->mm_lock_seq while the VMA is write-locked.</summary>
    public SharedVar<int> VmLockSeq { get; }

    /// <summary>vma->detached: set once the VMA is isolated from the tree.</summary>
    public SharedVar<bool> Detached { get; }

    /// <summary>vma_is_anonymous(): the VMA has no vm_ops (the scenarios map anonymous memory only).</summary>
    public bool IsAnonymous { get; }

    /// <summary>Frees the VMA and its vma_lock (__vm_area_free).</summary>
    public void FreeWithLock(string where)
    {
        this.VmLock.Free(where);
        this.Free(where);
    }

    public static string Hex(ulong value) => $"0x{value:x}";

    /// <summary>A field page faults read: every store to it is reported to the monitors.</summary>
    private SharedVar<T> Field<T>(string field, T initial, Func<T, string> format) =>
        new(this.World, this, field, initial, format)
        {
            AfterStore = value => this.World.Emit(new VmaFieldWritten(this.World.Current.Name, this.VmMm.Name, this.Name, field, format(value))),
        };
}
