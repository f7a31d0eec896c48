using System.Text.RegularExpressions;
using FluentAssertions;
using VmaLockVerify.Harness.Cli;
using VmaLockVerify.Harness.Exploration;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>explore --shard and merge, and the CI workflow in docs/ that uses them.</summary>
public sealed class ShardTests
{
    [Fact]
    public void Two_shards_cover_the_plan_once_and_merge_into_one_clean_verdict()
    {
        var dir = Directory.CreateTempSubdirectory("vmalock-shards-").FullName;
        try
        {
            var first = Path.Combine(dir, "results-1.json");
            var second = Path.Combine(dir, "results-2.json");
            TestSupport.Vmalock("explore", "--strategy", "portfolio", "--iterations", "5", "--shard", "1/2", "--json", first).ExitCode.Should().Be(ExitCodes.Clean);
            TestSupport.Vmalock("explore", "--strategy", "portfolio", "--iterations", "5", "--shard", "2/2", "--json", second).ExitCode.Should().Be(ExitCodes.Clean);

            var runs = new[] { first, second }.SelectMany(p => ExploreSummary.Load(p).Runs).Select(r => r.Label).ToList();
            var whole = ExploreCommand.Plan(new ExploreOptions([], null, null, ["portfolio"], 5, 5000, 1, 0, 2, [], "unused", null));
            runs.Should().OnlyHaveUniqueItems().And.BeEquivalentTo(whole.Select(r => r.Label));

            var (code, output, _) = TestSupport.Vmalock("merge", first, second);
            code.Should().Be(ExitCodes.Clean);
            output.Should().Contain($"vmalock merge: 2 file(s) (1/2, 2/2), {whole.Count} run(s)")
                .And.Contain($"no invariant violated: {whole.Count * 5} iterations over {whole.Count} run(s)");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_bug_in_any_shard_makes_the_merge_exit_1_with_its_replay_command()
    {
        var dir = Directory.CreateTempSubdirectory("vmalock-shards-").FullName;
        try
        {
            var traces = Path.Combine(dir, "traces");
            var first = Path.Combine(dir, "results-1.json");
            var second = Path.Combine(dir, "results-2.json");
            TestSupport.Vmalock("explore", "--mutant", "skip-recheck", "--shard", "1/2", "--json", first, "--traces-dir", traces).ExitCode.Should().Be(ExitCodes.BugFound);
            TestSupport.Vmalock("explore", "--mutant", "skip-recheck", "--shard", "2/2", "--json", second, "--traces-dir", traces).ExitCode.Should().Be(ExitCodes.BugFound);

            var (code, output, _) = TestSupport.Vmalock("merge", first, second);

            code.Should().Be(ExitCodes.BugFound);
            output.Should().Contain("BUG in fault-vs-mprotect 6.4 skip-recheck: NoReadOnWriteMarkedVma")
                .And.Contain($"replay: dotnet run --project Harness -- replay {Path.Combine(traces, "fault-vs-mprotect.6.4.skip-recheck.seed1.trace.json")}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("--shard must be I/N", "explore", "--shard", "3/2")]
    [InlineData("--shard must be I/N", "explore", "--shard", "half")]
    [InlineData("results file not found", "merge", "/no/such/results.json")]
    public void Bad_shards_and_results_files_are_bad_input(string expected, params string[] args)
    {
        var (code, _, error) = TestSupport.Vmalock(args);
        code.Should().Be(ExitCodes.BadInput);
        error.Should().StartWith("vmalock: ").And.Contain(expected);
    }

    [Fact]
    public void A_results_file_that_is_not_one_is_bad_input()
    {
        var path = Path.Combine(Path.GetTempPath(), $"vmalock-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, "{\"format\": \"something-else\", \"runs\": []}");
        try
        {
            var (code, _, error) = TestSupport.Vmalock("merge", path);
            code.Should().Be(ExitCodes.BadInput);
            error.Should().Contain("malformed results file");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_ready_workflow_shards_the_whole_plan_and_merges_every_shard()
    {
        var workflow = File.ReadAllText(Path.Combine(TestSupport.RepositoryRoot, "docs", "github-actions.yml"));

        var matrix = Regex.Match(workflow, @"shard: \[([0-9, ]+)\]").Groups[1].Value.Split(',').Select(s => int.Parse(s.Trim())).ToList();
        var explore = Regex.Match(workflow, @"run: dotnet run --project Harness -- explore --shard \$\{\{ matrix.shard \}\}/(\d+) --json results-\$\{\{ matrix.shard \}\}.json");
        explore.Success.Should().BeTrue("each shard must write its results for the merge");
        matrix.Should().Equal(Enumerable.Range(1, int.Parse(explore.Groups[1].Value)), "the matrix must run every shard once");
        workflow.Should().Contain("run: dotnet run --project Harness -- merge results-*.json");
    }
}
