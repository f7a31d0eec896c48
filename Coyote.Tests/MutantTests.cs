using FluentAssertions;
using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Implementation.Generations;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>
/// Every mutant is caught, by the invariant it names, within a stated budget of portfolio
/// iterations (seed 1), on every generation it exists in.
/// </summary>
public sealed class MutantTests
{
    /// <summary>The stated budgets: iterations within which each mutant must be caught (seed 1, portfolio).</summary>
    public static TheoryData<string, uint> Budgets() => new()
    {
        { "skip-recheck", 200 },
        { "no-drain", 50 },
        { "skip-detached-check", 100 },
        { "madvise-under-read-lock", 50 },
        { "range-fail-no-end-read", 1000 },
        { "narrow-seq", 100 },
        { "mm-uaf-after-recycle", 1000 },
        { "double-put-on-failure", 50 },
        { "refcount-from-zero", 200 },
        { "killable-keeps-offset", 100 },
        { "killable-ignores-eintr", 50 },
        { "fork-ignores-eintr", 100 },
        { "retry-without-mas-set", 200 },
        { "query-kmalloc-under-rcu", 10 },
        { "maps-no-position-check", 1000 },
        { "again-when-excluded", 10 },
        { "guard-flag-plain-rmw", 10 },
        { "mbind-walk-unlocked", 10 },
        { "stack-expand-no-lock", 50 },
        { "up-read-without-rcu", 1000 },
        { "start-read-sleeps", 10 },
        { "mmap-region-lock-order", 50 },
        { "fork-no-parent-lock", 1000 },
        { "anon-vma-check-before-lock", 100 },
        { "new-vma-visible-unlocked", 50 },
        { "fork-during-anon-vma-prepare", 100 },

        // Ordering mutants: caught under lkmm (Mutant.Memory), clean under sc in the same budget.
        { "seq-without-release-acquire", 200 },
        { "seqcount-end-no-wmb", 200 },
        { "refcount-get-no-acquire", 200 },
        { "trylock-no-acquire", 200 },
        { "refcount-put-no-release", 200 },
    };

    [Fact]
    public void Every_mutant_has_a_stated_budget()
    {
        Budgets().Select(row => (string)row[0]).Should().BeEquivalentTo(MutantRegistry.All.Select(m => m.Name));
    }

    [Theory]
    [MemberData(nameof(Budgets))]
    public void Mutant_is_caught_by_its_invariant_within_budget(string name, uint budget)
    {
        var mutant = MutantRegistry.Find(name)!;
        foreach (var result in TestSupport.RunAll([.. Generations.All.Where(mutant.AppliesTo).Select(g => TestSupport.Request(mutant.Scenario, g.Name, name, iterations: budget))]))
        {
            result.Bug.Should().NotBeNull("{0} on {1} must be caught within {2} iterations", name, result.Request.Generation.Name, budget);
            result.Bug!.Invariant.Should().Be(mutant.CaughtBy);
            result.IterationsRun.Should().BeLessThanOrEqualTo(budget);
            result.Uncontrolled.Should().BeEmpty();
        }
    }

    /// <summary>The ordering mutants' rows of <see cref="Budgets"/>.</summary>
    public static TheoryData<string, uint> OrderingBudgets()
    {
        var ordering = TestSupport.OrderingMutants.Select(m => m.Name).ToHashSet();
        var rows = new TheoryData<string, uint>();
        foreach (var row in Budgets().Where(r => ordering.Contains((string)r[0])))
        {
            rows.Add((string)row[0], (uint)row[1]);
        }

        return rows;
    }

    [Fact]
    public void The_ordering_mutants_are_the_five_of_issue_10()
    {
        OrderingBudgets().Select(r => (string)r[0]).Should().BeEquivalentTo(
            ["seq-without-release-acquire", "seqcount-end-no-wmb", "refcount-get-no-acquire", "trylock-no-acquire", "refcount-put-no-release"]);
    }

    [Theory]
    [MemberData(nameof(OrderingBudgets))]
    public void Ordering_mutant_is_clean_under_sc_within_its_budget(string name, uint budget)
    {
        var mutant = MutantRegistry.Find(name)!;
        foreach (var generation in Generations.All.Where(mutant.AppliesTo))
        {
            var result = Explorer.Run(TestSupport.Request(mutant.Scenario, generation.Name, name, iterations: budget) with { Memory = RunRequest.ScMemory });

            result.Bug.Should().BeNull("{0} on {1} relaxes an ordering, which sequential consistency cannot show", name, generation.Name);
            result.IterationsRun.Should().Be(budget);
            result.IterationsAtStepBound.Should().Be(0);
        }
    }

    [Fact]
    public void A_double_put_left_to_the_kernel_makes_the_writer_wait_forever_on_a_detached_looking_vma()
    {
        // Without SpecConformance to see the unbalanced vma_end_read(), the consequence shows:
        // vm_refcnt reaches 0 while the VMA is attached, and munmap's writer waits for readers
        // that will never leave (B12: a writer seeing a live VMA as detached).
        var result = Explorer.Run(TestSupport.Request("fault-vs-munmap", "6.15", "double-put-on-failure", "pct", iterations: 1000, invariants: "NoReadOnWriteMarkedVma"));

        result.Bug.Should().NotBeNull();
        result.Bug!.Invariant.Should().Be(Finding.Deadlock);
    }
}
