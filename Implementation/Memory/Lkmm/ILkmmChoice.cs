namespace VmaLockVerify.Implementation.Memory.Lkmm;

/// <summary>
/// Where every nondeterministic decision of the memory model goes: which message a load reads,
/// where a store is placed in coherence order. Choice 0 is always the sequentially consistent one
/// (the newest message, the end of the history). Under Coyote this is
/// <see cref="Kernel.IExecutionControl.Choose"/> (recorded and replayed); the litmus runner
/// enumerates every answer itself.
/// </summary>
public interface ILkmmChoice
{
    /// <summary>A number in 0..<paramref name="count"/>-1; called only with <paramref name="count"/> ≥ 2.</summary>
    int Choose(int count);
}
