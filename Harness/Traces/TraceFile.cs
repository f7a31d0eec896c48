using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.Coyote.SystematicTesting;
using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Harness.Traces;

/// <summary>The options a trace was found with: enough to rerun the exploration that found it.</summary>
/// <paramref name="Memory"/> is the memory model (<c>lkmm</c>); null, and absent from the file, for sc.
public sealed record TraceOptions(
    string Strategy,
    uint Iterations,
    uint MaxSteps,
    uint Seed,
    int Readers,
    IReadOnlyList<string> Invariants,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Memory = null)
{
    /// <summary>An exhaustive run's preemption bound K (null, and absent from the file, for a sampling strategy).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Preemptions { get; init; }

    /// <summary>An exhaustive run's bound B on unusual choice outcomes.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Choices { get; init; }

    /// <summary>Whether an exhaustive run pruned equivalent schedules.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Reduction { get; init; }

    /// <summary>An exhaustive run's slice of its schedule tree ("2/4", explore --shard), when it explored one.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Slice { get; init; }

    /// <summary>The options of <paramref name="request"/>.</summary>
    public static TraceOptions Of(RunRequest request) => new(
        request.Strategy,
        request.Iterations,
        request.MaxSteps,
        request.Seed,
        request.Readers,
        [.. request.Invariants.Select(i => i.Name)],
        request.Memory == RunRequest.ScMemory ? null : request.Memory)
    {
        Preemptions = request.IsExhaustive ? request.Preemptions : null,
        Choices = request.IsExhaustive ? request.UnusualChoices : null,
        Reduction = request.IsExhaustive ? request.Reduce : null,
        Slice = request.IsExhaustive && request.TreeShard is { } t ? $"{t.Index + 1}/{t.Count}" : null,
    };
}

/// <summary>
/// A saved buggy schedule, self-describing: what was explored (scenario, generation, mutant,
/// options, seed), what broke (invariant and message), with which Coyote, and Coyote's own
/// reproducible trace. Written by explore, read by replay and regenerate; <paramref name="MinimizedFrom"/>
/// holds the schedule's size before <c>vmalock minimize</c> shrank it (null: never minimised);
/// <paramref name="LockOrder"/>, for a LockOrder bug whose iteration started from edges earlier
/// iterations taught, is that graph, which replay starts from (written only then);
/// <paramref name="Patch"/>, for a trace found under a proposal (<c>explore --patch</c>), is the
/// proposal's name (written only then; never with a mutant).
/// </summary>
public sealed record TraceFile(
    string Format,
    string Scenario,
    string Generation,
    string? Mutant,
    TraceOptions Options,
    string Invariant,
    string Message,
    string CoyoteVersion,
    string Command,
    JsonNode CoyoteTrace,
    ScheduleSize? MinimizedFrom = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] LockOrderSnapshot? LockOrder = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Patch = null)
{
    public const string CurrentFormat = "vmalock-trace/1";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>The version of the Coyote engine in use.</summary>
    public static string RunningCoyoteVersion =>
        typeof(TestingEngine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(TestingEngine).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>Builds the trace of a run that found a bug.</summary>
    public static TraceFile From(RunResult result)
    {
        var request = result.Request;
        var bug = result.Bug ?? throw new InvalidOperationException("a trace needs a bug");
        return new TraceFile(
            CurrentFormat,
            request.Scenario.Name,
            request.Generation.Name,
            request.Mutant?.Name,
            TraceOptions.Of(request),
            bug.Invariant,
            bug.Message,
            RunningCoyoteVersion,
            request.CommandLine(),
            JsonNode.Parse(result.ReproducibleTrace ?? throw new InvalidOperationException("a trace needs Coyote's schedule"))!,
            LockOrder: bug.Invariant == nameof(Invariants.LockOrder) && result.LockOrderAtBug is { Learnt.Count: > 0 } order ? order : null,
            Patch: request.Patch?.Name);
    }

    /// <summary>The conventional file name explore gives a trace (with the memory model when it is not sc: one explore may run both).</summary>
    public static string FileNameFor(RunRequest request) =>
        $"{request.Scenario.Name}.{request.Generation.Name}.{request.MutantName}.{(request.IsExhaustive ? $"exhaustive-k{request.Preemptions}" : $"seed{request.Seed}")}{(request.Memory == RunRequest.ScMemory ? string.Empty : $".{request.Memory}")}.trace.json";

    public void Save(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        File.WriteAllText(path, JsonSerializer.Serialize(this, Json) + "\n");
    }

    /// <summary>
    /// Reads a trace file. A missing, unreadable or malformed one (any field of the wrong type or
    /// out of range: <see cref="TraceSchema"/>) is bad input, exit 2, one line naming the field.
    /// </summary>
    public static TraceFile Load(string path) =>
        HarnessJson.Read<TraceFile>(path, "trace", Json, TraceSchema.Check, _ => true, "must hold a trace");
}
