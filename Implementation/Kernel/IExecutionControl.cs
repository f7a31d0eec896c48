using Microsoft.Coyote.Random;
using Microsoft.Coyote.Runtime;
using Microsoft.Coyote.Specifications;

namespace VmaLockVerify.Implementation.Kernel;

/// <summary>
/// What the port needs from whoever runs it: a scheduling point, a nondeterministic choice
/// (in place of a timeout, a signal...), and a way to stop on a kernel assertion.
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

/// <summary>
/// Coyote's controlled scheduler: every choice is the scheduler's, recorded in its trace. With a
/// <see cref="IChoiceGuide"/> (a bounded-exhaustive search), each choice first says how many of
/// its values differ and which one is the usual outcome.
/// </summary>
public sealed class CoyoteControl(IChoiceGuide? guide = null, Action<string>? onFail = null) : IExecutionControl
{
    private readonly Generator generator = Generator.Create();

    public void Interleave()
    {
        guide?.CheckRunning();
        SchedulingPoint.Interleave();
    }

    public int Choose(int count)
    {
        guide?.BeforeChoice(count, usual: 0);
        return this.generator.NextInteger(count);
    }

    /// <summary>Only two outcomes differ: 0 (it happens) and 1 (the usual one: it does not).</summary>
    public bool Chance(int oneIn)
    {
        guide?.BeforeChoice(2, usual: 1);
        return this.generator.NextInteger(oneIn) == 0;
    }

    /// <summary>Stops the run; <c>onFail</c> learns first that the port's own check raised it.</summary>
    public void Fail(string message)
    {
        onFail?.Invoke(message);
        Specification.Assert(false, "{0}", message);
    }
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

/// <summary>
/// Real threads, no controlled scheduler: the way kernel developers stress a lock, with random
/// delays injected where the port has a scheduling point (a yield, a short spin, now and then a
/// sleep), and random choices. A failed assertion is remembered (the first one) and stops the
/// thread that hit it.
/// </summary>
public sealed class StressControl(int seed) : IExecutionControl
{
    private readonly ThreadLocal<Random> random = new(() => new Random(HashCode.Combine(seed, Environment.CurrentManagedThreadId)));
    private readonly object gate = new();

    /// <summary>The first failed kernel assertion, if any.</summary>
    public string? Failure { get; private set; }

    public void Interleave()
    {
        var r = this.random.Value!.Next(1000);
        if (r < 600)
        {
            return;
        }

        if (r < 850)
        {
            Thread.Yield();
        }
        else if (r < 995)
        {
            Thread.SpinWait(this.random.Value.Next(1, 400));
        }
        else
        {
            Thread.Sleep(1);
        }
    }

    public int Choose(int count) => this.random.Value!.Next(count);

    public void Fail(string message)
    {
        lock (this.gate)
        {
            this.Failure ??= message;
        }
    }
}
