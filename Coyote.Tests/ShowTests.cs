using FluentAssertions;
using VmaLockVerify.Harness.Mutants;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>vmalock show: a mutant's functions as a diff against the generation's, to hold against git show of the fix.</summary>
public sealed class ShowTests
{
    [Fact]
    public void Show_prints_the_difference_between_the_generations_body_and_the_mutants()
    {
        var (code, output, _) = TestSupport.Vmalock("show", "skip-recheck");

        code.Should().Be(0);
        output.Should().Contain("vma_start_read() on 6.4:");
        output.Should().Contain("--- Implementation/Port/mm/mmap_lock.cs:");
        output.Should().Contain("+++ Harness/Mutants/SkipRecheck.cs:");
        output.Should().Contain("-    if (vma.VmLockSeq.Plain() == vma.VmMm.MmLockSeq.ReadOnce())\n-    {\n-        vma.VmLock.UpRead();");
        output.Should().Contain("\n     if (!vma.VmLock.DownReadTrylock())\n");
    }

    [Theory]
    [MemberData(nameof(KernelFunctionTests.Mutants), MemberType = typeof(KernelFunctionTests))]
    public void Show_prints_a_diff_for_every_function_a_mutant_replaces(string name)
    {
        var (code, output, _) = TestSupport.Vmalock("show", name);

        code.Should().Be(0);
        foreach (var function in MutantRegistry.Find(name)!.Replaces)
        {
            output.Should().Contain($"\n{function}() on ");
        }

        output.Split('\n').Should().Contain(l => l.StartsWith('-') && !l.StartsWith("---", StringComparison.Ordinal) || l.StartsWith('+') && !l.StartsWith("+++", StringComparison.Ordinal));
    }

    [Fact]
    public void Show_of_an_unknown_mutant_is_bad_input()
    {
        var (code, _, error) = TestSupport.Vmalock("show", "no-such-mutant");

        code.Should().Be(2);
        error.Should().Contain("unknown mutant or proposal 'no-such-mutant'");
    }
}
