using System.Text;
using VmaLockVerify.Implementation.Kernel;

namespace VmaLockVerify.Harness.Traces;

/// <summary>
/// Prints a recorded schedule in kernel terms: one line per step, the thread, the kernel function
/// entered or returned (indented by call depth), each load/store/atomic with the value it read or
/// wrote, the protocol events the monitors saw, and a marked line at each context switch.
/// </summary>
public static class TraceRenderer
{
    public static string Render(IReadOnlyList<TraceStep> steps)
    {
        var text = new StringBuilder();
        var width = Math.Max(6, steps.Select(s => s.Thread.Length).DefaultIfEmpty(0).Max());
        text.AppendLine($"{"step",5}  {"thread".PadRight(width)}  kernel function / access");
        TraceStep? previous = null;
        foreach (var step in steps)
        {
            if (previous is not null && previous.Thread != step.Thread)
            {
                text.AppendLine($"{"",5}  {"".PadRight(width)}  ---- switch {previous.Thread} -> {step.Thread} ({SwitchReason(previous)}) ----");
            }

            text.AppendLine($"{step.Index,5}  {step.Thread.PadRight(width)}  {new string(' ', step.Depth * 2)}{Describe(step)}");
            previous = step;
        }

        return text.ToString();
    }

    private static string Describe(TraceStep step) => step.Kind switch
    {
        TraceStepKind.Enter => step.Text,
        TraceStepKind.Return => $"<- {step.Text}",
        TraceStepKind.Access => step.Text,
        TraceStepKind.Event => $"* {step.Text}",
        TraceStepKind.Block => $"zz {step.Text}: sleeps",
        TraceStepKind.Wake => $"!! {step.Text}",
        TraceStepKind.Choice => $"?? {step.Text}",
        _ => step.Text,
    };

    private static string SwitchReason(TraceStep last) => last.Kind switch
    {
        TraceStepKind.Block => "blocked in schedule()",
        TraceStepKind.Return when last.Depth == 0 => "thread finished or waits",
        _ => "preempted at a scheduling point",
    };
}
