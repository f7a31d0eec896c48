using System.CommandLine;
using VmaLockVerify.Harness.Exploration;

namespace VmaLockVerify.Harness.Cli;

/// <summary>
/// The vmalock command line, on System.CommandLine: the .NET team's parser, POSIX-style options,
/// typed values and generated help, with no rendering dependencies. Every failure is one line on
/// standard error and a distinct exit code (<see cref="ExitCodes"/>).
/// </summary>
public static class CommandLine
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = Build(output, error);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // An unknown word explains more than the missing command it caused.
            var first = parsed.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? parsed.Errors[0];
            error.WriteLine($"vmalock: {first.Message} (see --help)");
            return ExitCodes.BadInput;
        }

        return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
    }

    private static RootCommand Build(TextWriter output, TextWriter error)
    {
        var scenario = new Option<string[]>("--scenario") { Description = "scenario to explore (repeatable; default: all, or the mutant's own)" };
        var generation = new Option<string?>("--generation") { Description = "protocol generation (default: all)" };
        var mutant = new Option<string?>("--mutant") { Description = "explore a mutant instead of the correct port" };
        var strategy = new Option<string>("--strategy") { Description = "random|pct|probabilistic|delay-bounding|qlearning|portfolio", DefaultValueFactory = _ => ExploreOptions.DefaultStrategy };
        var iterations = new Option<uint?>("--iterations") { Description = $"iterations per scenario x generation (default {ExploreOptions.DefaultIterations})" };
        var maxSteps = new Option<uint>("--max-steps") { Description = "scheduling steps per iteration before it is cut off", DefaultValueFactory = _ => Exploration.RunRequest.DefaultMaxSteps };
        var seed = new Option<uint>("--seed") { Description = "random seed of the strategy", DefaultValueFactory = _ => 1 };
        var timeout = new Option<int>("--timeout") { Description = "stop each run after this many seconds (0: no limit)", DefaultValueFactory = _ => 0 };
        var readers = new Option<int>("--readers") { Description = "page-fault threads, 1..4", DefaultValueFactory = _ => Exploration.RunRequest.DefaultReaders };
        var invariant = new Option<string[]>("--invariant") { Description = "check only this invariant (repeatable; default: all)" };
        var tracesDir = new Option<string>("--traces-dir") { Description = "where bug traces are written", DefaultValueFactory = _ => ExploreOptions.DefaultTracesDir };
        var json = new Option<string?>("--json") { Description = "also write the results as JSON to this file" };
        var shard = new Option<string?>("--shard") { Description = "run only slice I of N of the runs (I/N), for a CI matrix; merge the slices' --json with 'vmalock merge'" };
        var parallel = new Option<int?>("--parallel") { Description = "engines run side by side, each on its own runs (default: the number of cores); results do not depend on it" };
        var junit = new Option<string?>("--junit") { Description = "also write a JUnit XML report (one test case per scenario x generation x mutant)" };
        var sarif = new Option<string?>("--sarif") { Description = "also write a SARIF 2.1.0 log (one result per bug, its interleaving as a code flow over the port's source)" };

        var mode = new Option<string>("--mode")
        {
            Description = "systematic (Coyote's controlled scheduler) or stress (real threads with random delays, the baseline; no replayable traces)",
            DefaultValueFactory = _ => ExploreOptions.Systematic,
        };
        var explore = new Command("explore", "explore interleavings under Coyote and check every invariant")
        {
            mode,
            scenario, generation, mutant, strategy, iterations, maxSteps, seed, timeout, readers, invariant, tracesDir, json, junit, sarif, parallel, shard,
        };
        explore.SetAction(p => Guard(error, () => ExploreCommand.Run(
            new ExploreOptions(
                p.GetValue(scenario) ?? [],
                p.GetValue(generation),
                p.GetValue(mutant),
                p.GetValue(strategy)!,
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
                p.GetValue(mode)!),
            output)));

        var trace = new Argument<string>("TRACE") { Description = "a trace file written by explore" };
        var format = new Option<string>("--format") { Description = "text (for terminals) or json (the same steps, for tools)", DefaultValueFactory = _ => "text" };
        var html = new Option<string?>("--html") { Description = "also write the replay as one self-contained HTML page (lanes per thread, switches, state per step) to this file" };
        var replay = new Command("replay", "replay a saved buggy schedule and print it in kernel terms") { trace, format, html };
        replay.SetAction(p => Guard(error, () => ReplayCommand.Replay(p.GetValue(trace)!, p.GetValue(format)!, p.GetValue(html), output)));

        var traces = new Argument<string[]>("TRACE") { Description = "trace files to regenerate in place", Arity = ArgumentArity.OneOrMore };
        var currentInvariants = new Option<bool>("--current-invariants")
        {
            Description = "judge with every invariant registered now instead of the ones the trace recorded (after an invariant was added)",
        };
        var regenerate = new Command("regenerate", "re-run the exploration a trace records and overwrite it (for traces made stale by a code change)") { traces, currentInvariants };
        regenerate.SetAction(p => Guard(error, () => ReplayCommand.Regenerate(p.GetValue(traces)!, p.GetValue(currentInvariants), output)));

        var results = new Argument<string[]>("RESULTS") { Description = "results files written by explore --json", Arity = ArgumentArity.OneOrMore };
        var merge = new Command("merge", "combine the --json results of several explores (the shards of one) into one report") { results };
        merge.SetAction(p => Guard(error, () => MergeCommand.Run(p.GetValue(results)!, output)));

        var toMinimize = new Argument<string>("TRACE") { Description = "a trace file written by explore" };
        var minimizedOut = new Option<string?>("-o", "--output") { Description = "write the minimised trace here (default: overwrite TRACE)" };
        var minimize = new Command("minimize", "shrink a buggy schedule to the fewest context switches (then steps) that still violate the same invariant") { toMinimize, minimizedOut };
        minimize.SetAction(p => Guard(error, () => ReplayCommand.Minimize(p.GetValue(toMinimize)!, p.GetValue(minimizedOut), output)));

        var goldenDir = new Option<string>("--dir") { Description = "the folder of saved traces", DefaultValueFactory = _ => "traces" };
        var golden = new Command("golden", "rewrite the golden renderings (DIR/golden/*.txt) the tests compare every saved trace's replay against") { goldenDir };
        golden.SetAction(p => Guard(error, () => ReplayCommand.Golden(p.GetValue(goldenDir)!, output)));

        var quick = new Option<bool>("--quick") { Description = "one seed and a 300-iteration budget: about a minute on 2 cores" };
        var seeds = new Option<int?>("--seeds") { Description = "seeds per mutant x strategy (default 5; 1 with --quick)" };
        var budget = new Option<uint?>("--budget") { Description = "iterations per run before a mutant counts as not found (default 2000; 300 with --quick)" };
        var benchJson = new Option<string?>("--json") { Description = "also write the measurements as JSON to this file" };
        var benchParallel = new Option<int?>("--parallel") { Description = "engines side by side (default: the number of cores)" };
        var bench = new Command("bench", "measure how fast each strategy finds each mutant, with the correct port as the control") { quick, seeds, budget, benchJson, benchParallel };
        bench.SetAction(p => Guard(error, () => BenchCommand.Run(p.GetValue(quick), p.GetValue(seeds), p.GetValue(budget), p.GetValue(benchJson), p.GetValue(benchParallel), output)));

        var list = new Command("list", "list scenarios, generations, mutants, invariants and strategies");
        list.SetAction(_ => Guard(error, () => ListCommand.Run(output)));

        var litmus = LitmusVerb(output, error);

        return new RootCommand("vmalock: model checking of the Linux per-VMA lock under Coyote") { explore, replay, minimize, regenerate, golden, merge, bench, list, litmus };
    }

    /// <summary>vmalock litmus FILE... [--memory sc|lkmm] [--placement insert|append] (see <see cref="LitmusCommand"/>).</summary>
    private static Command LitmusVerb(TextWriter output, TextWriter error)
    {
        var files = new Argument<string[]>("FILE") { Description = "C litmus tests (the kernel's tools/memory-model format)", Arity = ArgumentArity.OneOrMore };
        var memory = new Option<string>("--memory") { Description = "sc (plain interleaving) or lkmm (the LKMM view machine)", DefaultValueFactory = _ => LitmusCommand.DefaultMemory };
        var placement = new Option<string>("--placement") { Description = "lkmm only: where stores land in coherence order, insert (before unseen stores too) or append", DefaultValueFactory = _ => LitmusCommand.DefaultPlacement };
        var litmus = new Command("litmus", "enumerate every execution of C litmus tests and compare with their Result: lines") { files, memory, placement };
        litmus.SetAction(p => Guard(error, () => LitmusCommand.Run(p.GetValue(files)!, p.GetValue(memory)!, p.GetValue(placement)!, output)));
        return litmus;
    }

    /// <summary>Runs a verb; a <see cref="HarnessException"/> becomes one line and its exit code.</summary>
    private static int Guard(TextWriter error, Func<int> verb)
    {
        try
        {
            return verb();
        }
        catch (HarnessException e)
        {
            error.WriteLine($"vmalock: {e.Message}");
            return e.ExitCode;
        }
        catch (IOException e)
        {
            error.WriteLine($"vmalock: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (UnauthorizedAccessException e)
        {
            error.WriteLine($"vmalock: {e.Message}");
            return ExitCodes.BadInput;
        }
    }
}
