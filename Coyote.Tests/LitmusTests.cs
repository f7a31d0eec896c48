using FluentAssertions;
using VmaLockVerify.Harness.Cli;
using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Litmus;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Implementation.Memory.Lkmm;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>
/// The LKMM view machine against the project's litmus set (litmus/*.litmus): every file's
/// observation must be its Result line, except the documented known limitations, which must stay
/// exactly as documented (so a model that starts reaching them turns these red).
/// </summary>
public sealed class LitmusTests
{
    public static TheoryData<string> Agreeing => Files(known: false);

    public static TheoryData<string> KnownLimits => Files(known: true);

    public static TheoryData<string> All => [.. FileNames()];

    private static string LitmusDir => Path.Combine(TestSupport.RepositoryRoot, "litmus");

    [Theory]
    [MemberData(nameof(Agreeing))]
    public void The_model_observes_what_LKMM_documents(string file)
    {
        var outcome = Run(file, LkmmOptions.Default);

        outcome.Test.Result.Should().NotBeNull("every file of the set states its Result");
        outcome.Observation.Should().Be(outcome.Test.Result, $"{file} documents Result: {outcome.Test.Result}");
    }

    [Theory]
    [MemberData(nameof(KnownLimits))]
    public void A_known_limitation_misses_exactly_what_its_file_says(string file)
    {
        var outcome = Run(file, LkmmOptions.Default);

        outcome.Observation.Should().Be(outcome.Test.KnownLimit, "the file documents this miss");
        outcome.Observation.Should().NotBe(outcome.Test.Result, "a known limitation is a disagreement with LKMM; if the model agrees now, remove the Known-limit line");
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Sequential_consistency_reaches_no_final_state_the_LKMM_model_misses(string file)
    {
        var sc = Run(file, LkmmOptions.SequentiallyConsistent);
        var lkmm = Run(file, LkmmOptions.Default);

        lkmm.States.Select(s => s.State).Should().Contain(sc.States.Select(s => s.State), "every SC execution is an LKMM execution (choice 0 everywhere)");
    }

    [Theory]
    [InlineData("S+poonceonces.litmus")]
    [InlineData("2+2W+poonceonces.litmus")]
    [InlineData("S+fencewmbonceonce+poonceonce.litmus")]
    public void Append_placement_misses_the_outcomes_that_need_a_store_before_an_unseen_one(string file)
    {
        Run(file, LkmmOptions.Default with { Placement = LkmmWritePlacement.Append }).Observation.Should().Be("Never");
        Run(file, LkmmOptions.Default).Observation.Should().Be("Sometimes", "Insert, the default, reaches it as LKMM allows");
    }

    [Fact]
    public void Release_sequences_would_forbid_what_LKMM_allows()
    {
        const string file = "MP+porelonce-poonce+poacquireonce.litmus";

        Run(file, LkmmOptions.Default with { ReleaseSequences = true }).Observation.Should().Be("Never", "PS's rel[x] carries the release view to the later relaxed store");
        Run(file, LkmmOptions.Default).Observation.Should().Be("Sometimes");
    }

    /// <summary>GenMC-style pins: a change to the model or the enumerator that alters the explored space fails here.</summary>
    [Theory]
    [InlineData("MP+poonceonces.litmus", 13, 1)]
    [InlineData("SB+fencembonceonces.litmus", 38, 0)]
    [InlineData("S+poonceonces.litmus", 14, 1)]
    [InlineData("IRIW+poonceonces+OnceOnce.litmus", 974, 20)]
    [InlineData("Z6.0+pooncelock+pooncelock+pombonce.litmus", 1200, 165)]
    [InlineData("RCU+sync+read.litmus", 28, 0)]
    public void The_explored_space_is_pinned(string file, long executions, long positive)
    {
        var first = Run(file, LkmmOptions.Default);
        var second = Run(file, LkmmOptions.Default);

        first.Executions.Should().Be(executions);
        first.Positive.Should().Be(positive);
        second.Should().BeEquivalentTo(first, o => o.Excluding(x => x.Test), "the enumeration is deterministic");
    }

    [Fact]
    public void An_address_dependency_is_what_orders_a_load_through_a_published_pointer()
    {
        LkmmLoad Reader(bool withDependency, int stale)
        {
            var machine = new LkmmMachine(LkmmOptions.Default, new Scripted(0, stale));
            machine.Initialize("p", "y");
            machine.Store(0, "x", 1L, MemoryOrder.Once);
            machine.Store(0, "p", "x", MemoryOrder.Release);
            var pointer = machine.Load(1, "p", MemoryOrder.Once);
            pointer.Value.Should().Be("x");
            return machine.Load(1, "x", MemoryOrder.Once, withDependency ? pointer.Dependency : null);
        }

        Reader(withDependency: false, stale: 1).Value.Should().Be(0L, "without the dependency the relaxed load may read the initial x");
        Reader(withDependency: true, stale: 1).Value.Should().Be(1L, "with it only the published x is readable (no choice is asked)");
    }

    [Fact]
    public void Litmus_prints_herds_summary_and_exits_0_when_the_set_agrees()
    {
        var (code, output, error) = TestSupport.Vmalock(["litmus", .. FileNames().Select(f => Path.Combine(LitmusDir, f))]);

        error.Should().BeEmpty();
        code.Should().Be(ExitCodes.Clean);
        output.Should().Contain("Observation MP+poonceonces Sometimes 1 12").And.Contain("Positive: 0 Negative: 38")
            .And.Contain($"{FileNames().Count()} test(s), {FileNames().Count()} as expected, 0 not (memory lkmm, placement insert, history {LkmmOptions.DefaultHistoryBound})");
    }

    [Fact]
    public void Litmus_exits_1_when_the_model_disagrees_with_the_file()
    {
        var (code, output, _) = TestSupport.Vmalock("litmus", "--memory", "sc", Path.Combine(LitmusDir, "SB+poonceonces.litmus"));

        code.Should().Be(ExitCodes.BugFound, "sequential consistency forbids store buffering, which LKMM allows");
        output.Should().Contain("Observation SB+poonceonces Never 0").And.Contain("DISAGREES");
    }

    [Theory]
    [InlineData("C T\n{}\nP0(int *x) { WRITE_ONCE(*x, 1); smp_teleport(); }\nexists (x=1)\n", ":3: expected a known primitive, not 'smp_teleport'")]
    [InlineData("C T\n{}\nP0(int *x) { WRITE_ONCE(*x, 1); }\n", ":4: expected 'exists', '~exists' or 'forall' after the processes, found the end of the file")]
    [InlineData("C T\n{ x = ; }\nP0(int *x) { WRITE_ONCE(*x, 1); }\nexists (x=1)\n", ":2: expected a number or a location as an initial value, found ';'")]
    [InlineData("C T\n{}\nP0(int *x)\n{\n\tWRITE_ONCE(*x, 1);\n", ":6: expected '}' to close the process body, found the end of the file")]
    [InlineData("C T\n(* Result: Never\n{}\n", ":2: expected '*)' to close the comment opened here")]
    [InlineData("{}\nP0(int *x) { WRITE_ONCE(*x, 1); }\nexists (x=1)\n", ":1: expected 'C name' on the first line, found '{'")]
    [InlineData("C T\n{}\nP0(int *x) { int r0; r0 = READ_ONCE(*x) + READ_ONCE(*x); }\nexists (0:r0=0)\n", ":3: expected a primitive call only as a whole statement")]
    [InlineData("C T\n{}\nP0(int *x) { WRITE_ONCE(*x); }\nexists (x=1)\n", ":3: expected 2 argument(s) to WRITE_ONCE, not 1")]
    public void Bad_litmus_input_is_one_line_naming_file_and_line_and_exit_2(string text, string expected)
    {
        var file = Path.Combine(Path.GetTempPath(), $"vmalock-{Guid.NewGuid():N}.litmus");
        File.WriteAllText(file, text);
        try
        {
            var (code, output, error) = TestSupport.Vmalock("litmus", file);

            code.Should().Be(ExitCodes.BadInput);
            error.Should().StartWith($"vmalock: {file}{expected}");
            error.Trim().Split('\n').Should().HaveCount(1);
            output.Should().BeEmpty();
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("--memory must be sc or lkmm, not 'tso'", "litmus", "--memory", "tso", "x.litmus")]
    [InlineData("--placement must be insert or append, not 'random'", "litmus", "--placement", "random", "x.litmus")]
    [InlineData("litmus file not found: /no/such.litmus", "litmus", "/no/such.litmus")]
    public void Bad_litmus_options_are_one_line_and_exit_2(string expected, params string[] args)
    {
        var (code, _, error) = TestSupport.Vmalock(args);

        code.Should().Be(ExitCodes.BadInput);
        error.Should().Be($"vmalock: {expected}{Environment.NewLine}");
    }

    private static LitmusOutcome Run(string file, LkmmOptions options) =>
        LitmusRunner.Run(LitmusParser.ParseFile(Path.Combine(LitmusDir, file)), options);

    private static TheoryData<string> Files(bool known) =>
        [.. FileNames().Where(f => LitmusParser.ParseFile(Path.Combine(LitmusDir, f)).KnownLimit is not null == known)];

    private static IEnumerable<string> FileNames() =>
        Directory.EnumerateFiles(LitmusDir, "*.litmus").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal);

    /// <summary>Answers the machine's choices from a script, in order.</summary>
    private sealed class Scripted(params int[] answers) : ILkmmChoice
    {
        private int next;

        public int Choose(int count) => answers[this.next++];
    }
}
