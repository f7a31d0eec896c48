using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Coyote;
using VmaLockVerify.Harness.Exploration;

namespace VmaLockVerify.Harness.Cli;

/// <summary>
/// One scenario × generation of the main job against Coyote's floor of the same shape: the
/// operations and steps per iteration of each, their iterations per second, and where the time
/// goes. <paramref name="Ratio"/>: the port's iterations per second over the floor's (wall
/// time); <paramref name="CpuRatio"/>: the floor's CPU time per iteration over the port's (this
/// process's, all threads: steadier than wall time on a loaded machine).
/// <paramref name="FixedMsPerIteration"/>: the floor with the same operations and no scheduling
/// points of its own; the per-step costs are what the floor and the port spend above it, per step.
/// </summary>
public sealed record ThroughputPair(
    string Scenario, string Generation, string Memory,
    double Operations, double Steps, double FloorOperations, double FloorSteps,
    long PortIterations, double PortSeconds, long FloorIterations, double FloorSeconds,
    double PortIterationsPerSecond, double FloorIterationsPerSecond, double Ratio,
    double PortCpuMsPerIteration, double FloorCpuMsPerIteration, double CpuRatio,
    double FixedMsPerIteration, double FloorUsPerStep, double PortUsPerStep);

/// <summary>Coyote's fixed cost: the floor with <paramref name="Operations"/> operations and no scheduling points of its own.</summary>
public sealed record ThroughputFixed(int Operations, double Steps, long Iterations, double Seconds, double MsPerIteration);

/// <summary>
/// One configuration of the scaling measurement: <paramref name="Work"/> (port, floor, cpu) done
/// by <paramref name="Engines"/> engines side by side in each of <paramref name="Processes"/>
/// processes (0: in the bench's own process; else child vmalock processes, one shard each),
/// under <paramref name="Setting"/> (the runtime's defaults, or the environment variable the
/// child processes were started with).
/// </summary>
public sealed record ThroughputScaling(string Work, int Engines, int Processes, string Setting, long Iterations, double Seconds, double Speedup);

/// <summary>One Coyote setting measured against vmalock's: the floor and the port of one pair, each with and without it.</summary>
public sealed record ThroughputSetting(string Setting, string Work, long Iterations, double Seconds, double IterationsPerSecond, double Change);

/// <summary>What vmalock bench --throughput measured, and on what.</summary>
public sealed record ThroughputReport(
    string Format, string Command, string Machine, string Build, string Runtime, string CoyoteVersion, int Rounds, uint Iterations, double TotalSeconds,
    IReadOnlyList<ThroughputPair> Pairs, IReadOnlyList<ThroughputFixed> Fixed, IReadOnlyList<ThroughputScaling> Scaling, IReadOnlyList<ThroughputSetting> Settings);

/// <summary>
/// vmalock bench --throughput: how fast the port runs against Coyote's own floor, and how the
/// work scales across engines and processes. Everything is measured in one process, in rounds,
/// with the configurations interleaved inside each round, so that machine noise hits them alike;
/// the figures are the sums over the rounds. A measurement, not a test.
/// </summary>
public static class ThroughputBench
{
    /// <summary>The generation whose main-job runs are the scaling measurement's work (the newest).</summary>
    public const string ScalingGeneration = "6.15";

    /// <summary>
    /// The runtime settings the scaling measurement also runs its process work under, each in a
    /// child process (not with --quick).
    /// </summary>
    /// <remarks>
    /// vmalock's runtime configuration turns the JIT's profile-guided tier off and sets the thread
    /// pool's spin limit to 0 (Directory.Build.props); the environment overrides both, so their rows
    /// measure the runtime's defaults. DOTNET_PROCESSOR_COUNT=1 makes every wait block at once (no
    /// spinning in ManualResetEventSlim, SpinWait, the thread pool or monitors).
    /// </remarks>
    public static readonly IReadOnlyList<string> RuntimeSettings =
        ["DOTNET_gcServer=1", "DOTNET_gcConcurrent=0", "DOTNET_TieredPGO=1", "DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=70", "DOTNET_PROCESSOR_COUNT=1"];

    public static int Run(bool quick, int? rounds, uint? iterations, string? jsonPath, TextWriter output)
    {
        var r = rounds ?? (quick ? 1 : 3);
        var n = iterations ?? (quick ? 20u : 60u);
        if (r is < 1 or > 100)
        {
            throw new HarnessException(ExitCodes.BadInput, $"--rounds must be 1..100, not {r}");
        }

        if (n is < 2 or > 100_000)
        {
            throw new HarnessException(ExitCodes.BadInput, $"--budget must be 2..100000 with --throughput, not {n}");
        }

        OutputPaths.CheckFile("--json", jsonPath);
        RewriteCheck.EnsureRewritten(RewriteCheck.ControlledAssemblies);
        var command = $"dotnet run -c Release --project Harness -- bench --throughput{(quick ? " --quick" : string.Empty)} --rounds {r} --budget {n}";
        var machine = $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}";
        output.WriteLine($"vmalock bench --throughput: {r} round(s), {n} iterations per measurement; {machine}");
        output.WriteLine($"build: {Build}; runtime: {RuntimeDescription}; Coyote {Traces.TraceFile.RunningCoyoteVersion}; load average at the start: {LoadAverage}");
        if (Build != "Release")
        {
            output.WriteLine("note: not the Release build; the figures of record are from `dotnet run -c Release --project Harness -- bench --throughput`");
        }

        output.Flush();
        var clock = Stopwatch.StartNew();
        var pairs = ExploreCommand.PlanOf(Options(n, null)).Runs;
        var (pairRows, fixedRows) = MeasurePairs(pairs, r, n, output);
        var settings = MeasureSettings(pairs, r, n, output);
        var scaling = MeasureScaling(r, n, quick ? [] : RuntimeSettings, output);
        var report = new ThroughputReport("vmalock-throughput/1", command, machine, Build, RuntimeDescription, Traces.TraceFile.RunningCoyoteVersion, r, n,
            Math.Round(clock.Elapsed.TotalSeconds, 1), pairRows, fixedRows, scaling, settings);
        output.Write(Render(report));
        output.WriteLine($"load average at the end: {LoadAverage}");
        if (jsonPath is not null)
        {
            OutputPaths.Write("--json", jsonPath, () => File.WriteAllText(
                jsonPath, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }) + "\n"));
            output.WriteLine($"wrote {jsonPath}");
        }

        return ExitCodes.Clean;
    }

    /// <summary>The machine's 1, 5 and 15-minute load averages (Linux), or "unknown": how busy the cores were with other work.</summary>
    public static string LoadAverage =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    /// <summary>"Release" when the harness was compiled with optimizations, else "Debug".</summary>
    public static string Build =>
        typeof(ThroughputBench).Assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled == true ? "Debug" : "Release";

    /// <summary>The garbage collector's mode and the JIT's tiering, as this process runs.</summary>
    public static string RuntimeDescription
    {
        get
        {
            var pgo = Environment.GetEnvironmentVariable("DOTNET_TieredPGO") is { } variable
                ? variable != "0"
                : !string.Equals(AppContext.GetData("System.Runtime.TieredPGO")?.ToString(), "false", StringComparison.OrdinalIgnoreCase);
            var spin = Environment.GetEnvironmentVariable("DOTNET_ThreadPool_UnfairSemaphoreSpinLimit")
                ?? AppContext.GetData("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit")?.ToString() ?? "70";
            return $"{(GCSettings.IsServerGC ? "server" : "workstation")} GC, {(GCSettings.LatencyMode == GCLatencyMode.Batch ? "non-concurrent" : "concurrent")}, " +
                $"{(pgo ? "tiered PGO" : "no tiered PGO")}, thread-pool spin limit {spin}";
        }
    }

    /// <summary>
    /// The main job's runs with <paramref name="iterations"/> each (every scenario on every
    /// generation under its default model), or those of one <paramref name="generation"/>.
    /// </summary>
    private static ExploreOptions Options(uint iterations, string? generation) =>
        new([], generation, null, [ExploreOptions.DefaultStrategy], iterations, RunRequest.DefaultMaxSteps, 1, 0, RunRequest.DefaultReaders, [],
            Path.Combine(Path.GetTempPath(), "vmalock-throughput-traces"), null);

    /// <summary>
    /// Each pair's port against its floor, then the floor's fixed cost per operation count, in
    /// <paramref name="rounds"/> rounds. A first, shorter round (not counted) warms the JIT and
    /// measures each pair's shape and how many steps a floor takes with no points of its own.
    /// </summary>
    private static (IReadOnlyList<ThroughputPair> Pairs, IReadOnlyList<ThroughputFixed> Fixed) MeasurePairs(
        IReadOnlyList<RunRequest> pairs, int rounds, uint iterations, TextWriter output)
    {
        var port = pairs.Select(_ => new Sum()).ToArray();
        var floor = pairs.Select(_ => new Sum()).ToArray();
        var fixedCost = new SortedDictionary<int, Sum> { [1] = new() };
        var warmup = Math.Max(2u, iterations / 4);
        output.WriteLine($"pairs: {pairs.Count} scenario x generation runs of the main job, each against Coyote's floor of its shape; warming up ({warmup} iterations each)");
        output.Flush();
        var warm = pairs.Select(p => Explorer.Run(p with { Iterations = warmup })).ToList();
        var bare = new Dictionary<int, double>();
        double BareSteps(int operations)
        {
            if (!bare.TryGetValue(operations, out var steps))
            {
                var result = RunFloor(pairs[0], new CoyoteFloor(operations, 0), warmup);
                steps = bare[operations] = (double)result.Steps / result.IterationsRun;
            }

            return steps;
        }

        CoyoteFloor FloorOf(int i, RunResult sample)
        {
            var operations = Math.Max(1, (int)Math.Round((double)sample.ControlledOperations / sample.IterationsRun));
            var steps = (double)sample.Steps / sample.IterationsRun;
            return new CoyoteFloor(operations, Math.Max(0, (int)Math.Round(steps - BareSteps(operations))));
        }

        var shapes = warm.Select((w, i) => FloorOf(i, w)).ToArray();
        foreach (var shape in shapes)
        {
            fixedCost.TryAdd(shape.Operations, new Sum());
        }

        for (var round = 1; round <= rounds; round++)
        {
            output.WriteLine($"pairs: round {round} of {rounds}");
            output.Flush();
            for (var i = 0; i < pairs.Count; i++)
            {
                var pair = pairs[i] with { Iterations = iterations };
                Check(port[i].Add(() => Explorer.Run(pair)));
                var shape = shapes[i];
                floor[i].Add(() => RunFloor(pair, shape, iterations));
            }

            foreach (var (operations, sum) in fixedCost)
            {
                sum.Add(() => RunFloor(pairs[0], new CoyoteFloor(operations, 0), iterations));
            }
        }

        var rows = pairs.Select((p, i) =>
        {
            var bareOps = fixedCost[shapes[i].Operations];
            return new ThroughputPair(
                p.Scenario.Name, p.Generation.Name, p.Memory,
                Round(port[i].PerIteration(port[i].Operations), 2), Round(port[i].PerIteration(port[i].Steps), 1),
                Round(floor[i].PerIteration(floor[i].Operations), 2), Round(floor[i].PerIteration(floor[i].Steps), 1),
                port[i].Iterations, Round(port[i].Seconds, 3), floor[i].Iterations, Round(floor[i].Seconds, 3),
                Round(port[i].Rate, 1), Round(floor[i].Rate, 1), Round(port[i].Rate / floor[i].Rate, 3),
                Round(port[i].CpuMsPerIteration, 3), Round(floor[i].CpuMsPerIteration, 3), Round(floor[i].CpuMsPerIteration / port[i].CpuMsPerIteration, 3),
                Round(bareOps.MsPerIteration, 3),
                Round(PerStepUs(floor[i], bareOps), 2),
                Round(PerStepUs(port[i], bareOps), 2));
        }).ToList();
        var fixedRows = fixedCost.Select(f => new ThroughputFixed(f.Key, Round(f.Value.PerIteration(f.Value.Steps), 1), f.Value.Iterations, Round(f.Value.Seconds, 3), Round(f.Value.MsPerIteration, 3))).ToList();
        return (rows, fixedRows);
    }

    /// <summary>What <paramref name="work"/> spends per step above <paramref name="bare"/> (the same operations and no points of their own), in microseconds.</summary>
    private static double PerStepUs(Sum work, Sum bare)
    {
        var steps = work.PerIteration(work.Steps) - bare.PerIteration(bare.Steps);
        return steps <= 0 ? 0 : (work.MsPerIteration - bare.MsPerIteration) * 1000 / steps;
    }

    /// <summary>
    /// Coyote settings that would lower its cost but change what a run checks, so vmalock does not
    /// set them: measured for what they would save.
    /// </summary>
    public static readonly IReadOnlyList<(string Name, string Why, Func<Configuration, Configuration> Apply)> NotApplied =
    [
        ("WithLockAccessRaceCheckingEnabled(false)", "fewer scheduling points and operations: every saved trace would go stale", c => c.WithLockAccessRaceCheckingEnabled(false)),
    ];

    /// <summary>
    /// The Coyote settings vmalock sets for speed, each measured against Coyote's default on the
    /// floor and the port of the first pair (interleaved, in every round).
    /// </summary>
    private static IReadOnlyList<ThroughputSetting> MeasureSettings(IReadOnlyList<RunRequest> pairs, int rounds, uint iterations, TextWriter output)
    {
        var pair = pairs[0] with { Iterations = iterations };
        var shape = new CoyoteFloor(4, 120);
        (string Name, Func<Configuration, Configuration>? Tune)[] settings =
        [
            ("vmalock's settings", null),
            .. Explorer.SpeedSettings.Select(s => ($"without {s.Name}", (Func<Configuration, Configuration>?)s.Undo)),
            .. NotApplied.Select(s => ($"{s.Name} (not applied: {s.Why})", (Func<Configuration, Configuration>?)s.Apply)),
        ];
        var sums = settings.Select(_ => (Floor: new Sum(), Port: new Sum())).ToArray();
        output.WriteLine($"settings: {settings.Length - 1} Coyote setting(s), each on the floor ({shape.Operations} operations, {shape.Interleaves} points) and on {pair.Label}");
        output.Flush();
        for (var round = 1; round <= rounds; round++)
        {
            for (var s = 0; s < settings.Length; s++)
            {
                var tune = settings[s].Tune;
                sums[s].Floor.Add(() => Explorer.RunBody(pair, shape.Iteration, tune: tune));
                sums[s].Port.Add(() => Explorer.Run(pair, tune: tune));
            }
        }

        return settings.SelectMany((s, i) => new[]
        {
            new ThroughputSetting(s.Name, "floor", sums[i].Floor.Iterations, Round(sums[i].Floor.Seconds, 3), Round(sums[i].Floor.Rate, 1), Round(sums[i].Floor.Rate / sums[0].Floor.Rate, 3)),
            new ThroughputSetting(s.Name, "port", sums[i].Port.Iterations, Round(sums[i].Port.Seconds, 3), Round(sums[i].Port.Rate, 1), Round(sums[i].Port.Rate / sums[0].Port.Rate, 3)),
        }).ToList();
    }

    /// <summary>
    /// The same work with 1, 2, N and 2N engines (N: the cores), and in N separate processes: the
    /// port (the main job's runs of <see cref="ScalingGeneration"/>), its floor (one floor per
    /// run, of that run's shape) and plain CPU work (what the machine gives). The process work
    /// also runs under each of <paramref name="runtimeSettings"/>.
    /// </summary>
    private static IReadOnlyList<ThroughputScaling> MeasureScaling(int rounds, uint iterations, IReadOnlyList<string> runtimeSettings, TextWriter output)
    {
        var runs = ExploreCommand.PlanOf(Options(iterations, ScalingGeneration)).Runs;
        var shapes = runs.Select(run =>
        {
            var sample = Explorer.Run(run with { Iterations = Math.Max(2u, iterations / 4) });
            var bare = RunFloor(run, new CoyoteFloor(Math.Max(1, (int)Math.Round((double)sample.ControlledOperations / sample.IterationsRun)), 0), 2);
            var operations = (int)Math.Round((double)bare.ControlledOperations / bare.IterationsRun);
            return new CoyoteFloor(operations, Math.Max(0, (int)Math.Round(((double)sample.Steps / sample.IterationsRun) - ((double)bare.Steps / bare.IterationsRun))));
        }).ToList();
        var cpuPiece = CpuPiece(runs.Count);
        var cores = Environment.ProcessorCount;
        int[] engines = [.. new[] { 1, 2, cores, 2 * cores }.Distinct().Order()];
        var configurations = new List<(string Work, int Engines, int Processes, string Setting, Func<(long Iterations, double Seconds)> Measure)>();
        foreach (var k in engines)
        {
            configurations.Add(("port", k, 0, "default", () => Timed(() => SideBySide.Run(runs.Count, k, i => Explorer.Run(runs[i])).Sum(r => r.IterationsRun))));
            configurations.Add(("floor", k, 0, "default", () => Timed(() => SideBySide.Run(runs.Count, k, i => RunFloor(runs[i], shapes[i], iterations)).Sum(r => r.IterationsRun))));
            configurations.Add(("cpu", k, 0, "default", () => Timed(() => SideBySide.Run(runs.Count, k, _ => cpuPiece()).Sum())));
        }

        // Child processes: one process with one engine (the baseline, start-up included), one
        // with N engines, and N processes with one engine each; then one and N engines under
        // each runtime setting.
        configurations.Add(("port", 1, 1, "default", () => Processes(1, 1, iterations, "default")));
        configurations.Add(("port", cores, 1, "default", () => Processes(1, cores, iterations, "default")));
        configurations.Add(("port", 1, cores, "default", () => Processes(cores, 1, iterations, "default")));
        foreach (var setting in runtimeSettings)
        {
            configurations.Add(("port", 1, 1, setting, () => Processes(1, 1, iterations, setting)));
            configurations.Add(("port", cores, 1, setting, () => Processes(1, cores, iterations, setting)));
        }

        output.WriteLine($"scaling: {configurations.Count} configurations of the same work ({runs.Count} runs of {ScalingGeneration}, {iterations} iterations each)");
        output.Flush();
        var sums = configurations.Select(_ => (Iterations: 0L, Seconds: 0.0)).ToArray();
        for (var round = 1; round <= rounds; round++)
        {
            // Each round starts one configuration further, so no configuration always comes first.
            for (var j = 0; j < configurations.Count; j++)
            {
                var c = (j + round - 1) % configurations.Count;
                var (done, seconds) = configurations[c].Measure();
                sums[c] = (sums[c].Iterations + done, sums[c].Seconds + seconds);
            }
        }

        return configurations.Select((c, i) =>
        {
            var baseline = configurations.FindIndex(b => b.Work == c.Work && b.Engines == 1 && Math.Min(b.Processes, 1) == Math.Min(c.Processes, 1) && b.Processes <= 1 && b.Setting == c.Setting);
            return new ThroughputScaling(c.Work, c.Engines, c.Processes, c.Setting, sums[i].Iterations, Round(sums[i].Seconds, 3), Round(sums[baseline].Seconds / sums[i].Seconds, 2));
        }).ToList();
    }

    /// <summary>
    /// The scaling work in <paramref name="count"/> separate vmalock processes, each one shard
    /// with <paramref name="engines"/> engines, started at once under <paramref name="setting"/>;
    /// their wall time, start-up included. A process that fails fails the bench (exit 3).
    /// </summary>
    private static (long Iterations, double Seconds) Processes(int count, int engines, uint iterations, string setting)
    {
        var vmalock = Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "vmalock.exe" : "vmalock");
        var clock = Stopwatch.StartNew();
        var processes = Enumerable.Range(1, count).Select(shard =>
        {
            var start = new ProcessStartInfo(vmalock)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in new[]
            {
                // The sampled runs only (the main job's exhaustive runs are not the work measured);
                // each process checks and writes its own traces folder: processes that check one
                // folder that does not exist yet race in creating it and removing it again.
                "explore", "--strategy", ExploreOptions.DefaultStrategy, "--generation", ScalingGeneration, "--iterations", iterations.ToString(CultureInfo.InvariantCulture),
                "--parallel", engines.ToString(CultureInfo.InvariantCulture),
                "--shard", $"{shard}/{count}", "--traces-dir", Path.Combine(Path.GetTempPath(), $"vmalock-throughput-traces-{shard}"),
            })
            {
                start.ArgumentList.Add(argument);
            }

            if (setting.Split('=') is [var name, var value])
            {
                start.Environment[name] = value;
            }

            return Process.Start(start) ?? throw new HarnessException(ExitCodes.NotHonest, $"could not start {vmalock}");
        }).ToList();
        long done = 0;
        foreach (var process in processes)
        {
            var text = process.StandardOutput.ReadToEnd();
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != ExitCodes.Clean)
            {
                throw new HarnessException(ExitCodes.NotHonest, $"a scaling process exited {process.ExitCode}: {CommandLine.OneLine(error.Length > 0 ? error : text)}");
            }

            var last = text.Split('\n').LastOrDefault(l => l.StartsWith("no invariant violated: ", StringComparison.Ordinal)) ?? string.Empty;
            done += long.TryParse(last.Split(' ').ElementAtOrDefault(3), out var it) ? it : 0;
            process.Dispose();
        }

        return (done, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Plain CPU work sized like one port run on one engine: what the machine gives when nothing waits.</summary>
    private static Func<long> CpuPiece(int pieces)
    {
        static long Spin(long rounds)
        {
            ulong x = 88172645463325252UL;
            for (long i = 0; i < rounds; i++)
            {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
            }

            return (long)(x & 1);
        }

        var clock = Stopwatch.StartNew();
        Spin(50_000_000);
        var perRound = clock.Elapsed.TotalSeconds / 50_000_000;
        var rounds = (long)(0.2 / perRound); // about 0.2 s a piece: the bench's quick port runs take about that long
        return () => Spin(rounds) + 1;
    }

    private static (long Iterations, double Seconds) Timed(Func<long> work)
    {
        var clock = Stopwatch.StartNew();
        var done = work();
        return (done, clock.Elapsed.TotalSeconds);
    }

    /// <summary>The floor of <paramref name="shape"/> under the engine settings of <paramref name="like"/>, for <paramref name="iterations"/>.</summary>
    private static RunResult RunFloor(RunRequest like, CoyoteFloor shape, uint iterations)
    {
        var result = Explorer.RunBody(like with { Iterations = iterations }, shape.Iteration);
        Check(result);
        return result;
    }

    /// <summary>A measured run must be clean and fully controlled: a finding in the bench is a harness failure (exit 3).</summary>
    private static void Check(RunResult result)
    {
        if (result.Bug is not null || result.Uncontrolled.Count > 0)
        {
            throw new HarnessException(
                ExitCodes.NotHonest,
                $"a throughput run of {result.Request.Label} was not clean: {result.Bug?.Invariant ?? "uncontrolled"}: {result.Bug?.Message ?? result.Uncontrolled[0]}");
        }
    }

    private static double Round(double value, int digits) => double.IsFinite(value) ? Math.Round(value, digits) : 0;

    /// <summary>The tables: the pairs, the fixed cost, the settings, the scaling.</summary>
    public static string Render(ThroughputReport report)
    {
        static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
        var text = new StringBuilder();
        text.AppendLine();
        text.Append(SummaryTable.Columns(
            ["scenario", "gen", "memory", "ops/it", "steps/it", "floor ops/it", "floor steps/it", "port it/s", "floor it/s", "port/floor", "port cpu ms/it", "floor cpu ms/it", "cpu port/floor", "fixed ms/it", "floor us/step", "port us/step"],
            [.. report.Pairs.Select(p => new[]
            {
                p.Scenario, p.Generation, p.Memory, F(p.Operations, "F1"), F(p.Steps, "F0"), F(p.FloorOperations, "F1"), F(p.FloorSteps, "F0"),
                F(p.PortIterationsPerSecond, "F0"), F(p.FloorIterationsPerSecond, "F0"), F(p.Ratio * 100, "F0") + "%",
                F(p.PortCpuMsPerIteration, "F2"), F(p.FloorCpuMsPerIteration, "F2"), F(p.CpuRatio * 100, "F0") + "%",
                F(p.FixedMsPerIteration, "F2"), F(p.FloorUsPerStep, "F1"), F(p.PortUsPerStep, "F1"),
            })]));
        var portSeconds = report.Pairs.Sum(p => p.PortSeconds);
        var floorSeconds = report.Pairs.Sum(p => p.FloorSeconds * p.PortIterations / Math.Max(1, p.FloorIterations));
        var portCpu = report.Pairs.Sum(p => p.PortCpuMsPerIteration * p.PortIterations);
        var floorCpu = report.Pairs.Sum(p => p.FloorCpuMsPerIteration * p.PortIterations);
        var lowest = report.Pairs.MinBy(p => p.Ratio);
        var lowestCpu = report.Pairs.MinBy(p => p.CpuRatio);
        text.AppendLine();
        text.AppendLine("cpu: this process's CPU time (all threads) per iteration; fixed ms/it: the floor with the pair's operations and no scheduling points of its own;");
        text.AppendLine("us/step: what the floor and the port spend per step above that.");
        text.AppendLine($"all pairs: the port at {F(floorSeconds / Math.Max(portSeconds, 1e-9) * 100, "F0")}% of its floor's speed (wall time summed over the pairs), " +
            $"{F(floorCpu / Math.Max(portCpu, 1e-9) * 100, "F0")}% in CPU time; " +
            (lowest is null || lowestCpu is null ? string.Empty
                : $"lowest {lowest.Scenario} {lowest.Generation} at {F(lowest.Ratio * 100, "F0")}% (wall), {lowestCpu.Scenario} {lowestCpu.Generation} at {F(lowestCpu.CpuRatio * 100, "F0")}% (CPU)"));
        text.AppendLine("Coyote's fixed cost per iteration: " + string.Join(
            "; ", report.Fixed.Select(f => $"{f.Operations} operation(s) ({F(f.Steps, "F0")} steps): {F(f.MsPerIteration, "F2")} ms")));

        text.AppendLine();
        text.Append(SummaryTable.Columns(
            ["setting", "work", "iterations", "seconds", "it/s", "change"],
            [.. report.Settings.Select(s => new[] { s.Setting, s.Work, s.Iterations.ToString(CultureInfo.InvariantCulture), F(s.Seconds, "F2"), F(s.IterationsPerSecond, "F0"), F(s.Change * 100, "F0") + "%" })]));

        text.AppendLine();
        text.Append(SummaryTable.Columns(
            ["work", "engines", "processes", "setting", "iterations", "seconds", "speedup"],
            [.. report.Scaling.Select(s => new[]
            {
                s.Work, s.Engines.ToString(CultureInfo.InvariantCulture), s.Processes == 0 ? "this one" : s.Processes.ToString(CultureInfo.InvariantCulture),
                s.Setting, s.Work == "cpu" ? "-" : s.Iterations.ToString(CultureInfo.InvariantCulture), F(s.Seconds, "F2"), F(s.Speedup, "F2") + "x",
            })]));
        text.AppendLine("speedup: against the same work with one engine, in this process or in one child process under the same setting.");
        text.AppendLine($"{report.TotalSeconds} s in all; {report.Command}");
        return text.ToString();
    }

    /// <summary>Measurements of one configuration added up over the rounds.</summary>
    private sealed class Sum
    {
        public long Iterations { get; private set; }

        public double Seconds { get; private set; }

        public double CpuSeconds { get; private set; }

        public long Operations { get; private set; }

        public long Steps { get; private set; }

        public double Rate => this.Iterations / Math.Max(this.Seconds, 1e-9);

        public double MsPerIteration => this.Seconds * 1000 / Math.Max(1, this.Iterations);

        public double CpuMsPerIteration => this.CpuSeconds * 1000 / Math.Max(1, this.Iterations);

        public double PerIteration(long total) => (double)total / Math.Max(1, this.Iterations);

        /// <summary>Runs <paramref name="run"/> (alone in this process) and adds what it did, with the process's CPU time meanwhile.</summary>
        public RunResult Add(Func<RunResult> run)
        {
            var before = Environment.CpuUsage.TotalTime;
            var result = run();
            this.CpuSeconds += (Environment.CpuUsage.TotalTime - before).TotalSeconds;
            this.Add(result);
            return result;
        }

        public void Add(RunResult result)
        {
            this.Iterations += result.IterationsRun;
            this.Seconds += result.Elapsed.TotalSeconds;
            this.Operations += result.ControlledOperations;
            this.Steps += result.Steps;
        }
    }
}
