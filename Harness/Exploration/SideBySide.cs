namespace VmaLockVerify.Harness.Exploration;

/// <summary>Runs independent pieces of work, a given number at a time, each piece on one thread from start to end.</summary>
public static class SideBySide
{
    /// <summary>
    /// How many engines explore, bench and the tests run side by side when not told: the number
    /// of cores.
    /// </summary>
    public static int DefaultEngines => Environment.ProcessorCount;

    /// <summary>
    /// Runs <paramref name="work"/> for 0..<paramref name="count"/>-1, <paramref name="engines"/> at
    /// a time (each piece is an engine run: it shares nothing with the others); the results are in
    /// the order of the pieces.
    /// </summary>
    public static T[] Run<T>(int count, int engines, Func<int, T> work)
    {
        var results = new T[count];
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = engines }, i => results[i] = work(i));
        return results;
    }
}
