using VmaLockVerify.Implementation.Kernel;

namespace VmaLockVerify.Implementation.Memory;

/// <summary>
/// A weak memory model that also reports to a step footprint what it orders beyond single
/// locations (<see cref="StepLocations.MemoryOrder"/>): barriers, spinlocks, RCU read sections and
/// grace periods, wake-ups and fully ordered accesses. Two steps that both do one of these are
/// never taken as independent, since the model's views may depend on their order. Accesses to a
/// location are reported by <see cref="SharedVar{T}"/> itself.
/// </summary>
public sealed class FootprintMemory(IMemoryModel inner, IStepFootprint footprint) : IMemoryModel
{
    public IReadOnlyList<Spec.UnseenStore>? LastReadMissed => inner.LastReadMissed;

    public T Load<T>(SharedVar<T> location, MemoryOrder order)
    {
        this.Ordered(order);
        return inner.Load(location, order);
    }

    public void Store<T>(SharedVar<T> location, T value, MemoryOrder order)
    {
        this.Ordered(order);
        inner.Store(location, value, order);
    }

    public T Exchange<T>(SharedVar<T> location, Func<T, T> update, MemoryOrder order)
    {
        this.Ordered(order);
        return inner.Exchange(location, update, order);
    }

    public T ExchangeIf<T>(SharedVar<T> location, RmwUpdate<T> update, MemoryOrder order)
    {
        this.Ordered(order);
        return inner.ExchangeIf(location, update, order);
    }

    public void Fence(MemoryBarrier barrier)
    {
        this.Touch();
        inner.Fence(barrier);
    }

    public void SpinLock(object lockObject)
    {
        this.Touch();
        inner.SpinLock(lockObject);
    }

    public void SpinUnlock(object lockObject)
    {
        this.Touch();
        inner.SpinUnlock(lockObject);
    }

    public void RcuReadLock()
    {
        this.Touch();
        inner.RcuReadLock();
    }

    public void RcuReadUnlock()
    {
        this.Touch();
        inner.RcuReadUnlock();
    }

    public object? CallRcu()
    {
        this.Touch();
        return inner.CallRcu();
    }

    public void RcuCallback(object? gracePeriod)
    {
        this.Touch();
        inner.RcuCallback(gracePeriod);
    }

    public void WakeUp()
    {
        this.Touch();
        inner.WakeUp();
    }

    public void Woken()
    {
        this.Touch();
        inner.Woken();
    }

    private void Ordered(MemoryOrder order)
    {
        if (order == MemoryOrder.Full)
        {
            this.Touch();
        }
    }

    private void Touch() => footprint.Touch(StepLocations.MemoryOrder, write: true);
}
