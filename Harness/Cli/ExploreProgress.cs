using System.Diagnostics;
using VmaLockVerify.Harness.Exploration;

namespace VmaLockVerify.Harness.Cli;

/// <summary>
/// Progress of a long explore: iterations done, runs finished, bugs found, the rate and the time
/// left. On a terminal one line is redrawn twice a second; otherwise (CI logs, pipes) a plain
/// line is printed every ten seconds, so short runs print none.
/// <para>
/// The engines report through plain per-run slots, each written by one engine only, from
/// Coyote's start-of-iteration callback: an Interlocked or a collection access in rewritten code
/// would itself be a scheduling point, and a replay (which reports nothing) would not follow it.
/// </para>
/// </summary>
public sealed class ExploreProgress(IReadOnlyList<RunRequest> requests)
{
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly long[] started = new long[requests.Count];
    private readonly long[] planned = [.. requests.Select(r => (long)r.Iterations)];
    private readonly bool[] finished = new bool[requests.Count];
    private readonly bool[] found = new bool[requests.Count];

    /// <summary>
    /// Runs every request, <paramref name="engines"/> side by side (Coyote's engine, or real
    /// threads for a stress request), showing progress on <paramref name="output"/> meanwhile.
    /// The results are in the order of the requests.
    /// </summary>
    public static RunResult[] RunAll(IReadOnlyList<RunRequest> requests, int engines, TextWriter output)
    {
        var progress = new ExploreProgress(requests);
        var work = Task.Run(() => SideBySide.Run(requests.Count, engines, i =>
        {
            var result = requests[i].Stress
                ? StressRunner.Run(requests[i], iteration => progress.Iteration(i, iteration))
                : Explorer.Run(requests[i], onIteration: iteration => progress.Iteration(i, iteration));
            progress.Finished(i, result);
            return result;
        }, StartFirst(requests)));
        progress.Watch(work, output, ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected);
        return work.Result;
    }

    /// <summary>
    /// Which runs start first: the bounded-exhaustive ones, which take longest (the main job's
    /// longest, long-fault-vs-writers on 6.14 under lkmm, about 50 engine-seconds, against 10 for
    /// the longest sampling run), then the rest, each group in the requests' order.
    /// </summary>
    private static Func<int, int> StartFirst(IReadOnlyList<RunRequest> requests) => i => requests[i].IsExhaustive ? 0 : 1;

    /// <summary>Run <paramref name="run"/> starts its iteration <paramref name="iteration"/> (from 0).</summary>
    public void Iteration(int run, uint iteration) => this.started[run] = iteration + 1;

    /// <summary>A run ended: a run that stopped at its bug will not run the rest of its iterations.</summary>
    public void Finished(int run, RunResult result)
    {
        this.started[run] = result.IterationsRun;
        this.planned[run] = result.IterationsRun;
        this.found[run] = result.Bug is not null;
        this.finished[run] = true;
    }

    /// <summary>Waits for <paramref name="work"/>, reporting progress meanwhile.</summary>
    public void Watch(Task work, TextWriter output, bool terminal, TimeSpan? every = null)
    {
        var interval = every ?? (terminal ? TimeSpan.FromMilliseconds(500) : TimeSpan.FromSeconds(10));
        while (!work.Wait(interval))
        {
            var line = this.Line();
            if (terminal)
            {
                output.Write($"\r{line,-100}");
            }
            else
            {
                output.WriteLine($"progress: {line}");
            }

            output.Flush();
        }

        if (terminal)
        {
            output.Write($"\r{string.Empty,-100}\r");
        }

        work.GetAwaiter().GetResult();
    }

    /// <summary>One line: "12/36 runs, 8123/28800 iterations, 0 bug(s), 1530 iterations/s, about 14 s left".</summary>
    public string Line()
    {
        var done = this.started.Sum();
        var total = Math.Max(done, this.planned.Sum());
        var rate = done / Math.Max(this.clock.Elapsed.TotalSeconds, 0.001);
        var left = rate > 0 ? TimeSpan.FromSeconds((total - done) / rate) : TimeSpan.Zero;
        return $"{this.finished.Count(f => f)}/{requests.Count} runs, {done}/{total} iterations, {this.found.Count(f => f)} bug(s), " +
            $"{rate:F0} iterations/s, about {left.TotalSeconds:F0} s left";
    }
}
