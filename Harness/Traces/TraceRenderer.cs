using System.Text;
using VmaLockVerify.Implementation.Kernel;

namespace VmaLockVerify.Harness.Traces;

/// <summary>
/// Prints a replayed schedule for a terminal: one column per thread, one row per step in
/// execution order (kernel functions entered and returned, nested by call depth; every load,
/// store and atomic with the value it read or wrote; the protocol events the monitors saw),
/// each thread's consecutive steps folded into one block, a marked line at every context switch
/// saying why it happened, and the violated invariant closing the table.
/// </summary>
public static class TraceRenderer
{
    /// <summary>The widest a thread's column gets; longer cells wrap onto continuation rows.</summary>
    public const int MaxColumnWidth = 58;

    public static string Render(TraceView view)
    {
        var widths = view.Threads.ToDictionary(
            t => t,
            t => Math.Min(MaxColumnWidth, Math.Max(t.Length, view.Steps.Where(s => s.Step.Thread == t).Select(s => Cell(s.Step).Length).DefaultIfEmpty(0).Max())));
        var text = new StringBuilder();
        text.AppendLine($"{view.Steps.Count()} kernel steps, {view.Switches} context switch(es), threads: {string.Join(", ", view.Threads)}");
        text.AppendLine(Row("step", view.Threads.ToDictionary(t => t, t => t), widths, view.Threads));
        text.AppendLine(Rule('-', widths, view.Threads));
        foreach (var block in view.Blocks)
        {
            foreach (var step in block.Steps.Select(s => s.Step))
            {
                var lines = Wrap(Cell(step), widths[step.Thread]);
                for (var i = 0; i < lines.Count; i++)
                {
                    text.AppendLine(Row(i == 0 ? step.Index.ToString() : string.Empty, new() { [step.Thread] = lines[i] }, widths, view.Threads));
                }
            }

            if (block.Next is not null)
            {
                text.AppendLine($"      ~~ switch to {block.Next}: {block.EndReason} ~~");
            }
        }

        text.AppendLine(Rule('=', widths, view.Threads));
        text.AppendLine($"VIOLATION {view.Violation.Invariant}: {view.Violation.Message}");
        return text.ToString();
    }

    /// <summary>A step as its thread's column shows it: indented by call depth, marked by kind.</summary>
    public static string Cell(TraceStep step) => new string(' ', step.Depth * 2) + Marked(step);

    /// <summary>
    /// A step's kernel text marked by its kind: <c>&lt;-</c> return, <c>*</c> event, <c>zz</c> sleep,
    /// <c>!!</c> wake, <c>??</c> choice; a load that returned an older store says so, naming the
    /// newer stores it did not see.
    /// </summary>
    public static string Marked(TraceStep step) => step.Kind switch
    {
        TraceStepKind.Access when step.Unseen is { } unseen => $"{step.Text} (an older store; not seen: {string.Join(", ", unseen)})",
        TraceStepKind.Return => $"<- {step.Text}",
        TraceStepKind.Event => $"* {step.Text}",
        TraceStepKind.Block => $"zz {step.Text}: sleeps",
        TraceStepKind.Wake => $"!! {step.Text}",
        TraceStepKind.Choice => $"?? {step.Text}",
        _ => step.Text,
    };

    private static string Row(string step, Dictionary<string, string> cells, Dictionary<string, int> widths, IReadOnlyList<string> threads)
    {
        var row = new StringBuilder($"{step,5} ");
        foreach (var thread in threads)
        {
            row.Append("| ").Append((cells.GetValueOrDefault(thread) ?? string.Empty).PadRight(widths[thread])).Append(' ');
        }

        return row.ToString().TrimEnd();
    }

    private static string Rule(char c, Dictionary<string, int> widths, IReadOnlyList<string> threads) =>
        new string(c, 6) + string.Concat(threads.Select(t => "+" + new string(c, widths[t] + 2)));

    /// <summary>Splits a cell at spaces so no line is wider than the column; continuation lines keep the indentation plus two.</summary>
    private static List<string> Wrap(string cell, int width)
    {
        var lines = new List<string>();
        var indent = new string(' ', cell.Length - cell.TrimStart().Length + 2);
        var rest = cell;
        while (rest.Length > width)
        {
            var cut = rest.LastIndexOf(' ', width);
            if (cut <= indent.Length)
            {
                cut = width;
            }

            lines.Add(rest[..cut].TrimEnd());
            rest = indent + rest[cut..].TrimStart();
        }

        lines.Add(rest);
        return lines;
    }
}
