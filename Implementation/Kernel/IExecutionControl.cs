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

    /// <summary>A failed kernel assertion (BUG_ON, VM_BUG_ON, KASAN): stops the run.</summary>
    void Fail(string message);
}

/// <summary>Coyote's controlled scheduler: every choice is the scheduler's, recorded in its trace.</summary>
public sealed class CoyoteControl : IExecutionControl
{
    private readonly Generator generator = Generator.Create();

    public void Interleave() => SchedulingPoint.Interleave();

    public int Choose(int count) => this.generator.NextInteger(count);

    public void Fail(string message) => Specification.Assert(false, "{0}", message);
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
