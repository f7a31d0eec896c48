using FluentAssertions;
using VmaLockVerify.Harness.Exploration;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>The vmalock verbs: exit codes, one-line errors, traces written where asked.</summary>
public sealed class CommandLineTests
{
    [Theory]
    [InlineData("unknown scenario 'fault-vs-nothing'", "explore", "--scenario", "fault-vs-nothing")]
    [InlineData("unknown generation '2.6'", "explore", "--generation", "2.6")]
    [InlineData("unknown mutant 'no-such-mutant'", "explore", "--mutant", "no-such-mutant")]
    [InlineData("does not exist in generation 6.4", "explore", "--mutant", "refcount-from-zero", "--generation", "6.4")]
    [InlineData("unknown strategy 'dfs-forever'", "explore", "--strategy", "dfs-forever")]
    [InlineData("unknown invariant 'NoSuchInvariant'", "explore", "--invariant", "NoSuchInvariant")]
    [InlineData("--readers must be 1..4, not 0", "explore", "--readers", "0")]
    [InlineData("--readers must be 1..4, not 5", "explore", "--readers", "5")]
    [InlineData("--iterations must be at least 1", "explore", "--iterations", "0")]
    [InlineData("Cannot parse argument 'many' for option '--iterations'", "explore", "--iterations", "many")]
    [InlineData("Unrecognized command or argument '--unknown-option'", "explore", "--unknown-option")]
    [InlineData("--json /no/such/dir/results.json: directory /no/such/dir does not exist", "explore", "--json", "/no/such/dir/results.json")]
    [InlineData("--junit /no/such/dir/junit.xml: directory /no/such/dir does not exist", "explore", "--junit", "/no/such/dir/junit.xml")]
    [InlineData("--sarif /no/such/dir/explore.sarif: directory /no/such/dir does not exist", "explore", "--sarif", "/no/such/dir/explore.sarif")]
    [InlineData("--parallel must be 1..64, not 0", "explore", "--parallel", "0")]
    [InlineData("--max-steps must be at least 10, not 3", "explore", "--max-steps", "3")]
    [InlineData("Required argument missing for command: 'replay'", "replay")]
    [InlineData("trace file not found: /no/such/file.trace.json", "replay", "/no/such/file.trace.json")]
    [InlineData("'teleport'", "teleport")]
    [InlineData("--mode must be systematic or stress, not 'chaos'", "explore", "--mode", "chaos")]
    [InlineData("--seeds must be 1..100, not 0", "bench", "--seeds", "0")]
    [InlineData("--budget must be at least 1", "bench", "--budget", "0")]
    [InlineData("--parallel must be 1..64, not 0", "bench", "--parallel", "0")]
    [InlineData("--json /no/such/dir/bench.json: directory /no/such/dir does not exist", "bench", "--json", "/no/such/dir/bench.json")]
    public void Bad_input_is_one_line_and_exit_2(string expected, params string[] args)
    {
        var (code, output, error) = TestSupport.Vmalock(args);

        code.Should().Be(ExitCodes.BadInput);
        error.Should().StartWith("vmalock: ").And.Contain(expected);
        error.Trim().Split('\n').Should().HaveCount(1);
        output.Should().BeEmpty();
    }

    [Fact]
    public void Bench_measures_every_mutant_with_every_strategy_against_a_clean_control()
    {
        var json = Path.Combine(Path.GetTempPath(), $"vmalock-{Guid.NewGuid():N}.bench.json");
        try
        {
            var (code, output, _) = TestSupport.Vmalock("bench", "--seeds", "1", "--budget", "5", "--json", json);

            code.Should().Be(ExitCodes.Clean, "the correct port reports nothing");
            output.Should().Contain("control: the correct port on the same").And.Contain(": no report");
            var report = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(json))!;
            var detections = report["detections"]!.AsArray();
            detections.Should().HaveCount(Harness.Mutants.MutantRegistry.All.Count * (Harness.Cli.BenchCommand.StrategiesMeasured.Length + 1), "every strategy, and stress testing");
            detections.Should().Contain(d => d!["strategy"]!.GetValue<string>() == "stress");
            output.Should().Contain("stress time / systematic time");
            detections.Should().Contain(d => d!["mutant"]!.GetValue<string>() == "no-drain" && d["found"]!.GetValue<int>() == 1,
                "no-drain is caught in the first iterations by every strategy");
            report["controls"]!.AsArray().Should().OnlyContain(c => c!["reports"]!.GetValue<int>() == 0 && c["iterations"]!.GetValue<long>() == 5);
            output.Should().MatchRegex(@"no-drain +6\.4 +pct +1/1 ");
        }
        finally
        {
            File.Delete(json);
        }
    }

    [Fact]
    public void Stress_mode_runs_the_same_scenarios_on_real_threads_and_judges_them_with_the_same_invariants()
    {
        var traces = Directory.CreateTempSubdirectory("vmalock-stress-").FullName;
        try
        {
            var (clean, cleanOutput, _) = TestSupport.Vmalock("explore", "--mode", "stress", "--scenario", "fault-vs-munmap", "--generation", "6.5", "--iterations", "200");
            var (buggy, buggyOutput, _) = TestSupport.Vmalock("explore", "--mode", "stress", "--mutant", "madvise-under-read-lock", "--generation", "6.4", "--iterations", "50", "--traces-dir", traces);

            clean.Should().Be(ExitCodes.Clean);
            cleanOutput.Should().Contain("stress mode (real threads").And.MatchRegex(@"fault-vs-munmap +6\.5 +correct +stress +200 +0 +\d+ +- +- +- +- +clean")
                .And.Contain("-: not measured", "stress runs count no scheduling steps, threads or operations, and say so");
            buggy.Should().Be(ExitCodes.BugFound, "madvise under mmap_read_lock breaks VmaWriteRequiresMmapWriteLock in every interleaving");
            buggyOutput.Should().Contain("BUG in fault-vs-two-writers 6.4 madvise-under-read-lock: VmaWriteRequiresMmapWriteLock")
                .And.Contain("stress mode: real threads leave no replayable schedule").And.NotContain("replay: ");
            Directory.GetFiles(traces).Should().BeEmpty("a stress run has no replayable schedule");
        }
        finally
        {
            Directory.Delete(traces, recursive: true);
        }
    }

    [Fact]
    public void List_names_every_scenario_generation_mutant_and_invariant()
    {
        var (code, output, _) = TestSupport.Vmalock("list");

        code.Should().Be(ExitCodes.Clean);
        output.Should().Contain("fault-vs-two-writers").And.Contain("6.5").And.Contain("skip-detached-check")
            .And.Contain("NoReadOnWriteMarkedVma").And.Contain("delay-bounding");
    }

    [Fact]
    public void A_clean_explore_prints_what_it_explored_and_exits_0()
    {
        var json = Path.Combine(Path.GetTempPath(), $"vmalock-{Guid.NewGuid():N}.json");
        try
        {
            var (code, output, _) = TestSupport.Vmalock("explore", "--scenario", "fault-vs-downgrade", "--generation", "6.5", "--iterations", "40", "--json", json);

            code.Should().Be(ExitCodes.Clean);
            output.Should().MatchRegex(@"fault-vs-downgrade +6\.5 +correct +portfolio +40 +0 ")
                .And.Contain("rewritten: VmaLockVerify.Spec").And.Contain("no invariant violated: 40 iterations over 1 run(s)");
            File.ReadAllText(json).Should().Contain("\"iterationsRun\": 40");
        }
        finally
        {
            File.Delete(json);
        }
    }

    [Fact]
    public void Junit_gives_one_test_case_per_run_and_a_failure_per_bug()
    {
        var dir = Directory.CreateTempSubdirectory("vmalock-junit-").FullName;
        try
        {
            var junit = Path.Combine(dir, "explore.xml");
            var (code, _, _) = TestSupport.Vmalock(
                "explore", "--mutant", "skip-detached-check", "--generation", "6.4", "--traces-dir", dir, "--junit", junit);

            code.Should().Be(ExitCodes.BugFound);
            var document = System.Xml.Linq.XDocument.Load(junit);
            var cases = document.Descendants("testcase").ToList();
            cases.Should().ContainSingle();
            cases[0].Attribute("classname")!.Value.Should().Be("fault-vs-munmap.6.4");
            cases[0].Attribute("name")!.Value.Should().Be("skip-detached-check");
            var failure = cases[0].Element("failure")!;
            failure.Attribute("type")!.Value.Should().Be("NoReadLockOnDetachedVma");
            failure.Value.Should().Contain("replay: dotnet run --project Harness -- replay ");
            document.Root!.Attribute("failures")!.Value.Should().Be("1");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void An_explore_that_finds_a_bug_writes_its_trace_and_exits_1()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"vmalock-{Guid.NewGuid():N}");
        try
        {
            var (code, output, _) = TestSupport.Vmalock("explore", "--mutant", "no-drain", "--generation", "6.5", "--traces-dir", dir);

            code.Should().Be(ExitCodes.BugFound);
            var trace = Path.Combine(dir, "fault-vs-mprotect.6.5.no-drain.seed1.trace.json");
            File.Exists(trace).Should().BeTrue();
            output.Should().Contain("BUG in fault-vs-mprotect 6.5 no-drain: WriterExcludesReaders")
                .And.Contain($"replay: dotnet run --project Harness -- replay {trace}");
            TestSupport.Vmalock("replay", trace).ExitCode.Should().Be(ExitCodes.BugFound);
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }
}
