using FluentAssertions;
using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Traces;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>
/// explore --strategy exhaustive: every schedule within the bounds, on the port under Coyote.
/// The counts are pinned, GenMC style: a change to the port or to the search that changes the
/// explored state space fails here and has to be looked at (and the pins updated on purpose).
/// The pruning is checked against the search without it: the same event streams, so the same
/// verdicts of every monitor.
/// </summary>
public sealed class ExhaustiveTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("vmalock-exhaustive-").FullName;

    public void Dispose() => Directory.Delete(this.dir, recursive: true);

    private static RunRequest Exhaustive(string scenario, string generation, int k, string memory = RunRequest.ScMemory, string? mutant = null) =>
        TestSupport.Request(scenario, generation, mutant, strategy: Strategies.Exhaustive, iterations: 0, readers: 1) with
        {
            Preemptions = k,
            UnusualChoices = 1,
            Memory = memory,
        };

    /// <summary>
    /// Pinned: scenario, generation, K, then the schedules run to their end, those cut as
    /// equivalent, and the abstract states visited (sc, one fault thread, B = 1).
    /// </summary>
    public static TheoryData<string, string, int, long, long, int> Pinned => new()
    {
        { "fault-vs-mprotect", "6.4", 1, 56, 53, 13 },
        { "fault-vs-munmap", "6.15", 1, 54, 43, 26 },
        { "fault-vs-downgrade", "6.14", 1, 60, 54, 16 },
        { "fault-vs-stack-expand", "6.5", 1, 68, 80, 24 },
        { "fault-vs-file-mmap", "6.15", 1, 25, 30, 35 },
        { "fault-vs-mmap", "6.4", 1, 44, 23, 19 },
        { "fault-vs-mprotect", "6.4", 2, 913, 472, 13 },
        { "fault-vs-munmap", "6.15", 2, 1181, 434, 27 },
        { "fault-vs-downgrade", "6.14", 2, 1397, 565, 17 },
        { "fault-vs-stack-expand", "6.5", 2, 1702, 1080, 26 },
        { "fault-vs-file-mmap", "6.15", 2, 300, 409, 35 },
        { "fault-vs-mmap", "6.4", 2, 691, 241, 19 },
    };

    [Theory]
    [MemberData(nameof(Pinned))]
    public void The_explored_state_space_is_pinned(string scenario, string generation, int k, long schedules, long pruned, int states)
    {
        var result = Explorer.Run(Exhaustive(scenario, generation, k));
        result.Bug.Should().BeNull();
        result.Uncontrolled.Should().BeEmpty();
        result.IterationsAtStepBound.Should().Be(0, "no schedule of the scenario reaches the step bound");
        result.Exhaustive.Should().Be(new ExhaustiveOutcome(k, 1, schedules, pruned, Complete: true, BranchesLeft: 0));
        result.IterationsRun.Should().Be(schedules + pruned, "every Coyote iteration is one schedule, run to its end or cut");
        result.AbstractStates.Should().HaveCount(states);
    }

    /// <summary>Scenario, generation, memory model and K of the pruning checks: both lock kinds, both models, a fork, a stack expansion.</summary>
    public static TheoryData<string, string, string, int> Pruned => new()
    {
        { "fault-vs-mprotect", "6.4", RunRequest.ScMemory, 2 },
        { "fault-vs-munmap", "6.15", RunRequest.ScMemory, 1 },
        { "fault-vs-downgrade", "6.14", RunRequest.ScMemory, 1 },
        { "fault-vs-stack-expand", "6.5", RunRequest.ScMemory, 1 },
        { "fault-vs-mprotect", "6.5", RunRequest.LkmmMemory, 1 },
        { "fault-vs-munmap", "6.15", RunRequest.LkmmMemory, 1 },
        { "fault-vs-fork", "6.5", RunRequest.ScMemory, 1 },
    };

    [Theory]
    [MemberData(nameof(Pruned))]
    public void Pruning_keeps_every_event_stream_the_monitors_see(string scenario, string generation, string memory, int k)
    {
        var request = Exhaustive(scenario, generation, k, memory) with { KeepEventStreams = true };
        var results = TestSupport.RunAll([request, request with { Reduce = false }]);
        var (pruned, full) = (results[0], results[1]);
        pruned.Exhaustive!.Complete.Should().BeTrue();
        full.Exhaustive!.Complete.Should().BeTrue();
        full.Exhaustive.Pruned.Should().Be(0);
        pruned.Exhaustive.Schedules.Should().BeLessThan(full.Exhaustive.Schedules, "sleep sets leave out equivalent schedules");
        pruned.EventStreams.Should().BeEquivalentTo(full.EventStreams, "every schedule left out orders the events as one explored does");
        pruned.AbstractStates.Should().BeEquivalentTo(full.AbstractStates);
    }

    [Fact]
    public void A_larger_bound_explores_more_and_reaches_every_state_of_the_smaller()
    {
        var results = TestSupport.RunAll([.. new[] { 0, 1, 2 }.Select(k => Exhaustive("fault-vs-munmap", "6.5", k))]);
        results.Select(r => r.Exhaustive!.Schedules).Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
        results[1].AbstractStates.Should().BeSubsetOf(results[2].AbstractStates);
        results[0].AbstractStates.Should().BeSubsetOf(results[1].AbstractStates);
        results[0].Exhaustive!.Schedules.Should().Be(1 + 1, "with no preemption only the free switches and the one unusual choice branch");
    }

    [Fact]
    public void A_capped_run_says_incomplete_and_how_much_is_left()
    {
        var result = Explorer.Run(Exhaustive("fault-vs-mprotect", "6.4", 2) with { Iterations = 50 });
        result.IterationsRun.Should().Be(50);
        result.Exhaustive!.Complete.Should().BeFalse();
        result.Exhaustive.BranchesLeft.Should().BePositive();
        result.Exhaustive.Describe().Should().StartWith("incomplete: ").And.Contain("left");
    }

    [Fact]
    public void A_mutant_found_exhaustively_has_a_trace_that_replays_regenerates_and_minimizes()
    {
        var request = Exhaustive("fault-vs-mprotect", "6.5", 2, mutant: "skip-recheck");
        var result = Explorer.Run(request);
        result.Bug!.Invariant.Should().Be("NoReadOnWriteMarkedVma");
        result.Exhaustive!.Complete.Should().BeFalse("the search stops at the first bug");
        var k1 = Explorer.Run(request with { Preemptions = 1 });
        k1.Bug.Should().BeNull("the re-check matters only when the writer runs between the early check and the trylock, and the fault goes on after it");
        k1.Exhaustive!.Complete.Should().BeTrue();

        var path = Path.Combine(this.dir, TraceFile.FileNameFor(request));
        path.Should().EndWith(".exhaustive-k2.trace.json");
        TraceFile.From(result).Save(path);
        var trace = TraceFile.Load(path);
        trace.Options.Preemptions.Should().Be(2);
        trace.Options.Choices.Should().Be(1);
        trace.Options.Reduction.Should().BeTrue();
        Replayer.Replay(path).Reproduced.Should().BeTrue();

        Replayer.Regenerate(path).Invariant.Should().Be("NoReadOnWriteMarkedVma");
        TraceFile.Load(path).CoyoteTrace.ToJsonString().Should().Be(trace.CoyoteTrace.ToJsonString(), "the search is deterministic");
        var minimized = Minimizer.Minimize(trace, path);
        minimized.After.CompareTo(minimized.Before).Should().BeLessThanOrEqualTo(0);
    }

    [Fact]
    public void Explore_prints_what_the_exhaustive_run_proves_and_the_sampling_runs_coverage()
    {
        var (json, sarif) = (Path.Combine(this.dir, "results.json"), Path.Combine(this.dir, "results.sarif"));
        var (code, output, error) = TestSupport.Vmalock(
            "explore", "--scenario", "fault-vs-mprotect", "--generation", "6.5", "--strategy", "portfolio", "--strategy", "exhaustive",
            "--preemptions", "1", "--readers", "1", "--iterations", "100", "--traces-dir", this.dir, "--json", json, "--sarif", sarif);
        error.Should().BeEmpty();
        code.Should().Be(ExitCodes.Clean);
        output.Should().Contain("strategy exhaustive: every schedule with <= 1 preemption, <= 1 unusual choice (sleep-set pruning), 1 reader thread(s), no iteration cap")
            .And.Contain("strategy portfolio: 100 iterations, seed 1, 1 reader thread(s), sampled")
            .And.Contain("complete (K=1)")
            .And.MatchRegex(@"fault-vs-mprotect 6\.5 correct under lkmm \(exhaustive\), 1 reader thread\(s\): complete: all \d+ schedules with <= 1 preemption, <= 1 unusual choice \(\d+ pruned as equivalent\); 13 abstract states",
                "the exhaustive run is under the sampling run's model")
            .And.MatchRegex(@"fault-vs-mprotect 6\.5 correct under lkmm: portfolio, 100 iterations: \d+ of 13 abstract states of the complete exhaustive run \(K=1, B=1, 1 reader thread\(s\), lkmm\)");

        // The reports carry the bound, the counts, complete or not, and the coverage.
        var runs = ExploreSummaryRuns(json);
        var exhaustive = runs.Single(r => r.Strategy == Strategies.Exhaustive);
        exhaustive.Exhaustive.Should().NotBeNull();
        exhaustive.Exhaustive!.Complete.Should().BeTrue();
        exhaustive.Exhaustive.Bound.Should().Be(1);
        exhaustive.AbstractStates.Should().Be(13);
        var sample = runs.Single(r => r.Strategy == "portfolio");
        sample.Coverage!.Of.Should().Be(13);
        sample.Coverage.Reached.Should().BeInRange(1, 13);
        var explored = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(sarif))!["runs"]![0]!["properties"]!["explored"]!;
        explored["fault-vs-mprotect 6.5 correct under lkmm (exhaustive)"]!["complete"]!.GetValue<string>().Should().Be("true");
        explored["fault-vs-mprotect 6.5 correct under lkmm"]!["coverageOf"]!.GetValue<string>().Should().Be("13");
    }

    private static IReadOnlyList<Harness.Cli.RunSummary> ExploreSummaryRuns(string json) => Harness.Cli.ExploreSummary.Load(json).Runs;

    [Fact]
    public void The_slices_of_a_sharded_run_add_up_to_the_whole_and_merge_says_complete_only_with_every_slice()
    {
        var whole = Exhaustive("fault-vs-munmap", "6.15", 2);
        var results = TestSupport.RunAll([.. Enumerable.Range(0, 3).Select(i => whole with { TreeShard = (i, 3) })]);
        results.Select(r => r.Exhaustive!.Slice).Should().Equal("1/3", "2/3", "3/3");
        results.Should().OnlyContain(r => r.Exhaustive!.Complete && r.Exhaustive.Schedules > 0, "each slice is complete, and none is empty");
        results.Sum(r => r.Exhaustive!.Schedules).Should().Be(1181, "the slices are disjoint and together the whole run (pinned above)");
        results.Sum(r => r.Exhaustive!.Pruned).Should().Be(434);

        var files = Enumerable.Range(1, 3).Select(i => Path.Combine(this.dir, $"slice{i}.json")).ToList();
        foreach (var (file, i) in files.Select((f, i) => (f, i + 1)))
        {
            TestSupport.Vmalock("explore", "--strategy", "exhaustive", "--scenario", "fault-vs-munmap", "--generation", "6.15", "--memory", "sc",
                "--shard", $"{i}/3", "--json", file, "--traces-dir", this.dir).ExitCode.Should().Be(ExitCodes.Clean);
        }

        var all = TestSupport.Vmalock(["merge", .. files]);
        all.ExitCode.Should().Be(ExitCodes.Clean);
        all.Output.Should().Contain("complete: all 1,181 schedules with <= 2 preemptions, <= 1 unusual choice (434 pruned as equivalent)").And.Contain("complete (K=2)");
        var two = TestSupport.Vmalock("merge", files[0], files[2]);
        two.Output.Should().Contain("incomplete (K=2)").And.Contain("of slice 1/3, 3/3").And.Contain("the other slices not merged");
    }

    [Theory]
    [InlineData("--preemptions", "-1", "--preemptions must be 0..20, not -1")]
    [InlineData("--preemptions", "21", "--preemptions must be 0..20, not 21")]
    [InlineData("--choices", "99", "--choices must be 0..20, not 99")]
    [InlineData("--strategy", "exhaustiv", "unknown strategy 'exhaustiv'")]
    [InlineData("--strategy", "pct", "--preemptions applies to --strategy exhaustive, which this explore does not run", "--preemptions", "1")]
    [InlineData("--strategy", "portfolio", "--no-reduction applies to --strategy exhaustive, which this explore does not run", "--no-reduction")]
    [InlineData("--strategy", "exhaustive", "--strategy exhaustive needs the controlled scheduler (--mode systematic)", "--mode", "stress")]
    public void Bad_bounds_are_one_line_and_exit_2(string option, string value, string message, params string[] more)
    {
        var (code, output, error) = TestSupport.Vmalock(["explore", "--scenario", "fault-vs-mprotect", option, value, .. more, "--traces-dir", this.dir]);
        code.Should().Be(ExitCodes.BadInput);
        output.Should().BeEmpty();
        error.Trim().Split('\n').Should().ContainSingle().Which.Should().Contain(message);
    }
}
