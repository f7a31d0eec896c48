namespace VmaLockVerify.Implementation.Memory.Lkmm;

/// <summary>One store in a location's history (PS2.0 <c>Message.full val released</c>).</summary>
public sealed class LkmmMessage(long time, object? value, LkmmView view, int writer)
{
    /// <summary>Position in coherence order (the initial message is at 0).</summary>
    public long Time { get; } = time;

    public object? Value { get; } = value;

    /// <summary>What a reader of this message may learn (the writer's release view at the store).</summary>
    public LkmmView View { get; } = view;

    /// <summary>The writing thread; -1 for the initial value.</summary>
    public int Writer { get; } = writer;

    /// <summary>An RMW read this message and sits right after it: no store may come in between (atomicity).</summary>
    public bool SuccessorTaken { get; set; }

    /// <summary>What the machine's <see cref="LkmmMachine.Stamp"/> said when the message was made (the port: the store's trace step); null without stamps.</summary>
    public object? Stamp { get; init; }

    /// <summary>For an unlock: the unlocker's po-earlier stores (<c>po-unlock-lock-po</c>); else null.</summary>
    public LkmmView? UnlockOrdered { get; init; }
}

/// <summary>
/// A location's messages in coherence order, at most <see cref="LkmmOptions.HistoryBound"/> of them
/// (the oldest is dropped). Timestamps leave gaps of <see cref="Gap"/> so a store can be inserted
/// between two messages; halving a gap more than 32 times in one place is an error, not a silent
/// renumbering.
/// </summary>
public sealed class LkmmHistory
{
    /// <summary>The distance between appended timestamps.</summary>
    public const long Gap = 1L << 32;

    private readonly List<LkmmMessage> messages = [];
    private readonly int bound;

    public LkmmHistory(object? initial, int bound)
    {
        this.bound = bound;
        this.messages.Add(new LkmmMessage(0, initial, new LkmmView(), -1));
    }

    /// <summary>Oldest first.</summary>
    public IReadOnlyList<LkmmMessage> Messages => this.messages;

    public LkmmMessage Newest => this.messages[^1];

    /// <summary>Messages a thread whose coherence bound is <paramref name="atLeast"/> may read, newest first.</summary>
    public List<LkmmMessage> Readable(long atLeast)
    {
        var result = new List<LkmmMessage>();
        for (var i = this.messages.Count - 1; i >= 0 && this.messages[i].Time >= atLeast; i--)
        {
            result.Add(this.messages[i]);
        }

        if (result.Count == 0)
        {
            result.Add(this.messages[0]); // the bound points at a dropped message: the oldest kept one is the oldest readable
        }

        return result;
    }

    /// <summary>The timestamp a new message right after <paramref name="after"/> gets.</summary>
    public long TimeAfter(LkmmMessage after)
    {
        var i = this.messages.IndexOf(after);
        if (i == this.messages.Count - 1)
        {
            return after.Time + Gap;
        }

        var next = this.messages[i + 1].Time;
        if (next - after.Time < 2)
        {
            throw new InvalidOperationException($"timestamp gap after {after.Time} exhausted");
        }

        return after.Time + ((next - after.Time) / 2);
    }

    /// <summary>Adds a message in timestamp order and drops the oldest beyond the bound.</summary>
    public void Add(LkmmMessage message)
    {
        var i = this.messages.FindIndex(m => m.Time > message.Time);
        this.messages.Insert(i < 0 ? this.messages.Count : i, message);
        if (this.messages.Count > this.bound)
        {
            this.messages.RemoveAt(0);
        }
    }
}
