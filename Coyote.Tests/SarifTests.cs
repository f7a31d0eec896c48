using System.Formats.Tar;
using System.IO.Compression;
using System.Reflection;
using System.Security.Cryptography;
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

    [Theory]
    [InlineData("version", "a log of another SARIF version")]
    [InlineData("runs[0].tool.driver.name", "a tool without its required name")]
    [InlineData("runs[0].colour", "a property the schema does not define")]
    [InlineData("runs[0].tool.driver.rules[0].defaultConfiguration.level", "a level the schema does not list")]
    public void The_schema_check_rejects_a_log_the_SARIF_schema_forbids(string path, string what)
    {
        var sarif = Path.Combine(this.dir, "empty.sarif");
        Harness.Cli.SarifReport.Write(sarif, [], new Dictionary<RunResult, string>());
        var log = JsonNode.Parse(File.ReadAllText(sarif))!;
        SarifSchema.Problems(log).Should().BeEmpty("the log as written conforms");

        var parts = path.Split('.');
        var parent = parts[..^1].Aggregate(log, (node, part) => part.EndsWith(']')
            ? node[part[..part.IndexOf('[')]]![int.Parse(part[(part.IndexOf('[') + 1)..^1])]!
            : node[part]!);
        var last = parts[^1];
        switch (last)
        {
            case "version":
                parent[last] = "2.0.0";
                break;
            case "name":
                parent.AsObject().Remove(last).Should().BeTrue();
                break;
            case "level":
                parent[last] = "fatal";
                break;
            default:
                parent[last] = "blue";
                break;
        }

        SarifSchema.Problems(log).Should().NotBeEmpty("the schema forbids {0}", what);
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
    /// The SARIF 2.1.0 JSON schema, validated by NJsonSchema. The schema file comes from the npm
    /// package @microsoft/jest-sarif 1.0.0-beta.0 (lib/schemas/sarif-2.1.0-rtm.5.json, MIT), which
    /// the test project's build fetches from the npm registry into obj/ (Coyote.Tests.csproj); the
    /// tarball is checked against the integrity hash the registry publishes for it.
    /// </summary>
    internal static class SarifSchema
    {
        /// <summary>The npm registry's dist.integrity for jest-sarif-1.0.0-beta.0.tgz.</summary>
        private const string Integrity = "sha512-A1fOhPd6Ic5iDk4F9YPw1qNB4XF+7+IviR7xl8r2F6QzQkx5cpY9LsGk2rExiFIEcBbjpVnSmwWGBukASkiQ9A==";

        private const string SchemaEntry = "package/lib/schemas/sarif-2.1.0-rtm.5.json";

        private static readonly Lazy<NJsonSchema.JsonSchema> Schema = new(Load);

        /// <summary>The schema's own id: the schemastore address of the 2.1.0 schema it was published as.</summary>
        public static string Id => Schema.Value.Id ?? string.Empty;

        /// <summary>What in the log breaks the schema, one line a problem (none: it conforms).</summary>
        public static List<string> Problems(JsonNode log) =>
            Schema.Value.Validate(log.ToJsonString()).Select(e => e.ToString()).ToList();

        private static NJsonSchema.JsonSchema Load()
        {
            var package = typeof(SarifSchema).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .Single(a => a.Key == "SarifSchemaPackage").Value!;
            var bytes = File.ReadAllBytes(package);
            var integrity = "sha512-" + Convert.ToBase64String(SHA512.HashData(bytes));
            if (integrity != Integrity)
            {
                throw new InvalidDataException($"{package}: integrity {integrity}, but the npm registry publishes {Integrity}; delete the file and build again");
            }

            using var tar = new TarReader(new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress));
            for (var entry = tar.GetNextEntry(); entry is not null; entry = tar.GetNextEntry())
            {
                if (entry.Name == SchemaEntry)
                {
                    using var reader = new StreamReader(entry.DataStream!);
                    return NJsonSchema.JsonSchema.FromJsonAsync(reader.ReadToEnd()).GetAwaiter().GetResult();
                }
            }

            throw new InvalidDataException($"{package} has no {SchemaEntry}");
        }
    }
}
