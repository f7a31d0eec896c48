using System.Diagnostics;
using System.Text.RegularExpressions;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Harness.Traces;

/// <summary>A line of the port's source, relative to the repository root (e.g. <c>Implementation/Locking/RwSemaphore.cs</c>).</summary>
public sealed record SourceLine(string File, int Line)
{
    public override string ToString() => $"{this.File}:{this.Line}";
}

/// <summary>
/// One step of a thread, at a call depth. Accesses also carry the location and the value it holds
/// after the step; events carry the protocol event the monitors saw; every step carries the line
/// of the port that made it.
/// </summary>
public sealed record TraceStep(int Index, string Thread, int Depth, TraceStepKind Kind, string Text)
{
    /// <summary>The shared location accessed (<c>vma1->vm_lock_seq</c>), for accesses.</summary>
    public string? Location { get; init; }

    /// <summary>The value the location holds after the access, in the kernel's spelling.</summary>
    public string? Value { get; init; }

    /// <summary>The protocol event, for event steps.</summary>
    public ProtocolEvent? Event { get; init; }

    /// <summary>The line of the port that made the step (null when no symbols are available).</summary>
    public SourceLine? Source { get; init; }

    /// <summary>For a load (or an RMW's read) that returned an older store: the newer stores it did not see, oldest first; else null.</summary>
    public IReadOnlyList<UnseenStore>? Unseen { get; init; }
}

/// <summary>
/// Collects the steps of one iteration in execution order, for printing a replayed schedule in
/// kernel terms. Attached only when replaying: exploration runs without it.
/// </summary>
public sealed partial class TraceRecorder : ITraceSink
{
    /// <summary>Types whose frames are the recording machinery, not the ported kernel code.</summary>
    private static readonly HashSet<Type> Machinery =
        [typeof(KernelWorld), typeof(TraceRecorder), typeof(FunctionScope), typeof(TaskStruct), typeof(KernelObject)];

    private readonly List<TraceStep> steps = [];

    private bool stopped;

    public IReadOnlyList<TraceStep> Steps => this.steps;

    public int Count => this.steps.Count;

    /// <summary>Starts a new iteration: forgets the steps of the previous one.</summary>
    public void Reset()
    {
        this.steps.Clear();
        this.stopped = false;
    }

    /// <summary>
    /// Ends the recording at a violation: what the threads do while the run is torn down
    /// (scopes unwinding, cancelled operations) did not happen in the kernel and is not recorded.
    /// </summary>
    public void Stop() => this.stopped = true;

    public void Add(ThreadName thread, int depth, TraceStepKind kind, string text, string? location = null, string? value = null, ProtocolEvent? e = null, IReadOnlyList<UnseenStore>? unseen = null)
    {
        if (!this.stopped)
        {
            this.steps.Add(new TraceStep(this.steps.Count, thread.Name, depth, kind, text)
            {
                Location = location,
                Value = value,
                Event = e,
                Unseen = unseen,
                Source = Caller() ?? (kind == TraceStepKind.Return ? this.EnteredAt(thread.Name, depth) : null),
            });
        }
    }

    /// <summary>Where the function now returning was entered (a scope's end has no line of its own).</summary>
    private SourceLine? EnteredAt(string thread, int depth) =>
        this.steps.LastOrDefault(s => s.Thread == thread && s.Depth == depth && s.Kind == TraceStepKind.Enter)?.Source;

    /// <summary>The first frame of ported code on the stack: the kernel function's line that made the step.</summary>
    private static SourceLine? Caller()
    {
        foreach (var frame in new StackTrace(2, fNeedFileInfo: true).GetFrames())
        {
            var type = frame.GetMethod()?.DeclaringType;
            while (type?.DeclaringType is not null && type.Name.StartsWith('<'))
            {
                type = type.DeclaringType; // a lambda's closure class: judge the method that holds it
            }

            if (type is null || Machinery.Contains(type) || type.Namespace == typeof(SharedVar<>).Namespace)
            {
                continue;
            }

            var file = frame.GetFileName();
            if (file is null || frame.GetFileLineNumber() == 0)
            {
                return null;
            }

            var relative = ProjectPath().Match(file.Replace('\\', '/'));
            return new SourceLine(relative.Success ? relative.Value : Path.GetFileName(file), frame.GetFileLineNumber());
        }

        return null;
    }

    [GeneratedRegex("(Implementation|Spec|Invariants|Harness)/.*$")]
    private static partial Regex ProjectPath();
}
