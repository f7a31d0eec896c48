using Microsoft.Coyote.Random;
using Microsoft.Coyote.Runtime;
using Microsoft.Coyote.Specifications;
using VmaLockVerify.Implementation.Kernel;

namespace VmaLockVerify.Harness.Exploration;

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
