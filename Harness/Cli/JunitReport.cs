using System.Globalization;
using System.Xml.Linq;
using VmaLockVerify.Harness.Exploration;

namespace VmaLockVerify.Harness.Cli;

/// <summary>
/// explore --junit: the results as JUnit XML, which CI systems display as tests. One test case
/// per scenario × generation × mutant (class "scenario.generation", name the mutant or "correct");
/// a bug is a failure whose type is the invariant and whose text gives the trace and the replay command.
/// </summary>
public static class JunitReport
{
    public static void Write(string path, IReadOnlyList<RunResult> results, IReadOnlyDictionary<RunResult, string> traces)
    {
        var failures = results.Count(r => r.Bug is not null);
        var seconds = Seconds(results.Sum(r => r.Elapsed.TotalSeconds));
        var suite = new XElement(
            "testsuite",
            new XAttribute("name", "vmalock explore"),
            new XAttribute("tests", results.Count),
            new XAttribute("failures", failures),
            new XAttribute("errors", 0),
            new XAttribute("time", seconds),
            results.Select(r => TestCase(r, traces.GetValueOrDefault(r))));
        var document = new XDocument(new XElement(
            "testsuites",
            new XAttribute("name", "vmalock"),
            new XAttribute("tests", results.Count),
            new XAttribute("failures", failures),
            new XAttribute("time", seconds),
            suite));
        document.Save(path);
    }

    private static XElement TestCase(RunResult result, string? trace)
    {
        var request = result.Request;
        var testCase = new XElement(
            "testcase",
            new XAttribute("classname", $"{request.Scenario.Name}.{request.Generation.Name}"),
            new XAttribute("name", request.MutantName),
            new XAttribute("time", Seconds(result.Elapsed.TotalSeconds)),
            new XElement(
                "system-out",
                $"{result.IterationsRun} iterations ({request.Strategy}, seed {request.Seed}, {request.Readers} fault threads), " +
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
