using System.CommandLine;
using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Harness.Proposals;
using VmaLockVerify.Harness.Scenarios;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Cli;

/// <summary>
/// The vmalock command line, on System.CommandLine: the .NET team's parser, POSIX-style options,
/// typed values and generated help, with no rendering dependencies. Every failure is one line on
/// standard error and a distinct exit code (<see cref="ExitCodes"/>).
/// </summary>
public static class CommandLine
{
    /// <summary>The option that adds an unexpected failure's detail (its stack) after the one line.</summary>
    public const string Verbose = "--verbose";

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var verbose = args.Contains(Verbose, StringComparer.Ordinal);
        try
        {
            var root = Build(output, error, verbose);
            if (args.Length == 0 || args is [Verbose])
            {
                // Bare vmalock: what it can do, instead of a complaint that no command was given.
                return root.Parse(["--help"]).Invoke(new InvocationConfiguration { Output = output, Error = error });
            }

            var parsed = root.Parse(args);
            if (parsed.Errors.Count > 0)
            {
                // An unknown word explains more than the missing command it caused.
                var first = parsed.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? parsed.Errors[0];
                error.WriteLine($"vmalock: {OneLine(InUsersTerms(first.Message))} (see --help)");
                return ExitCodes.BadInput;
            }

            return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            return Unexpected(e, error, verbose);
        }
    }

    /// <summary>
    /// Any failure nothing else caught: one line naming what went wrong, the stack only with
    /// --verbose, and exit 3 (the harness could not give a verdict). No input ever gets a stack trace.
    /// </summary>
    public static int Unexpected(Exception e, TextWriter error, bool verbose)
    {
        var inner = e is AggregateException { InnerExceptions.Count: 1 } aggregate ? aggregate.InnerExceptions[0] : e;
        if (inner is HarnessException harness)
        {
            error.WriteLine($"vmalock: {OneLine(harness.Message)}");
            return harness.ExitCode;
        }

        error.WriteLine($"vmalock: internal error, no verdict: {OneLine(inner.Message)} ({inner.GetType().Name}{(verbose ? string.Empty : $"; {Verbose} shows where")})");
        if (verbose)
        {
            error.WriteLine(inner.ToString());
        }

        error.Flush();
        return ExitCodes.NotHonest;
    }

    /// <summary>
    /// The parser's "Cannot parse argument 'x' for option '--seed' as expected type
    /// 'System.UInt32'" as the user's terms: "--seed must be a whole number 0..4294967295, not 'x'".
    /// </summary>
    private static string InUsersTerms(string message)
    {
        var match = System.Text.RegularExpressions.Regex.Match(message, @"^Cannot parse argument '(?<value>.*)' for option '(?<option>[^']+)' as expected type '(?<type>[^']+)'\.?$");
        if (!match.Success)
        {
            return message;
        }

        var type = match.Groups["type"].Value;
        var expected = type.Contains("UInt32", StringComparison.Ordinal) ? $"a whole number 0..{uint.MaxValue}"
            : type.Contains("Int32", StringComparison.Ordinal) ? $"a whole number {int.MinValue}..{int.MaxValue}"
            : "a value of its kind";
        var value = match.Groups["value"].Value;
        return $"{match.Groups["option"].Value} must be {expected}, not '{HarnessException.Shorten(value)}'";
    }

    /// <summary>A message as one line: its line breaks and other control characters become spaces.</summary>
    public static string OneLine(string message) =>
        string.Join(' ', new string([.. message.Select(c => char.IsControl(c) ? '\n' : c)]).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static RootCommand Build(TextWriter output, TextWriter error, bool verbose)
    {
        var scenario = new Option<string[]>("--scenario") { Description = $"scenario to explore (repeatable; default: all, or the mutant's or the proposal's own): {Names(ScenarioRegistry.All.Select(s => s.Name))}" };
        var generation = new Option<string?>("--generation") { Description = $"protocol generation (default: all): {Names(Generations.All.Select(g => g.Name))}" };
        var mutant = new Option<string?>("--mutant") { Description = $"explore a mutant instead of the correct port: {Names(MutantRegistry.All.Select(m => m.Name))}" };
        var patch = new Option<string?>("--patch") { Description = $"explore a proposed patch, on its own scenarios and generations (not with --mutant): {Names(ProposalRegistry.All.Select(p => p.Name))}" };
        var strategy = new Option<string[]>("--strategy")
        {
            Description = $"exploration strategy (repeatable, a row each; default: {string.Join(" and ", ExploreOptions.DefaultStrategies)}, the main job): {Names(Strategies.All.Select(s => s.Name))}",
        };
        var iterations = new Option<uint?>("--iterations") { Description = $"iterations per scenario x generation (default {ExploreOptions.DefaultIterations})" };
        var maxSteps = new Option<uint>("--max-steps") { Description = "scheduling steps per iteration before it is cut off", DefaultValueFactory = _ => Exploration.RunRequest.DefaultMaxSteps };
        var seed = new Option<uint>("--seed") { Description = "random seed of the strategy", DefaultValueFactory = _ => 1 };
        var timeout = new Option<int>("--timeout") { Description = "stop each run after this many seconds (0: no limit)", DefaultValueFactory = _ => 0 };
        var readers = new Option<int>("--readers") { Description = "reader threads (page faults, after a scenario's own reader if it has one), 1..4", DefaultValueFactory = _ => Exploration.RunRequest.DefaultReaders };
        var invariant = new Option<string[]>("--invariant") { Description = $"check only this invariant (repeatable; default: all): {Names(InvariantRegistry.All.Select(i => i.Name))}" };
        var tracesDir = new Option<string>("--traces-dir") { Description = "where bug traces are written", DefaultValueFactory = _ => ExploreOptions.DefaultTracesDir };
        var json = new Option<string?>("--json") { Description = "also write the results as JSON to this file" };
        var shard = new Option<string?>("--shard") { Description = "run only slice I of N of the runs (I/N), for a CI matrix; merge the slices' --json with 'vmalock merge'" };
        var parallel = new Option<int?>("--parallel") { Description = "engines run side by side, each on its own runs (default: twice the number of cores); results do not depend on it" };
        var junit = new Option<string?>("--junit") { Description = "also write a JUnit XML report (one test case per scenario x generation x mutant)" };
        var sarif = new Option<string?>("--sarif") { Description = "also write a SARIF 2.1.0 log (one result per bug, its interleaving as a code flow over the port's source)" };

        var preemptions = new Option<int>("--preemptions")
        {
            Description = $"exhaustive: every schedule with at most K preemptions (a switch away from a thread that could go on); default {Exploration.RunRequest.DefaultPreemptions}, {ExploreOptions.MainJobPreemptions} in the main job",
            DefaultValueFactory = _ => Exploration.RunRequest.DefaultPreemptions,
        };
        var choices = new Option<int>("--choices")
        {
            Description = "exhaustive: at most B unusual outcomes of controlled choices per schedule (spurious wake-ups, timeouts, signals, loads of older stores)",
            DefaultValueFactory = _ => Exploration.RunRequest.DefaultUnusualChoices,
        };
        var noReduction = new Option<bool>("--no-reduction") { Description = "exhaustive: do not prune schedules equivalent to explored ones (to check the pruning)" };
        var mode = new Option<string>("--mode")
        {
            Description = "systematic (Coyote's controlled scheduler) or stress (real threads with random delays, the baseline; no replayable traces)",
            DefaultValueFactory = _ => ExploreOptions.Systematic,
        };
        var exploreMemory = MemoryOption(
            $"one row each; default: {string.Join(" and ", Exploration.RunRequest.DefaultMemory)}, and sc for a generation with a known bug there (6.4); " +
            "a known bug's generation and model run only when --generation and --memory name them");
        var explore = new Command("explore", "explore interleavings under Coyote and check every invariant")
        {
            mode, exploreMemory, preemptions, choices, noReduction,
            scenario, generation, mutant, patch, strategy, iterations, maxSteps, seed, timeout, readers, invariant, tracesDir, json, junit, sarif, parallel, shard,
        };
        explore.SetAction(p => Guard(error, verbose, () => ExploreCommand.Run(
            new ExploreOptions(
                p.GetValue(scenario) ?? [],
                p.GetValue(generation),
                p.GetValue(mutant),
                p.GetValue(strategy) is { Length: > 0 } strategies ? strategies : ExploreOptions.DefaultStrategies,
                p.GetValue(iterations),
                p.GetValue(maxSteps),
                p.GetValue(seed),
                p.GetValue(timeout),
                p.GetValue(readers),
                p.GetValue(invariant) ?? [],
                p.GetValue(tracesDir)!,
                p.GetValue(json),
                p.GetValue(junit),
                p.GetValue(sarif),
                p.GetValue(parallel),
                p.GetValue(shard),
                p.GetValue(mode)!,
                p.GetValue(exploreMemory),
                p.GetValue(patch))
            {
                Preemptions = p.GetResult(preemptions) is { Implicit: false } ? p.GetValue(preemptions) : null,
                ReadersGiven = p.GetResult(readers) is { Implicit: false },
                StrategiesDefaulted = p.GetValue(strategy) is not { Length: > 0 },
                Choices = p.GetResult(choices) is { Implicit: false } ? p.GetValue(choices) : null,
                NoReduction = p.GetValue(noReduction),
            },
            output)));

        var trace = new Argument<string>("TRACE") { Description = "a trace file written by explore" };
        var format = new Option<string>("--format") { Description = "text (for terminals) or json (the same steps, for tools)", DefaultValueFactory = _ => "text" };
        var html = new Option<string?>("--html") { Description = "also write the replay as one self-contained HTML page (lanes per thread, switches, state per step) to this file" };
        var replay = new Command("replay", "replay a saved buggy schedule and print it in kernel terms") { trace, format, html };
        replay.SetAction(p => Guard(error, verbose, () => ReplayCommand.Replay(p.GetValue(trace)!, p.GetValue(format)!, p.GetValue(html), output)));

        var traces = new Argument<string[]>("TRACE") { Description = "trace files to regenerate in place", Arity = ArgumentArity.OneOrMore };
        var currentInvariants = new Option<bool>("--current-invariants")
        {
            Description = "judge with every invariant registered now instead of the ones the trace recorded (after an invariant was added)",
        };
        var regenerate = new Command("regenerate", "re-run the exploration a trace records and overwrite it (for traces made stale by a code change)") { traces, currentInvariants };
        regenerate.SetAction(p => Guard(error, verbose, () => ReplayCommand.Regenerate(p.GetValue(traces)!, p.GetValue(currentInvariants), output)));

        var results = new Argument<string[]>("RESULTS") { Description = "results files written by explore --json", Arity = ArgumentArity.OneOrMore };
        var merge = new Command("merge", "combine the --json results of several explores (the shards of one) into one report") { results };
        merge.SetAction(p => Guard(error, verbose, () => MergeCommand.Run(p.GetValue(results)!, output)));

        var toMinimize = new Argument<string>("TRACE") { Description = "a trace file written by explore" };
        var minimizedOut = new Option<string?>("-o", "--output") { Description = "write the minimised trace here (default: overwrite TRACE)" };
        var minimize = new Command("minimize", "shrink a buggy schedule to the fewest context switches (then steps) that still violate the same invariant") { toMinimize, minimizedOut };
        minimize.SetAction(p => Guard(error, verbose, () => ReplayCommand.Minimize(p.GetValue(toMinimize)!, p.GetValue(minimizedOut), output)));

        var goldenDir = new Option<string>("--dir") { Description = "the folder of saved traces", DefaultValueFactory = _ => "traces" };
        var golden = new Command("golden", "rewrite the golden renderings (DIR/golden/*.txt) the tests compare every saved trace's replay against") { goldenDir };
        golden.SetAction(p => Guard(error, verbose, () => ReplayCommand.Golden(p.GetValue(goldenDir)!, output)));

        var quick = new Option<bool>("--quick") { Description = "one seed and a 300-iteration budget: about a minute on 2 cores" };
        var seeds = new Option<int?>("--seeds") { Description = "seeds per mutant x strategy (default 5; 1 with --quick)" };
        var budget = new Option<uint?>("--budget") { Description = "iterations per run before a mutant counts as not found (default 2000; 300 with --quick)" };
        var benchJson = new Option<string?>("--json") { Description = "also write the measurements as JSON to this file" };
        var benchParallel = new Option<int?>("--parallel") { Description = "engines side by side (default: twice the number of cores)" };
        var benchMemory = MemoryOption("default: sc; with two, each mutant runs under both side by side, a column each, and the control's iterations/s under each");
        var throughput = new Option<bool>("--throughput")
        {
            Description = "instead: the correct port's speed against Coyote's floor of the same shape, Coyote's settings, and scaling over engines and processes (--budget: iterations per measurement)",
        };
        var rounds = new Option<int?>("--rounds") { Description = "--throughput: rounds of interleaved measurements (default 3; 1 with --quick)" };
        var bench = new Command("bench", "measure how fast each strategy finds each mutant, with the correct port as the control") { quick, seeds, budget, benchMemory, benchJson, benchParallel, throughput, rounds };
        bench.SetAction(p => Guard(error, verbose, () =>
        {
            if (!p.GetValue(throughput))
            {
                return p.GetValue(rounds) is null
                    ? BenchCommand.Run(p.GetValue(quick), p.GetValue(seeds), p.GetValue(budget), p.GetValue(benchJson), p.GetValue(benchParallel), output, p.GetValue(benchMemory))
                    : throw RunChecks.BadInput("--rounds needs --throughput");
            }

            (bool Given, string Name)[] unused = [(p.GetValue(seeds) is not null, "--seeds"), (p.GetValue(benchParallel) is not null, "--parallel"), (p.GetValue(benchMemory) is { Length: > 0 }, "--memory")];
            return unused.FirstOrDefault(u => u.Given) is { Name: { } name }
                ? throw RunChecks.BadInput($"{name} does not apply to --throughput")
                : ThroughputBench.Run(p.GetValue(quick), p.GetValue(rounds), p.GetValue(budget), p.GetValue(benchJson), output);
        }));

        var list = new Command("list", "list scenarios, generations, mutants, proposals, invariants and strategies");
        list.SetAction(_ => Guard(error, verbose, () => ListCommand.Run(output)));

        var shown = new Argument<string>("NAME") { Description = "a mutant's or a proposal's name ('vmalock list' names them)" };
        var show = new Command("show", "print a mutant or a proposal: per function it replaces, the difference between the generation's body and its own; per function a proposal adds, its body") { shown };
        show.SetAction(p => Guard(error, verbose, () => ShowCommand.Run(p.GetValue(shown)!, output)));

        var docsDir = new Option<string>("--dir") { Description = "where the pages go", DefaultValueFactory = _ => DocsCommand.DefaultDir };
        var docs = new Command("docs", "write the reference pages generated from the registries (scenarios, generations, mutants, proposals, invariants, strategies)") { docsDir };
        docs.SetAction(p => Guard(error, verbose, () => DocsCommand.Run(p.GetValue(docsDir)!, output)));

        var litmus = LitmusVerb(output, error, verbose);
        var verboseOption = new Option<bool>(Verbose) { Description = "after an unexpected failure's one line, print where it happened (the stack)", Recursive = true };
        return new RootCommand("vmalock: model checking of the Linux per-VMA lock under Coyote") { verboseOption, explore, replay, minimize, regenerate, golden, merge, bench, list, show, docs, litmus };
    }

    /// <summary>vmalock litmus FILE... [--memory sc|lkmm] [--placement insert|append] (see <see cref="LitmusCommand"/>).</summary>
    private static Command LitmusVerb(TextWriter output, TextWriter error, bool verbose)
    {
        var files = new Argument<string[]>("FILE") { Description = "C litmus tests (the kernel's tools/memory-model format)", Arity = ArgumentArity.OneOrMore };
        var memory = new Option<string>("--memory") { Description = "sc (plain interleaving) or lkmm (the LKMM view machine)", DefaultValueFactory = _ => LitmusCommand.DefaultMemory };
        var placement = new Option<string>("--placement") { Description = "lkmm only: where stores land in coherence order, insert (before unseen stores too) or append", DefaultValueFactory = _ => LitmusCommand.DefaultPlacement };
        var litmus = new Command("litmus", "enumerate every execution of C litmus tests and compare with their Result: lines") { files, memory, placement };
        litmus.SetAction(p => Guard(error, verbose, () => LitmusCommand.Run(p.GetValue(files)!, p.GetValue(memory)!, p.GetValue(placement)!, output)));
        return litmus;
    }

    /// <summary>--memory sc|lkmm, repeatable (explore and bench): each model given is run, in that order.</summary>
    private static Option<string[]> MemoryOption(string defaults) => new("--memory")
    {
        Description = $"sc (sequential consistency) or lkmm (loads may read older stores where the Linux-kernel memory model allows it); repeatable ({defaults})",
    };

    /// <summary>The valid names of an option, for its help: "a, b, c (vmalock list describes each)".</summary>
    private static string Names(IEnumerable<string> names) => $"{string.Join(", ", names)} ('vmalock list' describes each)";

    /// <summary>Runs a verb; any failure becomes one line and its exit code (<see cref="Unexpected"/>).</summary>
    private static int Guard(TextWriter error, bool verbose, Func<int> verb)
    {
        try
        {
            return verb();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"vmalock: {OneLine(e.Message)}");
            return ExitCodes.BadInput;
        }
        catch (Exception e)
        {
            return Unexpected(e, error, verbose);
        }
    }
}
