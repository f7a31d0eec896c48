using Microsoft.Coyote.Specifications;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Invariants;

/// <summary>An invariant monitor the harness can register: its name, its property, and how to feed it.</summary>
public sealed record InvariantInfo(string Name, string Property, Action Register, Action<Observed> Send)
{
    public static InvariantInfo Of<T>()
        where T : InvariantMonitor, IInvariant =>
        new(typeof(T).Name, T.Property, Specification.RegisterMonitor<T>, e => Specification.Monitor<T>(e));
}

/// <summary>
/// Every invariant, in the order they are fed each event (the first one that fails names the
/// bug). Adding an invariant is one class in this folder plus one line here.
/// </summary>
public static class InvariantRegistry
{
    public static IReadOnlyList<InvariantInfo> All { get; } =
    [
        InvariantInfo.Of<NoReadOnWriteMarkedVma>(),
        InvariantInfo.Of<WriterExcludesReaders>(),
        InvariantInfo.Of<VmaWriteRequiresMmapWriteLock>(),
        InvariantInfo.Of<NoReadLockOnDetachedVma>(),
        InvariantInfo.Of<ReadLocksReleased>(),
        InvariantInfo.Of<VmaPutHoldsMm>(),
        InvariantInfo.Of<NoUseAfterFree>(),
        InvariantInfo.Of<SpecConformance>(),
    ];

    public static InvariantInfo? Find(string name) =>
        All.FirstOrDefault(i => string.Equals(i.Name, name, StringComparison.Ordinal));
}

/// <summary>Feeds the protocol events of one iteration to the selected monitors (registered by <see cref="Attach"/>).</summary>
public sealed class MonitorSink : IProtocolObserver
{
    private readonly IReadOnlyList<InvariantInfo> invariants;
    private readonly Action? onViolation;

    private MonitorSink(IReadOnlyList<InvariantInfo> invariants, Action? onViolation)
    {
        this.invariants = invariants;
        this.onViolation = onViolation;
    }

    /// <summary>
    /// Registers the monitors with the current Coyote iteration and returns the sink that feeds
    /// them; <paramref name="onViolation"/> runs just before a monitor reports a violation.
    /// </summary>
    public static MonitorSink Attach(IReadOnlyList<InvariantInfo> invariants, Action? onViolation = null)
    {
        foreach (var invariant in invariants)
        {
            invariant.Register();
        }

        return new MonitorSink(invariants, onViolation);
    }

    public void Observe(ProtocolEvent e)
    {
        var observed = new Observed(e, this.onViolation);
        foreach (var invariant in this.invariants)
        {
            invariant.Send(observed);
        }
    }
}
