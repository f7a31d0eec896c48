using VmaLockVerify.Implementation.Kernel;

namespace VmaLockVerify.Implementation.Memory;

/// <summary>
/// refcount_t operations of include/linux/refcount.h on an atomic int, with the kernel's orderings
/// and its saturation checks: an underflow or an increment from zero where the API forbids it is a
/// kernel WARN ("refcount_t: underflow; use-after-free."), reported here as a kernel bug.
/// </summary>
public static class Refcount
{
    /// <summary>refcount_read(): atomic_read.</summary>
    public static int RefcountRead(this AtomicVar<int> r) => r.AtomicRead();

    /// <summary>refcount_set(): atomic_set.</summary>
    public static void RefcountSet(this AtomicVar<int> r, int value) => r.AtomicSet(value);

    /// <summary>refcount_set_release(): atomic_set_release.</summary>
    public static void RefcountSetRelease(this AtomicVar<int> r, int value) => r.Write(value, MemoryOrder.Release);

    /// <summary>
    /// __refcount_inc_not_zero_limited_acquire(r, &amp;old, limit): increments unless the count is 0
    /// or the increment would exceed <paramref name="limit"/>; acquire ordering on success.
    /// </summary>
    public static bool IncNotZeroLimitedAcquire(this AtomicVar<int> r, int limit, out int old) =>
        r.IncNotZeroLimited(limit, out old, MemoryOrder.Acquire, "__refcount_inc_not_zero_limited_acquire");

    /// <summary>
    /// The CAS loop of __refcount_inc_not_zero_limited_acquire() with the given ordering and the
    /// kernel name it is shown under (a mutant may weaken the ordering).
    /// </summary>
    public static bool IncNotZeroLimited(this AtomicVar<int> r, int limit, out int old, MemoryOrder order, string kernelName)
    {
        old = r.UpdateIf(
            (int v, out int updated) =>
            {
                updated = v + 1;
                return v != 0 && v + 1 <= limit;
            },
            order,
            kernelName);
        return old != 0 && old + 1 <= limit;
    }

    /// <summary>refcount_add_not_zero(i, r) (relaxed): adds unless the count is 0; saturates (and warns) on overflow.</summary>
    public static bool AddNotZero(this AtomicVar<int> r, int delta)
    {
        var old = r.UpdateIf(
            (int v, out int updated) =>
            {
                updated = unchecked(v + delta);
                return v != 0;
            },
            MemoryOrder.Relaxed,
            "refcount_add_not_zero");
        if (old != 0 && (old < 0 || unchecked(old + delta) < 0))
        {
            r.World.Bug($"refcount_t: saturated; leaking memory ({r.Name} was {old}, plus {delta})");
        }

        return old != 0;
    }

    /// <summary>
    /// __refcount_sub_and_test(i, r, &amp;old): release ordering, acquire when it reaches zero.
    /// Returns whether the count reached zero.
    /// </summary>
    public static bool SubAndTest(this AtomicVar<int> r, int delta, out int old)
    {
        old = r.Update(v => v - delta, MemoryOrder.Release, delta == 1 ? "__refcount_dec_and_test" : "refcount_sub_and_test");
        if (old - delta < 0)
        {
            r.World.Bug($"refcount_t: underflow; use-after-free ({r.Name} was {old}, minus {delta})");
        }

        if (old != delta)
        {
            return false;
        }

        // smp_acquire__after_ctrl_dep(): the last put orders what follows after the decrement.
        r.World.Barrier(MemoryBarrier.Rmb);
        return true;
    }

    /// <summary>__refcount_dec_and_test(r, &amp;old).</summary>
    public static bool DecAndTest(this AtomicVar<int> r, out int old) => r.SubAndTest(1, out old);
}
