using FluentAssertions;
using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Harness.Proposals;
using VmaLockVerify.Harness.Scenarios;
using VmaLockVerify.Harness.Traces;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;
using VmaLockVerify.Spec;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>
/// Proposed patches (explore --patch): each is what it declares, runs only on its own scenarios
/// and generations, and gets the verdicts its row in docs/what-ifs.md or docs/guard-flag.md
/// states: a correct use clean within the
/// stated budget, a misuse caught by the named invariant or finding (seed 1, portfolio, under the
/// memory model explore runs the generation under: lkmm from 6.5).
/// </summary>
public sealed class ProposalTests
{
    /// <summary>Iterations within which a correct use must stay clean, and a misuse be caught.</summary>
    private const uint CleanBudget = 300;

    private const uint MisuseBudget = 10;

    /// <summary>Scenarios whose verdict takes longer than the default budget (portfolio, seed 1): the weak-memory loss is found at iteration 576 with two readers.</summary>
    private static readonly Dictionary<string, uint> Budgets = new() { ["mmap-merge-loses-guard-lkmm"] = 1000 };

    public static TheoryData<string> Proposals() => [.. ProposalRegistry.All.Select(p => p.Name)];

    /// <summary>Every proposal's scenario on every generation the proposal is for.</summary>
    public static TheoryData<string, string> Scenarios()
    {
        var data = new TheoryData<string, string>();
        foreach (var proposal in ProposalRegistry.All)
        {
            foreach (var scenario in proposal.Scenarios)
            {
                data.Add(proposal.Name, scenario.Name);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Proposals))]
    public void A_proposal_adds_and_replaces_only_the_functions_it_declares(string name)
    {
        var proposal = ProposalRegistry.Find(name)!;
        proposal.Kernels.Should().NotBeEmpty();
        foreach (var kernel in proposal.Kernels)
        {
            var generation = Generations.Find(kernel.Generation)!.Kernel;
            KernelFunctions.Replaced(generation, kernel.Kernel, proposal.GetType()).Select(f => f.Name).Should().BeEquivalentTo(proposal.Replaces, "{0} on {1}", name, kernel.Generation);
            KernelFunctions.Added(generation, kernel.Kernel).Select(f => f.Name).Should().BeEquivalentTo(proposal.Adds, "{0} on {1}", name, kernel.Generation);
        }
    }

    [Fact]
    public void Proposals_have_a_correct_use_and_a_misuse_of_what_they_add_and_their_scenarios_stay_out_of_the_default_explore()
    {
        foreach (var proposal in ProposalRegistry.All)
        {
            proposal.Scenarios.Should().Contain(s => s.Expected == null, "{0} shows a correct use", proposal.Name);
            if (proposal.Adds.Count > 0)
            {
                proposal.Scenarios.Should().Contain(s => s.Expected != null, "{0} adds functions, and shows a misuse of them", proposal.Name);
            }

            proposal.Scenarios.Select(s => s.Name).Should().NotIntersectWith(ScenarioRegistry.All.Select(s => s.Name));
        }

        ProposalRegistry.All.Select(p => p.Name).Should().OnlyHaveUniqueItems().And.NotIntersectWith(MutantRegistry.All.Select(m => m.Name));
        ProposalRegistry.All.SelectMany(p => p.Scenarios).Select(s => s.Name).Should().OnlyHaveUniqueItems();
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Scenario_gets_its_expected_verdict_on_every_generation(string name, string scenarioName)
    {
        var proposal = ProposalRegistry.Find(name)!;
        var scenario = proposal.Scenario(scenarioName)!;
        var budget = Budgets.GetValueOrDefault(scenarioName, scenario.Expected is null ? CleanBudget : MisuseBudget);
        var requests = Generations.All.Where(proposal.AppliesTo).Select(g => Request(proposal, scenario, g, budget)).ToList();
        foreach (var result in TestSupport.RunAll(requests))
        {
            var on = $"{scenarioName} on {result.Request.Generation.Name} under {result.Request.Memory}";
            result.Uncontrolled.Should().BeEmpty();
            if (scenario.Expected is null)
            {
                result.Bug.Should().BeNull("{0} uses {1} correctly", on, name);
                result.IterationsRun.Should().Be(budget);
                result.IterationsAtStepBound.Should().Be(0);
            }
            else
            {
                result.Bug.Should().NotBeNull("{0} misuses {1}", on, name);
                result.Bug!.Invariant.Should().Be(scenario.Expected, on);
                result.IterationsRun.Should().BeLessThanOrEqualTo(budget);
            }
        }
    }

    [Fact]
    public void Explore_patch_reports_each_run_and_records_the_patch_in_the_trace_it_writes()
    {
        var dir = Directory.CreateTempSubdirectory("vmalock-patch-").FullName;
        try
        {
            var results = Path.Combine(dir, "results.json");
            var (code, output, _) = TestSupport.Vmalock("explore", "--patch", "vma-end-write", "--generation", "6.15", "--iterations", "20", "--traces-dir", dir, "--json", results);

            code.Should().Be(ExitCodes.BugFound);
            output.Should().MatchRegex(@"end-write-each-vma\s+6\.15\s+vma-end-write\s+portfolio\s.*clean");
            output.Should().MatchRegex(@"end-write-then-change\s+6\.15\s+vma-end-write\s+portfolio\s.*SpecConformance");
            output.Should().MatchRegex(@"end-write-each-vma\s+6\.15\s+vma-end-write\s+exhaustive\s.*complete \(K=1\)", "a proposal gets the main job's exhaustive run too");
            var trace = TraceFile.Load(Path.Combine(dir, "end-write-then-change.6.15.vma-end-write.seed1.lkmm.trace.json"));
            trace.Patch.Should().Be("vma-end-write");
            trace.Mutant.Should().BeNull();
            trace.Command.Should().Contain("--patch vma-end-write");
            Replayer.RequestFor(trace, "t").Patch.Should().BeSameAs(ProposalRegistry.Find("vma-end-write"));

            // The results file names the proposal where a run names its mutant, and merge takes it.
            var merged = TestSupport.Vmalock("merge", results);
            merged.ExitCode.Should().Be(ExitCodes.BugFound);
            merged.Output.Should().MatchRegex(@"end-write-then-change\s+6\.15\s+vma-end-write\s+portfolio\s.*SpecConformance");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Explore_patch_of_a_correct_use_alone_is_clean()
    {
        var (code, output, _) = TestSupport.Vmalock("explore", "--patch", "vma-downgrade-write", "--scenario", "downgrade-write-then-read", "--generation", "6.14", "--iterations", "20", "--traces-dir", Path.GetTempPath());

        code.Should().Be(ExitCodes.Clean);
        output.Should().MatchRegex(@"downgrade-write-then-read\s+6\.14\s+vma-downgrade-write\s+portfolio\s.*clean");
        output.Should().MatchRegex(@"downgrade-write-then-read\s+6\.14\s+vma-downgrade-write\s+exhaustive\s.*complete \(K=1\)");
    }

    [Theory]
    [InlineData("unknown proposal 'no-such-patch' (known: vma-end-write, vma-downgrade-write, vma-expand-sticky-after-lock, exclude-readers-acquire, mprotect-keeps-atomic-flags, split-locks-before-dup)", "explore", "--patch", "no-such-patch")]
    [InlineData("--patch and --mutant cannot be given together", "explore", "--patch", "vma-end-write", "--mutant", "no-drain")]
    [InlineData("scenario 'end-write-each-vma' is proposal vma-end-write's: it runs only with --patch vma-end-write", "explore", "--scenario", "end-write-each-vma")]
    [InlineData("proposal 'vma-end-write' is not written for generation 6.4", "explore", "--patch", "vma-end-write", "--generation", "6.4")]
    public void A_bad_patch_is_one_line_and_exit_2(string message, params string[] args)
    {
        var (code, output, error) = TestSupport.Vmalock(args);

        code.Should().Be(ExitCodes.BadInput);
        output.Should().BeEmpty();
        error.Should().StartWith("vmalock: ").And.Contain(message);
        error.TrimEnd('\n').Should().NotContain("\n");
    }

    [Fact]
    public void Show_prints_what_a_proposal_adds_and_list_names_it()
    {
        var (code, output, _) = TestSupport.Vmalock("show", "vma-downgrade-write");

        code.Should().Be(ExitCodes.Clean);
        output.Should().Contain("adds        vma_downgrade_write()").And.Contain("replaces    nothing");
        output.Should().Contain("vma_downgrade_write() on 6.5, 6.14:").And.Contain("vma_downgrade_write() on 6.15:");
        output.Should().Contain("+++ Harness/Proposals/VmaDowngradeWrite.cs:").And.Contain("proposal, never in the kernel");
        output.Should().Contain("+    vma.VmLock.DowngradeWrite();");

        TestSupport.Vmalock("list").Output.Should().Contain("proposals:").And.Contain("vma-end-write").And.Contain("end-write-then-change (expected SpecConformance)");
    }

    [Fact]
    public void A_vma_end_write_that_does_not_exclude_readers_is_clean_under_sc_and_caught_under_lkmm()
    {
        // docs/what-ifs.md's row of a bare vma_end_write(): the same scenario, without the exclusion.
        var bare = new BareVmaEndWrite();
        var scenario = bare.Scenario("end-write-each-vma")!;
        var generations = Generations.All.Where(bare.AppliesTo).ToList();
        var withoutRaces = InvariantRegistry.All.Where(i => i.Name != nameof(NoDataRace)).ToList();
        var requests = generations.Select(g => Request(bare, scenario, g, CleanBudget) with { Memory = RunRequest.ScMemory })
            .Concat(generations.Select(g => Request(bare, scenario, g, 50)))
            .Concat(generations.Select(g => Request(bare, scenario, g, 500) with { Invariants = withoutRaces }))
            .ToList();
        var results = TestSupport.RunAll(requests);

        results.Take(3).Should().AllSatisfy(r => r.Bug.Should().BeNull("sequential consistency cannot show a missing ordering"));
        results.Skip(3).Take(3).Should().AllSatisfy(r => r.Bug!.Invariant.Should().Be(nameof(NoDataRace)));
        results.Skip(6).Should().AllSatisfy(r => r.Bug!.Invariant.Should().Be(nameof(NoStaleVmaFieldUnderReadLock)));
    }

    /// <summary>
    /// vma_end_write() as a bare WRITE_ONCE of vm_lock_seq: no vm_lock (rw_semaphore generations),
    /// no exclusion (6.15). A variant tried while writing <see cref="VmaEndWrite"/>, kept here
    /// rather than in the registry because it is expected to fail.
    /// </summary>
    private sealed class BareVmaEndWrite : Proposal
    {
        public override string Name => "vma-end-write-bare";

        public override string Description => "vma_end_write(vma) as WRITE_ONCE(vma->vm_lock_seq, UINT_MAX) alone, readers not excluded";

        public override string Origin => "a variant of vma-end-write (ProposalTests)";

        public override IReadOnlyList<string> Adds => ["vma_end_write"];

        public override IReadOnlyList<string> Replaces => [];

        public override IReadOnlyList<MutantKernel> Kernels { get; } =
            [MutantKernel.On("6.5", w => new On6_5(w)), MutantKernel.On("6.14", w => new On6_14(w)), MutantKernel.On("6.15", w => new On6_15(w))];

        public override IReadOnlyList<ProposalScenario> Scenarios => ProposalRegistry.Find("vma-end-write")!.Scenarios;

        public interface Patch : VmaEndWrite.Patch
        {
            /// <summary>vma_end_write(), proposal, never in the kernel: the reset alone.</summary>
            void VmaEndWrite.Patch.VmaEndWrite(VmAreaStruct vma)
            {
                using var fn = this.World.Enter("vma_end_write", vma.Name);
                this.VmaAssertWriteLocked(vma);
                vma.VmLockSeq.WriteOnce(Harness.Proposals.VmaEndWrite.Unlocked);
                this.World.Emit(new VmaWriteReleased(this.World.Current.Name, vma.VmMm.Name, vma.Name));
            }
        }

        private sealed class On6_5(KernelWorld world) : Booted(world), Patch;

        private sealed class On6_14(KernelWorld world) : Booted(world), Linux6_14, Patch;

        private sealed class On6_15(KernelWorld world) : Booted(world), Linux6_15, Patch;
    }

    /// <summary>The run explore --patch makes of <paramref name="scenario"/> on <paramref name="generation"/> (under the model its verdict is for, else lkmm from 6.5, as explore's default).</summary>
    private static RunRequest Request(Proposal proposal, ProposalScenario scenario, GenerationInfo generation, uint iterations) =>
        new(scenario, generation, null, "portfolio", iterations, RunRequest.DefaultMaxSteps, 1, 0, RunRequest.DefaultReaders, InvariantRegistry.All)
        {
            Memory = scenario.Memory ?? RunRequest.DefaultMemoryOf(generation)[0],
            Patch = proposal,
        };
}
