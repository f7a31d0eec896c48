using System.Text.Json;
using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Harness.Scenarios;
using VmaLockVerify.Harness.Traces;
using VmaLockVerify.Implementation.VmaLock;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Cli;

/// <summary>vmalock explore: plans the runs, checks the harness is honest, runs the engines, reports.</summary>
public static class ExploreCommand
{
    public static int Run(ExploreOptions options, TextWriter output)
    {
        var requests = Plan(options);
        RewriteCheck.EnsureRewritten(RewriteCheck.ControlledAssemblies);

        var engines = Math.Max(1, Math.Min(options.Parallel ?? Environment.ProcessorCount, requests.Count));
        output.WriteLine(
            $"vmalock explore: {requests.Count} run(s), {requests[0].Iterations} iterations each, strategy {options.Strategy}, seed {options.Seed}, " +
            $"{options.Readers} fault thread(s), {engines} engine(s) side by side");
        output.WriteLine(
            $"Coyote {TraceFile.RunningCoyoteVersion}; rewritten: {string.Join(", ", RewriteCheck.ControlledAssemblies.Select(a => a.GetName().Name))}; " +
            $"invariants: {string.Join(", ", requests[0].Invariants.Select(i => i.Name))}");
        output.Flush();

        var results = new RunResult[requests.Count];
        Parallel.For(0, requests.Count, new ParallelOptions { MaxDegreeOfParallelism = engines }, i => results[i] = Explorer.Run(requests[i]));

        output.Write(SummaryTable.Render(results));
        var uncontrolled = results.Where(r => r.Uncontrolled.Count > 0 || r.Bug?.Invariant == Finding.Uncontrolled).ToList();
        if (uncontrolled.Count > 0)
        {
            var what = uncontrolled.SelectMany(r => r.Uncontrolled).Concat(uncontrolled.Select(r => r.Bug?.Message ?? string.Empty)).First(s => s.Length > 0);
            throw new HarnessException(ExitCodes.NotHonest, $"uncontrolled concurrency in {uncontrolled[0].Request.Label}: {what}");
        }

        var buggy = results.Where(r => r.Bug is not null).ToList();
        var written = new List<(RunResult Result, string Path)>();
        foreach (var result in buggy)
        {
            var path = Path.Combine(options.TracesDir, TraceFile.FileNameFor(result.Request));
            TraceFile.From(result).Save(path);
            written.Add((result, path));
            output.WriteLine();
            output.WriteLine($"BUG in {result.Request.Label}: {result.Bug!.Invariant}");
            output.WriteLine($"  {result.Bug.Message}");
            output.WriteLine($"  trace:  {path}");
            output.WriteLine($"  replay: dotnet run --project Harness -- replay {path}");
        }

        if (options.JsonPath is not null)
        {
            WriteJson(options.JsonPath, results, written);
        }

        if (options.JunitPath is not null)
        {
            JunitReport.Write(options.JunitPath, results, written.ToDictionary(w => w.Result, w => w.Path));
        }

        var iterations = results.Sum(r => r.IterationsRun);
        output.WriteLine();
        output.WriteLine(buggy.Count == 0
            ? $"no invariant violated: {iterations} iterations over {results.Length} run(s); uncontrolled invocations: 0"
            : $"{buggy.Count} of {results.Length} run(s) found a bug ({iterations} iterations)");
        return buggy.Count == 0 ? ExitCodes.Clean : ExitCodes.BugFound;
    }

    /// <summary>Turns the options into engine runs, validating every name (exit 2 on an unknown one).</summary>
    public static IReadOnlyList<RunRequest> Plan(ExploreOptions options)
    {
        if (options.Readers is < 1 or > 4)
        {
            throw new HarnessException(ExitCodes.BadInput, $"--readers must be 1..4, not {options.Readers}");
        }

        if (options.Iterations is 0)
        {
            throw new HarnessException(ExitCodes.BadInput, "--iterations must be at least 1");
        }

        if (options.MaxSteps < 10)
        {
            throw new HarnessException(ExitCodes.BadInput, $"--max-steps must be at least 10, not {options.MaxSteps}");
        }

        if (options.Parallel is < 1 or > 64)
        {
            throw new HarnessException(ExitCodes.BadInput, $"--parallel must be 1..64, not {options.Parallel}");
        }

        if (options.TimeoutSeconds < 0)
        {
            throw new HarnessException(ExitCodes.BadInput, "--timeout must not be negative");
        }

        foreach (var (option, path) in new[] { ("--json", options.JsonPath), ("--junit", options.JunitPath) })
        {
            if (path is not null && Path.GetDirectoryName(Path.GetFullPath(path)) is { } directory && !Directory.Exists(directory))
            {
                throw new HarnessException(ExitCodes.BadInput, $"{option} {path}: directory {directory} does not exist");
            }
        }

        if (!Strategies.IsKnown(options.Strategy))
        {
            throw Unknown("strategy", options.Strategy, Strategies.All.Select(s => s.Name));
        }

        Mutant? mutant = null;
        if (options.Mutant is not null)
        {
            mutant = MutantRegistry.Find(options.Mutant) ?? throw Unknown("mutant", options.Mutant, MutantRegistry.All.Select(m => m.Name));
        }

        var scenarios = options.Scenarios.Count > 0
            ? options.Scenarios.Select(n => ScenarioRegistry.Find(n) ?? throw Unknown("scenario", n, ScenarioRegistry.All.Select(s => s.Name))).Distinct().ToList()
            : mutant is not null ? [ScenarioRegistry.Find(mutant.Scenario)!] : [.. ScenarioRegistry.All];

        var generations = options.Generation is not null
            ? [Generations.Find(options.Generation) ?? throw Unknown("generation", options.Generation, Generations.All.Select(g => g.Name))]
            : Generations.All.ToList();
        if (mutant is not null)
        {
            generations = generations.Where(mutant.AppliesTo).ToList();
            if (generations.Count == 0)
            {
                throw new HarnessException(ExitCodes.BadInput, $"mutant '{mutant.Name}' does not exist in generation {options.Generation}");
            }
        }

        var invariants = options.Invariants.Count > 0
            ? options.Invariants.Select(n => InvariantRegistry.Find(n) ?? throw Unknown("invariant", n, InvariantRegistry.All.Select(i => i.Name))).Distinct().ToList()
            : [.. InvariantRegistry.All];

        return
        [
            .. from scenario in scenarios
               from generation in generations
               select new RunRequest(scenario, generation, mutant, options.Strategy, options.Iterations ?? ExploreOptions.DefaultIterations,
                   options.MaxSteps, options.Seed, options.TimeoutSeconds, options.Readers, invariants),
        ];
    }

    private static HarnessException Unknown(string what, string name, IEnumerable<string> known) =>
        new(ExitCodes.BadInput, $"unknown {what} '{name}' (known: {string.Join(", ", known)})");

    private static void WriteJson(string path, IReadOnlyList<RunResult> results, List<(RunResult Result, string Path)> traces)
    {
        var document = new
        {
            coyoteVersion = TraceFile.RunningCoyoteVersion,
            runs = results.Select(r => new
            {
                scenario = r.Request.Scenario.Name,
                generation = r.Request.Generation.Name,
                mutant = r.Request.Mutant?.Name,
                strategy = r.Request.Strategy,
                seed = r.Request.Seed,
                readers = r.Request.Readers,
                iterationsRequested = r.Request.Iterations,
                iterationsRun = r.IterationsRun,
                seconds = Math.Round(r.Elapsed.TotalSeconds, 3),
                iterationsPerSecond = Math.Round(r.IterationsPerSecond, 1),
                maxStepsInAnIteration = r.MaxStepsInAnIteration,
                iterationsAtStepBound = r.IterationsAtStepBound,
                maxConcurrency = r.MaxConcurrency,
                controlledOperations = r.ControlledOperations,
                uncontrolledInvocations = r.Uncontrolled,
                bug = r.Bug is null ? null : new { invariant = r.Bug.Invariant, message = r.Bug.Message, trace = traces.FirstOrDefault(t => t.Result == r).Path },
            }),
        };
        File.WriteAllText(path, JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
