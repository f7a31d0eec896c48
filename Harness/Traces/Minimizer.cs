using System.Text.Json.Nodes;
using VmaLockVerify.Harness.Exploration;

namespace VmaLockVerify.Harness.Traces;

/// <summary>The size of a schedule: context switches (the running thread changes), then scheduling decisions.</summary>
public sealed record ScheduleSize(int Switches, int Steps) : IComparable<ScheduleSize>
{
    public int CompareTo(ScheduleSize? other) =>
        other is null ? 1 : this.Switches != other.Switches ? this.Switches.CompareTo(other.Switches) : this.Steps.CompareTo(other.Steps);

    /// <summary>In the scheduler's units (its hand-overs and decisions), never the table's kernel steps.</summary>
    public override string ToString() => $"{this.Switches} context switch(es), {this.Steps} scheduler decisions";
}

/// <summary>What a minimisation did.</summary>
public sealed record MinimizeOutcome(TraceFile Trace, ScheduleSize Before, ScheduleSize After, int Candidates);

/// <summary>
/// Shrinks a buggy schedule to the fewest context switches, then the fewest steps, that still
/// violate the same invariant: delta debugging (ddmin) over the schedule's context switches.
/// <para>
/// A schedule is read per thread: each thread's own sequence of scheduling points, and the
/// switches as "at its k-th point, thread A hands over to B". A candidate keeps a subset of the
/// switches and lets every thread otherwise run on, which gives a new Coyote schedule prefix;
/// the rest of the run (if the prefix ends early) is left to PCT with no priority changes, which
/// only switches when a thread blocks or ends. Each candidate is checked by a real replay under
/// Coyote; a candidate Coyote cannot follow (a thread that could not run where the prefix says)
/// or that no longer violates the invariant is dropped. An accepted candidate is replaced by the
/// schedule Coyote actually executed, so the result is always a real, replayable run.
/// </para>
/// </summary>
public static class Minimizer
{
    /// <summary>The strategy that finishes a candidate's run after its prefix: PCT with no priority change points.</summary>
    private const string SuffixStrategy = "prioritization";

    public static MinimizeOutcome Minimize(TraceFile trace, string path)
    {
        var request = Replayer.ReplayRequestFor(trace, path);
        var best = Schedule.Parse(trace.CoyoteTrace);
        var before = best.Size;
        var message = trace.Message;
        var candidates = 0;

        // ddmin over the current best schedule's switches; every success restarts from the
        // schedule that actually ran, which can only be smaller.
        var granularity = 2;
        while (true)
        {
            var switches = best.Switches;
            if (switches.Count == 0)
            {
                break;
            }

            granularity = Math.Min(granularity, switches.Count);
            var improved = false;
            foreach (var chunk in Chunks(switches, granularity))
            {
                candidates++;
                var kept = switches.Except(chunk).ToHashSet();
                if (Try(request, trace, best.Without(kept), out var executed, out var violation) && executed.Size.CompareTo(best.Size) < 0)
                {
                    best = executed;
                    message = violation;
                    granularity = Math.Max(granularity - 1, 2);
                    improved = true;
                    break;
                }
            }

            if (improved)
            {
                continue;
            }

            if (granularity < switches.Count)
            {
                granularity = Math.Min(switches.Count, granularity * 2);
                continue;
            }

            // 1-minimal for single switches; a thread's excursion is two switches (there and
            // back), so also try dropping each adjacent pair before giving up.
            foreach (var pair in switches.Zip(switches.Skip(1)))
            {
                candidates++;
                var kept = switches.Except([pair.First, pair.Second]).ToHashSet();
                if (Try(request, trace, best.Without(kept), out var executed, out var violation) && executed.Size.CompareTo(best.Size) < 0)
                {
                    best = executed;
                    message = violation;
                    granularity = 2;
                    improved = true;
                    break;
                }
            }

            if (!improved)
            {
                break;
            }
        }

        var minimized = trace with { CoyoteTrace = best.Json, Message = message, MinimizedFrom = trace.MinimizedFrom ?? before };
        return new MinimizeOutcome(minimized, before, best.Size, candidates);
    }

    /// <summary>Replays a candidate prefix; true with the executed schedule if it still violates the trace's invariant.</summary>
    private static bool Try(RunRequest request, TraceFile trace, JsonNode candidate, out Schedule executed, out string message)
    {
        executed = null!;
        message = string.Empty;
        RunResult result;
        try
        {
            result = Explorer.Run(request, null, candidate.ToJsonString());
        }
        catch (Exception e) when (e is not HarnessException)
        {
            return false; // Coyote could not follow the prefix
        }


        if (result.Bug?.Invariant != trace.Invariant || result.ReproducibleTrace is null)
        {
            return false;
        }

        executed = Schedule.Parse(JsonNode.Parse(result.ReproducibleTrace)!);
        message = result.Bug.Message;
        return true;
    }

    private static IEnumerable<List<Switch>> Chunks(IReadOnlyList<Switch> items, int parts)
    {
        var size = (int)Math.Ceiling(items.Count / (double)parts);
        for (var i = 0; i < items.Count; i += size)
        {
            yield return [.. items.Skip(i).Take(size)];
        }
    }

    /// <summary>A hand-over: at its <paramref name="Point"/>-th step, thread <paramref name="From"/> lets <paramref name="To"/> run.</summary>
    private sealed record Switch(string From, int Point, string To);

    /// <summary>One entry of Coyote's schedule: <c>op(ID:SEQ),sp(POINT),next(ID:SEQ)</c> or <c>op(ID:SEQ),int(V)</c>.</summary>
    private sealed record Decision(string Op, string Choice, string? Next)
    {
        public static Decision Parse(string step)
        {
            var parts = step.Split(',');
            if (parts.Length is < 2 or > 3 || !parts[0].StartsWith("op(", StringComparison.Ordinal))
            {
                throw new HarnessException(ExitCodes.BadInput, $"malformed Coyote schedule step '{step}'");
            }

            return new Decision(parts[0][3..^1], parts[1], parts.Length == 3 ? parts[2][5..^1] : null);
        }

        public bool IsScheduling => this.Next is not null;

        public override string ToString() => this.Next is null ? $"op({this.Op}),{this.Choice}" : $"op({this.Op}),{this.Choice},next({this.Next})";
    }

    /// <summary>A Coyote schedule read per thread.</summary>
    private sealed class Schedule
    {
        private readonly List<Decision> decisions;

        private Schedule(JsonNode json, List<Decision> decisions)
        {
            this.Json = json;
            this.decisions = decisions;
            var points = new Dictionary<string, int>();
            var switches = new List<Switch>();
            foreach (var d in decisions)
            {
                var k = points.GetValueOrDefault(d.Op);
                points[d.Op] = k + 1;
                if (d.IsScheduling && d.Next != d.Op && d.Choice != "sp(Complete)")
                {
                    switches.Add(new Switch(d.Op, k, d.Next!));
                }
            }

            this.Switches = switches;
            this.Size = new ScheduleSize(decisions.Count(d => d.IsScheduling && d.Next != d.Op), decisions.Count);
        }

        public JsonNode Json { get; }

        /// <summary>The switches a candidate may drop (a thread's completion always hands over).</summary>
        public IReadOnlyList<Switch> Switches { get; }

        public ScheduleSize Size { get; }

        public static Schedule Parse(JsonNode coyoteTrace)
        {
            var steps = coyoteTrace["Steps"]?.AsArray()
                ?? throw new HarnessException(ExitCodes.BadInput, "the trace's coyoteTrace has no Steps");
            return new Schedule(coyoteTrace, [.. steps.Select(s => Decision.Parse(s!.GetValue<string>()))]);
        }

        /// <summary>
        /// The prefix in which only <paramref name="kept"/> switches happen: each thread replays its
        /// own points in order and runs on wherever a dropped switch was; a switch to a thread
        /// with no points left is dropped too. The prefix ends where the running thread's
        /// recorded points run out; Coyote's suffix strategy takes over from there.
        /// </summary>
        public JsonNode Without(IReadOnlySet<Switch> kept)
        {
            var own = this.decisions.GroupBy(d => d.Op).ToDictionary(g => g.Key, g => g.ToList());
            var at = own.Keys.ToDictionary(op => op, _ => 0);
            var steps = new JsonArray();
            var current = this.decisions[0].Op;
            while (at[current] < own[current].Count)
            {
                var point = at[current]++;
                var d = own[current][point];
                if (!d.IsScheduling)
                {
                    steps.Add(d.ToString());
                    continue;
                }

                var next = d.Choice == "sp(Complete)" ? d.Next! : current;
                var handOver = kept.FirstOrDefault(s => s.From == current && s.Point == point);
                if (handOver is not null && own.TryGetValue(handOver.To, out var theirs) && at[handOver.To] < theirs.Count)
                {
                    next = handOver.To;
                }

                steps.Add((d with { Next = next }).ToString());
                if (!own.ContainsKey(next))
                {
                    break;
                }

                current = next;
            }

            var json = this.Json.DeepClone();
            json["Steps"] = steps;
            json["Settings"]!["Strategy"] = SuffixStrategy;
            json["Settings"]!["StrategyBound"] = 0;
            return json;
        }
    }
}
