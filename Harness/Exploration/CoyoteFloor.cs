using Microsoft.Coyote.Runtime;

namespace VmaLockVerify.Harness.Exploration;

/// <summary>
/// Coyote's floor for a shape: an iteration with <paramref name="Operations"/> controlled
/// operations (the test's own and <c>Operations - 1</c> tasks it starts and awaits) that reach
/// <paramref name="Interleaves"/> scheduling points between them and do nothing else. What an
/// iteration of the port would cost if the port itself cost nothing; the throughput bench runs it
/// beside the port, under the same engine settings.
/// </summary>
public sealed record CoyoteFloor(int Operations, int Interleaves)
{
    /// <summary>The iteration's test body.</summary>
    public Task Iteration()
    {
        var children = new Task[this.Operations - 1];
        for (var i = 0; i < children.Length; i++)
        {
            var points = this.Share(i + 1);
            children[i] = Task.Run(() => Interleave(points));
        }

        Interleave(this.Share(0));
        return Task.WhenAll(children);
    }

    /// <summary>Operation <paramref name="operation"/>'s part of the scheduling points: an even split, the remainder to the first ones.</summary>
    private int Share(int operation) =>
        (this.Interleaves / this.Operations) + (operation < this.Interleaves % this.Operations ? 1 : 0);

    private static void Interleave(int points)
    {
        for (var i = 0; i < points; i++)
        {
            SchedulingPoint.Interleave();
        }
    }
}
