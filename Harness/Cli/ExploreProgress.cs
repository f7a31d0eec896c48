using System.Diagnostics;
using VmaLockVerify.Harness.Exploration;

namespace VmaLockVerify.Harness.Cli;

/// <summary>
/// Progress of a long explore: iterations done, runs finished, bugs found, the rate and the time
/// left. On a terminal one line is redrawn twice a second; otherwise (CI logs, pipes) a plain
/// line is printed every ten seconds, so short runs print none.
/// </summary>
public sealed class ExploreProgress(IReadOnlyList<RunRequest> requests)
{
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private long total = requests.Sum(r => (long)r.Iterations);
    private long done;
    private int runsDone;
    private int bugs;

    /// <summary>Called by the engines at the start of every iteration.</summary>
    public void Iteration() => Interlocked.Increment(ref this.done);

    /// <summary>A run ended: a run that stopped at its bug will not run the rest of its iterations.</summary>
    public void Finished(RunResult result)
    {
        Interlocked.Add(ref this.total, result.IterationsRun - (long)result.Request.Iterations);
        Interlocked.Increment(ref this.runsDone);
        if (result.Bug is not null)
        {
            Interlocked.Increment(ref this.bugs);
        }
    }

    /// <summary>Waits for <paramref name="work"/>, reporting progress meanwhile.</summary>
    public void Watch(Task work, TextWriter output, bool terminal)
    {
        var interval = terminal ? TimeSpan.FromMilliseconds(500) : TimeSpan.FromSeconds(10);
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
        var done = Interlocked.Read(ref this.done);
        var total = Math.Max(done, Interlocked.Read(ref this.total));
        var rate = done / Math.Max(this.clock.Elapsed.TotalSeconds, 0.001);
        var left = rate > 0 ? TimeSpan.FromSeconds((total - done) / rate) : TimeSpan.Zero;
        return $"{this.runsDone}/{requests.Count} runs, {done}/{total} iterations, {this.bugs} bug(s), {rate:F0} iterations/s, about {left.TotalSeconds:F0} s left";
    }
}
