namespace VmaLockVerify.Implementation.Memory.Lkmm;

/// <summary>
/// A view: for each location, the timestamp of the newest message a thread (or a message) knows
/// of. Missing locations are at 0, the initial message. Join is pointwise max (PS2.0 <c>View.t</c>,
/// promising-coq src/lang/TView.v).
/// </summary>
public sealed class LkmmView
{
    private long[] times;

    public LkmmView()
        : this([])
    {
    }

    private LkmmView(long[] times) => this.times = times;

    /// <summary>The timestamp this view holds for <paramref name="location"/> (0: the initial message).</summary>
    public long this[int location] => location < this.times.Length ? this.times[location] : 0;

    /// <summary>Raises one location to at least <paramref name="time"/>.</summary>
    public void Raise(int location, long time)
    {
        if (location < this.times.Length)
        {
            if (time > this.times[location])
            {
                this.times[location] = time;
            }

            return;
        }

        if (time > 0)
        {
            // Grown by doubling, not one location at a time: the entries past the last raised one
            // are 0, which is what a missing location reads as anyway.
            Array.Resize(ref this.times, Math.Max(location + 1, 2 * this.times.Length));
            this.times[location] = time;
        }
    }

    /// <summary>This view ⊔= <paramref name="other"/>.</summary>
    public void Join(LkmmView other)
    {
        var theirs = other.times;
        if (theirs.Length > this.times.Length)
        {
            Array.Resize(ref this.times, theirs.Length);
        }

        var mine = this.times;
        for (var l = 0; l < theirs.Length; l++)
        {
            if (theirs[l] > mine[l])
            {
                mine[l] = theirs[l];
            }
        }
    }

    public LkmmView Clone() => new((long[])this.times.Clone());

    /// <summary>A new view: the join of several.</summary>
    public static LkmmView JoinOf(params LkmmView[] views)
    {
        var length = 0;
        foreach (var v in views)
        {
            length = Math.Max(length, v.times.Length);
        }

        var result = new LkmmView(new long[length]);
        foreach (var v in views)
        {
            result.Join(v);
        }

        return result;
    }

    /// <summary>The view that knows only message <paramref name="time"/> of <paramref name="location"/>.</summary>
    public static LkmmView Singleton(int location, long time)
    {
        var v = new LkmmView();
        v.Raise(location, time);
        return v;
    }
}
