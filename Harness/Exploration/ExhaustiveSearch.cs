using VmaLockVerify.Implementation.Kernel;

namespace VmaLockVerify.Harness.Exploration;

/// <summary>What a bounded-exhaustive run explored, and whether that was all of it.</summary>
/// <param name="Bound">K: the most preemptions a schedule has.</param>
/// <param name="ChoiceBound">B: the most unusual outcomes of controlled choices a schedule has.</param>
/// <param name="Schedules">Schedules run to their end.</param>
/// <param name="Pruned">Schedules cut short as equivalent to one already explored (sleep sets).</param>
/// <param name="Complete">Every schedule within the bounds was explored.</param>
/// <param name="BranchesLeft">When incomplete: the branches not yet taken, each at least one schedule.</param>
/// <param name="Slice">With --shard I/N: the slice of the schedule tree this run explored ("2/4"); the counts are that slice's.</param>
public sealed record ExhaustiveOutcome(int Bound, int ChoiceBound, long Schedules, long Pruned, bool Complete, long BranchesLeft, string? Slice = null)
{
    /// <summary>"&lt;= 2 preemptions, &lt;= 1 unusual choice".</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Bounds => BoundsOf(this.Bound, this.ChoiceBound);

    /// <summary>The bounds K and B in words: "&lt;= 2 preemptions, &lt;= 1 unusual choice".</summary>
    public static string BoundsOf(int bound, int choiceBound) =>
        $"<= {bound} preemption{(bound == 1 ? string.Empty : "s")}, <= {choiceBound} unusual choice{(choiceBound == 1 ? string.Empty : "s")}";

    /// <summary>What the run proves, in one line.</summary>
    public string Describe() => this.Complete
        ? $"complete: all {this.Schedules:N0} schedules{this.OfSlice} with {this.Bounds} ({this.Pruned:N0} pruned as equivalent)"
        : $"incomplete: {this.Schedules:N0} schedules{this.OfSlice} with {this.Bounds} explored ({this.Pruned:N0} pruned as equivalent), {(this.BranchesLeft > 0 || this.Slice is null ? $"at least {this.BranchesLeft:N0} left" : "the other slices not merged")}";

    private string OfSlice => this.Slice is null ? string.Empty : $" of slice {this.Slice}";
}

/// <summary>
/// Bounded-exhaustive exploration: a stateless depth-first search over the decisions of a run,
/// every schedule with at most K preemptions (a thread that could go on running is switched
/// away from; switches where it blocks or ends are free, as in CHESS) and every value of every
/// controlled choice, with at most B unusual outcomes (a spurious wake-up, a timeout, a load of
/// an older store). Each schedule is one Coyote iteration, its decisions made through
/// <see cref="CoyoteSchedulerHook"/>: the prefix of the schedule before the branch being explored
/// is replayed, the rest follows the default (the running thread goes on; a choice takes its
/// usual outcome).
/// <para>
/// Reduction: sleep sets, restricted to the branch where a thread is preempted. At a step where
/// thread c could go on, c goes on first; in each branch that preempts it for u, c sleeps, with
/// the footprint (<see cref="IStepFootprint"/>) its step had, until a step dependent on it runs
/// (one that writes what c's step touched, or reads what it wrote, or changes which threads can
/// run). A schedule whose enabled threads all sleep is cut: each of its continuations is
/// equivalent, by swapping independent adjacent steps, to one where c went first, which costs no
/// more preemptions (so it lies within the bound; this is the bounded-sleep-set argument of Coons,
/// Musuvathi and McKinley, OOPSLA 2013). Protocol events are all dependent on each other
/// (<see cref="StepLocations.Events"/>), so every explored class keeps one order of the events the
/// monitors see.
/// </para>
/// </summary>
public sealed class ExhaustiveSearch : IScheduleDriver
{
    private readonly int bound;
    private readonly int choiceBound;
    private readonly bool reduce;
    private readonly List<Node> stack = [];
    private CoyoteSchedulerHook? hook;
    private Footprint step = new();
    private ThreadNode? lastThreadNode;
    private string lastStartPoint = Interleave;
    private int depth;
    private int preemptions;
    private int unusual;
    private int pendingDistinct;
    private int pendingUsual;
    private bool cut;
    private volatile bool running;
    private volatile int token;
    private readonly HashSet<string>? streams;
    private System.Text.StringBuilder stream = new();
    private readonly (int Index, int Count)? slice;
    private ulong pathHash;
    private bool pastFrontier;
    private bool skipped;
    private long otherSlices;
    private long otherCut;
    private long schedules;
    private long pruned;
    private bool complete;

    public ExhaustiveSearch(int bound, int choiceBound, bool reduce = true, bool keepEventStreams = false, (int Index, int Count)? slice = null)
    {
        this.bound = bound;
        this.choiceBound = choiceBound;
        this.reduce = reduce;
        this.streams = keepEventStreams ? [] : null;
        this.slice = slice is { Count: > 1 } ? slice : null;
    }

    /// <summary>
    /// The decision at which a sliced search (--shard I/N) splits the tree: a schedule belongs to
    /// the slice its first <see cref="SliceDepth"/> decisions hash to (a shorter one, to the slice
    /// its whole path hashes to). Every slice explores the same tree above that depth, in the same
    /// order, so the slices' schedules are disjoint and together are the unsliced search's.
    /// </summary>
    public const int SliceDepth = 40;

    /// <summary>
    /// With keepEventStreams: the distinct sequences of protocol events (as the monitors see them)
    /// of the schedules run to their end, each as a digest. Pruning is sound for the monitors when
    /// the set is the same with and without it.
    /// </summary>
    public IReadOnlySet<string>? EventStreams => this.streams;

    /// <summary>The kind of scheduling point that <c>SchedulingPoint.Interleave()</c>, the port's own, leaves an operation at.</summary>
    private const string Interleave = "Interleave";

    /// <summary>Set when the search found its own runs nondeterministic: the same prefix made different decisions.</summary>
    public string? Failure { get; private set; }

    public ExhaustiveOutcome Outcome =>
        new(this.bound, this.choiceBound, this.schedules, this.pruned, this.complete, this.complete ? 0 : this.CountBranchesLeft(),
            this.slice is { } s ? $"{s.Index + 1}/{s.Count}" : null);

    /// <summary>The iterations the search itself cut short (pruned, or in another slice's part of the tree): Coyote counts them as ended at the step bound.</summary>
    public long CutIterations => this.pruned + this.otherCut;

    /// <summary>Whether the schedule so far is this search's: no slice, past the frontier in this slice's subtree, or hashing to it.</summary>
    private bool Owned => this.slice is not { } s || this.pastFrontier || (int)(this.pathHash % (ulong)s.Count) == s.Index;

    /// <summary>
    /// At the frontier decision of a sliced search: false (and the iteration cut) when the
    /// schedule's prefix belongs to another slice.
    /// </summary>
    private bool AtFrontierKeep()
    {
        if (this.slice is null || this.depth != SliceDepth)
        {
            return true;
        }

        if (this.Owned)
        {
            this.pastFrontier = true;
            return true;
        }

        this.skipped = true;
        this.cut = true;
        this.hook?.CutIteration();
        return false;
    }

    private void Extend(ulong choice) => this.pathHash = (this.pathHash ^ choice) * 1099511628211UL;

    /// <summary>Takes the decisions of <paramref name="hooked"/>'s engine.</summary>
    public void Attach(CoyoteSchedulerHook hooked) => this.hook = hooked;

    /// <summary>
    /// The guide of one iteration's <see cref="CoyoteControl"/> (choices, the running check) and
    /// its kernel's footprint: a thread of an earlier iteration, still unwinding, reaches neither.
    /// </summary>
    public Guide NewGuide() => new(this, this.token);

    public void IterationStarting()
    {
        this.token++;
        this.running = true;
        this.cut = false;
        this.depth = 0;
        this.preemptions = 0;
        this.unusual = 0;
        this.pendingDistinct = 0;
        this.step = new Footprint();
        this.pathHash = 14695981039346656037UL;
        this.pastFrontier = false;
        this.skipped = false;
        this.stream.Clear();
        this.lastThreadNode = null;
        this.lastStartPoint = Interleave;
    }

    /// <summary>
    /// The iteration ended (its last thread finished, or it was cut, or it found a bug): counts it,
    /// and moves to the next branch. False when there is none left (the search is complete) or the
    /// search failed.
    /// </summary>
    public bool IterationEnded()
    {
        this.running = false;
        if (!this.cut)
        {
            if (this.lastThreadNode is { } last)
            {
                this.step.Write(StepLocations.LockOwners); // its end is not a point of the port's
                last.StepOf[last.Chosen] = this.step;
            }

            if (this.depth < this.stack.Count && this.Failure is null)
            {
                this.Failure = $"schedule {this.schedules + this.pruned + this.otherSlices + 1} ended after {this.depth} of the {this.stack.Count} decisions its prefix replays";
            }
        }

        if (this.skipped || !this.Owned)
        {
            this.otherSlices++;
            this.otherCut += this.cut ? 1 : 0;
        }
        else if (this.cut)
        {
            this.pruned++;
        }
        else
        {
            this.schedules++;
            this.streams?.Add(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(this.stream.ToString()))));
        }

        if (this.Failure is not null)
        {
            return false;
        }

        while (this.stack.Count > 0)
        {
            if (this.stack[^1].TakeNextBranch(this))
            {
                return true;
            }

            this.stack.RemoveAt(this.stack.Count - 1);
        }

        this.complete = true;
        return false;
    }

    public int PickThread(IReadOnlyList<OfferedThread> enabled, OfferedThread current, bool currentEnabled)
    {
        if (!this.running || this.cut)
        {
            return 0;
        }

        var ids = enabled.Select(t => t.Id).ToArray();
        var sleep = this.SleepAfterLastStep(ids, current);
        this.step = new Footprint();
        if (!this.AtFrontierKeep())
        {
            return 0;
        }

        ThreadNode node;
        if (this.depth < this.stack.Count)
        {
            if (this.stack[this.depth] is not ThreadNode replayed || replayed.Current != current.Id || !ids.Contains(replayed.Chosen))
            {
                return this.Nondeterministic($"at decision {this.depth} the prefix's thread choice does not fit ({current.Name} at its {current.Point} point)");
            }

            node = replayed;
        }
        else
        {
            node = new ThreadNode(ids, current.Id, currentEnabled && ids.Contains(current.Id), this.reduce ? sleep : [], this.preemptions, this.unusual);
            var first = currentEnabled && ids.Contains(current.Id) ? current.Id : ids.Where(id => !node.Sleep.ContainsKey(id)).DefaultIfEmpty(ulong.MaxValue).First();
            if (first == ulong.MaxValue)
            {
                // Every thread that could run sleeps: this schedule is equivalent to one explored.
                this.cut = true;
                this.hook?.CutIteration();
                return 0;
            }

            node.Chosen = first;
            node.Explored.Add(first);
            this.stack.Add(node);
        }

        this.depth++;
        this.Extend(node.Chosen);
        this.preemptions = node.Preemptions + (node.CurrentEnabled && node.Chosen != node.Current ? 1 : 0);
        this.lastThreadNode = node;
        var pick = Array.IndexOf(ids, node.Chosen);
        this.lastStartPoint = enabled[pick].Point;
        return pick;
    }

    public int PickValue(int count)
    {
        var distinct = this.pendingDistinct >= 2 ? Math.Min(this.pendingDistinct, count) : count;
        var usual = this.pendingDistinct >= 2 && this.pendingUsual < distinct ? this.pendingUsual : 0;
        this.pendingDistinct = 0;
        if (!this.running || this.cut || !this.AtFrontierKeep())
        {
            return usual;
        }

        ValueNode node;
        if (this.depth < this.stack.Count)
        {
            if (this.stack[this.depth] is not ValueNode replayed || replayed.Distinct != distinct)
            {
                return this.Nondeterministic($"at decision {this.depth} the prefix's choice does not fit (a choice among {distinct})");
            }

            node = replayed;
        }
        else
        {
            node = new ValueNode(distinct, usual, this.preemptions, this.unusual) { Chosen = usual };
            node.Explored.Add(usual);
            this.stack.Add(node);
        }

        this.depth++;
        this.Extend(((ulong)node.Chosen << 32) | 0xC401CE);
        this.unusual = node.Unusual + (node.Chosen != node.Usual ? 1 : 0);
        return node.Chosen;
    }

    /// <summary>Only the running thread touches anything (Coyote runs one at a time).</summary>
    private void Touch(int location, bool write)
    {
        if (write)
        {
            this.step.Write(location);
        }
        else
        {
            this.step.Read(location);
        }
    }

    /// <summary>
    /// Closes the step the last chosen thread just ran (its footprint), and returns the sleep set
    /// of the decision that follows it: the last decision's sleepers (with its preempted thread
    /// added in a preempting branch), less those the step depends on.
    /// </summary>
    private Dictionary<ulong, Footprint> SleepAfterLastStep(ulong[] enabled, OfferedThread current)
    {
        if (this.lastThreadNode is not { } last)
        {
            return [];
        }

        var ran = this.step;
        if (current.Point != Interleave || this.lastStartPoint != Interleave)
        {
            ran.Write(StepLocations.LockOwners);
        }

        if (!last.Enabled.Where(id => id != last.Chosen).ToHashSet().SetEquals(enabled.Where(id => id != last.Chosen)))
        {
            ran.Global = true; // it woke, blocked, started or ended another thread
        }

        last.StepOf[last.Chosen] = ran;
        var sleep = new Dictionary<ulong, Footprint>(last.Sleep);
        if (last.CurrentEnabled && last.Chosen != last.Current && last.StepOf.TryGetValue(last.Current, out var preempted))
        {
            sleep[last.Current] = preempted;
        }

        sleep.Remove(last.Chosen);
        foreach (var id in sleep.Where(s => s.Value.DependsOn(ran)).Select(s => s.Key).ToList())
        {
            sleep.Remove(id);
        }

        return sleep;
    }

    private int Nondeterministic(string what)
    {
        this.Failure ??= $"the port is not deterministic under a replayed schedule prefix: {what}";
        this.cut = true;
        this.hook?.CutIteration();
        return 0;
    }

    private long CountBranchesLeft() => this.stack.Sum(n => (long)n.BranchesLeft(this)) + (this.stack.Count > 0 ? 1 : 0);

    /// <summary>The locations a step read and wrote; global: it depends on every step.</summary>
    private sealed class Footprint
    {
        private readonly HashSet<int> reads = [];
        private readonly HashSet<int> writes = [];

        public bool Global { get; set; }

        public void Read(int location) => this.reads.Add(location);

        public void Write(int location) => this.writes.Add(location);

        public bool DependsOn(Footprint other) =>
            this.Global || other.Global
            || this.writes.Overlaps(other.writes) || this.writes.Overlaps(other.reads) || this.reads.Overlaps(other.writes);
    }

    private abstract class Node(int preemptions, int unusual)
    {
        /// <summary>Preemptions before this decision.</summary>
        public int Preemptions { get; } = preemptions;

        /// <summary>Unusual choice outcomes before this decision.</summary>
        public int Unusual { get; } = unusual;

        /// <summary>Moves to the next branch the bounds allow; false when none is left.</summary>
        public abstract bool TakeNextBranch(ExhaustiveSearch search);

        public abstract int BranchesLeft(ExhaustiveSearch search);
    }

    private sealed class ThreadNode(ulong[] enabled, ulong current, bool currentEnabled, Dictionary<ulong, Footprint> sleep, int preemptions, int unusual)
        : Node(preemptions, unusual)
    {
        public ulong[] Enabled { get; } = enabled;

        public ulong Current { get; } = current;

        public bool CurrentEnabled { get; } = currentEnabled;

        public Dictionary<ulong, Footprint> Sleep { get; } = sleep;

        public ulong Chosen { get; set; }

        public HashSet<ulong> Explored { get; } = [];

        /// <summary>The footprint of the step each explored thread ran from here.</summary>
        public Dictionary<ulong, Footprint> StepOf { get; } = [];

        public override bool TakeNextBranch(ExhaustiveSearch search)
        {
            var next = this.Candidates(search).DefaultIfEmpty(ulong.MaxValue).First();
            if (next == ulong.MaxValue)
            {
                return false;
            }

            this.Chosen = next;
            this.Explored.Add(next);
            return true;
        }

        public override int BranchesLeft(ExhaustiveSearch search) => this.Candidates(search).Count();

        private IEnumerable<ulong> Candidates(ExhaustiveSearch search) =>
            this.Preemptions + (this.CurrentEnabled ? 1 : 0) > search.bound
                ? []
                : this.Enabled.Where(id => !this.Explored.Contains(id) && !this.Sleep.ContainsKey(id));
    }

    private sealed class ValueNode(int distinct, int usual, int preemptions, int unusual) : Node(preemptions, unusual)
    {
        public int Distinct { get; } = distinct;

        public int Usual { get; } = usual;

        public int Chosen { get; set; }

        public HashSet<int> Explored { get; } = [];

        public override bool TakeNextBranch(ExhaustiveSearch search)
        {
            var next = this.Candidates(search).DefaultIfEmpty(-1).First();
            if (next < 0)
            {
                return false;
            }

            this.Chosen = next;
            this.Explored.Add(next);
            return true;
        }

        public override int BranchesLeft(ExhaustiveSearch search) => this.Candidates(search).Count();

        private IEnumerable<int> Candidates(ExhaustiveSearch search) =>
            Enumerable.Range(0, this.Distinct).Where(v => !this.Explored.Contains(v) && this.Unusual + (v == this.Usual ? 0 : 1) <= search.choiceBound);
    }

    /// <summary>One iteration's <see cref="IChoiceGuide"/>.</summary>
    public sealed class Guide(ExhaustiveSearch search, int token) : IChoiceGuide, IStepFootprint, Spec.IProtocolObserver
    {
        public void Observe(Spec.ProtocolEvent e)
        {
            if (search.streams is not null && search.token == token && search.running)
            {
                search.stream.Append(e).Append('\n');
            }
        }

        public void Touch(int location, bool write)
        {
            if (search.token == token && search.running)
            {
                search.Touch(location, write);
            }
        }

        public void BeforeChoice(int distinct, int usual)
        {
            this.CheckRunning();
            search.pendingDistinct = distinct;
            search.pendingUsual = usual;
        }

        public void CheckRunning()
        {
            if (search.token != token || !search.running)
            {
                throw new ThreadInterruptedException();
            }
        }
    }
}
