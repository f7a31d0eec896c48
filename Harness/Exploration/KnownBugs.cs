using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Exploration;

/// <summary>
/// A finding a generation as released has under one memory model: the generation is modelled as
/// released, so exploring it under that model finds it, as it should. An explore that does not
/// name the generation (<c>--generation</c>) and the model (<c>--memory</c>) leaves it out and
/// says so in its header; naming both runs it.
/// <para>
/// Without <see cref="Invariant"/> the whole generation × model pair is left out (a bug a later
/// generation fixed). With it, the pair still runs, in <see cref="Scenarios"/> (null: all) without
/// that one invariant: a finding of the kernel as it stands, which the other invariants must not
/// lose their coverage to. Tests pin that each is still found.
/// </para>
/// </summary>
/// <param name="Generation">The generation as released.</param>
/// <param name="Memory">The memory model the finding needs; null for an interleaving, found under every model (only with <paramref name="Invariant"/>).</param>
/// <param name="Fix">The commit that fixed it, and where; or what it is, if nothing has.</param>
/// <param name="What">One line: the finding, in kernel terms.</param>
/// <param name="Invariant">The one invariant that reports it, or null for the whole pair.</param>
/// <param name="Scenarios">The scenarios the invariant is left out of (null: all).</param>
public sealed record KnownBug(string Generation, string? Memory, string Fix, string What, string? Invariant = null, IReadOnlyList<string>? Scenarios = null)
{
    /// <summary>The header's line: what is left out, why, and how to run it.</summary>
    public string Skipped(int runs) => this.Invariant is null
        ? $"skipped: {this.Generation} under {this.Memory} ({runs} run(s)), its known race ({this.Fix}): {this.What}; " +
          $"--generation {this.Generation} --memory {this.Memory} runs it"
        : $"not judged by {this.Invariant}: {this.Generation} under {this.Memory ?? "every model"} in {runs} run(s) ({(this.Scenarios is null ? "every scenario" : string.Join(", ", this.Scenarios))}), " +
          $"its known finding ({this.Fix}): {this.What}; --generation {this.Generation} --memory {this.Memory ?? "MODEL"} judges it";

    /// <summary>Whether the finding is one of runs under <paramref name="memory"/>.</summary>
    public bool Under(string memory) => this.Memory is null || this.Memory == memory;

    /// <summary>Whether the finding concerns a run of <paramref name="scenario"/>.</summary>
    public bool Covers(string scenario) => this.Scenarios is null || this.Scenarios.Contains(scenario);
}

/// <summary>The known findings of the generations as released.</summary>
public static class KnownBugs
{
    private const string PlainAnonVma =
        "lock_vma_under_rcu() reads vma->anon_vma plain under the VMA read lock (657b5146955e's check) while a fault under mmap_lock " +
        "installs it in __anon_vma_prepare() with a plain store under page_table_lock: an LKMM data race of the kernel's text";

    private const string SeqcountBegin =
        "mm_lock_seqcount_begin()'s plain increment is not a release, so a fault's acquire of a second writer's odd mm_lock_seq " +
        "orders nothing of the first writer's ended section, and it can read vm_flags from before it (an ISA2 chain LKMM does not make transitive)";

    public static IReadOnlyList<KnownBug> All { get; } =
    [
        new("6.4", RunRequest.LkmmMemory, "fixed in 6.5 by b1f02b95758d",
            "vma_end_write_all()'s WRITE_ONCE of mm_lock_seq orders nothing, so a fault can see the write sequence ended and still read the VMA as it was before it"),
        new("6.5", RunRequest.LkmmMemory, "the kernel's own, in 6.4 and 6.5; 6.7 moved the check to vmf_anon_prepare()", PlainAnonVma,
            "NoDataRace", ["fault-vs-mremap-munmap", "fault-vs-mmap", "fault-vs-mremap-fork", "fault-retry-vs-munmap"]),
        new("6.14", RunRequest.LkmmMemory, "the kernel's own, allowed by LKMM, not known on hardware", SeqcountBegin,
            "NoStaleVmaFieldUnderReadLock", ["long-fault-vs-writers", "fault-vs-two-writers"]),
        new("6.15", RunRequest.LkmmMemory, "the kernel's own, allowed by LKMM, not known on hardware", SeqcountBegin,
            "NoStaleVmaFieldUnderReadLock", ["long-fault-vs-writers", "fault-vs-two-writers"]),
        new("7.0", RunRequest.LkmmMemory, "the kernel's own, allowed by LKMM, not known on hardware", SeqcountBegin,
            "NoStaleVmaFieldUnderReadLock", ["long-fault-vs-writers", "fault-vs-two-writers"]),
        new("7.0", null, "the kernel's own, in v7.0 since v6.19's 'mm: implement sticky VMA flags'; the v7.1 order of 'mm/vma: use new VMA flags for sticky flags logic' removes the interleaving (proposal vma-expand-sticky-after-lock), an acquire after the writer's wait for readers the reordering (exclude-readers-acquire)",
            "vma_expand() reads next->vm_flags & VM_STICKY before vma_start_write(next), so a MADV_GUARD_INSTALL holding next's read lock can set VM_MAYBE_GUARD after the read, and the merged VMA does not get it",
            "NoLostStickyFlag", ["madvise-guard-vs-mmap-merge"]),
        new("7.0", null, "the kernel's own, in v7.0 since v6.19's 'mm: set the VM_MAYBE_GUARD flag on guard region install'; no fix posted (proposal mprotect-keeps-atomic-flags)",
            "do_mprotect_pkey() computes the new flags from vma->vm_flags before mprotect_fixup() write-locks the VMA, and vm_flags_reset_once() stores them: a MADV_GUARD_INSTALL holding the VMA's read lock that sets VM_MAYBE_GUARD in between is overwritten",
            "NoLostStickyFlag", ["madvise-guard-vs-mprotect"]),
        new("7.0", RunRequest.LkmmMemory, "the kernel's own, allowed by LKMM, not possible on x86; an acquire after the writer's wait for readers removes it (proposal exclude-readers-acquire)",
            "vma_start_write() waits for the readers with a relaxed refcount_read(), which acquires nothing of what they stored before their releasing vma_refcount_put(), so mseal_apply()'s vm_flags_set() can read vm_flags without the VM_MAYBE_GUARD a guard install set, and its store drops it",
            "NoLostStickyFlag", ["madvise-guard-vs-mseal"]),
        new("7.0", null, "the kernel's own, in v7.0 since v6.19's guard install under the VMA read lock; no fix posted (proposal split-locks-before-dup)",
            "__split_vma() copies the VMA (vm_area_dup(), flags included) before vma_start_write(vma), so a MADV_GUARD_INSTALL holding its read lock can set VM_MAYBE_GUARD and install markers in the part the new VMA takes, which then maps them without the flag",
            "NoLostStickyFlag", ["madvise-guard-vs-split"]),
    ];

    /// <summary>The known bug that leaves <paramref name="generation"/> out under <paramref name="memory"/> altogether, if there is one.</summary>
    public static KnownBug? Of(GenerationInfo generation, string memory) =>
        All.FirstOrDefault(b => b.Invariant is null && b.Generation == generation.Name && b.Memory == memory);

    /// <summary>The known findings whose invariant a run of <paramref name="scenario"/> on <paramref name="generation"/> under <paramref name="memory"/> leaves out.</summary>
    public static IReadOnlyList<KnownBug> NotJudged(string scenario, GenerationInfo generation, string memory) =>
        [.. All.Where(b => b.Invariant is not null && b.Generation == generation.Name && b.Under(memory) && b.Covers(scenario))];

    /// <summary>
    /// <paramref name="invariants"/> without those of the known findings in <paramref name="scenario"/>
    /// on <paramref name="generation"/> under <paramref name="memory"/>: what the main job judges such a run by.
    /// </summary>
    public static IReadOnlyList<InvariantInfo> JudgingAsTheMainJob(IEnumerable<InvariantInfo> invariants, string scenario, GenerationInfo generation, string memory) =>
        Judging(invariants, NotJudged(scenario, generation, memory));

    /// <summary><paramref name="invariants"/> without those of <paramref name="notJudged"/> (<see cref="NotJudged"/>).</summary>
    public static IReadOnlyList<InvariantInfo> Judging(IEnumerable<InvariantInfo> invariants, IReadOnlyList<KnownBug> notJudged) =>
        [.. invariants.Where(i => notJudged.All(b => b.Invariant != i.Name))];
}
