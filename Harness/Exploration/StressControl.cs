using VmaLockVerify.Implementation.Kernel;

namespace VmaLockVerify.Harness.Exploration;

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
