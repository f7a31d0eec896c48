using System.Reflection;
using Microsoft.Coyote.Specifications;
using VmaLockVerify.Spec;
using CoyoteMonitor = Microsoft.Coyote.Specifications.Monitor;

namespace VmaLockVerify.Invariants;

/// <summary>
/// An invariant the harness can select: its name, its property, how to make an instance, and,
/// for a liveness invariant (<see cref="Liveness"/>), how to register and drive its Coyote
/// monitor. <see cref="MovesSpec"/>: it judges by moving the Spec itself (it overrides Observe).
/// </summary>
public sealed record InvariantInfo(string Name, string Property, Action Register, Action<CoyoteMonitor.Event> Send, Func<InvariantMonitor> Create)
{
    /// <summary>Whether the invariant has obligations (it overrides Pending): its own Coyote monitor is hot while one is open.</summary>
    public bool Liveness { get; init; }

    /// <summary>Whether the invariant's verdict comes from moving the Spec (it overrides Observe), as SpecConformance's does.</summary>
    public bool MovesSpec { get; init; }

    public static InvariantInfo Of<T>()
        where T : InvariantMonitor, IInvariant, new() =>
        new(typeof(T).Name, T.Property, Specification.RegisterMonitor<T>, e => Specification.Monitor<T>(e), () => new T())
        {
            Liveness = typeof(T).GetProperty("Pending", BindingFlags.Instance | BindingFlags.NonPublic)!.DeclaringType != typeof(InvariantMonitor),
            MovesSpec = typeof(T).GetMethod("Observe", BindingFlags.Instance | BindingFlags.NonPublic)!.DeclaringType != typeof(InvariantMonitor),
        };
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
        InvariantInfo.Of<NoSleepUnderRcu>(),
        InvariantInfo.Of<LockOrder>(),
        InvariantInfo.Of<NoLostWrite>(),
        InvariantInfo.Of<AnonVmaConsistency>(),
        InvariantInfo.Of<NoTornVmaRange>(),
        InvariantInfo.Of<NoRetryWithoutProgress>(),
        InvariantInfo.Of<NoLostStickyFlag>(),
        InvariantInfo.Of<NoPageMissedByMigration>(),

        // The two memory-model judgements (a stale VMA field under a read lock, a data race):
        // SpecConformance leaves both to them.
        InvariantInfo.Of<NoStaleVmaFieldUnderReadLock>(),
        InvariantInfo.Of<NoDataRace>(),
        InvariantInfo.Of<SpecConformance>(),
    ];

    public static InvariantInfo? Find(string name) =>
        All.FirstOrDefault(i => string.Equals(i.Name, name, StringComparison.Ordinal));
}

/// <summary>
/// Feeds the protocol events of one iteration to the selected invariants under Coyote: each event
/// is judged by the one safety monitor, <see cref="AllInvariants"/>, with the iteration's
/// <see cref="InvariantSet"/>; a liveness invariant's own monitor is told when its obligation
/// opens or closes.
/// </summary>
public sealed class MonitorSink : IProtocolObserver
{
    private readonly InvariantSet set;
    private readonly Action<string, string>? onViolation;

    private MonitorSink(InvariantSet set, Action<string, string>? onViolation)
    {
        this.set = set;
        this.onViolation = onViolation;
    }

    /// <summary>The Spec the invariants share, past every event observed (null when they keep their own).</summary>
    public ProtocolSpec? Spec => this.set.Spec;

    /// <summary>
    /// Registers the monitors with the current Coyote iteration and returns the sink that feeds
    /// them; <paramref name="onViolation"/> runs just before a violation is reported, with the
    /// invariant that raised it and its message.
    /// </summary>
    public static MonitorSink Attach(IReadOnlyList<InvariantInfo> invariants, Action<string, string>? onViolation = null, LockClassOrder? lockOrder = null)
    {
        Specification.RegisterMonitor<AllInvariants>();
        foreach (var invariant in invariants.Where(i => i.Liveness))
        {
            invariant.Register();
        }

        var sink = new MonitorSink(new InvariantSet(invariants), onViolation);
        if (lockOrder is not null)
        {
            sink.Observe(new LockOrderCarriedOver(lockOrder));
        }

        return sink;
    }

    public void Observe(ProtocolEvent e)
    {
        Specification.Monitor<AllInvariants>(new Judged(this.set, e, this.onViolation));
        foreach (var (invariant, open) in this.set.ObligationsChanged())
        {
            invariant.Send(new ObligationChanged(open));
        }
    }
}

/// <summary>
/// Judges the events of one stress iteration (real threads, no Coyote) with free-standing
/// instances of the selected invariants. On real threads a thread can be delayed between an
/// access and the event that reports it, so events are collected with the order number of their
/// access (<paramref name="orderOfAccess"/>) and judged in that order once the iteration is over;
/// events with the same number keep the order they came in. The first violation is kept.
/// </summary>
public sealed class DirectSink(IReadOnlyList<InvariantInfo> invariants, Func<long> orderOfAccess, LockClassOrder? lockOrder = null) : IProtocolObserver
{
    private readonly object gate = new();
    private readonly List<(long Order, int Arrival, ProtocolEvent Event)> events = [];

    /// <summary>The first violation: the invariant and its message (set by <see cref="Judge"/>).</summary>
    public (string Invariant, string Message)? Violation { get; private set; }

    public void Observe(ProtocolEvent e)
    {
        var order = orderOfAccess();
        lock (this.gate)
        {
            this.events.Add((order, this.events.Count, e));
        }
    }

    /// <summary>
    /// Judges every event collected, in the order of the accesses they report; at the end an
    /// obligation still open (<paramref name="finished"/>: the threads all returned) is a liveness violation.
    /// </summary>
    public void Judge(bool finished)
    {
        List<(long Order, int Arrival, ProtocolEvent Event)> ordered;
        lock (this.gate)
        {
            ordered = [.. this.events.OrderBy(e => e.Order).ThenBy(e => e.Arrival)];
        }

        var set = new InvariantSet(invariants);
        if (lockOrder is not null)
        {
            ordered.Insert(0, (0, -1, new LockOrderCarriedOver(lockOrder)));
        }

        foreach (var (_, _, e) in ordered)
        {
            if (set.Judge(e) is { } violation)
            {
                this.Violation = violation;
                return;
            }
        }

        if (finished && set.FirstPending() is { } open)
        {
            this.Violation = (open, "the run ended with an obligation open (a page fault unfinished or a read lock held)");
        }
    }
}
