using System.Globalization;
using System.Xml.Linq;
using VmaLockVerify.Harness.Exploration;

namespace VmaLockVerify.Harness.Cli;

/// <summary>
/// explore --junit: the results as JUnit XML, which CI systems display as tests. One test suite
/// per memory model (its <c>memory</c> property names the model), one test case per scenario ×
/// generation × mutant (class "scenario.generation", name the mutant or "correct", with
/// " [lkmm]" under a model other than sc and " (exhaustive)" for an exhaustive run, so no two
/// cases share a name), with what it explored as its properties (<see cref="RunSummary.ExploredProperties"/>);
/// a bug is a failure whose type is the invariant and whose text gives the trace and the replay command.
/// </summary>
public static class JunitReport
{
    /// <summary>Writes the report; <paramref name="coverage"/>: each sampling run's coverage (<see cref="RunSummary.CoverageOf"/>), as explore computed it.</summary>
    public static void Write(
        string path, IReadOnlyList<RunResult> results, IReadOnlyDictionary<RunResult, string> traces, IReadOnlyList<string> models, IReadOnlyDictionary<RunResult, StateCoverage> coverage)
    {
        var suites = models.Select(model => Suite(model, [.. results.Where(r => r.Request.Memory == model)], traces, coverage)).ToList();
        var document = new XDocument(new XElement(
            "testsuites",
            new XAttribute("name", "vmalock"),
            new XAttribute("tests", results.Count),
            new XAttribute("failures", results.Count(r => r.Bug is not null)),
            new XAttribute("time", Seconds(results.Sum(r => r.Elapsed.TotalSeconds))),
            suites));
        document.Save(path);
    }

    private static XElement Suite(string model, IReadOnlyList<RunResult> results, IReadOnlyDictionary<RunResult, string> traces, IReadOnlyDictionary<RunResult, StateCoverage> coverage) => new(
        "testsuite",
        new XAttribute("name", $"vmalock explore --memory {model}"),
        new XAttribute("tests", results.Count),
        new XAttribute("failures", results.Count(r => r.Bug is not null)),
        new XAttribute("errors", 0),
        new XAttribute("time", Seconds(results.Sum(r => r.Elapsed.TotalSeconds))),
        new XElement("properties", new XElement("property", new XAttribute("name", "memory"), new XAttribute("value", model))),
        results.Select(r => TestCase(r, traces.GetValueOrDefault(r), coverage.GetValueOrDefault(r))));

    private static XElement TestCase(RunResult result, string? trace, StateCoverage? coverage)
    {
        var request = result.Request;
        var testCase = new XElement(
            "testcase",
            new XAttribute("classname", $"{request.Scenario.Name}.{request.Generation.Name}"),
            new XAttribute("name", $"{request.MutantName}{(request.Memory == RunRequest.ScMemory ? string.Empty : $" [{request.Memory}]")}{(request.IsExhaustive ? " (exhaustive)" : string.Empty)}"),
            new XAttribute("time", Seconds(result.Elapsed.TotalSeconds)),
            new XElement("properties", RunSummary.ExploredProperties(result, coverage).Select(p => new XElement("property", new XAttribute("name", p.Name), new XAttribute("value", p.Value)))),
            new XElement(
                "system-out",
                $"{result.IterationsRun} iterations ({request.Strategy}, seed {request.Seed}, {request.Readers} reader threads, memory {request.Memory}), " +
                $"at most {result.MaxStepsInAnIteration} steps per iteration, {result.IterationsAtStepBound} cut by the step bound; {request.CommandLine()}"));
        if (result.Bug is { } bug)
        {
            testCase.AddFirst(new XElement(
                "failure",
                new XAttribute("type", bug.Invariant),
                new XAttribute("message", $"{bug.Invariant}: {bug.Message}"),
                trace is null ? bug.Message : $"{bug.Message}\ntrace: {trace}\nreplay: {ReplayCommand.CommandLineFor(trace)}"));
        }

        return testCase;
    }

    private static string Seconds(double seconds) => seconds.ToString("F3", CultureInfo.InvariantCulture);
}
