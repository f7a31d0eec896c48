using System.Text.Json.Nodes;
using FluentAssertions;
using VmaLockVerify.Harness.Cli;
using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Harness.Proposals;
using VmaLockVerify.Harness.Traces;
using VmaLockVerify.Invariants;
using VmaLockVerify.Spec;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>The saved traces in traces/: one per mutant and one per proposal's misuse, each replaying to its recorded violation.</summary>
public sealed class TraceTests
{
    public static TheoryData<string> Saved()
    {
        var data = new TheoryData<string>();
        foreach (var path in TestSupport.SavedTraces)
        {
            data.Add(Path.GetFileName(path));
        }

        return data;
    }

    [Fact]
    public void Every_mutant_has_a_saved_trace()
    {
        var mutants = TestSupport.SavedTraces.Select(TraceFile.Load).Where(t => t.Patch is null).Select(t => t.Mutant);
        mutants.Should().BeEquivalentTo(MutantRegistry.All.Select(m => m.Name));
    }

    [Fact]
    public void Every_proposal_with_a_scenario_expected_to_fail_has_a_saved_trace_of_it()
    {
        var proposals = TestSupport.SavedTraces.Select(TraceFile.Load).Where(t => t.Patch is not null).Select(t => t.Patch);
        proposals.Should().BeEquivalentTo(ProposalRegistry.All.Where(p => p.Scenarios.Any(s => s.Expected is not null)).Select(p => p.Name));
    }

    [Theory]
    [MemberData(nameof(Saved))]
    public void Saved_trace_replays_to_its_recorded_violation(string file)
    {
        var path = Path.Combine(TestSupport.RepositoryRoot, "traces", file);
        var outcome = Replayer.Replay(path);

        outcome.Reproduced.Should().BeTrue();
        outcome.Result.Bug!.Message.Should().Be(outcome.Trace.Message);
        outcome.Trace.Invariant.Should().Be(outcome.Trace.Patch is { } patch
            ? ProposalRegistry.Find(patch)!.Scenario(outcome.Trace.Scenario)!.Expected
            : MutantRegistry.Find(outcome.Trace.Mutant!)!.CaughtBy);
        outcome.Steps.Should().Contain(
            s => s.Text.Contains("vma_start_read", StringComparison.Ordinal) || s.Text.Contains("mmap_write_lock", StringComparison.Ordinal),
            "a trace shows the protocol's readers or writers at work (new-vma-visible-unlocked breaks it before any fault runs)");
    }

    [Theory]
    [MemberData(nameof(Saved))]
    public void Replay_renders_exactly_as_the_golden_file(string file)
    {
        var path = Path.Combine(TestSupport.RepositoryRoot, "traces", file);
        var golden = ReplayCommand.GoldenPath(path);
        File.Exists(golden).Should().BeTrue($"every saved trace has a golden rendering; write it with: dotnet run --project Harness -- golden");

        ReplayCommand.GoldenText(path).Should().Be(
            File.ReadAllText(golden),
            $"the rendering of {file} changed; if intended, rewrite the golden files with: dotnet run --project Harness -- golden");
    }

    [Theory]
    [MemberData(nameof(Saved))]
    public void Saved_trace_is_stored_minimised_and_minimising_it_again_changes_nothing(string file)
    {
        var path = Path.Combine(TestSupport.RepositoryRoot, "traces", file);
        var trace = TraceFile.Load(path);
        trace.MinimizedFrom.Should().NotBeNull($"traces are stored minimised: dotnet run --project Harness -- minimize traces/{file}");

        var again = Minimizer.Minimize(trace, path);

        again.After.Should().Be(again.Before);
        again.Trace.CoyoteTrace.ToJsonString().Should().Be(trace.CoyoteTrace.ToJsonString());
        again.Trace.MinimizedFrom.Should().Be(trace.MinimizedFrom);
    }

    [Fact]
    public void Minimize_shrinks_a_schedule_from_exploration_and_keeps_the_violation()
    {
        var saved = TraceFile.Load(TestSupport.SavedTraces.First(p => p.Contains("skip-recheck", StringComparison.Ordinal)));
        var raw = Path.Combine(Path.GetTempPath(), $"vmalock-{Guid.NewGuid():N}.trace.json");
        var minimized = Path.ChangeExtension(raw, ".min.json");
        try
        {
            TraceFile.From(Explorer.Run(Replayer.RequestFor(saved, raw))).Save(raw);
            var rawTrace = TraceFile.Load(raw);
            rawTrace.MinimizedFrom.Should().BeNull();

            var (code, output, _) = TestSupport.Vmalock("minimize", raw, "-o", minimized);

            code.Should().Be(ExitCodes.Clean);
            output.Should().MatchRegex(@"before: \d+ context switch\(es\), \d+ scheduler decisions; the table: \d+ kernel steps").And.Contain("still violates NoReadOnWriteMarkedVma");
            var result = TraceFile.Load(minimized);
            result.MinimizedFrom.Should().NotBeNull();
            var before = result.MinimizedFrom!;
            var after = Minimizer.Minimize(result, minimized).Before;
            after.Switches.Should().BeLessThan(before.Switches);
            Replayer.Replay(minimized).Reproduced.Should().BeTrue();
            File.ReadAllText(raw).Should().Be(File.ReadAllText(raw.Replace(".min.json", ".trace.json", StringComparison.Ordinal)), "-o leaves the input alone");
        }
        finally
        {
            File.Delete(raw);
            File.Delete(minimized);
        }
    }

    [Fact]
    public void Every_golden_file_belongs_to_a_saved_trace()
    {
        var goldens = Directory.GetFiles(Path.Combine(TestSupport.RepositoryRoot, "traces", "golden"));
        goldens.Select(Path.GetFileName).Should().BeEquivalentTo(TestSupport.SavedTraces.Select(t => Path.GetFileName(ReplayCommand.GoldenPath(t))));
    }

    [Fact]
    public void The_golden_command_rewrites_a_changed_rendering_and_reports_it()
    {
        var dir = Directory.CreateTempSubdirectory("vmalock-golden-").FullName;
        try
        {
            var trace = TestSupport.SavedTraces.First(p => p.Contains("skip-recheck", StringComparison.Ordinal));
            File.Copy(trace, Path.Combine(dir, Path.GetFileName(trace)));
            Directory.CreateDirectory(Path.Combine(dir, "golden"));
            var golden = ReplayCommand.GoldenPath(Path.Combine(dir, Path.GetFileName(trace)));
            File.WriteAllText(golden, "stale rendering\n");

            var (code, output, _) = TestSupport.Vmalock("golden", "--dir", dir);

            code.Should().Be(ExitCodes.Clean);
            output.Should().Contain($"rewrote {golden}");
            File.ReadAllText(golden).Should().Be(File.ReadAllText(ReplayCommand.GoldenPath(trace)));
            TestSupport.Vmalock("golden", "--dir", dir).Output.Should().Contain($"unchanged {golden}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(Saved))]
    public void Regenerating_a_saved_trace_gives_the_same_file(string file)
    {
        var copy = Path.Combine(Path.GetTempPath(), $"vmalock-{Guid.NewGuid():N}-{file}");
        File.Copy(Path.Combine(TestSupport.RepositoryRoot, "traces", file), copy);
        try
        {
            var before = File.ReadAllText(copy);
            Replayer.Regenerate(copy);
            File.ReadAllText(copy).Should().Be(before, "the same seed and options find the same schedule");
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [Fact]
    public void Regenerating_with_current_invariants_rejudges_a_trace_recorded_before_an_invariant_was_added()
    {
        var saved = TestSupport.SavedTraces.First(p => p.Contains("skip-recheck", StringComparison.Ordinal));
        var copy = Path.Combine(Path.GetTempPath(), $"vmalock-{Guid.NewGuid():N}.trace.json");
        var current = File.ReadAllText(saved);
        var older = current.Replace("      \"NoLostWrite\",\n", string.Empty, StringComparison.Ordinal);
        older.Should().NotBe(current, "the saved trace lists every invariant");
        File.WriteAllText(copy, older);
        try
        {
            Replayer.Regenerate(copy);
            File.ReadAllText(copy).Should().Contain("--invariant", "without the option the recorded list is kept, and the command names it");

            File.WriteAllText(copy, older);
            Replayer.Regenerate(copy, currentInvariants: true);
            File.ReadAllText(copy).Should().Be(current, "with it, the trace is judged by every invariant registered now");
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [Fact]
    public void A_lock_order_trace_replays_from_the_edges_its_exploration_had_learnt()
    {
        // A LockOrder bug may rest on an order an earlier iteration saw; its trace records the
        // edges learnt before its iteration, and replay starts from them. Seeding an edge that
        // reverses the documented order shows that replay uses them: the first report changes.
        var saved = TestSupport.SavedTraces.First(p => p.Contains("mmap-region-lock-order", StringComparison.Ordinal));
        var trace = TraceFile.Load(saved);
        trace.LockOrder.Should().BeNull("this bug needs only the documented order, so nothing is recorded");
        var copy = Path.Combine(Path.GetTempPath(), $"vmalock-{Guid.NewGuid():N}.trace.json");
        (trace with { LockOrder = new LockOrderSnapshot(7, [new LockOrderEdge("vm_lock", "mmap_lock", "fault9 holding vma9->vm_lock while taking mm->mmap_lock", 3)]) }).Save(copy);
        try
        {
            var outcome = Replayer.Replay(copy);

            outcome.Result.Bug!.Invariant.Should().Be(nameof(LockOrder));
            outcome.Result.Bug.Message.Should().NotBe(trace.Message).And.Contain("inverts vm_lock -> mmap_lock (fault9 holding vma9->vm_lock while taking mm->mmap_lock, iteration 3)");
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [Fact]
    public void Replay_prints_the_interleaving_in_kernel_terms_and_exits_1()
    {
        var path = TestSupport.SavedTraces.First(p => p.Contains("skip-recheck", StringComparison.Ordinal));

        var (code, output, _) = TestSupport.Vmalock("replay", path);

        code.Should().Be(ExitCodes.BugFound);
        output.Should().Contain("lock_vma_under_rcu(mm, 0x1").And.Contain("down_read_trylock(vma1->vm_lock)")
            .And.Contain("vma1->vm_lock_seq = ").And.Contain("mm->mm_lock_seq = ")
            .And.Contain("~~ switch to writer: fault0 preempted before step ").And.Contain("VIOLATION NoReadOnWriteMarkedVma: vma_start_read(vma1) succeeded");

        // One column per thread: the writer's steps sit in the second column, under its header.
        var lines = output.Split('\n');
        var header = lines.First(l => l.StartsWith(" step |", StringComparison.Ordinal));
        header.Should().MatchRegex(@"^ step \| fault0 +\| writer$");
        var writerColumn = header.IndexOf("| writer", StringComparison.Ordinal);
        var mprotect = lines.First(l => l.Contains("do_mprotect_pkey(", StringComparison.Ordinal));
        mprotect.IndexOf("do_mprotect_pkey", StringComparison.Ordinal).Should().Be(writerColumn + 2);
        mprotect[6..writerColumn].Trim().Should().Be("|", "the fault thread's cell is empty on the writer's row");
        lines.Last(l => l.Length > 0).Should().StartWith("VIOLATION ");
    }

    [Fact]
    public void Replay_as_json_gives_the_same_steps_and_the_violation()
    {
        var path = TestSupport.SavedTraces.First(p => p.Contains("double-put-on-failure", StringComparison.Ordinal));

        var (code, output, _) = TestSupport.Vmalock("replay", path, "--format", "json");

        code.Should().Be(ExitCodes.BugFound);
        var json = JsonNode.Parse(output)!;
        json["violation"]!["invariant"]!.GetValue<string>().Should().Be("SpecConformance");
        var steps = json["blocks"]!.AsArray().SelectMany(b => b!["steps"]!.AsArray()).ToList();
        steps.Should().HaveCount(Replayer.Replay(path).Steps.Count);
        steps.Should().OnlyContain(s => s!["source"]!["file"]!.GetValue<string>().EndsWith(".cs", StringComparison.Ordinal) && s["source"]!["line"]!.GetValue<int>() > 0);
        steps.Should().Contain(s => s!["state"]!["vma1->vm_refcnt"] != null);
        steps.Select(s => s!["text"]!.GetValue<string>()).Should().Contain(t => t.StartsWith("__refcount_inc_not_zero_limited_acquire", StringComparison.Ordinal) || t.Contains("vm_refcnt", StringComparison.Ordinal));
        TestSupport.Vmalock("replay", path, "--format", "html").ExitCode.Should().Be(ExitCodes.BadInput);
    }

    [Fact]
    public void A_trace_whose_schedule_no_longer_fits_the_code_is_stale()
    {
        // The same names, different code under them: the mprotect schedule replayed against the
        // merge scenario, as if fault-vs-mprotect had been rewritten since the trace was saved.
        var source = TestSupport.SavedTraces.First(p => p.Contains("no-drain", StringComparison.Ordinal));
        var node = JsonNode.Parse(File.ReadAllText(source))!;
        node["scenario"]!.GetValue<string>().Should().Be("fault-vs-mprotect");
        node["scenario"] = "fault-vs-merge";
        var path = WriteTemp(node.ToJsonString());
        try
        {
            var (code, output, error) = TestSupport.Vmalock("replay", path);

            code.Should().Be(ExitCodes.StaleTrace);
            error.Trim().Should().StartWith($"vmalock: stale trace {path}: the recorded schedule no longer violates WriterExcludesReaders")
                .And.EndWith($"regenerate it with: dotnet run --project Harness -- regenerate {path}");
            error.Trim().Split('\n').Should().HaveCount(1);
            output.Should().BeEmpty();
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_trace_naming_a_mutant_the_code_does_not_have_is_malformed_not_stale()
    {
        var source = TestSupport.SavedTraces.First(p => TraceFile.Load(p).Patch is null);
        var node = JsonNode.Parse(File.ReadAllText(source))!;
        node["mutant"] = "mutant-removed-since";
        var path = WriteTemp(node.ToJsonString());
        try
        {
            var (code, _, error) = TestSupport.Vmalock("replay", path);
            code.Should().Be(ExitCodes.BadInput, "regenerating cannot help a trace whose names this code does not have");
            error.Trim().Should().StartWith($"vmalock: malformed trace file {path}: unknown mutant 'mutant-removed-since' (known: skip-recheck, ")
                .And.NotContain("regenerate");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("{\"format\": \"something-else/9\"}")]
    [InlineData("[1, 2, 3]")]
    public void A_malformed_trace_file_is_bad_input(string content)
    {
        var path = WriteTemp(content);
        try
        {
            var (code, output, error) = TestSupport.Vmalock("replay", path);
            code.Should().Be(ExitCodes.BadInput);
            error.Should().StartWith("vmalock: malformed trace file");
            error.Trim().Split('\n').Should().HaveCount(1);
            output.Should().BeEmpty();
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string WriteTemp(string content)
    {
        var path = Path.Combine(Path.GetTempPath(), $"vmalock-test-{Guid.NewGuid():N}.trace.json");
        File.WriteAllText(path, content);
        return path;
    }
}
