using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Locking;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.Mm;

/// <summary>
/// struct vm_area_struct (include/linux/mm_types.h with CONFIG_PER_VMA_LOCK): the range and the
/// fields page faults read, and the per-VMA lock state of the VMA's kernel version: up to v6.14,
/// vm_lock (an rw_semaphore; v6.4's in a separately allocated struct vma_lock), vm_lock_seq and
/// detached; from v6.15, vm_refcnt and vm_lock_seq. A VMA has only its version's fields: reaching
/// for another version's is an error of the port. Stores to the fields readers depend on are
/// reported to the monitors as they happen.
/// </summary>
public sealed class VmAreaStruct : KernelObject
{
    private SharedVar<Mempolicy?>? vmPolicy;

    public VmAreaStruct(
        KernelWorld world, MmStruct mm, VmaName name, ulong start, ulong end, VmFlags flags, AnonVma? anonVma, Func<int, string>? seqFormat = null, AddressSpace? file = null, RwSemaphore? vmLock = null, string excludeReadersFlag = VmaLockOffsetName)
        : base(world, name.Name)
    {
        this.VmMmVar = new SharedVar<MmStruct>(world, this, "vm_mm", mm, m => m.ToString());
        this.VmFile = file;
        this.VmStart = this.Field("vm_start", start, Hex);
        this.VmEnd = this.Field("vm_end", end, Hex);
        this.VmFlags = new AtomicVar<ulong>(world, this, "vm_flags", (ulong)flags, VmFlagsFormat.Describe)
        {
            AfterOlderStoreLoaded = this.OlderStoreLoaded<ulong>("vm_flags", VmFlagsFormat.Describe),
            AfterStore = value =>
            {
                if (!this.settingAtomicFlag)
                {
                    this.Stored<ulong>("vm_flags", VmFlagsFormat.Describe)(value);
                }
            },
        };
        this.VmPgoff = this.Field("vm_pgoff", AnonPgoff(start), Hex);
        this.VmPageProt = this.Field("vm_page_prot", VmFlagsFormat.PageProt((ulong)flags), p => p);
        this.AnonVma = this.Field<AnonVma?>("anon_vma", anonVma, a => a?.Name ?? "NULL");
        this.AnonVmaChain = anonVma is null ? [] : [anonVma];
        this.VmLockSeq = new SharedVar<int>(world, this, "vm_lock_seq", -1, seqFormat);
        if (vmLock is not null)
        {
            // Up to v6.14: an rw_semaphore (v6.4's separately allocated vma_lock) and the detached flag.
            this.vmLock = vmLock;
            this.detached = new SharedVar<bool>(world, this, "detached", false, d => d ? "true" : "false");
        }
        else
        {
            // From v6.15: vm_refcnt is both the lock and the attachment.
            this.vmRefcnt = new AtomicVar<int>(world, this, "vm_refcnt", 0, refcnt => DescribeRefcnt(refcnt, excludeReadersFlag));
        }
    }

    /// <summary>The state only some versions have: the rwsem and detached flag up to v6.14, vm_refcnt from v6.15.</summary>
    private readonly RwSemaphore? vmLock;
    private readonly SharedVar<bool>? detached;
    private readonly AtomicVar<int>? vmRefcnt;

    private (AnonVma AnonVma, bool Reused)? installingAnonVma;

    /// <summary>Set while <see cref="SetFlagAtomic"/>'s set_bit() stores: reported as one atomic set, not as a field store.</summary>
    private bool settingAtomicFlag;

    /// <summary>VMA_LOCK_OFFSET (v6.15; VM_REFCNT_EXCLUDE_READERS_FLAG from v7.0, the same bit): set while a writer excludes readers.</summary>
    public const int VmaLockOffset = 0x40000000;

    /// <summary>
    /// vma->vm_policy (CONFIG_NUMA): the VMA's memory policy, NULL for the task's. Only mbind()
    /// touches it in the port (page faults allocate every page on node 0 and do not read it), so
    /// the location is made when mbind() first reaches for it, and the other scenarios' VMAs have none.
    /// </summary>
    public SharedVar<Mempolicy?> VmPolicy => this.vmPolicy ??= new(this.World, this, "vm_policy", null, p => p?.ToString() ?? "NULL");

    /// <summary>The VMA's name as events and the Spec take it: the object's <see cref="KernelObject.Name"/>, typed.</summary>
    public new VmaName Name => new(base.Name);

    /// <summary>The bit's name in traces up to v6.19.</summary>
    public const string VmaLockOffsetName = "VMA_LOCK_OFFSET";

    /// <summary>The bit's name in traces from v7.0 (25faccd69977, "mm/vma: rename VMA_LOCK_OFFSET to VM_REFCNT_EXCLUDE_READERS_FLAG").</summary>
    public const string VmRefcntExcludeReadersFlagName = "VM_REFCNT_EXCLUDE_READERS_FLAG";

    /// <summary>VMA_REF_LIMIT: readers may not raise vm_refcnt to VMA_LOCK_OFFSET or beyond.</summary>
    public const int VmaRefLimit = VmaLockOffset - 1;

    /// <summary>
    /// vma->vm_mm as a shared location. From v6.15 a freed VMA can be reused by another mm at once
    /// (SLAB_TYPESAFE_BY_RCU), so a reader holding a stale pointer must load it and compare.
    /// </summary>
    public SharedVar<MmStruct> VmMmVar { get; }

    /// <summary>
    /// vma->vm_mm for code that holds the VMA steady (its mm's mmap_lock, or a reference on a VMA
    /// that cannot be recycled): no scheduling point.
    /// </summary>
    public MmStruct VmMm => this.VmMmVar.Peek();

    /// <summary>vma->vm_refcnt (v6.15+): 0 detached, 1 attached, +1 per reader, +VMA_LOCK_OFFSET while a writer excludes readers.</summary>
    public AtomicVar<int> VmRefcnt => this.vmRefcnt ?? throw NotInThisVersion("vm_refcnt", "a VMA before v6.15, locked by its vm_lock rw_semaphore");

    /// <summary>vma->vm_start.</summary>
    public SharedVar<ulong> VmStart { get; }

    /// <summary>vma->vm_end (exclusive).</summary>
    public SharedVar<ulong> VmEnd { get; }

    /// <summary>vma->vm_flags.</summary>
    public AtomicVar<ulong> VmFlags { get; }

    /// <summary>vma->vm_page_prot: the protection new PTEs get (vm_get_page_prot(vm_flags), set by mmap_region).</summary>
    public SharedVar<string> VmPageProt { get; }

    /// <summary>vma->vm_pgoff: the page offset of vm_start (for anonymous memory, vm_start >> PAGE_SHIFT when mapped).</summary>
    public SharedVar<ulong> VmPgoff { get; }

    /// <summary>
    /// vma->anon_vma_chain: the anon_vmas the VMA is linked to (the reverse map finds it from
    /// each). Changed only under mmap_lock held for write or, in anon_vma_prepare(), under the
    /// anon_vma lock and the page table lock: a plain field, as the kernel's list is, with no
    /// scheduling point of its own.
    /// </summary>
    public IReadOnlyList<AnonVma> AnonVmaChain { get; set; }

    /// <summary>vma->anon_vma.</summary>
    public SharedVar<AnonVma?> AnonVma { get; }

    /// <summary>vma->vm_lock->lock (up to v6.14): the per-VMA rw_semaphore.</summary>
    public RwSemaphore VmLock => this.vmLock ?? throw NotInThisVersion("vm_lock", "a v6.15+ VMA, locked by vm_refcnt");

    /// <summary>vma->vm_lock_seq: equal to mm->mm_lock_seq while the VMA is write-locked.</summary>
    public SharedVar<int> VmLockSeq { get; }

    /// <summary>vma->detached (up to v6.14): set once the VMA is isolated from the tree.</summary>
    public SharedVar<bool> Detached => this.detached ?? throw NotInThisVersion("detached", "a v6.15+ VMA, whose vm_refcnt of 0 says detached");

    /// <summary>vma->vm_file->f_mapping for a file mapping; null for anonymous memory.</summary>
    public AddressSpace? VmFile { get; private set; }

    /// <summary>vma_is_anonymous(): the VMA maps no file (no vm_ops).</summary>
    public bool IsAnonymous => this.VmFile is null;

    /// <summary>Frees the VMA and its vma_lock (__vm_area_free).</summary>
    public void FreeWithLock(string where)
    {
        this.VmLock.Free(where);
        this.Free(where);
    }

    public static string Hex(ulong value) => $"0x{value:x}";

    /// <summary>The error of code that reaches for a field its VMA's kernel version does not have: a bug in the port, not in the protocol.</summary>
    private InvalidOperationException NotInThisVersion(string field, string what) =>
        new($"{this.Name}->{field}: {this.Name} is {what}; a function of another version reached for it");

    /// <summary>The vm_pgoff mmap gives an anonymous mapping: its start address in pages.</summary>
    public static ulong AnonPgoff(ulong start) => start / PageTable.PageSize;

    /// <summary>Decodes vm_refcnt: attached or detached, readers, the writer's exclusion bit (named <paramref name="excludeReadersFlag"/>).</summary>
    public static string DescribeRefcnt(int refcnt, string excludeReadersFlag)
    {
        var excluded = (refcnt & VmaLockOffset) != 0;
        var rest = refcnt & ~VmaLockOffset;
        var state = rest == 0 ? "detached" : rest == 1 ? "attached" : $"attached+{rest - 1} reader(s)";
        return excluded ? $"{refcnt:#,0} ({state}, {excludeReadersFlag})" : $"{refcnt} ({state})";
    }

    /// <summary>
    /// vm_area_alloc() + vma_init() on an object taken back from the SLAB_TYPESAFE_BY_RCU cache
    /// (v6.15): the same memory becomes a new VMA of <paramref name="mm"/>. vm_refcnt is left as
    /// it is (0): readers with stale pointers may still be looking at it.
    /// </summary>
    public void Reuse(MmStruct mm, VmaName name, ulong start, ulong end, VmFlags flags, AnonVma? anonVma, AddressSpace? file)
    {
        this.VmFile = file;
        this.Reincarnate(name.Name);
        this.World.Emit(new VmaCreated(this.World.Current.Name, mm.Name, name, start, end, Recycled: true, Flags: (ulong)flags));
        this.VmMmVar.SetPlain(mm);
        this.VmStart.SetPlain(start);
        this.VmEnd.SetPlain(end);
        this.VmFlags.SetPlain((ulong)flags);
        this.VmPgoff.SetPlain(AnonPgoff(start));
        this.VmPageProt.SetPlain(VmFlagsFormat.PageProt((ulong)flags));
        this.AnonVma.SetPlain(anonVma);
        this.AnonVmaChain = anonVma is null ? [] : [anonVma];
        this.VmLockSeq.SetPlain(-1);
    }

    /// <summary>
    /// The store of __anon_vma_prepare(): vma->anon_vma = anon_vma, for a VMA that had none,
    /// reported as the first anon_vma (not as a field change that needs the VMA write lock).
    /// </summary>
    public void InstallAnonVma(AnonVma anonVma, bool reused)
    {
        this.installingAnonVma = (anonVma, reused);
        try
        {
            this.AnonVma.WriteOnce(anonVma);
        }
        finally
        {
            this.installingAnonVma = null;
        }
    }

    /// <summary>
    /// set_bit(bit, vma->flags.__vma_flags), as vma_set_atomic_flag() (include/linux/mm.h, v7.0)
    /// does it: one unordered atomic read-modify-write of vm_flags, reported with the value before
    /// and after it (<see cref="VmaFlagSetAtomic"/>) at the instant it happens.
    /// </summary>
    public void SetFlagAtomic(VmFlags bit)
    {
        this.settingAtomicFlag = true;
        ulong old;
        try
        {
            old = this.VmFlags.Update(v => v | (ulong)bit, MemoryOrder.Relaxed, "set_bit");
        }
        finally
        {
            this.settingAtomicFlag = false;
        }

        this.World.Emit(new VmaFlagSetAtomic(this.World.Current.Name, this.VmMm.Name, this.Name, old, old | (ulong)bit));
    }

    /// <summary>
    /// A field page faults read: every store to it is reported to the monitors, and so is every
    /// load that returned an older store (under a weak memory model).
    /// </summary>
    private SharedVar<T> Field<T>(string field, T initial, Func<T, string> format) =>
        new(this.World, this, field, initial, format)
        {
            AfterOlderStoreLoaded = this.OlderStoreLoaded(field, format),
            AfterStore = this.Stored(field, format),
        };

    private Action<T, IReadOnlyList<UnseenStore>> OlderStoreLoaded<T>(string field, Func<T, string> format) =>
        (value, unseen) => this.World.Emit(new VmaFieldReadOlderStore(this.World.Current.Name, this.VmMm.Name, this.Name, field, format(value), unseen));

    private Action<T> Stored<T>(string field, Func<T, string> format) =>
        value => this.World.Emit(field == "anon_vma" && this.installingAnonVma is { } install
            ? new AnonVmaPrepared(this.World.Current.Name, this.VmMm.Name, this.Name, install.AnonVma.Name, install.Reused)
            : new VmaFieldWritten(this.World.Current.Name, this.VmMm.Name, this.Name, field, format(value), value is ulong number ? number : null));
}
