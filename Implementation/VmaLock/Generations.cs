using VmaLockVerify.Implementation.Kernel;

namespace VmaLockVerify.Implementation.VmaLock;

/// <summary>How a generation excludes readers from a VMA.</summary>
public enum VmaLockKind
{
    /// <summary>A per-VMA rw_semaphore (v6.4 to v6.14).</summary>
    Rwsem,

    /// <summary>vm_refcnt with the VMA_LOCK_OFFSET exclusion bit (v6.15+).</summary>
    Refcount,
}

/// <summary>A protocol generation the command line can select.</summary>
/// <param name="Name">As typed on the command line: "6.4".</param>
/// <param name="Description">One line: what the generation is.</param>
/// <param name="Kind">How readers are excluded; mutants of one kind subclass its generation class.</param>
/// <param name="Ordering">Its sequence counters' orderings.</param>
/// <param name="Create">Boots the generation's functions in a kernel.</param>
public sealed record GenerationInfo(
    string Name,
    string Description,
    VmaLockKind Kind,
    SequenceOrdering Ordering,
    Func<KernelWorld, VmaLockGeneration> Create);

/// <summary>The registry of protocol generations: adding one is a class plus a line here.</summary>
public static class Generations
{
    public static IReadOnlyList<GenerationInfo> All { get; } =
    [
        new("6.4", "v6.4 (5e31275cc997): per-VMA rw_semaphore + mm_lock_seq/vm_lock_seq, plain and ONCE accesses",
            VmaLockKind.Rwsem, SequenceOrdering.V6_4, w => new SeqRwsemGeneration(w, "6.4", SequenceOrdering.V6_4)),
        new("6.5", "v6.5 (b1f02b95758d): as 6.4, with release/acquire on mm_lock_seq and ONCE accesses to vm_lock_seq",
            VmaLockKind.Rwsem, SequenceOrdering.V6_5, w => new SeqRwsemGeneration(w, "6.5", SequenceOrdering.V6_5)),
        new("6.14", "v6.14 (eb449bd96954): as 6.5, with mm_lock_seq a seqcount (odd while mmap_lock is write-held) and vm_lock_seq unsigned",
            VmaLockKind.Rwsem, SequenceOrdering.V6_14, w => new SeqRwsemGeneration(w, "6.14", SequenceOrdering.V6_14)),
        new("6.15", "v6.15+ (with 9bbffee67ffd, v6.19 killable writes): vm_refcnt + VMA_LOCK_OFFSET, no detached flag, VMAs recycled at once (SLAB_TYPESAFE_BY_RCU)",
            VmaLockKind.Refcount, SequenceOrdering.V6_15, w => new RefcountGeneration(w, "6.15")),
    ];

    public static GenerationInfo? Find(string name) => All.FirstOrDefault(g => g.Name == name);
}
