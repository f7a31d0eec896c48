using System.Text.Json.Nodes;
using System.Xml.Linq;
using FluentAssertions;
using VmaLockVerify.Harness.Cli;
using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Invariants;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>
/// The memory model in every report: explore's header and table, --json (and merge, which
/// refuses results of different models), --junit and --sarif; --memory repeated gives a row per
/// model; 6.4's known race under lkmm is left out of a plan that does not name 6.4, and said so.
/// </summary>
public sealed class MemoryReportTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("vmalock-memory-").FullName;

    public void Dispose() => Directory.Delete(this.dir, recursive: true);

    [Fact]
    public void Both_models_give_a_row_each_and_every_report_names_its_model()
    {
        var (json, junit, sarif) = (this.File("r.json"), this.File("j.xml"), this.File("s.sarif"));

        var (code, output, error) = TestSupport.Vmalock(
            "explore", "--strategy", "portfolio", "--scenario", "fault-vs-downgrade", "--generation", "6.5", "--iterations", "5", "--memory", "sc", "--memory", "lkmm",
            "--json", json, "--junit", junit, "--sarif", sarif);

        code.Should().Be(ExitCodes.Clean, error);
        output.Should().Contain("vmalock explore: 2 run(s)").And.Contain("\nmemory models: sc, lkmm\n")
            .And.MatchRegex(@"scenario +gen +memory +mutant +strategy")
            .And.MatchRegex(@"fault-vs-downgrade +6\.5 +sc +correct +portfolio +5 +0 ")
            .And.MatchRegex(@"fault-vs-downgrade +6\.5 +lkmm +correct +portfolio +5 +0 ");

        var results = JsonNode.Parse(System.IO.File.ReadAllText(json))!;
        results["memory"]!.AsArray().Select(m => m!.GetValue<string>()).Should().Equal("sc", "lkmm");
        results["runs"]!.AsArray().Select(r => r!["memory"]!.GetValue<string>()).Should().Equal("sc", "lkmm");
        results["runs"]![1]!["label"]!.GetValue<string>().Should().Be("fault-vs-downgrade 6.5 correct under lkmm");
        ExploreSummary.Load(json).Runs.Select(r => r.Memory).Should().Equal("sc", "lkmm");

        var suites = XDocument.Load(junit).Descendants("testsuite").ToList();
        suites.Select(s => s.Element("properties")!.Elements("property").Single(p => p.Attribute("name")!.Value == "memory").Attribute("value")!.Value).Should().Equal("sc", "lkmm");
        suites.Select(s => s.Element("testcase")!.Attribute("name")!.Value).Should().Equal("correct", "correct [lkmm]");
        suites[1].Element("testcase")!.Element("system-out")!.Value.Should().Contain("memory lkmm").And.NotContain("--memory", "lkmm is 6.5's default");
        suites[0].Element("testcase")!.Element("system-out")!.Value.Should().Contain("memory sc").And.Contain("--memory sc");

        var run = JsonNode.Parse(System.IO.File.ReadAllText(sarif))!["runs"]![0]!;
        run["properties"]!["memory"]!.AsArray().Select(m => m!.GetValue<string>()).Should().Equal("sc", "lkmm");
    }

    [Fact]
    public void One_model_is_named_in_the_header_and_the_table_has_no_memory_column()
    {
        var (code, output, _) = TestSupport.Vmalock("explore", "--strategy", "portfolio", "--scenario", "fault-vs-downgrade", "--generation", "6.5", "--iterations", "3", "--memory", "lkmm");

        code.Should().Be(ExitCodes.Clean);
        output.Should().Contain("\nmemory model: lkmm\n").And.MatchRegex(@"scenario +gen +mutant +strategy").And.NotMatchRegex(@"\bmemory +mutant");
    }

    [Fact]
    public void A_plan_that_does_not_name_6_4_leaves_its_known_lkmm_race_out_and_says_so()
    {
        var whole = ExploreCommand.PlanOf(Options(memory: ["sc", "lkmm"]));
        whole.Runs.Should().Contain(r => r.Generation.Name == "6.4" && r.Memory == RunRequest.ScMemory)
            .And.NotContain(r => r.Generation.Name == "6.4" && r.Memory == RunRequest.LkmmMemory)
            .And.Contain(r => r.Generation.Name == "6.5" && r.Memory == RunRequest.LkmmMemory);
        whole.Skipped.Where(l => l.StartsWith("skipped:", StringComparison.Ordinal)).Should().ContainSingle().Which.Should().StartWith("skipped: 6.4 under lkmm (16 run(s))")
            .And.Contain("b1f02b95758d").And.EndWith("--generation 6.4 --memory lkmm runs it");

        var named = ExploreCommand.PlanOf(Options(memory: ["lkmm"], generation: "6.4"));
        named.Runs.Should().HaveCount(16).And.OnlyContain(r => r.Generation.Name == "6.4" && r.Memory == RunRequest.LkmmMemory);
        named.Skipped.Should().BeEmpty();

        var (code, output, _) = TestSupport.Vmalock("explore", "--strategy", "portfolio", "--scenario", "fault-vs-downgrade", "--iterations", "2", "--memory", "lkmm");
        code.Should().Be(ExitCodes.Clean);
        output.Should().Contain("vmalock explore: 4 run(s)").And.Contain("\nskipped: 6.4 under lkmm (1 run(s))");
    }

    [Fact]
    public void By_default_6_4_runs_under_sc_and_the_later_generations_under_lkmm()
    {
        var plan = ExploreCommand.PlanOf(Options(memory: null));

        plan.Runs.Should().HaveCount(90, "every scenario on every generation it exists in, once (the two /proc/PID/maps scenarios, fault-vs-killable-fork, the five madvise-guard scenarios, madvise-free-vs-split and mbind-vs-fault on 7.0 only)");
        plan.Runs.Where(r => r.Generation.Name == "6.4").Should().HaveCount(16).And.OnlyContain(r => r.Memory == RunRequest.ScMemory);
        plan.Runs.Where(r => r.Generation.Name != "6.4").Should().HaveCount(74).And.OnlyContain(r => r.Memory == RunRequest.LkmmMemory);
        plan.Memory.Should().Equal("sc", "lkmm");
        plan.Skipped.Where(l => l.StartsWith("skipped:", StringComparison.Ordinal)).Should().ContainSingle().Which.Should().StartWith("skipped: 6.4 under lkmm (16 run(s))");

        TestSupport.Vmalock("explore", "--strategy", "portfolio", "--scenario", "fault-vs-downgrade", "--generation", "6.4", "--iterations", "1").Output
            .Should().Contain("\nmemory model: sc\nskipped: 6.4 under lkmm (1 run(s))", "naming 6.4 without --memory keeps it under sc");
        TestSupport.Vmalock("explore", "--strategy", "portfolio", "--scenario", "fault-vs-downgrade", "--generation", "6.5", "--iterations", "1").Output
            .Should().Contain("\nmemory model: lkmm\n");
    }

    [Fact]
    public void By_default_a_known_finding_leaves_only_its_invariant_out_of_its_scenarios_and_says_so()
    {
        var plan = ExploreCommand.PlanOf(Options(memory: null));
        var every = InvariantRegistry.All.Count;

        plan.Runs.Where(r => r.Generation.Name == "6.5" && r.Scenario.Name is "fault-vs-mremap-munmap" or "fault-vs-mmap" or "fault-vs-mremap-fork" or "fault-retry-vs-munmap")
            .Should().HaveCount(4).And.OnlyContain(r => r.Invariants.Count == every - 1 && r.Invariants.All(i => i.Name != "NoDataRace"));
        plan.Runs.Where(r => r.Generation.Name is "6.15" or "7.0" && r.Scenario.Name is "long-fault-vs-writers" or "fault-vs-two-writers")
            .Should().HaveCount(4).And.OnlyContain(r => r.Invariants.Count == every - 1 && r.Invariants.All(i => i.Name != "NoStaleVmaFieldUnderReadLock"));
        plan.Runs.Where(r => r.Generation.Name == "6.14" && r.Scenario.Name is "long-fault-vs-writers" or "fault-vs-two-writers")
            .Should().HaveCount(2).And.OnlyContain(r => r.Invariants.All(i => i.Name != "NoStaleVmaFieldUnderReadLock"), "an exhaustive lkmm run finds the ISA2 chain in fault-vs-two-writers on 6.14 too");
        plan.Runs.Where(r => r.Scenario.Name is "madvise-guard-vs-mmap-merge" or "madvise-guard-vs-mprotect" or "madvise-guard-vs-mseal" or "madvise-guard-vs-split")
            .Should().HaveCount(4).And.OnlyContain(r => r.Invariants.Count == every - 1 && r.Invariants.All(i => i.Name != "NoLostStickyFlag"));
        plan.Runs.Count(r => r.Invariants.Count < every).Should().Be(14, "every other run is judged by every invariant");
        plan.Skipped.Should().Contain(l => l.StartsWith("not judged by NoDataRace: 6.5 under lkmm in 4 run(s)", StringComparison.Ordinal) && l.Contains("vma->anon_vma", StringComparison.Ordinal))
            .And.Contain(l => l.StartsWith("not judged by NoStaleVmaFieldUnderReadLock: 6.15 under lkmm in 2 run(s)", StringComparison.Ordinal))
            .And.Contain(l => l.StartsWith("not judged by NoStaleVmaFieldUnderReadLock: 7.0 under lkmm in 2 run(s)", StringComparison.Ordinal));

        foreach (var named in new[] { Options(memory: ["lkmm"], generation: "6.5"), Options(memory: null) with { Invariants = ["NoDataRace"] } })
        {
            ExploreCommand.PlanOf(named).Runs.Should().OnlyContain(r => r.Invariants.Any(i => i.Name == "NoDataRace") || r.Generation.Name != "6.5", "naming the generation and the model, or the invariant, judges it again");
        }
    }

    [Fact]
    public void A_run_under_lkmm_says_so_in_its_command_line_label_and_trace_name()
    {
        var request = TestSupport.Request("fault-vs-munmap", "6.4") with { Memory = RunRequest.LkmmMemory };

        request.Label.Should().Be("fault-vs-munmap 6.4 correct under lkmm");
        request.CommandLine().Should().Contain("--memory lkmm");
        (request with { Memory = RunRequest.ScMemory, Generation = RunChecks.Generation("6.5", RunChecks.BadInput) }).CommandLine()
            .Should().EndWith("--readers 2 --memory sc", "6.5 runs under lkmm by default, so an sc run on it must say so");
        (request with { Memory = RunRequest.ScMemory }).CommandLine().Should().NotContain("--memory", "6.4 runs under sc by default");
        Harness.Traces.TraceFile.FileNameFor(request).Should().Be("fault-vs-munmap.6.4.correct.seed1.lkmm.trace.json");
        Harness.Traces.TraceFile.FileNameFor(request with { Memory = RunRequest.ScMemory }).Should().Be("fault-vs-munmap.6.4.correct.seed1.trace.json");
    }

    [Fact]
    public void A_bug_under_lkmm_is_a_junit_failure_and_a_sarif_result_of_that_model()
    {
        var (junit, sarif, traces) = (this.File("j.xml"), this.File("s.sarif"), Path.Combine(this.dir, "traces"));

        var (code, output, error) = TestSupport.Vmalock(
            "explore", "--strategy", "portfolio", "--scenario", "fault-vs-munmap", "--generation", "6.4", "--memory", "lkmm", "--iterations", "200", "--traces-dir", traces, "--junit", junit, "--sarif", sarif);

        code.Should().Be(ExitCodes.BugFound, error);
        var trace = Path.Combine(traces, "fault-vs-munmap.6.4.correct.seed1.lkmm.trace.json");
        output.Should().Contain("BUG in fault-vs-munmap 6.4 correct under lkmm: NoDataRace").And.Contain($"trace:  {trace}");
        var testCase = XDocument.Load(junit).Descendants("testcase").Should().ContainSingle().Subject;
        testCase.Attribute("name")!.Value.Should().Be("correct [lkmm]");
        testCase.Element("failure")!.Attribute("type")!.Value.Should().Be("NoDataRace");
        var result = JsonNode.Parse(System.IO.File.ReadAllText(sarif))!["runs"]![0]!["results"]!.AsArray().Should().ContainSingle().Subject!;
        result["properties"]!["memory"]!.GetValue<string>().Should().Be("lkmm");
        result["partialFingerprints"]![SarifReport.FingerprintKey]!.GetValue<string>().Should().Be("fault-vs-munmap/6.4/correct/NoDataRace/lkmm");
        result["message"]!["text"]!.GetValue<string>().Should().Contain("in fault-vs-munmap 6.4 correct under lkmm");
    }

    [Fact]
    public void Merge_refuses_results_of_different_memory_models_and_merges_shards_of_one_explore()
    {
        var (sc, lkmm, first, second) = (this.File("sc.json"), this.File("lkmm.json"), this.File("1.json"), this.File("2.json"));
        string[] explore = ["explore", "--strategy", "portfolio", "--scenario", "fault-vs-downgrade", "--generation", "6.5", "--iterations", "2"];
        TestSupport.Vmalock([.. explore, "--memory", "sc", "--json", sc]).ExitCode.Should().Be(ExitCodes.Clean);
        TestSupport.Vmalock([.. explore, "--memory", "lkmm", "--json", lkmm]).ExitCode.Should().Be(ExitCodes.Clean);

        var (code, output, error) = TestSupport.Vmalock("merge", sc, lkmm);

        code.Should().Be(ExitCodes.BadInput);
        output.Should().BeEmpty();
        error.Should().Be($"vmalock: cannot merge results run under different memory models: {sc} under sc, {lkmm} under lkmm\n");

        // The two shards of a two-model plan of two runs hold one model each, and still merge: the file records the explore's models.
        TestSupport.Vmalock([.. explore, "--memory", "sc", "--memory", "lkmm", "--shard", "1/2", "--json", first]).ExitCode.Should().Be(ExitCodes.Clean);
        TestSupport.Vmalock([.. explore, "--memory", "sc", "--memory", "lkmm", "--shard", "2/2", "--json", second]).ExitCode.Should().Be(ExitCodes.Clean);
        ExploreSummary.Load(first).Runs.Should().ContainSingle().Which.Memory.Should().Be("sc");
        var merged = TestSupport.Vmalock("merge", first, second);
        merged.ExitCode.Should().Be(ExitCodes.Clean, merged.Error);
        merged.Output.Should().Contain("\nmemory models: sc, lkmm\n").And.MatchRegex(@"fault-vs-downgrade +6\.5 +lkmm +correct ");
    }

    [Fact]
    public void Bench_under_two_models_shows_an_ordering_mutant_clean_under_sc_as_expected()
    {
        BenchDetection Detection(string memory, bool expected, int found) =>
            new("ordering", "fault-vs-mprotect", "6.5", "pct", memory, expected, 1, found, found > 0 ? 12 : null, found > 0 ? 12 : null, found > 0 ? 0.5 : null, found > 0 ? 0.5 : null,
                found > 0 ? ["NoReadOnWriteMarkedVma"] : []);
        var report = new BenchReport("vmalock-bench/3", "bench", "machine", "1.7.11", 300, 1, ["sc", "lkmm"], 1,
            [Detection("sc", expected: false, found: 0), Detection("lkmm", expected: true, found: 1)],
            [new("fault-vs-mprotect", "6.5", "pct", "sc", 300, 1.5, 0, null), new("fault-vs-mprotect", "6.5", "pct", "lkmm", 300, 3, 0, null)],
            [new("fault-vs-mprotect", "6.5", "sc", 300, 1.5, 200), new("fault-vs-mprotect", "6.5", "lkmm", 300, 3, 100)],
            [new("ordering", "fault-vs-mprotect", "6.5", "sc", false, null, null, null, null), new("ordering", "fault-vs-mprotect", "6.5", "lkmm", true, 1, 37, 0.4, "NoReadOnWriteMarkedVma")],
            [new("fault-vs-mprotect", "6.5", "lkmm", "pct", 12, 13, 5)]);

        var text = BenchCommand.Render(report);
        text.Should().MatchRegex(@"ordering +6\.5 +clean, as expected +K=1, 37 schedules, 0\.40 s +NoReadOnWriteMarkedVma", "the exhaustive column: the first K and the schedules to the report")
            .And.MatchRegex(@"fault-vs-mprotect +6\.5 +lkmm +12/13 \(\+5\)", "each strategy's share of the complete exhaustive run's states");

        text.Should().MatchRegex(@"mutant +gen +strategy +sc found +sc median it +sc median time +lkmm found +lkmm median it +lkmm median time +caught by")
            .And.MatchRegex(@"ordering +6\.5 +pct +0/1 \(as expected\) +- +- +1/1 +12 +0\.50 s +NoReadOnWriteMarkedVma")
            .And.MatchRegex(@"ordering +clean, as expected +pct 1/1, 0\.50 s")
            .And.MatchRegex(@"fault-vs-mprotect +6\.5 +200 +100 +0\.50x");

        var unexpected = BenchCommand.Render(report with { Detections = [Detection("sc", expected: false, found: 1)], Memory = ["sc"] });
        unexpected.Should().MatchRegex(@"ordering +6\.5 +pct +1/1 \(unexpected\) +12 ");
    }

    [Fact]
    public void Bench_runs_every_mutant_under_both_models_on_a_generation_clean_under_both_with_their_speeds()
    {
        var json = this.File("bench.json");

        var (code, output, error) = TestSupport.Vmalock("bench", "--seeds", "1", "--budget", "3", "--memory", "sc", "--memory", "lkmm", "--json", json);

        code.Should().Be(ExitCodes.Clean, error);
        output.Should().Contain("\nmemory models: sc, lkmm\n").And.MatchRegex(@"scenario \(correct port\) +gen +sc it/s +lkmm it/s +lkmm / sc");
        var report = JsonNode.Parse(System.IO.File.ReadAllText(json))!;
        var detections = report["detections"]!.AsArray();
        var mutants = Harness.Mutants.MutantRegistry.All;
        var only64 = mutants.Where(m => m.Kernels.All(k => k.Generation == "6.4")).Select(m => m.Name).ToList();
        only64.Should().Contain(["narrow-seq", "start-read-sleeps"]);
        detections.Should().HaveCount(mutants.Count * (BenchCommand.StrategiesMeasured.Length * 2) + mutants.Count(m => m.CaughtUnder.Contains("sc")) - (only64.Count * BenchCommand.StrategiesMeasured.Length),
            "every strategy under each model, and stress testing (sequential consistency) once, but the mutants of 6.4 only (narrow-seq, start-read-sleeps) under lkmm, where 6.4 has its own known race");
        detections.Where(d => only64.Contains(d!["mutant"]!.GetValue<string>())).Should().OnlyContain(d => d!["memory"]!.GetValue<string>() == "sc");
        detections.Where(d => d!["mutant"]!.GetValue<string>() == "skip-recheck").Should().OnlyContain(d => d!["generation"]!.GetValue<string>() == "6.5",
            "under lkmm 6.4 has its own race, so both models measure the mutant on 6.5");
        var speed = report["speed"]!.AsArray();
        speed.GroupBy(s => (s!["scenario"]!.GetValue<string>(), s["generation"]!.GetValue<string>())).Where(g => g.Key.Item2 != "6.4")
            .Should().OnlyContain(g => g.Select(s => s!["memory"]!.GetValue<string>()).SequenceEqual(new[] { "sc", "lkmm" }));
        report["controls"]!.AsArray().Should().Contain(c => c!["memory"]!.GetValue<string>() == "lkmm").And.OnlyContain(c => c!["reports"]!.GetValue<int>() == 0);
    }

    private static ExploreOptions Options(IReadOnlyList<string>? memory, string? generation = null) =>
        new([], generation, null, ["portfolio"], 5, 5000, 1, 0, 2, [], "unused", null, Memory: memory);


    private string File(string name) => Path.Combine(this.dir, name);
}
