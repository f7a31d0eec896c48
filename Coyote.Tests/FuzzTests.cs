using System.Text.Json.Nodes;
using FluentAssertions;
using VmaLockVerify.Harness.Exploration;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>
/// The bad-input contract under fuzzing, with a fixed seed: every field of saved traces mutated
/// (deleted, null, of the wrong type, out of range, an unknown name, truncated) and every option
/// given bad values (empty, missing, unwritable, huge, negative). Each must end in one line on
/// standard error and exit 2, or 4 where the file is well-formed and only its schedule no longer
/// reproduces; nothing may surface as a stack trace, an internal error or a .NET type name.
/// </summary>
public sealed class FuzzTests : IDisposable
{
    private const int Seed = 20261201;

    /// <summary>
    /// Traces of both lock kinds (rwsem 6.4, refcount 6.15), one found under a proposal (its
    /// patch field), and a LockOrder graph added to each.
    /// </summary>
    private static readonly string[] Fuzzed =
    [
        "fault-vs-mprotect.6.4.skip-recheck.seed1.trace.json",
        "fault-vs-munmap.6.15.double-put-on-failure.seed1.trace.json",
        "end-write-then-change.6.15.vma-end-write.seed1.lkmm.trace.json",
    ];

    private readonly string dir = Directory.CreateTempSubdirectory("vmalock-fuzz-").FullName;

    public void Dispose() => Directory.Delete(this.dir, recursive: true);

    /// <summary>A trace an exhaustive run found (its options carry the bounds: preemptions, choices, reduction), made fresh in the test's folder.</summary>
    private (string Name, string Text) ExhaustiveTrace()
    {
        var traces = Path.Combine(this.dir, "exhaustive");
        TestSupport.Vmalock("explore", "--mutant", "skip-recheck", "--generation", "6.5", "--strategy", "exhaustive", "--preemptions", "2", "--readers", "1", "--traces-dir", traces)
            .ExitCode.Should().Be(ExitCodes.BugFound);
        var path = Directory.EnumerateFiles(traces).Single();
        return (Path.GetFileName(path), File.ReadAllText(path));
    }

    [Fact]
    public void Every_field_of_a_trace_mutated_is_one_line_and_exit_2_or_4_on_every_verb()
    {
        var random = new Random(Seed);
        var codes = new Dictionary<int, int>();
        var cases = 0;
        foreach (var (name, text) in Fuzzed.Select(f => (f, File.ReadAllText(Path.Combine(TestSupport.RepositoryRoot, "traces", f)))).Append(this.ExhaustiveTrace()))
        {
            var original = JsonNode.Parse(text)!.AsObject();
            original["lockOrder"] = JsonNode.Parse("""{ "iteration": 3, "learnt": [ { "from": "vm_lock", "to": "i_mmap_rwsem", "why": "fault0", "iteration": 1 } ] }""");
            foreach (var (what, content) in Mutations(original, random).Concat(FileMutations(text, random)))
            {
                cases++;
                var path = Path.Combine(this.dir, $"case{cases}.trace.json");
                File.WriteAllText(path, content);
                var code = ReplayAs(path, $"{name}: {what}");
                codes[code] = codes.GetValueOrDefault(code) + 1;
            }
        }

        cases.Should().BeGreaterThan(450, "every field of three traces, several ways each");
        codes.Keys.Should().BeEquivalentTo([ExitCodes.BugFound, ExitCodes.BadInput, ExitCodes.StaleTrace],
            "some mutations leave the trace valid, most make it malformed, and a changed schedule makes it stale");
    }

    [Fact]
    public void Every_field_of_a_results_file_mutated_is_one_line_and_exit_2_or_a_merge()
    {
        // Two runs, one per memory model, each with a bug: every field a results file has.
        var results = Path.Combine(this.dir, "results.json");
        TestSupport.Vmalock(
            "explore", "--mutant", "no-drain", "--generation", "6.5", "--memory", "sc", "--memory", "lkmm", "--iterations", "50",
            "--traces-dir", Path.Combine(this.dir, "traces"), "--json", results).ExitCode.Should().Be(ExitCodes.BugFound);
        var text = File.ReadAllText(results);
        var original = JsonNode.Parse(text)!.AsObject();
        var random = new Random(Seed);
        var codes = new Dictionary<int, int>();
        var refused = new List<string>();
        var cases = 0;
        foreach (var (what, content) in Mutations(original, random, WithExtraRun).Concat(FileMutations(text, random)))
        {
            cases++;
            var path = Path.Combine(this.dir, $"case{cases}.results.json");
            File.WriteAllText(path, content);
            var (code, output, error) = TestSupport.Vmalock("merge", path);
            codes[code] = codes.GetValueOrDefault(code) + 1;
            if (code == ExitCodes.BadInput)
            {
                OneLine(error, what);
                error.Should().StartWith($"vmalock: malformed results file {path}: ", what);
                output.Should().BeEmpty(what);
                refused.Add(what);
            }
            else
            {
                code.Should().BeOneOf([ExitCodes.Clean, ExitCodes.BugFound], $"{what}: {error}");
                error.Should().BeEmpty(what);
                output.Should().StartWith("vmalock merge: 1 file(s)", what);
            }
        }

        cases.Should().BeGreaterThan(150, "every field of two runs, several ways each");
        codes.Keys.Should().BeEquivalentTo([ExitCodes.Clean, ExitCodes.BugFound, ExitCodes.BadInput], "a bug set to null leaves a clean run; most mutations are malformed");
        refused.Should().Contain(["memory deleted", "memory emptied", "memory[1] an unknown name", "runs[0].memory an unknown name", "runs[1].memory deleted", "runs[0].label truncated"],
            "the memory models are checked like every other field");
    }

    [Fact]
    public void A_file_that_is_not_a_trace_is_one_line_and_exit_2()
    {
        var deep = Path.Combine(this.dir, "deep.trace.json");
        File.WriteAllText(deep, new string('[', 5000) + new string(']', 5000));
        var empty = Path.Combine(this.dir, "empty.trace.json");
        File.WriteAllText(empty, string.Empty);
        var binary = Path.Combine(this.dir, "binary.trace.json");
        File.WriteAllBytes(binary, [0xff, 0xfe, 0x00, 0x7b, 0x22]);

        foreach (var path in new[] { deep, empty, binary, this.dir, Path.Combine(this.dir, "missing.trace.json") })
        {
            foreach (var verb in new[] { "replay", "minimize", "regenerate" })
            {
                var (code, output, error) = TestSupport.Vmalock(verb, path);
                OneLine(error, $"{verb} {path}");
                code.Should().Be(ExitCodes.BadInput, $"{verb} {path}: {error}");
                output.Should().BeEmpty();
            }
        }
    }

    [Fact]
    public void Every_option_given_a_bad_value_is_one_line_naming_it_and_exit_2_before_anything_runs()
    {
        var file = Path.Combine(this.dir, "a-file");
        File.WriteAllText(file, "x");
        var trace = Path.Combine(TestSupport.RepositoryRoot, "traces", Fuzzed[0]);
        var huge = new string('a', 5000);
        string[] explore = ["explore", "--scenario", "fault-vs-downgrade", "--generation", "6.5", "--iterations", "3"];
        var badPaths = new[] { string.Empty, " ", "/proc/vmalock-fuzz/x", "/proc/vmalock-fuzz.json", this.dir, huge, "/no/such/dir/x" };

        var cases = new List<string[]>();
        foreach (var option in new[] { "--json", "--junit", "--sarif" })
        {
            cases.AddRange(badPaths.Select(p => (string[])[.. explore, option, p]));
            cases.Add([.. explore, option]);
        }

        cases.AddRange(badPaths.Where(p => p != this.dir && p != "/no/such/dir/x").Append(file).Append(Path.Combine(file, "below")).Select(p => (string[])[.. explore, "--traces-dir", p]));
        cases.Add([.. explore, "--traces-dir"]);
        foreach (var option in new[] { "--iterations", "--max-steps", "--seed", "--readers", "--parallel", "--timeout", "--shard" })
        {
            cases.AddRange(new[] { string.Empty, "-1", "abc", "99999999999999999999", "1e3", "0/0", huge }.Select(v => (string[])[.. explore, option, v]));
            cases.Add([.. Without(explore, option), option]);
        }

        cases.AddRange(new[] { "--iterations", "--max-steps", "--readers", "--parallel" }.Select(o => (string[])[.. explore, o, "0"]));
        cases.Add([.. explore, "--readers", "99"]);
        foreach (var option in new[] { "--scenario", "--generation", "--mutant", "--strategy", "--invariant", "--mode", "--memory" })
        {
            cases.AddRange(new[] { string.Empty, "no-such-name", huge }.Select(v => (string[])[.. explore, option, v]));
            cases.Add([.. Without(explore, option), option]);
        }

        foreach (var p in badPaths)
        {
            cases.Add(["minimize", trace, "-o", p]);
            cases.Add(["replay", trace, "--html", p]);
            cases.Add(["bench", "--quick", "--json", p]);
        }

        cases.Add(["replay", trace, "--format", "yaml"]);
        cases.Add(["replay", trace, "--format"]);
        cases.Add(["merge", file]);
        cases.Add(["merge", this.dir]);
        cases.Add(["bench", "--seeds", "-1"]);
        cases.Add(["bench", "--budget", huge]);
        cases.Add(["bench", "--memory", huge]);
        cases.Add(["bench", "--memory"]);
        cases.Add(["golden", "--dir", file]);
        cases.Add(["teleport", huge]);
        var litmus = Path.Combine(TestSupport.RepositoryRoot, "litmus", "MP+poonceonces.litmus");
        cases.Add(["litmus", file]);
        cases.Add(["litmus", this.dir]);
        cases.Add(["litmus", Path.Combine(this.dir, "missing.litmus")]);
        cases.Add(["litmus", "--memory", "tso", litmus]);
        cases.Add(["litmus", "--placement", huge, litmus]);
        cases.Add(["litmus"]);

        foreach (var args in cases)
        {
            var shown = string.Join(' ', args.Select(a => a.Length > 40 ? $"<{a.Length} chars>" : $"'{a}'"));
            var (code, output, error) = TestSupport.Vmalock(args);
            OneLine(error, shown);
            code.Should().Be(ExitCodes.BadInput, $"{shown}: {error}");
            output.Should().BeEmpty($"{shown} is refused before anything runs");
        }
    }

    /// <summary>The command line without an option and its value (an option's second, empty mention is not an error to the parser).</summary>
    private static string[] Without(string[] args, string option) =>
        [.. args.Where((a, i) => a != option && (i == 0 || args[i - 1] != option))];

    /// <summary>
    /// Replays a mutated trace; a malformed one must be refused with the same line by every verb
    /// that reads traces, and a stale one by those that replay it.
    /// </summary>
    private static int ReplayAs(string path, string what)
    {
        var (code, output, error) = TestSupport.Vmalock("replay", path);
        switch (code)
        {
            case ExitCodes.BugFound:
                error.Should().BeEmpty(what);
                output.Should().Contain("kernel steps", $"{what}: a trace that still reproduces replays in full");
                break;
            case ExitCodes.BadInput:
                OneLine(error, what);
                error.Should().StartWith("vmalock: malformed trace file ", what).And.NotContain("regenerate", $"{what}: regenerating cannot mend a malformed file");
                output.Should().BeEmpty(what);
                foreach (var verb in new[] { new[] { "replay", path, "--format", "json" }, ["minimize", path, "-o", path + ".min"], ["regenerate", path] })
                {
                    var again = TestSupport.Vmalock(verb);
                    again.ExitCode.Should().Be(ExitCodes.BadInput, $"{verb[0]} of {what}");
                    again.Error.Should().Be(error, $"{verb[0]} of {what} says the same");
                }

                break;
            case ExitCodes.StaleTrace:
                OneLine(error, what);
                error.Should().StartWith("vmalock: stale trace ", what);
                output.Should().BeEmpty(what);
                TestSupport.Vmalock("minimize", path, "-o", path + ".min").Should().Be((ExitCodes.StaleTrace, string.Empty, error), $"minimize of {what}");
                break;
            default:
                throw new Xunit.Sdk.XunitException($"{what}: exit {code}, {error}");
        }

        return code;
    }

    /// <summary>One line on standard error, with no stack, no internal error and no .NET type name.</summary>
    private static void OneLine(string error, string what)
    {
        error.Should().StartWith("vmalock: ", what);
        error.TrimEnd('\n').Should().NotContain("\n", $"{what}: one line");
        error.Should().NotContain("internal error", what).And.NotContain("System.", what).And.NotContain("   at ", what).And.NotContain("`1", what);
    }

    /// <summary>Each field (objects' members, a few elements of each array) changed every way that can break it.</summary>
    private static IEnumerable<(string What, string Content)> Mutations(JsonObject root, Random random) => Mutations(root, random, WithExtra);

    /// <summary>Each field changed every way that can break it, then a field the format does not have (<paramref name="withExtra"/>).</summary>
    private static IEnumerable<(string What, string Content)> Mutations(JsonObject root, Random random, Func<JsonObject, string> withExtra)
    {
        foreach (var (path, parent, key) in Fields(root, string.Empty, random))
        {
            var value = Get(parent, key);
            var changes = new List<(string, JsonNode?, bool Delete)> { ("deleted", null, true), ("null", null, false) };
            switch (value)
            {
                case JsonObject:
                    changes.Add(("an array instead of an object", new JsonArray(), false));
                    break;
                case JsonArray:
                    changes.Add(("an object instead of an array", new JsonObject(), false));
                    changes.Add(("emptied", new JsonArray(), false));
                    break;
                case JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.String:
                    var text = v.GetValue<string>();
                    changes.Add(("a number instead of a string", 7, false));
                    changes.Add(("emptied", string.Empty, false));
                    changes.Add(("an unknown name", $"no-such-{text}", false));
                    changes.Add(("truncated", text[..(text.Length / 2)], false));
                    break;
                case JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.Number:
                    changes.Add(("a string instead of a number", "seven", false));
                    changes.Add(("negative", -1, false));
                    changes.Add(("zero", 0, false));
                    changes.Add(("past 32 bits", 4294967296L, false));
                    changes.Add(("huge", 1e300, false));
                    changes.Add(("fractional", 1.5, false));
                    break;
                default:
                    changes.Add(("a string instead of a switch", "yes", false));
                    break;
            }

            foreach (var (how, replacement, delete) in changes)
            {
                var copy = JsonNode.Parse(root.ToJsonString())!.AsObject();
                var (target, targetKey) = Locate(copy, path);
                if (delete)
                {
                    Remove(target, targetKey);
                }
                else
                {
                    Set(target, targetKey, replacement);
                }

                yield return ($"{path} {how}", copy.ToJsonString());
            }
        }

        yield return ("an extra field", withExtra(root));
    }

    /// <summary>The whole file broken: cut at seeded places, and its outer shape replaced.</summary>
    private static IEnumerable<(string What, string Content)> FileMutations(string text, Random random)
    {
        for (var i = 0; i < 6; i++)
        {
            var at = random.Next(text.Length);
            yield return ($"cut at byte {at}", text[..at]);
        }

        yield return ("null", "null");
        yield return ("an array", "[]");
        yield return ("a string", "\"trace\"");
        yield return ("a field twice", text.Replace("\"scenario\":", "\"scenario\": \"fault-vs-munmap\", \"scenario\":", StringComparison.Ordinal));
    }

    private static string WithExtra(JsonObject root)
    {
        var copy = JsonNode.Parse(root.ToJsonString())!.AsObject();
        copy["options"]!.AsObject()["reader"] = 2;
        return copy.ToJsonString();
    }

    private static string WithExtraRun(JsonObject root)
    {
        var copy = JsonNode.Parse(root.ToJsonString())!.AsObject();
        copy["runs"]![0]!.AsObject()["models"] = "sc";
        return copy.ToJsonString();
    }

    /// <summary>Every field as a path of keys ("options.readers", "coyoteTrace.Steps[17]"); three sampled elements of a long array.</summary>
    private static IEnumerable<(string Path, JsonNode Parent, object Key)> Fields(JsonNode node, string at, Random random)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, child) in obj.ToList())
                {
                    var path = at.Length == 0 ? key : $"{at}.{key}";
                    yield return (path, obj, key);
                    if (child is not null)
                    {
                        foreach (var inner in Fields(child, path, random))
                        {
                            yield return inner;
                        }
                    }
                }

                break;
            case JsonArray array when array.Count > 0:
                var picked = array.Count <= 3 ? Enumerable.Range(0, array.Count) : new[] { 0, random.Next(1, array.Count - 1), array.Count - 1 };
                foreach (var i in picked)
                {
                    var path = $"{at}[{i}]";
                    yield return (path, array, i);
                    foreach (var inner in Fields(array[i]!, path, random))
                    {
                        yield return inner;
                    }
                }

                break;
        }
    }

    private static (JsonNode Parent, object Key) Locate(JsonObject root, string path)
    {
        JsonNode parent = root;
        object key = string.Empty;
        var parts = path.Replace("[", ".[", StringComparison.Ordinal).Split('.');
        for (var i = 0; i < parts.Length; i++)
        {
            key = parts[i].StartsWith('[') ? int.Parse(parts[i][1..^1], System.Globalization.CultureInfo.InvariantCulture) : parts[i];
            if (i < parts.Length - 1)
            {
                parent = Get(parent, key)!;
            }
        }

        return (parent, key);
    }

    private static JsonNode? Get(JsonNode parent, object key) => key is int i ? parent.AsArray()[i] : parent.AsObject()[(string)key];

    private static void Set(JsonNode parent, object key, JsonNode? value)
    {
        if (key is int i)
        {
            parent.AsArray()[i] = value;
        }
        else
        {
            parent.AsObject()[(string)key] = value;
        }
    }

    private static void Remove(JsonNode parent, object key)
    {
        if (key is int i)
        {
            parent.AsArray().RemoveAt(i);
        }
        else
        {
            parent.AsObject().Remove((string)key);
        }
    }
}
