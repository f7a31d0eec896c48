using FluentAssertions;
using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Scenarios;
using VmaLockVerify.Implementation.Generations;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>
/// The correct port is clean: every scenario on every generation, under every strategy, for 200
/// iterations each (1,200 per scenario × generation), with every invariant registered, no
/// uncontrolled invocation, and every iteration run to completion within the step bound. The
/// strategies of a scenario × generation run side by side, as explore runs its engines.
/// </summary>
public sealed class CorrectImplementationTests
{
    public const uint IterationsPerStrategy = 200;

    public static TheoryData<string, string> Matrix()
    {
        var data = new TheoryData<string, string>();
        foreach (var scenario in ScenarioRegistry.All)
        {
            foreach (var generation in Generations.All.Where(scenario.RunsOn))
            {
                data.Add(scenario.Name, generation.Name);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public void Scenario_is_clean_on_the_correct_port_under_every_strategy(string scenario, string generation)
    {
        var results = TestSupport.RunAll([.. Strategies.All.Select(s => TestSupport.Request(scenario, generation, strategy: s.Name, iterations: IterationsPerStrategy)).Select(WithoutKnownFindings)]);

        foreach (var result in results)
        {
            var strategy = result.Request.Strategy;
            result.Bug.Should().BeNull("the correct {0} port must not violate any invariant in {1} under {2}", generation, scenario, strategy);
            result.IterationsRun.Should().Be(IterationsPerStrategy, "a green run must have run its whole budget ({0})", strategy);
            result.Uncontrolled.Should().BeEmpty();
            result.MaxStepsInAnIteration.Should().BeGreaterThan(30, "an iteration of a scenario makes many scheduling decisions ({0})", strategy);
            result.IterationsAtStepBound.Should().Be(0, "no iteration may be cut off by the step bound ({0})", strategy);
        }
    }

    /// <summary>
    /// The request judged by every invariant but those of the generation's known findings in its
    /// scenario (KnownBugs), as the main job judges it: the kernel's own findings are pinned by
    /// their own tests (LkmmExploreTests).
    /// </summary>
    private static RunRequest WithoutKnownFindings(RunRequest request) =>
        request with { Invariants = KnownBugs.JudgingAsTheMainJob(request.Invariants, request.Scenario.Name, request.Generation, request.Memory) };

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    public void Scenarios_are_clean_with_one_to_four_readers(int readers)
    {
        var results = TestSupport.RunAll([.. ScenarioRegistry.All.Select(s => WithoutKnownFindings(TestSupport.Request(s.Name, s.RunsOn(Generations.Find("6.5")!) ? "6.5" : "7.0", iterations: 100, readers: readers)))]);

        foreach (var result in results)
        {
            result.Bug.Should().BeNull("{0} with {1} fault threads", result.Request.Scenario.Name, readers);
            result.IterationsRun.Should().Be(100);
            result.MaxConcurrency.Should().BeGreaterThanOrEqualTo(readers + 2, "the root, the writer and every fault thread are controlled");
        }
    }
}
