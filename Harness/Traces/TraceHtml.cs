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
        $"vmalock replay: {outcome.Trace.Mutant ?? "correct port"} on {outcome.Trace.Scenario} ({outcome.Trace.Generation})";

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

    private const string Css = """

        :root { --mono: "DejaVu Sans Mono", ui-monospace, Menlo, Consolas, monospace; --bad: #b91c1c; --bad-bg: #fde8e8; --switch: #ea580c; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.4 system-ui, "DejaVu Sans", "Liberation Sans", sans-serif; color: #111827; background: #f3f4f6; }
        header { padding: 12px 18px 8px; background: #fff; border-bottom: 1px solid #e5e7eb; }
        h1 { font-size: 18px; margin: 0 0 6px; }
        .facts { display: grid; grid-template-columns: max-content 1fr; gap: 1px 12px; margin: 0 0 8px; font-size: 13px; }
        .facts dt { color: #6b7280; }
        .facts dd { margin: 0; }
        code { font-family: var(--mono); font-size: 12px; background: #f3f4f6; padding: 0 3px; border-radius: 3px; }
        .banner { padding: 8px 12px; background: var(--bad-bg); color: #7f1d1d; border-left: 6px solid var(--bad); border-radius: 4px; font-size: 14px; }
        .banner b { color: var(--bad); letter-spacing: .04em; }
        .banner .invariant { font-family: var(--mono); font-weight: bold; }
        .banner a { color: var(--bad); margin-left: 6px; }
        footer.banner { margin: 0 18px 18px; }
        .legend { margin: 8px 0 0; font-size: 12px; display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
        .hint { color: #6b7280; margin-left: 6px; }
        html:not(.js) .hint { display: none; }
        .key { font-family: var(--mono); padding: 0 6px; border: 1px solid #e5e7eb; border-radius: 4px; background: #fff; }
        .key.switch-key { border: 1px dashed var(--switch); color: var(--switch); background: #fff7ed; }
        main { display: grid; grid-template-columns: minmax(0, 1fr) 390px; align-items: start; }
        .timeline { display: grid; margin: 10px; background: #fff; border: 1px solid #e5e7eb; border-radius: 6px; }
        .lane { display: grid; grid-row: 1 / -1; grid-template-rows: subgrid; align-content: start; border-right: 1px solid #eef0f3; padding-bottom: 8px; }
        .lane:last-of-type { border-right: 0; }
        .lane h2 { grid-row: 1; position: sticky; top: 0; z-index: 3; margin: 0 0 4px; padding: 6px 10px; font: bold 14px var(--mono); color: #fff; background: var(--lane); }
        .step { display: flex; align-items: flex-start; padding: 1px 8px 1px 4px; cursor: pointer; outline: none; min-width: 0; }
        .step .n { flex: none; width: 2.6em; text-align: right; padding: 2px 6px 0 0; font: 11px var(--mono); color: #9ca3af; }
        .step .guides { flex: none; align-self: stretch; width: calc(var(--depth) * 14px); background: repeating-linear-gradient(to right, #d1d5db 0 1px, transparent 1px 14px); background-position: 6px 0; }
        .box { min-width: 0; overflow-wrap: anywhere; font: 12px/1.35 var(--mono); padding: 2px 6px; border: 1px solid #e5e7eb; border-left: 3px solid var(--lane); border-radius: 4px; background: #fff; }
        .enter .box, .key.enter { background: #eef4ff; border-color: #c7d7fe; }
        .return .box, .key.return { color: #6b7280; background: #f9fafb; }
        .watched .box, .key.watched { background: #fff4c2; border-color: #eccd5a; }
        .event .box, .key.event { background: #f3e8ff; border-color: #d8b4fe; color: #5b21b6; }
        .block .box, .key.block { background: #e5e7eb; font-style: italic; }
        .wake .box, .choice .box, .key.wake { background: #ffedd5; border-color: #fdba74; }
        .step .box { border-left-color: var(--lane); }
        .step.violation .box, .key.violation { background: var(--bad-bg); border: 2px solid var(--bad); color: #7f1d1d; font-weight: bold; }
        .step:hover .box, .step.shown .box { box-shadow: 0 0 0 2px #93c5fd; }
        .step.selected .box { box-shadow: 0 0 0 2px #111827; }
        .switch { position: relative; z-index: 2; padding: 12px 0; }
        .switch .wire { position: absolute; top: 50%; left: var(--left); width: var(--width); border-top: 2px dashed var(--switch); }
        .switch .stub { position: absolute; width: 0; border-left: 2px dashed var(--switch); }
        .switch .out { top: -2px; bottom: 50%; left: var(--from); }
        .switch .in { top: 50%; bottom: 0; left: var(--to); }
        .switch .in::after { content: ""; position: absolute; bottom: -2px; left: -7px; border: 6px solid transparent; border-top: 8px solid var(--switch); border-bottom: 0; }
        .switch .reason { position: relative; display: block; margin: 0 auto; width: max(calc(var(--width) - 28px), 180px); max-width: calc(100% - 16px); padding: 3px 10px; font-size: 12px; text-align: center; color: #7c2d12; background: #fff7ed; border: 1px solid #fdba74; border-radius: 12px; }
        .switch .reason b { color: var(--switch); }
        .end { z-index: 2; margin: 6px 10px 0; padding: 3px 10px; font-size: 12px; color: #7f1d1d; background: var(--bad-bg); border: 1px solid #fca5a5; border-radius: 12px; text-align: center; }
        #panel { position: sticky; top: 0; max-height: 100vh; overflow: auto; margin: 10px 10px 10px 0; padding: 10px 14px; background: #fff; border: 1px solid #e5e7eb; border-radius: 6px; font-size: 13px; }
        #panel h2 { margin: 0 0 4px; font-size: 16px; }
        #panel h2 .thread { font-family: var(--mono); font-size: 14px; color: #4b5563; }
        #panel h3 { margin: 12px 0 4px; font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: #6b7280; }
        #panel .label { margin: 0; font: 12px var(--mono); overflow-wrap: anywhere; }
        #panel .source { margin: 4px 0 0; font: 11px var(--mono); color: #6b7280; }
        #panel table { width: 100%; border-collapse: collapse; font: 12px var(--mono); }
        #panel th { text-align: left; font-weight: normal; color: #374151; padding: 2px 8px 2px 0; vertical-align: top; white-space: nowrap; }
        #panel td { padding: 2px 0; overflow-wrap: anywhere; }
        #panel tr { border-bottom: 1px solid #f3f4f6; }
        #panel tr.changed { background: #fff4c2; }
        #panel tr.changed th { font-weight: bold; }
        #panel .verdict { margin: 6px 0 0; padding: 3px 8px; color: #7f1d1d; background: var(--bad-bg); border-left: 4px solid var(--bad); }
        #panel .none { margin: 0; color: #9ca3af; font-style: italic; }

        """;

    private const string Script = """

        (() => {
          const steps = [...document.querySelectorAll('.step')].sort((a, b) => a.dataset.step - b.dataset.step);
          const panels = new Map([...document.querySelectorAll('#panel .state')].map(p => [p.dataset.stateFor, p]));
          let pinned = document.querySelector('.step.selected');
          const show = step => {
            for (const [key, panel] of panels) panel.hidden = key !== step.dataset.step;
            for (const s of steps) s.classList.toggle('shown', s === step);
          };
          const pin = step => {
            pinned.classList.remove('selected');
            pinned = step;
            step.classList.add('selected');
            show(step);
          };
          for (const s of steps) {
            s.addEventListener('mouseenter', () => show(s));
            s.addEventListener('focus', () => pin(s));
            s.addEventListener('click', () => pin(s));
          }
          document.querySelector('.timeline').addEventListener('mouseleave', () => show(pinned));
          document.addEventListener('keydown', e => {
            const move = { ArrowDown: 1, ArrowUp: -1 }[e.key];
            if (!move) return;
            const next = steps[steps.indexOf(pinned) + move];
            if (next) { e.preventDefault(); next.focus(); next.scrollIntoView({ block: 'nearest' }); }
          });
          document.documentElement.classList.add('js');
        })();

        """;
}
