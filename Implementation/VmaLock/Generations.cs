using VmaLockVerify.Implementation.Kernel;

namespace VmaLockVerify.Implementation.VmaLock;

/// <summary>A protocol generation the command line can select.</summary>
/// <param name="Name">As typed on the command line: "6.4".</param>
/// <param name="Description">One line: what the generation is.</param>
/// <param name="Create">Boots the generation's functions in a kernel.</param>
/// <param name="RwsemOrdering">For the rw_semaphore + sequence generations, their orderings (mutants of them subclass <see cref="SeqRwsemGeneration"/>).</param>
public sealed record GenerationInfo(
    string Name,
    string Description,
    Func<KernelWorld, VmaLockGeneration> Create,
    SeqRwsemOrdering? RwsemOrdering = null);

/// <summary>The registry of protocol generations: adding one is a class plus a line here.</summary>
public static class Generations
{
    public static IReadOnlyList<GenerationInfo> All { get; } =
    [
        new("6.4", "v6.4 (5e31275cc997): per-VMA rw_semaphore + mm_lock_seq/vm_lock_seq, plain and ONCE accesses",
            w => new SeqRwsemGeneration(w, "6.4", SeqRwsemOrdering.V6_4), SeqRwsemOrdering.V6_4),
        new("6.5", "v6.5 (b1f02b95758d): as 6.4, with release/acquire on mm_lock_seq and ONCE accesses to vm_lock_seq",
            w => new SeqRwsemGeneration(w, "6.5", SeqRwsemOrdering.V6_5), SeqRwsemOrdering.V6_5),
        new("6.14", "v6.14 (eb449bd96954): as 6.5, with mm_lock_seq a seqcount (odd while mmap_lock is write-held) and vm_lock_seq unsigned",
            w => new SeqRwsemGeneration(w, "6.14", SeqRwsemOrdering.V6_14), SeqRwsemOrdering.V6_14),
    ];

    public static GenerationInfo? Find(string name) => All.FirstOrDefault(g => g.Name == name);
}
