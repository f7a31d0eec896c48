using System.Globalization;
using System.Net;
using System.Text;
using VmaLockVerify.Implementation.Kernel;

namespace VmaLockVerify.Harness.Traces;

/// <summary>
/// The replayed schedule as one self-contained HTML page (inline CSS and script, nothing fetched):
/// a lane per thread with its steps in execution order, nested by call depth; a connector at
/// every context switch labelled with its reason; the protocol state, the locks held and the
/// port's source line of the selected step in a side panel (hover or click a step; the last step
/// is selected); the violation as a banner and on the step that closes the run. Everything is
/// static HTML, so the page reads without its script, which only moves the selection.
/// </summary>
public static class TraceHtml
{
    /// <summary>The lane colours, by lane position; a fifth thread reuses the first.</summary>
    private static readonly string[] LaneColours = ["#2563eb", "#d97706", "#059669", "#7c3aed"];

    public static string Render(ReplayOutcome outcome, TraceView view, string path)
    {
        var steps = view.Steps.ToList();
        var last = steps.Count == 0 ? -1 : steps[^1].Step.Index; // the step the violation closes (none if it fired before any)
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append($"<title>{E(Title(outcome))}</title>\n<style>{Css}</style>\n</head>\n<body>\n")
            .Append(Header(outcome, view, path, last))
            .Append("<main>\n")
            .Append(Timeline(view, last))
            .Append(Panel(view, steps, last))
            .Append("</main>\n")
            .Append($"<footer class=\"banner\"><b>VIOLATION</b> <span class=\"invariant\">{E(view.Violation.Invariant)}</span>: {E(view.Violation.Message)}</footer>\n")
            .Append($"<script>{Script}</script>\n</body>\n</html>\n");
        return html.ToString();
    }

    private static string Title(ReplayOutcome outcome) =>
        $"vmalock replay: {outcome.Trace.Mutant ?? (outcome.Trace.Patch is { } patch ? $"proposal {patch}" : "correct port")} on {outcome.Trace.Scenario} ({outcome.Trace.Generation})";

    /// <summary>What was replayed and how it was found, the counts, the legend and the violation banner.</summary>
    private static string Header(ReplayOutcome outcome, TraceView view, string path, int last)
    {
        var request = outcome.Result.Request;
        var facts = new StringBuilder();
        Fact(facts, "scenario", outcome.Trace.Scenario, request.Scenario.Description);
        Fact(facts, "generation", outcome.Trace.Generation, request.Generation.Description);
        if (request.Mutant is { } mutant)
        {
            Fact(facts, "mutant", mutant.Name, mutant.Description);
            Fact(facts, "origin", null, mutant.Origin);
        }

        if (request.Patch is { } proposal)
        {
            Fact(facts, "proposal", proposal.Name, proposal.Description);
            Fact(facts, "origin", null, proposal.Origin);
        }

        Fact(facts, "found by", null, outcome.Trace.Command);
        Fact(facts, "trace", null, path);
        Fact(facts, "replayed", null, $"{view.Steps.Count()} kernel steps, {view.Switches} context switch(es), threads: {string.Join(", ", view.Threads)}");
        var recorded = outcome.Result.Bug!.Message == outcome.Trace.Message ? string.Empty : $" <span class=\"note\">(recorded message: {E(outcome.Trace.Message)})</span>";
        return $"""
            <header>
            <h1>{E(Title(outcome))}</h1>
            <dl class="facts">
            {facts}</dl>
            <div id="violation" class="banner"><b>VIOLATION</b> <span class="invariant">{E(view.Violation.Invariant)}</span>: {E(view.Violation.Message)}{recorded} <a href="#step-{last}">step {last}</a></div>
            <p class="legend"><span class="key enter">call</span> <span class="key return">&lt;- return</span> <span class="key access">shared access</span> <span class="key access watched">protocol state</span> <span class="key event">* protocol event</span> <span class="key block">zz sleep</span> <span class="key wake">!! wake / ?? choice</span> <span class="key switch-key">context switch</span> <span class="key violation">violation</span> <span class="hint">Hover or click a step (arrow keys move) for the state after it.</span></p>
            </header>

            """;
    }

    private static void Fact(StringBuilder facts, string term, string? name, string text) =>
        facts.Append($"<dt>{term}</dt><dd>{(name is null ? string.Empty : $"<b>{E(name)}</b> ")}{(term == "found by" ? $"<code>{E(text)}</code>" : E(text))}</dd>\n");

    /// <summary>
    /// One grid: a column per thread, a row per step in execution order and a row per context
    /// switch. Each lane spans every row (a subgrid), so its steps line up with the other lanes'.
    /// </summary>
    private static string Timeline(TraceView view, int last)
    {
        var lanes = view.Threads.ToDictionary(t => t, t => new StringBuilder());
        var switches = new StringBuilder();
        var row = 2; // row 1 holds the lane headers
        for (var b = 0; b < view.Blocks.Count; b++)
        {
            var block = view.Blocks[b];
            foreach (var step in block.Steps.Select(s => s.Step))
            {
                lanes[step.Thread].Append(Step(step, row++, last));
            }

            switches.Append(block.Next is { } next
                ? Switch(view, block, next, b + 1, row++)
                : $"<div class=\"end\" style=\"grid-row:{row++};grid-column:{Column(view, block.Thread)}\">{E(block.EndReason)}</div>\n");
        }

        var html = new StringBuilder($"<div class=\"timeline\" style=\"grid-template-columns:repeat({view.Threads.Count},minmax(0,1fr));grid-template-rows:repeat({row - 1},auto)\">\n");
        foreach (var thread in view.Threads)
        {
            var column = Column(view, thread);
            html.Append($"<section class=\"lane\" data-thread=\"{E(thread)}\" style=\"grid-column:{column};--lane:{LaneColours[(column - 1) % LaneColours.Length]}\">\n")
                .Append($"<h2>{E(thread)}</h2>\n")
                .Append(lanes[thread])
                .Append("</section>\n");
        }

        return html.Append(switches).Append("</div>\n").ToString();
    }

    private static int Column(TraceView view, string thread) => view.Threads.ToList().IndexOf(thread) + 1;

    private static string Step(TraceStep step, int row, int last)
    {
        var classes = $"step {step.Kind.ToString().ToLowerInvariant()}"
            + (Watched(step) ? " watched" : string.Empty)
            + (step.Index == last ? " violation selected" : string.Empty);
        return $"<div class=\"{classes}\" id=\"step-{step.Index}\" data-step=\"{step.Index}\" data-thread=\"{E(step.Thread)}\" data-depth=\"{step.Depth}\" "
            + $"style=\"grid-row:{row};--depth:{step.Depth}\" tabindex=\"0\" title=\"{E(step.Source?.ToString() ?? "no source line")}\">"
            + $"<span class=\"n\">{step.Index}</span><span class=\"guides\"></span><span class=\"box\">{Label(step)}</span></div>\n";
    }

    private static bool Watched(TraceStep step) => step.Location is { } l && TraceView.WatchedFields.Contains(l.Split("->")[^1]);

    /// <summary>The step as the text table spells it, with the function called or the location accessed in bold.</summary>
    private static string Label(TraceStep step)
    {
        var label = E(TraceRenderer.Cell(step).TrimStart());
        var key = E((step.Kind == TraceStepKind.Enter ? step.Text.Split('(')[0] : step.Location) ?? string.Empty);
        var at = key.Length == 0 ? -1 : label.IndexOf(key, StringComparison.Ordinal);
        return at < 0 ? label : $"{label[..at]}<b>{key}</b>{label[(at + key.Length)..]}";
    }

    /// <summary>
    /// A connector from the block's last step down to the next block's first: a stub under the
    /// lane it leaves, a wire across, a stub with an arrow into the lane it enters, the reason on the wire.
    /// </summary>
    private static string Switch(TraceView view, TraceBlock block, string next, int number, int row)
    {
        int from = Column(view, block.Thread), to = Column(view, next);
        int low = Math.Min(from, to), span = Math.Abs(to - from) + 1;
        string Centre(int column) => Percent((column - low + 0.5) / span);
        var style = $"grid-row:{row};grid-column:{low}/span {span};--from:{Centre(from)};--to:{Centre(to)};--left:{Centre(low)};--width:{Percent((span - 1.0) / span)}";
        return $"<div class=\"switch\" data-from=\"{E(block.Thread)}\" data-to=\"{E(next)}\" data-after=\"{block.Steps[^1].Step.Index}\" style=\"{style}\">"
            + "<span class=\"wire\"></span><span class=\"stub out\"></span><span class=\"stub in\"></span>"
            + $"<span class=\"reason\"><b>switch {number}: {E(block.Thread)} &#8594; {E(next)}</b><br>{E(block.EndReason)}</span></div>\n";
    }

    private static string Percent(double fraction) => (fraction * 100).ToString("0.###", CultureInfo.InvariantCulture) + "%";

    /// <summary>The side panel: for every step, the state after it (all hidden but the selected last step's).</summary>
    private static string Panel(TraceView view, List<ViewStep> steps, int last)
    {
        var html = new StringBuilder("<aside id=\"panel\">\n");
        var stacks = view.Threads.ToDictionary(t => t, _ => new List<string>());
        ViewStep? previous = null;
        foreach (var viewed in steps)
        {
            var step = viewed.Step;
            var stack = stacks[step.Thread];
            if (stack.Count > step.Depth)
            {
                stack.RemoveRange(step.Depth, stack.Count - step.Depth); // the functions returned from
            }

            html.Append(State(view, viewed, previous, stacks, step.Index == last ? view.Violation : null));
            if (step.Kind == TraceStepKind.Enter)
            {
                stack.Add(step.Text);
            }

            previous = viewed;
        }

        return html.Append("</aside>\n").ToString();
    }

    /// <summary>The panel of one step; the last step's is shown and names the violation it ends in.</summary>
    private static string State(TraceView view, ViewStep viewed, ViewStep? previous, Dictionary<string, List<string>> stacks, TraceViolation? violation)
    {
        var step = viewed.Step;
        var state = viewed.State.Select(kv => (kv.Key, kv.Value, Changed: previous?.State.GetValueOrDefault(kv.Key) != kv.Value));
        var held = viewed.Held.Select(kv => (kv.Key, string.Join(", ", kv.Value), Changed: previous is null || !previous.Held.GetValueOrDefault(kv.Key, []).SequenceEqual(kv.Value)));
        var where = view.Threads.Select(t => (t, stacks[t].Count == 0 ? "(not in a kernel function)" : string.Join(" > ", stacks[t]), Changed: t == step.Thread));
        return $"""
            <div class="state" data-state-for="{step.Index}"{(violation is null ? " hidden" : string.Empty)}>
            <h2>step {step.Index} <span class="thread">{E(step.Thread)}</span></h2>
            <p class="label">{Label(step)}</p>
            <p class="source">{E(step.Source?.ToString() ?? "no source line")}</p>
            {(violation is null ? string.Empty : $"<p class=\"verdict\">violates <b>{E(violation.Invariant)}</b></p>")}
            <h3>protocol state after the step</h3>
            {Table(state, "no watched location accessed yet")}
            <h3>locks held</h3>
            {Table(held, "no thread holds a lock")}
            <h3>inside</h3>
            {Table(where, string.Empty)}
            </div>

            """;
    }

    /// <summary>Name/value rows, the ones this step changed marked.</summary>
    private static string Table(IEnumerable<(string Name, string Value, bool Changed)> rows, string empty)
    {
        var html = string.Concat(rows.Select(r => $"<tr{(r.Changed ? " class=\"changed\"" : string.Empty)}><th>{E(r.Name)}</th><td>{E(r.Value)}</td></tr>"));
        return html.Length == 0 ? $"<p class=\"none\">{E(empty)}</p>" : $"<table>{html}</table>";
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    /// <summary>The page's style sheet and script, kept as files beside this one (embedded in the assembly).</summary>
    private static readonly string Css = Resource("TraceHtml.css");

    private static readonly string Script = Resource("TraceHtml.js");

    private static string Resource(string name)
    {
        using var stream = typeof(TraceHtml).Assembly.GetManifestResourceStream($"VmaLockVerify.Harness.Traces.{name}")
            ?? throw new InvalidOperationException($"the harness was built without its embedded {name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
