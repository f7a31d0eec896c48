using VmaLockVerify.Implementation.Kernel;

namespace VmaLockVerify.Tests;

/// <summary>
/// Runs the port directly, one thread at a time, outside Coyote: no interleaving, and every
/// controlled choice takes its first option, so every rare event happens (a fatal signal is
/// always pending). A kernel assertion that fails throws.
/// </summary>
internal sealed class SequentialControl : IExecutionControl
{
    public void Interleave()
    {
    }

    public int Choose(int count) => 0;

    public void Fail(string message) => throw new InvalidOperationException(message);
}
