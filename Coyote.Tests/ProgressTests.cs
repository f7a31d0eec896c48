using FluentAssertions;
using VmaLockVerify.Harness.Cli;
using VmaLockVerify.Harness.Exploration;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>explore's progress display: the counts it shows, and how it shows them.</summary>
public sealed class ProgressTests
{
    [Fact]
    public void Progress_counts_iterations_runs_and_bugs_from_the_engines()
    {
        var clean = TestSupport.Request("fault-vs-mprotect", "6.5", iterations: 20);
        var buggy = TestSupport.Request("fault-vs-mprotect", "6.4", "skip-recheck", iterations: 2000);
        var progress = new ExploreProgress([clean, buggy]);
        progress.Line().Should().StartWith("0/2 runs, 0/2020 iterations, 0 bug(s)");

        var cleanResult = Explorer.Run(clean, onIteration: i => progress.Iteration(0, i));
        progress.Line().Should().StartWith("0/2 runs, 20/2020 iterations, 0 bug(s)", "the engine reported each iteration it started");
        progress.Finished(0, cleanResult);
        var buggyResult = Explorer.Run(buggy, onIteration: i => progress.Iteration(1, i));
        progress.Finished(1, buggyResult);

        buggyResult.Bug.Should().NotBeNull();
        progress.Line().Should().StartWith($"2/2 runs, {20 + buggyResult.IterationsRun}/{20 + buggyResult.IterationsRun} iterations, 1 bug(s)")
            .And.EndWith("about 0 s left", "a run that stopped at its bug will not run the rest");
    }

    [Fact]
    public void Reporting_progress_does_not_change_what_the_engine_explores()
    {
        var request = TestSupport.Request("fault-vs-mprotect", "6.4", "skip-recheck", iterations: 2000);
        var progress = new ExploreProgress([request]);

        var watched = Explorer.Run(request, onIteration: i => progress.Iteration(0, i));
        var plain = Explorer.Run(request);

        watched.IterationsRun.Should().Be(plain.IterationsRun);
        watched.ReproducibleTrace.Should().Be(plain.ReproducibleTrace);
    }

    [Fact]
    public void Terminals_get_one_redrawn_line_and_pipes_get_plain_lines()
    {
        var progress = new ExploreProgress([TestSupport.Request("fault-vs-mprotect", "6.5", iterations: 20)]);

        var pipe = new StringWriter();
        progress.Watch(Task.Delay(300), pipe, terminal: false, every: TimeSpan.FromMilliseconds(40));
        var terminal = new StringWriter();
        progress.Watch(Task.Delay(300), terminal, terminal: true, every: TimeSpan.FromMilliseconds(40));

        pipe.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().HaveCountGreaterThan(1)
            .And.OnlyContain(l => l.StartsWith("progress: 0/1 runs, 0/20 iterations", StringComparison.Ordinal));
        terminal.ToString().Should().NotContain("\n").And.StartWith("\r0/1 runs").And.EndWith("\r", "the line is cleared before the report");
    }
}
