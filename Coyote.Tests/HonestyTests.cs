using System.Diagnostics;
using System.Runtime.Loader;
using FluentAssertions;
using Microsoft.Coyote.Rewriting;
using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Scenarios;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>A green run means something: the code is rewritten, and uncontrolled concurrency is caught.</summary>
public sealed class HonestyTests
{
    [Fact]
    public void Every_controlled_assembly_is_rewritten()
    {
        RewriteCheck.FindUnrewritten(RewriteCheck.ControlledAssemblies).Should().BeEmpty();
        RewritingEngine.IsAssemblyRewritten(typeof(HonestyTests).Assembly).Should().BeTrue("the test assembly runs under the scheduler too");
    }

    [Fact]
    public void The_rewrite_check_refuses_the_compiler_output_before_rewriting()
    {
        var original = UnrewrittenImplementation;
        File.Exists(original).Should().BeTrue(original);
        var context = new AssemblyLoadContext("unrewritten", isCollectible: true);
        try
        {
            var assembly = context.LoadFromAssemblyPath(original);

            RewriteCheck.FindUnrewritten([assembly]).Should().Equal("VmaLockVerify.Implementation");
            var refuse = () => RewriteCheck.EnsureRewritten([assembly]);
            refuse.Should().Throw<HarnessException>()
                .Where(e => e.ExitCode == ExitCodes.NotHonest && e.Message.Contains("not rewritten for Coyote: VmaLockVerify.Implementation"));
        }
        finally
        {
            context.Unload();
        }
    }

    [Fact]
    public void Vmalock_refuses_to_explore_with_an_unrewritten_assembly_and_exits_3()
    {
        // A copy of the rewritten program with the port swapped for the compiler's unrewritten output.
        var built = HarnessOutput("net10.0-rewritten");
        var copy = Directory.CreateTempSubdirectory("vmalock-unrewritten-").FullName;
        try
        {
            foreach (var file in Directory.EnumerateFiles(built))
            {
                File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
            }

            File.Copy(UnrewrittenImplementation, Path.Combine(copy, "VmaLockVerify.Implementation.dll"), overwrite: true);
            var (exitCode, output, error) = ExploreOnce(copy);

            exitCode.Should().Be(ExitCodes.NotHonest);
            error.Trim().Should().Be(
                "vmalock: not rewritten for Coyote: VmaLockVerify.Implementation (run the rewritten copy in bin/<configuration>/net10.0-rewritten/, which 'dotnet build' makes with 'coyote rewrite'); refusing to explore uncontrolled code");
            output.Should().BeEmpty("nothing is explored");
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    [Fact]
    public void The_build_output_before_rewriting_is_refused_with_exit_3()
    {
        // bin/<configuration>/net10.0/ is the SDK's own output folder: the build never rewrites it.
        var (exitCode, output, error) = ExploreOnce(HarnessOutput("net10.0"));

        exitCode.Should().Be(ExitCodes.NotHonest);
        error.Should().Contain("not rewritten for Coyote: VmaLockVerify.Spec, VmaLockVerify.Implementation, VmaLockVerify.Invariants, vmalock");
        output.Should().BeEmpty("nothing is explored");
    }

    [Fact]
    public void Work_handed_to_the_thread_pool_is_reported_as_uncontrolled()
    {
        var request = TestSupport.Request("fault-vs-mprotect", "6.5", iterations: 5) with { Scenario = new ThreadPoolScenario() };

        var result = Explorer.Run(request);

        result.Bug.Should().NotBeNull("an uncontrolled invocation fails the run when partial control is off");
        result.Bug!.Invariant.Should().Be(Finding.Uncontrolled);
    }

    /// <summary>Debug or Release: the configuration these tests were built in.</summary>
    private static string BuildConfiguration => new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;

    /// <summary>Runs `vmalock explore --iterations 1` from a folder holding vmalock.dll.</summary>
    private static (int ExitCode, string Output, string Error) ExploreOnce(string folder)
    {
        var start = new ProcessStartInfo("dotnet", ["vmalock.dll", "explore", "--iterations", "1"])
        {
            WorkingDirectory = folder,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output, error);
    }

    /// <summary>A folder of the harness's build: net10.0 (the SDK's output, unrewritten) or net10.0-rewritten.</summary>
    private static string HarnessOutput(string folder) => Path.Combine(TestSupport.RepositoryRoot, "Harness", "bin", BuildConfiguration, folder);

    /// <summary>The compiler's own output (obj/); the build rewrites only the copies in bin/*-rewritten/.</summary>
    private static string UnrewrittenImplementation =>
        Path.Combine(TestSupport.RepositoryRoot, "Implementation", "obj", BuildConfiguration, "net10.0", "VmaLockVerify.Implementation.dll");

    /// <summary>A scenario that hands work to the thread pool, which Coyote does not control.</summary>
    private sealed class ThreadPoolScenario : Scenario
    {
        public override string Name => "uses-thread-pool";

        public override string Description => "queues a work item on the thread pool";

        public override Task RunAsync(BootedKernel kernel, int readers)
        {
            using var done = new ManualResetEventSlim();
            ThreadPool.QueueUserWorkItem(_ => done.Set());
            done.Wait(TimeSpan.FromSeconds(5));
            return Task.CompletedTask;
        }
    }
}
