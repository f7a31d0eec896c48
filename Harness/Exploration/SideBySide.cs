using System.Collections.Concurrent;

namespace VmaLockVerify.Harness.Exploration;

/// <summary>Runs independent pieces of work, a given number at a time, each piece on one thread from start to end.</summary>
public static class SideBySide
{
    /// <summary>
    /// How many engines explore, bench and the tests run side by side when not told: twice the
    /// number of cores. An engine waits at every hand-off between its threads; with twice as
    /// many engines as cores another engine's thread runs meanwhile. On 2 cores, 4 engines ran
    /// the main job in 140 and 103 s against 141 and 156 s for 2, alternately (docs/bench.md).
    /// </summary>
    public static int DefaultEngines => 2 * Environment.ProcessorCount;

    /// <summary>
    /// Runs <paramref name="work"/> for 0..<paramref name="count"/>-1, <paramref name="engines"/> at
    /// a time (each piece is an engine run: it shares nothing with the others); the results are in
    /// the order of the pieces. An engine that finishes takes the next piece not yet started, one
    /// at a time, in the order of <paramref name="startFirst"/> (lower first; ties in the pieces'
    /// order): pieces expected to take longest should start first, so that no engine is left
    /// alone with a long piece at the end while the others have nothing to do.
    /// </summary>
    public static T[] Run<T>(int count, int engines, Func<int, T> work, Func<int, int>? startFirst = null)
    {
        var results = new T[count];
        var order = Enumerable.Range(0, count).OrderBy(i => startFirst?.Invoke(i) ?? 0).ToArray();
        Parallel.ForEach(
            Partitioner.Create(order, EnumerablePartitionerOptions.NoBuffering),
            new ParallelOptions { MaxDegreeOfParallelism = engines },
            i => results[i] = work(i));
        return results;
    }
}
