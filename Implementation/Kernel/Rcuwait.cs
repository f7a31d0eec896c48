using VmaLockVerify.Implementation.Memory;

namespace VmaLockVerify.Implementation.Kernel;

/// <summary>struct rcuwait (include/linux/rcuwait.h, kernel/exit.c): one task waits for a condition; wakers find it under RCU.</summary>
public static class Rcuwait
{
    /// <summary>
    /// rcuwait_wait_event(w, condition, state): publishes current in w->task, then sleeps until
    /// <paramref name="condition"/> holds. With <paramref name="fatalSignal"/> (TASK_KILLABLE) the
    /// wait ends early when it reports a pending fatal signal; returns false then (-EINTR).
    /// </summary>
    public static bool WaitEvent(SharedVar<TaskStruct?> w, Func<bool> condition, Func<bool>? fatalSignal = null)
    {
        var world = w.World;
        var current = world.Current;
        using var fn = world.Enter("rcuwait_wait_event", w.Name);
        w.RcuAssignPointer(current);
        var satisfied = true;
        while (SetCurrentState(world) && !condition())
        {
            if (fatalSignal is not null && fatalSignal())
            {
                satisfied = false;
                break;
            }

            current.Schedule();
        }

        // finish_rcuwait(): rcu_assign_pointer(w->task, NULL).
        w.RcuAssignPointer(null);
        return fn.Returns(satisfied);
    }

    /// <summary>
    /// set_current_state(state) before each test of the condition: smp_store_mb(), a full barrier
    /// that pairs with rcuwait_wake_up()'s smp_mb() (the SB shape: the waiter sees the condition or
    /// the waker sees the waiter). Given to the memory model only, not recorded, so the traces saved
    /// under sequential consistency, where it does nothing, stay as they are. Always true.
    /// </summary>
    private static bool SetCurrentState(KernelWorld world)
    {
        world.Memory.Fence(MemoryBarrier.Mb);
        return true;
    }

    /// <summary>rcuwait_wake_up(w), kernel/exit.c: under RCU, smp_mb (pairs with set_current_state), then wake w->task if any.</summary>
    public static void WakeUp(SharedVar<TaskStruct?> w)
    {
        var world = w.World;
        using var fn = world.Enter("rcuwait_wake_up", w.Name);
        world.Rcu.ReadLock();
        world.Barrier(MemoryBarrier.Mb);
        w.RcuDereference()?.WakeUp();
        world.Rcu.ReadUnlock();
    }
}
