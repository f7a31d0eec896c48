namespace VmaLockVerify.Implementation.Kernel;

/// <summary>
/// What the port needs from whoever runs it: a scheduling point, a nondeterministic choice
/// (in place of a timeout, a signal...), and a way to stop on a kernel assertion. The harness
/// implements it twice (Harness/Exploration: Coyote's controlled scheduler, and real threads for
/// the stress mode); the port knows neither.
/// </summary>
public interface IExecutionControl
{
    /// <summary>A point where another thread may run.</summary>
    void Interleave();

    /// <summary>A choice among <paramref name="count"/> outcomes, recorded in the schedule.</summary>
    int Choose(int count);

    /// <summary>A rare outside event (a timeout, a signal) that happens once in <paramref name="oneIn"/>: true when it does.</summary>
    bool Chance(int oneIn) => this.Choose(oneIn) == 0;

    /// <summary>A failed kernel assertion (BUG_ON, VM_BUG_ON, KASAN): stops the run.</summary>
    void Fail(string message);
}

/// <summary>What a search that enumerates choices is told before each one.</summary>
public interface IChoiceGuide
{
    /// <summary>
    /// The next controlled choice has <paramref name="distinct"/> outcomes that differ (values 0 to
    /// distinct - 1), of which <paramref name="usual"/> is the common one; also checks, as
    /// <see cref="CheckRunning"/> does, that the iteration still runs.
    /// </summary>
    void BeforeChoice(int distinct, int usual);

    /// <summary>
    /// Ends a thread of an iteration the search has already cut short (it throws
    /// <see cref="ThreadInterruptedException"/>, as Coyote does to the threads of an iteration it
    /// ends), so that it takes no choice meant for the next iteration.
    /// </summary>
    void CheckRunning();
}
