namespace VmaLockVerify.Implementation.Kernel;

/// <summary>
/// RCU as the per-VMA lock relies on it: read-side critical sections that keep objects alive, and
/// call_rcu() callbacks that run only after every reader that could have seen the object has left
/// its critical section (a grace period). kernel/rcu/tree.c, reduced to that guarantee: a callback
/// waits for the readers present when it was queued; it runs in the context of the thread that
/// ends the grace period (the last of those readers), or at once if there were none.
/// </summary>
public sealed class Rcu(KernelWorld world)
{
    private readonly object rcuLock = new();
    private readonly List<TaskStruct> readers = [];
    private readonly List<Pending> pending = [];

    private sealed record Pending(HashSet<TaskStruct> WaitFor, string What, Action Callback, object? GracePeriod);

    /// <summary>rcu_read_lock_held(): whether the current task is inside a read-side critical section.</summary>
    public bool ReadLockHeld => world.Current.RcuNesting > 0;

    /// <summary>rcu_read_lock().</summary>
    public void ReadLock()
    {
        var task = world.Current;
        lock (this.rcuLock)
        {
            // Under the lock, so the memory model's read-side section starts exactly when a
            // call_rcu() starts to wait for it.
            world.Memory.RcuReadLock();
            if (task.RcuNesting++ == 0)
            {
                this.readers.Add(task);
            }
        }
    }

    /// <summary>rcu_read_unlock(): may end a grace period and run the callbacks it held back.</summary>
    public void ReadUnlock()
    {
        var task = world.Current;
        List<Pending> ready;
        lock (this.rcuLock)
        {
            world.VmBugOn(task.RcuNesting == 0, "rcu_read_unlock() without rcu_read_lock()");
            world.Memory.RcuReadUnlock();
            if (--task.RcuNesting > 0)
            {
                return;
            }

            this.readers.Remove(task);
            ready = [];
            foreach (var p in this.pending)
            {
                if (p.WaitFor.Remove(task) && p.WaitFor.Count == 0)
                {
                    ready.Add(p);
                }
            }

            this.pending.RemoveAll(ready.Contains);
        }

        foreach (var p in ready)
        {
            RunCallback(p);
        }
    }

    /// <summary>call_rcu(head, func): runs <paramref name="callback"/> after a grace period.</summary>
    public void CallRcu(string what, Action callback)
    {
        Pending p;
        lock (this.rcuLock)
        {
            p = new Pending([.. this.readers], what, callback, world.Memory.CallRcu());
            if (p.WaitFor.Count > 0)
            {
                this.pending.Add(p);
                return;
            }
        }

        RunCallback(p);
    }

    private void RunCallback(Pending p)
    {
        using var fn = world.Enter("rcu_do_batch", p.What);
        world.Memory.RcuCallback(p.GracePeriod);
        p.Callback();
    }
}
