using System.Text.Json;
using System.Text.Json.Nodes;
using FluentAssertions;
using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Harness.Traces;
using VmaLockVerify.Invariants;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>
/// explore --sarif: a SARIF 2.1.0 log whose results are the bugs, each at the port's line of the
/// violating step, with the replayed interleaving as a code flow over real lines of the port.
/// </summary>
public sealed class SarifTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("vmalock-sarif-").FullName;

    public void Dispose() => Directory.Delete(this.dir, recursive: true);

    [Fact]
    public void A_bug_is_one_result_at_the_violating_line_with_every_step_of_every_thread_in_its_code_flow()
    {
        const string mutant = "skip-recheck";
        var budget = (uint)MutantTests.Budgets().Single(row => (string)row[0] == mutant)[1];
        var sarif = Path.Combine(this.dir, "explore.sarif");

        var (code, _, error) = TestSupport.Vmalock(
            "explore", "--mutant", mutant, "--generation", "6.4", "--iterations", budget.ToString(), "--traces-dir", this.dir, "--sarif", sarif);

        code.Should().Be(ExitCodes.BugFound, error);
        var log = JsonNode.Parse(File.ReadAllText(sarif))!;
        SarifSchema.Problems(log).Should().BeEmpty();
        var run = log["runs"]![0]!;
        var result = run["results"]!.AsArray().Should().ContainSingle().Subject!;
        result["ruleId"]!.GetValue<string>().Should().Be(MutantRegistry.Find(mutant)!.CaughtBy);
        result["level"]!.GetValue<string>().Should().Be("error");
        result["message"]!["text"]!.GetValue<string>().Should().Contain("fault-vs-mprotect 6.4 skip-recheck").And.Contain("replay: ");
        result["partialFingerprints"]![Harness.Cli.SarifReport.FingerprintKey]!.GetValue<string>()
            .Should().Be("fault-vs-mprotect/6.4/skip-recheck/NoReadOnWriteMarkedVma");
        RuleIdsExist(run);

        // The steps as replay sees them, independently of the writer.
        var trace = Path.Combine(this.dir, "fault-vs-mprotect.6.4.skip-recheck.seed1.trace.json");
        var view = Replayer.Replay(trace).View;
        var steps = view.Steps.Select(s => s.Step).ToList();

        var flows = result["codeFlows"]![0]!["threadFlows"]!.AsArray();
        flows.Select(f => f!["id"]!.GetValue<string>()).Should().Equal(view.Threads);
        var located = new List<(string Thread, int Order, JsonNode Location)>();
        foreach (var flow in flows)
        {
            var orders = flow!["locations"]!.AsArray().Select(l => l!["executionOrder"]!.GetValue<int>()).ToList();
            orders.Should().BeInAscendingOrder().And.OnlyHaveUniqueItems("a thread's steps are in the order it made them");
            located.AddRange(flow["locations"]!.AsArray().Select(l => (flow["id"]!.GetValue<string>(), l!["executionOrder"]!.GetValue<int>(), l)));
        }

        located.Select(l => l.Order).Order().Should().Equal(steps.Select(s => s.Index), "every step is in the code flow exactly once");
        foreach (var (thread, order, location) in located)
        {
            var step = steps.Single(s => s.Index == order);
            step.Thread.Should().Be(thread);
            location["nestingLevel"]!.GetValue<int>().Should().Be(step.Depth);
            location["location"]!["message"]!["text"]!.GetValue<string>().Should().Contain(step.Text);
            var physical = location["location"]!["physicalLocation"];
            if (step.Source is null)
            {
                physical.Should().BeNull("a step without a known line gets none");
                continue;
            }

            physical!["artifactLocation"]!["uri"]!.GetValue<string>().Should().Be(step.Source.File);
            physical["region"]!["startLine"]!.GetValue<int>().Should().Be(step.Source.Line);
        }

        located.Count(l => l.Location["kinds"]!.AsArray().Any(k => k!.GetValue<string>() == Harness.Cli.SarifReport.ContextSwitch))
            .Should().Be(view.Switches, "the first step after each context switch says so");
        located.Should().Contain(l => l.Location["state"] != null, "the protocol state rides along");
        result["locations"]![0]!.ToJsonString().Should().Be(located.Single(l => l.Order == steps[^1].Index).Location["location"]!.ToJsonString(), "the result is where the last step is");
        EveryLocationIsALineOfTheRepository(log);
    }

    [Fact]
    public void A_clean_explore_writes_the_rules_and_no_results()
    {
        var sarif = Path.Combine(this.dir, "clean.sarif");

        var (code, _, error) = TestSupport.Vmalock(
            "explore", "--scenario", "fault-vs-mprotect", "--generation", "6.5", "--iterations", "20", "--traces-dir", this.dir, "--sarif", sarif);

        code.Should().Be(ExitCodes.Clean, error);
        var log = JsonNode.Parse(File.ReadAllText(sarif))!;
        SarifSchema.Problems(log).Should().BeEmpty();
        log["$schema"]!.GetValue<string>().Should().Be("https://json.schemastore.org/sarif-2.1.0.json");
        log["version"]!.GetValue<string>().Should().Be("2.1.0");
        var run = log["runs"]!.AsArray().Should().ContainSingle().Subject!;
        run["results"]!.AsArray().Should().BeEmpty();
        run["tool"]!["driver"]!["rules"]!.AsArray().Select(r => r!["id"]!.GetValue<string>()).Should().Equal(
            InvariantRegistry.All.Select(i => i.Name).Concat([Finding.KernelBug, Finding.Deadlock, Finding.Uncontrolled, Finding.Exception]));
        new Uri(run["originalUriBaseIds"]!["SRCROOT"]!["uri"]!.GetValue<string>()).LocalPath.TrimEnd('/')
            .Should().Be(TestSupport.RepositoryRoot.TrimEnd('/'));
    }

    [Fact]
    public void A_bug_whose_trace_does_not_replay_keeps_its_result_but_no_invented_locations()
    {
        var result = Explorer.Run(TestSupport.Request("fault-vs-mprotect", "6.4", "skip-recheck"));
        var trace = Path.Combine(this.dir, TraceFile.FileNameFor(result.Request));
        (TraceFile.From(result) with { Invariant = "WriterExcludesReaders" }).Save(trace);
        var sarif = Path.Combine(this.dir, "stale.sarif");

        Harness.Cli.SarifReport.Write(sarif, [result], new Dictionary<RunResult, string> { [result] = trace });

        var log = JsonNode.Parse(File.ReadAllText(sarif))!;
        SarifSchema.Problems(log).Should().BeEmpty();
        var written = log["runs"]![0]!["results"]!.AsArray().Should().ContainSingle().Subject!;
        written["ruleId"]!.GetValue<string>().Should().Be("NoReadOnWriteMarkedVma");
        written["locations"].Should().BeNull();
        written["codeFlows"].Should().BeNull();
        written["properties"]!["replayFailure"]!.GetValue<string>().Should().StartWith($"stale trace {trace}");
    }

    private static void RuleIdsExist(JsonNode run)
    {
        var rules = run["tool"]!["driver"]!["rules"]!.AsArray().Select(r => r!["id"]!.GetValue<string>()).ToList();
        rules.Should().OnlyHaveUniqueItems();
        foreach (var result in run["results"]!.AsArray())
        {
            var id = result!["ruleId"]!.GetValue<string>();
            rules.Should().Contain(id);
            result["ruleIndex"]!.GetValue<int>().Should().Be(rules.IndexOf(id));
        }
    }

    /// <summary>Every physical location names a file of the repository and a non-empty line in it.</summary>
    private static void EveryLocationIsALineOfTheRepository(JsonNode node)
    {
        foreach (var physical in Descendants(node).Where(n => n is JsonObject o && o.ContainsKey("physicalLocation")).Select(n => n["physicalLocation"]!))
        {
            var artifact = physical["artifactLocation"]!;
            artifact["uriBaseId"]!.GetValue<string>().Should().Be("SRCROOT");
            var uri = artifact["uri"]!.GetValue<string>();
            var file = Path.Combine(TestSupport.RepositoryRoot, uri);
            File.Exists(file).Should().BeTrue("{0} is a file of the repository", uri);
            var lines = File.ReadAllLines(file);
            var line = physical["region"]!["startLine"]!.GetValue<int>();
            line.Should().BeInRange(1, lines.Length, "{0} has {1} lines", uri, lines.Length);
            lines[line - 1].Should().NotBeNullOrWhiteSpace("{0}:{1} is a line of code", uri, line);
        }
    }

    private static IEnumerable<JsonNode> Descendants(JsonNode node) => node switch
    {
        JsonObject o => o.Select(p => p.Value).OfType<JsonNode>().SelectMany(Descendants).Prepend(node),
        JsonArray a => a.OfType<JsonNode>().SelectMany(Descendants).Prepend(node),
        _ => [node],
    };

    /// <summary>
    /// The part of the SARIF 2.1.0 schema (sarif-schema-2.1.0.json, OASIS) the writer uses, checked
    /// here without downloading it: every object may have only its schema's properties, must have
    /// its required ones (or one of its anyOf groups), and the values are of the schema's types.
    /// </summary>
    private static class SarifSchema
    {
        private static readonly string[] NoneRequired = [];

        private static readonly Dictionary<string, Shape> Shapes = new()
        {
            ["sarifLog"] = new(["$schema", "version", "runs", "inlineExternalProperties", "properties"], [["version", "runs"]], new() { ["$schema"] = "string", ["version"] = "version", ["runs"] = "run[]", ["properties"] = "object" }),
            ["run"] = new(
                ["tool", "invocations", "conversion", "language", "versionControlProvenance", "originalUriBaseIds", "artifacts", "logicalLocations", "graphs", "results",
                 "automationDetails", "runAggregates", "baselineGuid", "redactionTokens", "defaultEncoding", "defaultSourceLanguage", "newlineSequences", "columnKind",
                 "externalPropertyFileReferences", "threadFlowLocations", "taxonomies", "addresses", "translations", "policies", "webRequests", "webResponses", "specialLocations", "properties"],
                [["tool"]],
                new() { ["tool"] = "tool", ["originalUriBaseIds"] = "artifactLocation{}", ["results"] = "result[]", ["properties"] = "object" }),
            ["tool"] = new(["driver", "extensions", "properties"], [["driver"]], new() { ["driver"] = "toolComponent", ["properties"] = "object" }),
            ["toolComponent"] = new(
                ["guid", "name", "organization", "product", "productSuite", "shortDescription", "fullDescription", "fullName", "version", "semanticVersion", "dottedQuadFileVersion",
                 "releaseDateUtc", "downloadUri", "informationUri", "globalMessageStrings", "notifications", "rules", "taxa", "locations", "language", "contents", "isComprehensive",
                 "localizedDataSemanticVersion", "minimumRequiredLocalizedDataSemanticVersion", "associatedComponent", "translationMetadata", "supportedTaxonomies", "properties"],
                [["name"]],
                new() { ["name"] = "string", ["version"] = "string", ["rules"] = "reportingDescriptor[]", ["properties"] = "object" }),
            ["reportingDescriptor"] = new(
                ["id", "deprecatedIds", "guid", "deprecatedGuids", "name", "deprecatedNames", "shortDescription", "fullDescription", "messageStrings", "defaultConfiguration", "helpUri", "help", "relationships", "properties"],
                [["id"]],
                new() { ["id"] = "string", ["shortDescription"] = "multiformatMessageString", ["defaultConfiguration"] = "reportingConfiguration" }),
            ["reportingConfiguration"] = new(["enabled", "level", "rank", "parameters", "properties"], [NoneRequired], new() { ["level"] = "level" }),
            ["multiformatMessageString"] = new(["text", "markdown", "properties"], [["text"]], new() { ["text"] = "string" }),
            ["message"] = new(["text", "markdown", "id", "arguments", "properties"], [["text"], ["id"]], new() { ["text"] = "string" }),
            ["result"] = new(
                ["ruleId", "ruleIndex", "rule", "kind", "level", "message", "analysisTarget", "locations", "guid", "correlationGuid", "occurrenceCount", "partialFingerprints",
                 "fingerprints", "stacks", "codeFlows", "graphs", "graphTraversals", "relatedLocations", "suppressions", "baselineState", "rank", "attachments", "hostedViewerUri",
                 "workItemUris", "provenance", "fixes", "taxa", "webRequest", "webResponse", "properties"],
                [["message"]],
                new()
                {
                    ["ruleId"] = "string", ["ruleIndex"] = "integer>=-1", ["level"] = "level", ["message"] = "message", ["locations"] = "location[]",
                    ["partialFingerprints"] = "string{}", ["fingerprints"] = "string{}", ["codeFlows"] = "codeFlow[]", ["properties"] = "object",
                }),
            ["location"] = new(["id", "physicalLocation", "logicalLocations", "message", "annotations", "relationships", "properties"], [NoneRequired], new() { ["physicalLocation"] = "physicalLocation", ["message"] = "message" }),
            ["physicalLocation"] = new(["address", "artifactLocation", "region", "contextRegion", "properties"], [["address"], ["artifactLocation"]], new() { ["artifactLocation"] = "artifactLocation", ["region"] = "region" }),
            ["artifactLocation"] = new(["uri", "uriBaseId", "index", "description", "properties"], [NoneRequired], new() { ["uri"] = "uri", ["uriBaseId"] = "string", ["description"] = "message" }),
            ["region"] = new(
                ["startLine", "startColumn", "endLine", "endColumn", "charOffset", "charLength", "byteOffset", "byteLength", "snippet", "message", "sourceLanguage", "properties"],
                [["startLine"], ["charOffset"], ["byteOffset"]],
                new() { ["startLine"] = "integer>=1" }),
            ["codeFlow"] = new(["message", "threadFlows", "properties"], [["threadFlows"]], new() { ["message"] = "message", ["threadFlows"] = "threadFlow[1]" }),
            ["threadFlow"] = new(["id", "message", "initialState", "immutableState", "locations", "properties"], [["locations"]], new() { ["id"] = "string", ["message"] = "message", ["locations"] = "threadFlowLocation[1]" }),
            ["threadFlowLocation"] = new(
                ["index", "location", "stack", "kinds", "taxa", "module", "state", "nestingLevel", "executionOrder", "executionTimeUtc", "importance", "webRequest", "webResponse", "properties"],
                [NoneRequired],
                new()
                {
                    ["location"] = "location", ["kinds"] = "kinds", ["state"] = "multiformatMessageString{}", ["nestingLevel"] = "integer>=0",
                    ["executionOrder"] = "integer>=-1", ["properties"] = "object",
                }),
        };

        /// <summary>What in the log breaks the schema, one line a problem (none: it conforms).</summary>
        public static List<string> Problems(JsonNode log)
        {
            var problems = new List<string>();
            Check(log, "sarifLog", "$", problems);
            return problems;
        }

        private static void Check(JsonNode? node, string type, string path, List<string> problems)
        {
            var kind = node?.GetValueKind() ?? JsonValueKind.Null;
            if (type.EndsWith(']'))
            {
                var open = type.IndexOf('[', StringComparison.Ordinal);
                var min = type[(open + 1)..^1] is { Length: > 0 } least ? int.Parse(least) : 0;
                if (node is not JsonArray array || array.Count < min)
                {
                    problems.Add($"{path}: not an array of at least {min} {type[..open]}");
                    return;
                }

                for (var i = 0; i < array.Count; i++)
                {
                    Check(array[i], type[..open], $"{path}[{i}]", problems);
                }

                return;
            }

            if (type.EndsWith("{}", StringComparison.Ordinal))
            {
                if (node is not JsonObject map)
                {
                    problems.Add($"{path}: not an object");
                    return;
                }

                foreach (var (key, value) in map)
                {
                    Check(value, type[..^2], $"{path}.{key}", problems);
                }

                return;
            }

            var ok = type switch
            {
                "object" => kind == JsonValueKind.Object,
                "string" => kind == JsonValueKind.String,
                "uri" => kind == JsonValueKind.String && Uri.IsWellFormedUriString(node!.GetValue<string>(), UriKind.RelativeOrAbsolute),
                "version" => kind == JsonValueKind.String && node!.GetValue<string>() == "2.1.0",
                "level" => kind == JsonValueKind.String && node!.GetValue<string>() is "none" or "note" or "warning" or "error",
                "kinds" => node is JsonArray kinds && kinds.All(k => k?.GetValueKind() == JsonValueKind.String) && kinds.Select(k => k!.GetValue<string>()).Distinct().Count() == kinds.Count,
                _ when type.StartsWith("integer>=", StringComparison.Ordinal) => kind == JsonValueKind.Number && node!.GetValue<int>() >= int.Parse(type["integer>=".Length..]),
                _ => true,
            };
            if (!ok)
            {
                problems.Add($"{path}: not a {type}: {node?.ToJsonString()}");
                return;
            }

            if (!Shapes.TryGetValue(type, out var shape))
            {
                return;
            }

            if (node is not JsonObject obj)
            {
                problems.Add($"{path}: not a {type} object");
                return;
            }

            problems.AddRange(obj.Select(p => p.Key).Where(p => !shape.Properties.Contains(p)).Select(p => $"{path}: {type} has no property '{p}'"));
            if (!shape.RequiredAnyOf.Any(group => group.All(obj.ContainsKey)))
            {
                problems.Add($"{path}: {type} needs {string.Join(" or ", shape.RequiredAnyOf.Select(g => string.Join(" and ", g)))}");
            }

            foreach (var (property, child) in shape.Children.Where(c => obj.ContainsKey(c.Key)))
            {
                Check(obj[property], child, $"{path}.{property}", problems);
            }
        }

        /// <param name="Properties">The properties the schema allows (it forbids any other).</param>
        /// <param name="RequiredAnyOf">Groups of required properties; one group must be present.</param>
        /// <param name="Children">The types of the properties checked further.</param>
        private sealed record Shape(string[] Properties, string[][] RequiredAnyOf, Dictionary<string, string> Children);
    }
}
