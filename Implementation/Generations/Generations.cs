using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Port;

namespace VmaLockVerify.Implementation.Generations;

/// <summary>A protocol generation the command line can select.</summary>
/// <param name="Name">As typed on the command line: "6.4".</param>
/// <param name="Description">One line: what the generation is.</param>
/// <param name="Kernel">The booted kernel's class: <see cref="Booted"/> with the generation's interface.</param>
/// <param name="Create">Boots the generation's functions in a kernel.</param>
public sealed record GenerationInfo(string Name, string Description, Type Kernel, Func<KernelWorld, Linux> Create)
{
    /// <summary>The generation booted by <paramref name="create"/>.</summary>
    public static GenerationInfo Of<TKernel>(string name, string description, Func<KernelWorld, TKernel> create)
        where TKernel : Booted => new(name, description, typeof(TKernel), w => create(w));
}

/// <summary>
/// The registry of protocol generations. A generation is the set of function versions it uses:
/// adding one is a file in this folder (an interface deriving from its parent that overrides the
/// functions the release changed, and its booted kernel class) plus a line here.
/// </summary>
public static class Generations
{
    public static IReadOnlyList<GenerationInfo> All { get; } =
    [
        GenerationInfo.Of("6.4", "v6.4 (5e31275cc997): per-VMA rw_semaphore + mm_lock_seq/vm_lock_seq, plain and ONCE accesses", w => new V6_4(w)),
        GenerationInfo.Of("6.5", "v6.5 (b1f02b95758d): as 6.4, with release/acquire on mm_lock_seq and ONCE accesses to vm_lock_seq", w => new V6_5(w)),
        GenerationInfo.Of("6.14", "v6.14 (eb449bd96954): as 6.5, with mm_lock_seq a seqcount (odd while mmap_lock is write-held) and vm_lock_seq unsigned", w => new V6_14(w)),
        GenerationInfo.Of("6.15", "v6.15+ (with 9bbffee67ffd, v6.19 killable writes): vm_refcnt + VMA_LOCK_OFFSET, no detached flag, VMAs recycled at once (SLAB_TYPESAFE_BY_RCU)", w => new V6_15(w)),
        GenerationInfo.Of("7.0", "v7.0: as 6.15, with lock_vma_under_rcu()'s ma_state reset on retry over a one-node tree that RCU-frees the node each change replaces, the writer side rewritten (__vma_start_exclude_readers(), VM_REFCNT_EXCLUDE_READERS_FLAG), vma_assert_locked()/vma_assert_stabilised(), /proc/PID/maps and PROCMAP_QUERY under per-VMA locks, madvise under the VMA read lock (MADV_DONTNEED, MADV_FREE, guard install and removal), mbind() with its page walk write-locking the VMAs, and v7.0's mmap_region(), mprotect() and mseal()", w => new V7_0(w)),
    ];

    public static GenerationInfo? Find(string name) => All.FirstOrDefault(g => g.Name == name);
}

/// <summary>
/// Generation "6.4": v6.4 (the per-VMA lock series, 5e31275cc997) with the stable fixes every
/// generation carries (657b5146955e, fb49c455323f, c137381f71ae, 33313a747e81, 1c7873e33645):
/// the functions as <see cref="Linux"/> declares them.
/// </summary>
public sealed class V6_4(KernelWorld world) : Booted(world), Linux;
