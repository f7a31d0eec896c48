using Microsoft.Coyote;

namespace VmaLockVerify.Harness.Exploration;

/// <summary>The exploration strategies, by their command-line names.</summary>
public static class Strategies
{
    /// <summary>The priority-change / delay bound PCT and delay-bounding use.</summary>
    public const uint Bound = 10;

    /// <summary>The probability level of the probabilistic strategy (switch with probability 1/2^level).</summary>
    public const uint ProbabilisticLevel = 3;

    public static IReadOnlyList<(string Name, string Description)> All { get; } =
    [
        ("random", "picks the next thread uniformly at every scheduling point"),
        ("pct", $"probabilistic concurrency testing: random priorities, {Bound} priority changes per iteration"),
        ("probabilistic", $"keeps running the same thread, switching with probability 1/2^{ProbabilisticLevel}"),
        ("delay-bounding", $"follows a deterministic order with at most {Bound} random delays per iteration"),
        ("qlearning", "reinforcement learning over the program's states, rewarding new ones"),
        ("portfolio", "rotates random, probabilistic, fair PCT and fair delay-bounding per iteration (Coyote's default)"),
        (Exhaustive, "every schedule with at most --preemptions K preemptions and --choices B unusual choice outcomes, pruned by sleep sets; says complete or incomplete"),
    ];

    /// <summary>The bounded-exhaustive strategy (<see cref="ExhaustiveSearch"/>): Coyote's random strategy, every decision made by the search.</summary>
    public const string Exhaustive = "exhaustive";

    public static bool IsKnown(string name) => All.Any(s => s.Name == name);

    /// <summary>Sets the strategy on a configuration.</summary>
    public static Configuration Apply(Configuration configuration, string name) => name switch
    {
        "random" => configuration.WithRandomStrategy(),
        "pct" => configuration.WithPrioritizationStrategy(false, Bound),
        "probabilistic" => configuration.WithProbabilisticStrategy(ProbabilisticLevel),
        "delay-bounding" => configuration.WithDelayBoundingStrategy(false, Bound),
        "qlearning" => configuration.WithQLearningStrategy(),
        "portfolio" => configuration,
        Exhaustive => configuration.WithRandomStrategy(),
        _ => throw new HarnessException(ExitCodes.BadInput, $"unknown strategy '{name}' (known: {string.Join(", ", All.Select(s => s.Name))})"),
    };
}
