using FluentAssertions;
using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Scenarios;
using VmaLockVerify.Implementation.Generations;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>
/// The correct port is clean: every scenario on every generation, under every strategy, for 200
/// iterations each (1,200 per scenario × generation), with every invariant registered, no
/// uncontrolled invocation, and every iteration run to completion within the step bound.
/// </summary>
public sealed class CorrectImplementationTests
{
    public const uint IterationsPerStrategy = 200;

    public static TheoryData<string, string, string> Matrix()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var scenario in ScenarioRegistry.All)
        {
            foreach (var generation in Generations.All)
            {
                foreach (var (strategy, _) in Strategies.All)
                {
                    data.Add(scenario.Name, generation.Name, strategy);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public void Scenario_is_clean_on_the_correct_port(string scenario, string generation, string strategy)
    {
        var result = Explorer.Run(TestSupport.Request(scenario, generation, strategy: strategy, iterations: IterationsPerStrategy));

        result.Bug.Should().BeNull("the correct {0} port must not violate any invariant in {1}", generation, scenario);
        result.IterationsRun.Should().Be(IterationsPerStrategy, "a green run must have run its whole budget");
        result.Uncontrolled.Should().BeEmpty();
        result.MaxStepsInAnIteration.Should().BeGreaterThan(30, "an iteration of a scenario makes many scheduling decisions");
        result.IterationsAtStepBound.Should().Be(0, "no iteration may be cut off by the step bound");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    public void Scenarios_are_clean_with_one_to_four_readers(int readers)
    {
        foreach (var scenario in ScenarioRegistry.All)
        {
            var result = Explorer.Run(TestSupport.Request(scenario.Name, "6.5", iterations: 100, readers: readers));
            result.Bug.Should().BeNull("{0} with {1} fault threads", scenario.Name, readers);
            result.IterationsRun.Should().Be(100);
            result.MaxConcurrency.Should().BeGreaterThanOrEqualTo(readers + 2, "the root, the writer and every fault thread are controlled");
        }
    }
}
