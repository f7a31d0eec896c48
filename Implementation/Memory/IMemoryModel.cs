namespace VmaLockVerify.Implementation.Memory;

/// <summary>
/// Where the values of shared locations live. The port never touches a shared value except through
/// a <see cref="SharedVar{T}"/>, which asks the model. Today's only model is
/// <see cref="SequentialConsistency"/>; a store-buffer or Linux-kernel-memory-model variant would
/// implement this interface and use the <see cref="MemoryOrder"/> of each access.
/// </summary>
public interface IMemoryModel
{
    /// <summary>Returns the value a load with this ordering observes.</summary>
    T Load<T>(SharedVar<T> location, MemoryOrder order);

    /// <summary>Performs a store with this ordering.</summary>
    void Store<T>(SharedVar<T> location, T value, MemoryOrder order);

    /// <summary>Performs an atomic read-modify-write; returns the old value.</summary>
    T Exchange<T>(SharedVar<T> location, Func<T, T> update, MemoryOrder order);

    /// <summary>A stand-alone barrier (smp_wmb, smp_rmb, smp_mb).</summary>
    void Fence(MemoryBarrier barrier);
}

/// <summary>The kernel's stand-alone memory barriers.</summary>
public enum MemoryBarrier
{
    /// <summary>smp_wmb(): orders earlier stores before later stores.</summary>
    Wmb,

    /// <summary>smp_rmb(): orders earlier loads before later loads.</summary>
    Rmb,

    /// <summary>smp_mb(): orders everything.</summary>
    Mb,
}

/// <summary>Every access takes effect at once, in program order: the model Coyote's interleavings explore.</summary>
public sealed class SequentialConsistency : IMemoryModel
{
    public static readonly SequentialConsistency Instance = new();

    public T Load<T>(SharedVar<T> location, MemoryOrder order) => location.Cell;

    public void Store<T>(SharedVar<T> location, T value, MemoryOrder order) => location.Cell = value;

    public T Exchange<T>(SharedVar<T> location, Func<T, T> update, MemoryOrder order)
    {
        var old = location.Cell;
        location.Cell = update(old);
        return old;
    }

    /// <summary>Nothing to order: every access is already in program order.</summary>
    public void Fence(MemoryBarrier barrier)
    {
    }
}
