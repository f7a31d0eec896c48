namespace VmaLockVerify.Implementation.Memory.Lkmm;

/// <summary>What an access does, for the data-race check: it loads, stores or both (an RMW that stored), plainly or marked.</summary>
public readonly record struct LkmmAccess(bool Loads, bool Stores, bool Plain);

/// <summary>An earlier access that races with the one checked: its CPU and what the caller recorded for it.</summary>
public readonly record struct LkmmRace<TSite>(int Thread, TSite Site);

/// <summary>
/// LKMM's data races (tools/memory-model/linux-kernel.cat, "Plain accesses and data races"; KCSAN's
/// reports): two accesses to one location by different CPUs, at least one a store and at least one
/// plain, neither happening before the other. Happens-before comes from the view machine itself:
/// each CPU has two pseudo-locations, a load clock and a store clock, counting its loads and its
/// stores. After each access the CPU raises its own entry in its views
/// (<see cref="LkmmMachine.RaiseOwn"/>); a store's also in the view its smp_wmb() publishes, a load's
/// not (smp_wmb() does not order loads). Nothing reads or writes those pseudo-locations, so
/// another CPU's entry rises only through what the machine orders (a release read by an acquire,
/// fences, spin locks, RCU grace periods, wake-ups, task creation): T's entry for U's store clock is
/// how many of U's stores happen before T's next access. Per location the detector keeps each
/// CPU's latest store, plain store, load and plain load; if the latest of a kind happens before
/// an access, so do the earlier ones (FastTrack's epochs), so those four are enough.
/// <para>
/// Happens-before is the machine's, so it inherits the machine's strength: a strong fence joins
/// the global SC view (PS2.0), so two CPUs that each ran smp_mb() (a fully ordered atomic
/// included) are ordered by them, which LKMM does not say; a race across two strong fences can be
/// missed. Dependencies are not tracked, so a store is taken as depending on every po-earlier
/// load (<see cref="LkmmMachine.Knows"/>): LKMM orders a store after a relaxed load only through a
/// dependency (__vma_enter_locked()'s wait loop has one, a control dependency on the condition),
/// so a race whose store depends on no such load can be missed.
/// </para>
/// </summary>
public sealed class LkmmRaceDetector<TSite>(LkmmMachine machine)
{
    private readonly Dictionary<object, List<Latest?>> locations = new(ReferenceEqualityComparer.Instance);
    private readonly List<Clocks> cpus = [];

    /// <summary>
    /// Checks an access <paramref name="thread"/> has just made (after the machine performed it, so an
    /// acquire it made counts; its own message never carries its own tick) against the other CPUs'
    /// latest conflicting accesses, then records it. Returns the first race found, or null.
    /// </summary>
    public LkmmRace<TSite>? Access(int thread, object location, LkmmAccess access, TSite site)
    {
        var cpu = this.Cpu(thread);
        var latest = this.Latests(location);
        var race = this.FirstRace(thread, latest, access);
        var mine = latest[thread] ??= new Latest();
        if (access.Loads)
        {
            machine.RaiseOwn(thread, cpu.LoadClock, ++cpu.Loads, published: false);
            mine.Load = (cpu.Loads, site);
            mine.PlainLoad = access.Plain ? mine.Load : mine.PlainLoad;
        }

        if (access.Stores)
        {
            machine.RaiseOwn(thread, cpu.StoreClock, ++cpu.Stores, published: true);
            mine.Store = (cpu.Stores, site);
            mine.PlainStore = access.Plain ? mine.Store : mine.PlainStore;
        }

        return race;
    }

    /// <summary>A store conflicts with every access, a load with stores; a plain access with marked ones too.</summary>
    private LkmmRace<TSite>? FirstRace(int thread, List<Latest?> latest, LkmmAccess access)
    {
        for (var u = 0; u < latest.Count; u++)
        {
            if (u == thread || latest[u] is not { } other)
            {
                continue;
            }

            var clocks = this.cpus[u];
            if ((access.Plain ? other.Store : other.PlainStore) is { } store && !this.HappensBefore(clocks.StoreClock, store.Count, thread, access.Stores))
            {
                return new LkmmRace<TSite>(u, store.Site);
            }

            if (access.Stores && (access.Plain ? other.Load : other.PlainLoad) is { } load && !this.HappensBefore(clocks.LoadClock, load.Count, thread, access.Stores))
            {
                return new LkmmRace<TSite>(u, load.Site);
            }
        }

        return null;
    }

    /// <summary>Whether the access numbered <paramref name="count"/> on <paramref name="clock"/> happens before <paramref name="thread"/>'s next load or store.</summary>
    private bool HappensBefore(int clock, long count, int thread, bool store) => machine.Knows(thread, clock, store) >= count;

    private List<Latest?> Latests(object location)
    {
        if (!this.locations.TryGetValue(location, out var latest))
        {
            latest = [];
            this.locations[location] = latest;
        }

        while (latest.Count < this.cpus.Count)
        {
            latest.Add(null);
        }

        return latest;
    }

    private Clocks Cpu(int thread)
    {
        while (this.cpus.Count <= thread)
        {
            this.cpus.Add(new Clocks(machine.NewPseudoLocation(), machine.NewPseudoLocation()));
        }

        return this.cpus[thread];
    }

    /// <summary>A CPU's load and store clocks (pseudo-locations of the machine) and its counts of loads and stores.</summary>
    private sealed class Clocks(int loadClock, int storeClock)
    {
        public int LoadClock { get; } = loadClock;

        public int StoreClock { get; } = storeClock;

        public long Loads { get; set; }

        public long Stores { get; set; }
    }

    /// <summary>One CPU's latest accesses of one location, each with its clock count.</summary>
    private sealed class Latest
    {
        public (long Count, TSite Site)? Store { get; set; }

        public (long Count, TSite Site)? PlainStore { get; set; }

        public (long Count, TSite Site)? Load { get; set; }

        public (long Count, TSite Site)? PlainLoad { get; set; }
    }
}
