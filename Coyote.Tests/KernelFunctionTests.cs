using FluentAssertions;
using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Implementation.Generations;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>
/// The seams are what they say: a mutant's kernel differs from its generation's in exactly the
/// functions the mutant declares, and every generation boots.
/// </summary>
public sealed class KernelFunctionTests
{
    public static TheoryData<string> Mutants() => [.. MutantRegistry.All.Select(m => m.Name)];

    [Theory]
    [MemberData(nameof(Mutants))]
    public void A_mutant_replaces_only_the_functions_it_declares(string name)
    {
        var mutant = MutantRegistry.Find(name)!;
        mutant.Kernels.Should().NotBeEmpty();
        foreach (var kernel in mutant.Kernels)
        {
            var generation = Generations.Find(kernel.Generation);
            generation.Should().NotBeNull("{0} names generation {1}", name, kernel.Generation);

            var replaced = KernelFunctions.Replaced(generation!.Kernel, kernel.Kernel, mutant.GetType());
            replaced.Select(f => f.Name).Should().BeEquivalentTo(mutant.Replaces, "{0} on {1} must replace what it declares, and nothing else", name, kernel.Generation);
        }
    }

    [Fact]
    public void Kernel_names_follow_the_kernels_spelling()
    {
        var names = KernelFunctions.Bodies(Generations.Find("6.15")!.Kernel).Values.Select(f => KernelFunctions.KernelName(f.Function)).ToList();
        names.Should().Contain(["vma_start_read", "lock_vma_under_rcu", "__vma_start_write", "__split_vma", "mm_lock_seqcount_begin", "__is_vma_write_locked"]);
    }

    [Fact]
    public void A_generation_overrides_what_it_changed_and_keeps_its_parents_bodies_for_the_rest()
    {
        var v64 = KernelFunctions.Bodies(Generations.Find("6.4")!.Kernel);
        var v65 = KernelFunctions.Bodies(Generations.Find("6.5")!.Kernel);
        var changed = v65.Values.Where(f => v64.TryGetValue(KernelFunctions.Id(f.Function), out var old) && !KernelFunctions.Same(old.Body, f.Body)).Select(f => KernelFunctions.KernelName(f.Function));
        changed.Should().BeEquivalentTo(["vma_start_read", "__is_vma_write_locked", "vma_start_write", "vma_end_write_all"]);
    }

    [Fact]
    public void Generation_7_0_overrides_the_functions_v7_0_changed_and_adds_its_new_ones()
    {
        var v615 = KernelFunctions.Bodies(Generations.Find("6.15")!.Kernel);
        var v70 = KernelFunctions.Bodies(Generations.Find("7.0")!.Kernel);
        var changed = v70.Values.Where(f => v615.TryGetValue(KernelFunctions.Id(f.Function), out var old) && !KernelFunctions.Same(old.Body, f.Body)).Select(f => KernelFunctions.KernelName(f.Function));
        changed.Should().BeEquivalentTo(
            ["install_at_setup", "lock_vma_under_rcu", "vma_refcount_put", "__is_vma_write_locked", "vma_start_write", "vma_start_write_killable", "vma_assert_write_locked", "vma_mark_detached", "dup_mmap", "copy_page_range", "mmap_region", "do_mprotect_pkey"]);

        var added = v70.Values.Where(f => !v615.ContainsKey(KernelFunctions.Id(f.Function)) && !f.Function.Name.Contains('.', StringComparison.Ordinal)).Select(f => KernelFunctions.KernelName(f.Function));
        added.Should().BeEquivalentTo(
            ["__vma_refcount_put_return", "__vma_raw_mm_seqnum", "__vma_start_write", "__vma_start_exclude_readers", "__vma_end_exclude_readers", "__vma_exclude_readers_for_detach", "vma_assert_locked", "vma_assert_stabilised",
             "lock_next_vma", "lock_next_vma_under_mmap_lock", "mmap_lock_speculate_try_begin", "mmap_lock_speculate_retry",
             "proc_maps_open", "unlock_ctx_vma", "lock_vma_range", "unlock_vma_range", "get_next_vma", "fallback_to_mmap_lock", "proc_get_vma", "m_start", "m_next", "m_stop", "show_map_vma", "seq_read_iter",
             "procfs_procmap_ioctl", "query_vma_setup", "query_vma_teardown", "query_vma_find_by_addr", "query_matching_vma", "do_procmap_query",
             "tear_down_vmas", "anon_vma_name", "get_vma_name",
             "do_madvise", "madvise_lock", "madvise_unlock", "madvise_do_behavior", "madvise_walk_vmas", "try_vma_read_lock", "try_vma_read_lock_take_mmap_read_lock", "is_vma_lock_sufficient",
             "madvise_vma_behavior", "madvise_guard_install", "vma_set_atomic_flag", "__vma_atomic_valid_flag", "madvise_dontneed_free", "madvise_dontneed_single_vma",
             "get_walk_lock", "madvise_free_single_vma", "madvise_free_pte_range", "madvise_guard_remove",
             "walk_page_range_vma", "walk_page_range_vma_unsafe", "process_mm_walk_lock", "process_vma_walk_lock", "__walk_page_range",
             "walk_page_range", "walk_page_range_mm_unsafe", "walk_page_test",
             "do_mbind", "queue_pages_range", "queue_pages_test_walk", "queue_folios_pte_range", "mbind_range", "vma_modify_policy", "vma_replace_policy",
             "__mmap_region", "__mmap_setup", "__mmap_new_vma", "vma_link_file", "__mmap_complete", "vma_merge_new_range", "can_vma_merge_left", "can_vma_merge_right",
             "can_vma_merge_before", "can_vma_merge_after", "is_mergeable_vma", "is_mergeable_anon_vma", "vma_expand", "dup_anon_vma", "commit_merge",
             "do_mseal", "range_contains_unmapped", "mseal_apply"]);
    }
}
