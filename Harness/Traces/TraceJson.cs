using System.Text.Json;
using System.Text.Json.Serialization;

namespace VmaLockVerify.Harness.Traces;

/// <summary>
/// The replayed schedule as JSON for tools: the same content as the text table (threads, blocks
/// with their switch reasons, every step with its value, source line and the protocol state
/// after it, the violation).
/// </summary>
public static class TraceJson
{
    /// <summary>Indented, nulls left out, kernel text (<c>-&gt;</c>, <c>&amp;</c>) written as is: for every JSON report vmalock writes for tools.</summary>
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Serialize(string path, ReplayOutcome outcome, TraceView view) => JsonSerializer.Serialize(
        new
        {
            format = "vmalock-replay/1",
            trace = path,
            scenario = outcome.Trace.Scenario,
            generation = outcome.Trace.Generation,
            mutant = outcome.Trace.Mutant,
            patch = outcome.Trace.Patch,
            foundBy = outcome.Trace.Command,
            threads = view.Threads,
            switches = view.Switches,
            blocks = view.Blocks.Select(b => new
            {
                thread = b.Thread,
                steps = b.Steps.Select(Step),
                endReason = b.EndReason,
                next = b.Next,
            }),
            violation = new { invariant = view.Violation.Invariant, message = view.Violation.Message },
        },
        Options);

    private static object Step(ViewStep v) => new
    {
        index = v.Step.Index,
        thread = v.Step.Thread,
        depth = v.Step.Depth,
        kind = v.Step.Kind.ToString().ToLowerInvariant(),
        text = v.Step.Text,
        location = v.Step.Location,
        value = v.Step.Value,
        olderStore = v.Step.Unseen is { } unseen ? new { unseen = unseen.Select(u => new { thread = u.Thread.Name, value = u.Value, step = u.Step }) } : null,
        source = v.Step.Source is { } s ? new { file = s.File, line = s.Line } : null,
        state = v.State,
        held = v.Held,
    };
}
