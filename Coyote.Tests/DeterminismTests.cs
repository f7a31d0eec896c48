using FluentAssertions;
using VmaLockVerify.Harness.Exploration;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>Same seed and options, same result: the bug, the iteration it was found in, the schedule.</summary>
public sealed class DeterminismTests
{
    [Theory]
    [InlineData("random")]
    [InlineData("pct")]
    [InlineData("portfolio")]
    public void Same_seed_gives_the_same_bug_and_schedule(string strategy)
    {
        var request = TestSupport.Request("fault-vs-merge", "6.4", "range-fail-no-end-read", strategy, iterations: 3000, seed: 7);

        var (first, second) = TestSupport.RunAll([request, request]) is [var a, var b] ? (a, b) : throw new InvalidOperationException("two runs");

        second.IterationsRun.Should().Be(first.IterationsRun);
        second.Bug.Should().Be(first.Bug);
        second.ReproducibleTrace.Should().Be(first.ReproducibleTrace);
        second.ControlledOperations.Should().Be(first.ControlledOperations);
    }

    [Fact]
    public void Different_seeds_explore_different_schedules()
    {
        var (a, b) = TestSupport.RunAll([.. new uint[] { 1, 2 }.Select(seed => TestSupport.Request("fault-vs-merge", "6.4", "range-fail-no-end-read", "pct", iterations: 3000, seed: seed))])
            is [var one, var two] ? (one, two) : throw new InvalidOperationException("two runs");

        a.Bug.Should().NotBeNull();
        b.Bug.Should().NotBeNull();
        a.ReproducibleTrace.Should().NotBe(b.ReproducibleTrace);
    }

    [Fact]
    public void Engines_side_by_side_give_the_same_results_as_one_after_another()
    {
        var requests = new[]
        {
            TestSupport.Request("fault-vs-munmap", "6.4", "skip-detached-check", iterations: 300),
            TestSupport.Request("fault-vs-mprotect", "6.5", "skip-recheck", iterations: 300),
            TestSupport.Request("fault-vs-merge", "6.5", iterations: 100),
        };

        var alone = requests.Select(r => Explorer.Run(r)).ToList();
        var together = new RunResult[requests.Length];
        Parallel.For(0, requests.Length, new ParallelOptions { MaxDegreeOfParallelism = 3 }, i => together[i] = Explorer.Run(requests[i]));

        for (var i = 0; i < requests.Length; i++)
        {
            together[i].IterationsRun.Should().Be(alone[i].IterationsRun);
            together[i].Bug.Should().Be(alone[i].Bug);
            together[i].ReproducibleTrace.Should().Be(alone[i].ReproducibleTrace);
        }
    }
}
