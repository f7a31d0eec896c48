using VmaLockVerify.Implementation.Memory;
using Kind = VmaLockVerify.Harness.Litmus.LitmusPrimitiveKind;

namespace VmaLockVerify.Harness.Litmus;

/// <summary>
/// The kernel primitives a litmus test may call, named as the kernel names them, with the
/// ordering each one maps to (tools/memory-model/linux-kernel.def; GenMC v0.9 include/lkmm.h).
/// </summary>
public static class LitmusPrimitives
{
    private static readonly (string Suffix, MemoryOrder Order)[] Suffixes =
        [("", MemoryOrder.Full), ("_relaxed", MemoryOrder.Relaxed), ("_acquire", MemoryOrder.Acquire), ("_release", MemoryOrder.Release)];

    private static readonly (string Name, Func<long, long, long> Apply)[] Arithmetic =
        [("add", (a, b) => a + b), ("sub", (a, b) => a - b), ("or", (a, b) => a | b), ("and", (a, b) => a & b), ("xor", (a, b) => a ^ b)];

    /// <summary>Every primitive by its kernel name.</summary>
    public static readonly IReadOnlyDictionary<string, LitmusPrimitive> All = Build();

    private static Dictionary<string, LitmusPrimitive> Build()
    {
        var all = new Dictionary<string, LitmusPrimitive>(StringComparer.Ordinal);
        void Add(LitmusPrimitive p) => all[p.Name] = p;

        foreach (var name in new[] { "READ_ONCE", "atomic_read", "atomic_long_read", "rcu_dereference" })
        {
            Add(new(name, Kind.Load, MemoryOrder.Once, 1));
        }

        Add(new("smp_load_acquire", Kind.Load, MemoryOrder.Acquire, 1));
        Add(new("atomic_read_acquire", Kind.Load, MemoryOrder.Acquire, 1));
        foreach (var name in new[] { "WRITE_ONCE", "atomic_set", "atomic_long_set" })
        {
            Add(new(name, Kind.Store, MemoryOrder.Once, 2));
        }

        foreach (var name in new[] { "smp_store_release", "atomic_set_release", "rcu_assign_pointer" })
        {
            Add(new(name, Kind.Store, MemoryOrder.Release, 2));
        }

        foreach (var name in new[] { "smp_mb", "smp_mb__before_atomic", "smp_mb__after_atomic", "smp_mb__after_spinlock", "smp_mb__after_unlock_lock" })
        {
            Add(new(name, Kind.Fence, MemoryOrder.Full, 0, Barrier: MemoryBarrier.Mb));
        }

        Add(new("smp_wmb", Kind.Fence, MemoryOrder.Full, 0, Barrier: MemoryBarrier.Wmb));
        Add(new("smp_rmb", Kind.Fence, MemoryOrder.Full, 0, Barrier: MemoryBarrier.Rmb));
        Add(new("spin_lock", Kind.Lock, MemoryOrder.Acquire, 1));
        Add(new("spin_unlock", Kind.Unlock, MemoryOrder.Release, 1));
        Add(new("rcu_read_lock", Kind.RcuReadLock, MemoryOrder.Once, 0, -1));
        Add(new("rcu_read_unlock", Kind.RcuReadUnlock, MemoryOrder.Once, 0, -1));
        Add(new("synchronize_rcu", Kind.SynchronizeRcu, MemoryOrder.Full, 0, -1));

        foreach (var (suffix, order) in Suffixes)
        {
            // xchg(p, new), cmpxchg(p, old, new) and the atomic_t spellings: return the old value.
            foreach (var prefix in new[] { "", "atomic_", "atomic_long_" })
            {
                Add(Rmw(prefix + "xchg" + suffix, order, 2, 0, (_, a) => (true, a[1]), Old));
                Add(Rmw(prefix + "cmpxchg" + suffix, order, 3, 0, (v, a) => Equals(v, a[1]) ? (true, a[2]) : (false, v), Old));
            }

            foreach (var (op, apply) in Arithmetic)
            {
                // atomic_fetch_OP(i, v): old value; atomic_OP_return(i, v): new value (add/sub only).
                Add(Rmw($"atomic_fetch_{op}{suffix}", order, 2, 1, (v, a) => (true, apply(Long(v), Long(a[0]))), Old));
                if (op is "add" or "sub")
                {
                    Add(Rmw($"atomic_{op}_return{suffix}", order, 2, 1, (v, a) => (true, apply(Long(v), Long(a[0]))), New));
                }
            }

            foreach (var (op, delta) in new[] { ("inc", 1L), ("dec", -1L) })
            {
                Add(Rmw($"atomic_fetch_{op}{suffix}", order, 1, 0, (v, _) => (true, Long(v) + delta), Old));
                Add(Rmw($"atomic_{op}_return{suffix}", order, 1, 0, (v, _) => (true, Long(v) + delta), New));
            }
        }

        // Atomics that return nothing are relaxed (Documentation/atomic_t.txt: "non-RMW ... and
        // RMW operations that do not return a value are unordered").
        foreach (var (op, apply) in Arithmetic)
        {
            Add(Rmw($"atomic_{op}", MemoryOrder.Relaxed, 2, 1, (v, a) => (true, apply(Long(v), Long(a[0]))), Old));
        }

        Add(Rmw("atomic_inc", MemoryOrder.Relaxed, 1, 0, (v, _) => (true, Long(v) + 1), Old));
        Add(Rmw("atomic_dec", MemoryOrder.Relaxed, 1, 0, (v, _) => (true, Long(v) - 1), Old));

        // atomic_add_unless(v, a, u): adds a unless v is u; returns whether it added; fully ordered when it does.
        Add(Rmw("atomic_add_unless", MemoryOrder.Full, 3, 0, (v, a) => Equals(v, a[2]) ? (false, v) : (true, Long(v) + Long(a[1])), (_, _, stored) => stored ? 1L : 0L));
        return all;
    }

    private static object? Old(object? old, object? updated, bool stored) => old;

    private static object? New(object? old, object? updated, bool stored) => updated;

    private static LitmusPrimitive Rmw(string name, MemoryOrder order, int arity, int location, Func<object?, object?[], (bool, object?)> update, Func<object?, object?, bool, object?> returns) =>
        new(name, Kind.ReadModifyWrite, order, arity, location, Update: update, Returns: returns);

    private static long Long(object? value) =>
        value as long? ?? throw new LitmusRuntimeException($"arithmetic on the pointer {value}");
}

/// <summary>A litmus program did something the runner cannot give a meaning to (arithmetic on a pointer, a dereference of a number).</summary>
public sealed class LitmusRuntimeException(string message) : Exception(message);
