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
