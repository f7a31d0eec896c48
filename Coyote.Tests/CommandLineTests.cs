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
    [InlineData("scenario 'maps-reader-vs-writers' does not exist in generation 6.4", "explore", "--scenario", "maps-reader-vs-writers", "--generation", "6.4")]
    [InlineData("unknown strategy 'dfs-forever'", "explore", "--strategy", "dfs-forever")]
    [InlineData("unknown invariant 'NoSuchInvariant'", "explore", "--invariant", "NoSuchInvariant")]
    [InlineData("--readers must be 1..4, not 0", "explore", "--readers", "0")]
    [InlineData("--readers must be 1..4, not 5", "explore", "--readers", "5")]
    [InlineData("--iterations must be at least 1", "explore", "--iterations", "0")]
    [InlineData("--iterations must be a whole number 0..4294967295, not 'many'", "explore", "--iterations", "many")]
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
    [InlineData("unknown memory model 'tso' (known: sc, lkmm)", "explore", "--memory", "tso")]
    [InlineData("unknown memory model 'tso' (known: sc, lkmm)", "bench", "--memory", "tso")]
    [InlineData("--memory lkmm needs the controlled scheduler (--mode systematic)", "explore", "--mode", "stress", "--memory", "sc", "--memory", "lkmm")]
    [InlineData("--seeds must be 1..100, not 0", "bench", "--seeds", "0")]
    [InlineData("--budget must be at least 1", "bench", "--budget", "0")]
    [InlineData("--parallel must be 1..64, not 0", "bench", "--parallel", "0")]
    [InlineData("--json /no/such/dir/bench.json: directory /no/such/dir does not exist", "bench", "--json", "/no/such/dir/bench.json")]
    [InlineData("--rounds needs --throughput", "bench", "--rounds", "2")]
    [InlineData("--seeds does not apply to --throughput", "bench", "--throughput", "--seeds", "2")]
    [InlineData("--rounds must be 1..100, not 0", "bench", "--throughput", "--rounds", "0")]
    [InlineData("--budget must be 2..100000 with --throughput, not 1", "bench", "--throughput", "--budget", "1")]
    [InlineData("--json /no/such/dir/t.json: directory /no/such/dir does not exist", "bench", "--throughput", "--json", "/no/such/dir/t.json")]
    [InlineData("--json needs a path, not an empty string", "explore", "--json", "")]
    [InlineData("--sarif /tmp: is a directory, not a file", "explore", "--sarif", "/tmp")]
    [InlineData("--junit /proc/vmalock.xml: cannot be written", "explore", "--junit", "/proc/vmalock.xml")]
    [InlineData("--traces-dir needs a path, not an empty string", "explore", "--traces-dir", "")]
    [InlineData("--traces-dir /proc/vmalock-traces: cannot be written", "explore", "--traces-dir", "/proc/vmalock-traces")]
    [InlineData("-o needs a path, not an empty string", "minimize", "traces/fault-vs-mprotect.6.4.skip-recheck.seed1.trace.json", "-o", "")]
    [InlineData("--html /tmp: is a directory, not a file", "replay", "traces/fault-vs-mprotect.6.4.skip-recheck.seed1.trace.json", "--html", "/tmp")]
    [InlineData("/tmp is a directory, not a trace file", "replay", "/tmp")]
    [InlineData("--seed must be a whole number 0..4294967295, not '-1'", "explore", "--seed", "-1")]
    public void Bad_input_is_one_line_and_exit_2(string expected, params string[] args)
    {
        var (code, output, error) = TestSupport.Vmalock([.. args.Select(a => a.StartsWith("traces/", StringComparison.Ordinal) ? Path.Combine(TestSupport.RepositoryRoot, a) : a)]);

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
    public void Bench_throughput_measures_every_pair_against_its_floor_and_the_scaling_over_engines_and_processes()
    {
        var json = Path.Combine(Path.GetTempPath(), $"vmalock-{Guid.NewGuid():N}.throughput.json");
        try
        {
            var (code, output, error) = TestSupport.Vmalock("bench", "--throughput", "--quick", "--budget", "2", "--json", json);

            code.Should().Be(ExitCodes.Clean, error);
            output.Should().Contain("port it/s").And.Contain("floor it/s").And.Contain("port/floor").And.Contain("fixed ms/it")
                .And.Contain("floor us/step").And.Contain("port us/step").And.Contain("Coyote's fixed cost per iteration: 1 operation(s)")
                .And.Contain("without WithTraceAnalysisEnabled(false)").And.Contain("speedup").And.Contain("load average");
            var report = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(json))!;
            var pairs = report["pairs"]!.AsArray();
            pairs.Select(p => $"{p!["scenario"]} {p["generation"]}").Should().BeEquivalentTo(
                Harness.Cli.ExploreCommand.Plan(new Harness.Cli.ExploreOptions([], null, null, ["portfolio"], 2, RunRequest.DefaultMaxSteps, 1, 0, RunRequest.DefaultReaders, [], "t", null))
                    .Select(r => $"{r.Scenario.Name} {r.Generation.Name}"),
                "every scenario's correct port on every generation, as the main job runs them");
            pairs.Should().OnlyContain(p => p!["portIterations"]!.GetValue<long>() == 2 && p["floorIterations"]!.GetValue<long>() == 2);
            pairs.Should().OnlyContain(p => Math.Abs(p!["floorOperations"]!.GetValue<double>() - p["operations"]!.GetValue<double>()) <= 1.5,
                "the floor has the port's shape: about as many operations");
            var cores = Environment.ProcessorCount;
            var scaling = report["scaling"]!.AsArray();
            foreach (var work in new[] { "port", "floor", "cpu" })
            {
                scaling.Where(r => r!["work"]!.GetValue<string>() == work && r["processes"]!.GetValue<int>() == 0).Select(r => r!["engines"]!.GetValue<int>())
                    .Should().BeEquivalentTo(new[] { 1, 2, cores, 2 * cores }.Distinct(), "{0} with 1, 2, N and 2N engines", work);
            }

            scaling.Should().Contain(r => r!["processes"]!.GetValue<int>() == cores && r["engines"]!.GetValue<int>() == 1, "N separate processes");
            report["fixed"]!.AsArray().Should().Contain(f => f!["operations"]!.GetValue<int>() == 1);
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
    public void A_traces_dir_that_is_a_file_is_refused_before_a_clean_run_too()
    {
        var file = Path.GetTempFileName();
        try
        {
            var (code, output, error) = TestSupport.Vmalock("explore", "--scenario", "fault-vs-downgrade", "--generation", "6.5", "--iterations", "2", "--traces-dir", file);

            code.Should().Be(ExitCodes.BadInput, "a clean run would never write there, but the next buggy one would fail after the whole run");
            error.Trim().Should().Be($"vmalock: --traces-dir {file}: is a file, not a directory");
            output.Should().BeEmpty();
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void A_traces_dir_that_does_not_exist_yet_is_checked_without_being_left_behind()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"vmalock-{Guid.NewGuid():N}", "nested");
        var (code, _, _) = TestSupport.Vmalock("explore", "--scenario", "fault-vs-downgrade", "--generation", "6.5", "--iterations", "2", "--traces-dir", dir);

        code.Should().Be(ExitCodes.Clean);
        Directory.Exists(Path.GetDirectoryName(dir)).Should().BeFalse("the probe removes what it created, and a clean run writes no trace");
    }

    [Fact]
    public void Bare_vmalock_prints_the_help()
    {
        var (code, output, error) = TestSupport.Vmalock();

        code.Should().Be(ExitCodes.Clean);
        output.Should().Contain("Usage:").And.Contain("explore").And.Contain("replay").And.Contain("list");
        error.Should().BeEmpty();
    }

    [Fact]
    public void Explore_help_names_the_valid_scenarios_generations_mutants_invariants_and_strategies()
    {
        var (_, output, _) = TestSupport.Vmalock("explore", "--help");

        foreach (var name in new[] { "fault-vs-mremap-fork", "6.15", "fork-during-anon-vma-prepare", "AnonVmaConsistency", "delay-bounding", "'vmalock list' describes each" })
        {
            output.Should().Contain(name);
        }
    }

    [Fact]
    public void An_unexpected_failure_is_one_line_and_exit_3_with_the_stack_only_under_verbose()
    {
        var failure = new InvalidOperationException("the engine lost its schedule\nsecond line");
        var quiet = new StringWriter();
        var loud = new StringWriter();

        Harness.Cli.CommandLine.Unexpected(failure, quiet, verbose: false).Should().Be(ExitCodes.NotHonest);
        Harness.Cli.CommandLine.Unexpected(new AggregateException(failure), loud, verbose: true).Should().Be(ExitCodes.NotHonest);

        quiet.ToString().Should().Be("vmalock: internal error, no verdict: the engine lost its schedule second line (InvalidOperationException; --verbose shows where)\n");
        loud.ToString().Should().StartWith("vmalock: internal error, no verdict: the engine lost its schedule second line (InvalidOperationException)\n")
            .And.Contain("System.InvalidOperationException");
    }

    [Fact]
    public void A_results_file_with_a_field_of_the_wrong_type_names_the_field_not_a_dotnet_type()
    {
        var path = Path.Combine(Path.GetTempPath(), $"vmalock-{Guid.NewGuid():N}.json");
        try
        {
            TestSupport.Vmalock("explore", "--scenario", "fault-vs-downgrade", "--generation", "6.5", "--iterations", "2", "--json", path).ExitCode.Should().Be(ExitCodes.Clean);
            var results = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!;
            results["runs"]![0]!["iterationsRun"] = "many";
            File.WriteAllText(path, results.ToJsonString());

            var (code, _, error) = TestSupport.Vmalock("merge", path);

            code.Should().Be(ExitCodes.BadInput);
            error.Trim().Should().Be($"vmalock: malformed results file {path}: runs[0].iterationsRun must be a whole number 0..{long.MaxValue}, not \"many\"");

            File.WriteAllText(path, """{ "format": "vmalock-results/1", "coyoteVersion": "1.7.11", "shard": null, "runs": [] }""");
            TestSupport.Vmalock("merge", path).Error.Trim().Should().Be(
                $"vmalock: malformed results file {path}: format must be \"vmalock-results/3\" (a file written by explore --json), not \"vmalock-results/1\"",
                "a file of the first format does not say which memory model its runs were under");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void List_names_the_kernel_check_behind_each_kernel_bug_mutant()
    {
        var (_, output, _) = TestSupport.Vmalock("list");

        output.Should().MatchRegex(@"refcount-from-zero +.*caught by kernel-bug \(WARN_ON_ONCE\(refcount_read\(&vma->vm_refcnt\)\) in vma_assert_detached\(\)");
        output.Should().MatchRegex(@"killable-keeps-offset +.*caught by kernel-bug \(the refcount_t 'saturated; leaking memory' WARN");
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
                .And.MatchRegex(@"fault-vs-downgrade +6\.5 +correct +exhaustive +\d+ +0 .* complete \(K=1\)", "the main job adds a complete exhaustive run per pair, under the same model")
                .And.Contain("strategy portfolio: 40 iterations, seed 1, 2 reader thread(s), sampled")
                .And.Contain("strategy exhaustive: every schedule with <= 1 preemption, <= 1 unusual choice (sleep-set pruning), 1 reader thread(s), no iteration cap")
                .And.Contain("rewritten: VmaLockVerify.Spec").And.MatchRegex(@"no invariant violated: \d+ iterations over 2 run\(s\)");
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
            cases.Should().HaveCount(2, "the main job's strategies: the portfolio sample and the exhaustive run");
            cases.Select(c => c.Attribute("classname")!.Value).Should().AllBe("fault-vs-munmap.6.4");
            cases.Select(c => c.Attribute("name")!.Value).Should().Equal("skip-detached-check", "skip-detached-check (exhaustive)");
            foreach (var testCase in cases)
            {
                var failure = testCase.Element("failure")!;
                failure.Attribute("type")!.Value.Should().Be("NoReadLockOnDetachedVma");
                failure.Value.Should().Contain("replay: dotnet run --project Harness -- replay ");
            }

            string Property(System.Xml.Linq.XElement testCase, string name) =>
                testCase.Element("properties")!.Elements("property").Single(p => p.Attribute("name")!.Value == name).Attribute("value")!.Value;
            Property(cases[0], "strategy").Should().Be("portfolio");
            Property(cases[0], "seed").Should().Be("1");
            Property(cases[1], "strategy").Should().Be("exhaustive");
            Property(cases[1], "preemptionBound").Should().Be("1");
            Property(cases[1], "complete").Should().Be("false", "the search stops at the bug");
            int.Parse(Property(cases[1], "schedules"), System.Globalization.CultureInfo.InvariantCulture).Should().BePositive();
            int.Parse(Property(cases[1], "abstractStates"), System.Globalization.CultureInfo.InvariantCulture).Should().BePositive();
            document.Root!.Attribute("failures")!.Value.Should().Be("2");
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
            File.Exists(trace).Should().BeTrue("a mutant runs under the model it is written for (no-drain: sc), not the main job's lkmm");
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
