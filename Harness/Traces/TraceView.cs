using System.Collections.Immutable;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Harness.Traces;

/// <summary>One step with the protocol state after it: what every renderer (text, JSON, HTML, SARIF) shows.</summary>
/// <param name="Step">The recorded step.</param>
/// <param name="State">The watched locations (sequence counters, detached, vm_refcnt, lock words) and their values after the step.</param>
/// <param name="Held">The locks each thread holds after the step, in kernel terms.</param>
public sealed record ViewStep(TraceStep Step, ImmutableSortedDictionary<string, string> State, ImmutableSortedDictionary<string, ImmutableList<string>> Held);

/// <summary>
/// Consecutive steps of one thread, and why the thread stopped running after them: it was
/// preempted at a scheduling point (before its next access), went to sleep in schedule(),
/// finished, or the run ended in the violation.
/// </summary>
public sealed record TraceBlock(string Thread, IReadOnlyList<ViewStep> Steps, string EndReason, string? Next);

/// <summary>The violation that closes a trace.</summary>
public sealed record TraceViolation(string Invariant, string Message);

/// <summary>
/// A replayed schedule laid out for reading: the threads in order of first appearance (one
/// column each), the steps folded into per-thread blocks with the reason for each context
/// switch, the protocol state at every step, and the violation.
/// </summary>
public sealed record TraceView(IReadOnlyList<string> Threads, IReadOnlyList<TraceBlock> Blocks, TraceViolation Violation)
{
    /// <summary>The fields whose values the state column tracks (the last segment of a location).</summary>
    public static readonly ImmutableHashSet<string> WatchedFields =
        ["mm_lock_seq", "vm_lock_seq", "detached", "vm_refcnt", "count", "mm_count", "mm_users"];

    public IEnumerable<ViewStep> Steps => this.Blocks.SelectMany(b => b.Steps);

    /// <summary>The number of context switches (block boundaries).</summary>
    public int Switches => Math.Max(0, this.Blocks.Count - 1);

    public static TraceView From(IReadOnlyList<TraceStep> steps, TraceViolation violation)
    {
        var threads = steps.Select(s => s.Thread).Distinct().ToList();
        var state = ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal);
        var held = ImmutableSortedDictionary.Create<string, ImmutableList<string>>(StringComparer.Ordinal);
        var viewed = new List<ViewStep>(steps.Count);
        foreach (var step in steps)
        {
            // A load that returned an older store leaves the location's value as it is (the newer
            // store's); an RMW that read one still shows the value after its own store.
            if (step is { Kind: TraceStepKind.Access, Location: { } location, Value: { } value } && WatchedFields.Contains(location.Split("->")[^1])
                && (step.Unseen is null || step.Text.Contains(" -> ", StringComparison.Ordinal)))
            {
                state = state.SetItem(location, value);
            }

            if (step.Event is { } e)
            {
                held = Track(held, e);
            }

            viewed.Add(new ViewStep(step, state, held));
        }

        var blocks = new List<TraceBlock>();
        for (var start = 0; start < viewed.Count;)
        {
            var thread = viewed[start].Step.Thread;
            var end = start;
            while (end + 1 < viewed.Count && viewed[end + 1].Step.Thread == thread)
            {
                end++;
            }

            var next = end + 1 < viewed.Count ? viewed[end + 1].Step.Thread : null;
            var resumes = viewed.Skip(end + 1).FirstOrDefault(v => v.Step.Thread == thread)?.Step;
            blocks.Add(new TraceBlock(thread, viewed[start..(end + 1)], EndReason(viewed[end].Step, next, resumes, violation), next));
            start = end + 1;
        }

        return new TraceView(threads, blocks, violation);
    }

    /// <summary>Why the thread stopped running after <paramref name="last"/>.</summary>
    private static string EndReason(TraceStep last, string? next, TraceStep? resumes, TraceViolation violation)
    {
        if (next is null)
        {
            return $"the run ends: {violation.Invariant} is violated";
        }

        if (last.Kind == TraceStepKind.Block)
        {
            return $"{last.Thread} sleeps in schedule()";
        }

        if (resumes is null && last is { Kind: TraceStepKind.Return, Depth: 0 })
        {
            return $"{last.Thread} finished";
        }

        return resumes is null
            ? $"{last.Thread} preempted; it does not run again before the violation"
            : $"{last.Thread} preempted before step {resumes.Index}: {resumes.Text}";
    }

    /// <summary>Follows the locks each thread holds through the protocol events.</summary>
    private static ImmutableSortedDictionary<string, ImmutableList<string>> Track(ImmutableSortedDictionary<string, ImmutableList<string>> held, ProtocolEvent e)
    {
        var mine = held.GetValueOrDefault(e.Thread.Name) ?? [];
        mine = e switch
        {
            MmapLockAcquired a => mine.Add($"{a.Mm}->mmap_lock ({a.Mode.ToString().ToLowerInvariant()})"),
            MmapLockReleased r => mine.Remove($"{r.Mm}->mmap_lock ({r.Mode.ToString().ToLowerInvariant()})"),
            MmapLockDowngraded d => mine.Remove($"{d.Mm}->mmap_lock (write)").Add($"{d.Mm}->mmap_lock (read)"),
            VmaStartReadReturned { Locked: true } r => mine.Add($"{r.Vma} (read)"),
            VmaReadUnlocked u => mine.Remove($"{u.Vma} (read)"),
            VmaWriteMarked w => mine.Contains($"{w.Vma} (write)") ? mine : mine.Add($"{w.Vma} (write)"),
            VmaWriteReleased r => mine.Remove($"{r.Vma} (write)"),
            VmaWriteDowngraded d => mine.Remove($"{d.Vma} (write)").Add($"{d.Vma} (read)"),
            MmSequenceBumped b => mine.RemoveAll(l => l.EndsWith(" (write)", StringComparison.Ordinal) && !l.Contains("mmap_lock", StringComparison.Ordinal)),
            _ => mine,
        };
        return mine.IsEmpty ? held.Remove(e.Thread.Name) : held.SetItem(e.Thread.Name, mine);
    }
}
