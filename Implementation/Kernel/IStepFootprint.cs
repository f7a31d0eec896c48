namespace VmaLockVerify.Implementation.Kernel;

/// <summary>
/// What one step of a thread (its run from one scheduling point to the next) touched: the
/// locations it read and wrote. A bounded-exhaustive search uses it to tell independent steps
/// (which it need not order both ways) from dependent ones. The port reports every shared
/// location it accesses, and a few pseudo-locations (<see cref="StepLocations"/>) for effects
/// that are not accesses of a <see cref="Memory.SharedVar{T}"/>.
/// </summary>
public interface IStepFootprint
{
    /// <summary>The running step read (<paramref name="write"/> false) or wrote <paramref name="location"/>.</summary>
    void Touch(int location, bool write);
}

/// <summary>The pseudo-locations of <see cref="IStepFootprint"/>; real locations are numbered after them.</summary>
public static class StepLocations
{
    /// <summary>
    /// Every protocol event: the monitors judge the order of events, so two steps that both emit
    /// one are never reordered.
    /// </summary>
    public const int Events = 1;

    /// <summary>Fresh names and page frames: the order in which threads take them shows in their names.</summary>
    public const int Allocator = 2;

    /// <summary>
    /// What a weak memory model orders beyond single locations: barriers, spinlocks, RCU sections
    /// and grace periods, wake-ups and fully ordered accesses.
    /// </summary>
    public const int MemoryOrder = 3;

    /// <summary>Who owns which of the controlled scheduler's locks (a step that starts or ends at a lock operation).</summary>
    public const int LockOwners = 4;

    /// <summary>The first number a real location gets.</summary>
    public const int FirstShared = 16;
}
