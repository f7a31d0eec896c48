using FluentAssertions;
using VmaLockVerify.Harness.Traces;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Spec;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>vm_fault_t as a type: a fault's outcome is a <see cref="VmFault"/> and prints in kernel words.</summary>
public sealed class VmFaultTests
{
    [Theory]
    [InlineData(VmFault.None, "handled")]
    [InlineData(VmFault.Oom, "VM_FAULT_OOM")]
    [InlineData(VmFault.Retry, "VM_FAULT_RETRY")]
    [InlineData(VmFault.Oom | VmFault.Retry, "VM_FAULT_OOM|VM_FAULT_RETRY")]
    [InlineData(VmFault.Retry | (VmFault)0x000002, "VM_FAULT_RETRY|0x000002")]
    public void Each_bit_prints_as_its_kernel_name(VmFault fault, string name) => fault.KernelName().Should().Be(name);

    [Fact]
    public void Every_member_has_a_kernel_name()
    {
        foreach (var fault in Enum.GetValues<VmFault>().Where(f => f != VmFault.None))
        {
            fault.KernelName().Should().StartWith("VM_FAULT_").And.NotContain("|");
        }
    }

    /// <summary>The texts the port printed when a fault's outcome was a string: the traces print them unchanged.</summary>
    [Theory]
    [InlineData(VmFault.None, "page present", false, "handled (page present)")]
    [InlineData(VmFault.None, "mapped writable page, index 0x0", false, "handled (mapped writable page, index 0x0)")]
    [InlineData(VmFault.Retry, null, false, "VM_FAULT_RETRY")]
    [InlineData(VmFault.Oom, "no anon_vma", false, "VM_FAULT_OOM (no anon_vma)")]
    [InlineData(VmFault.None, "bad_area", true, "SIGSEGV (bad_area)")]
    [InlineData(VmFault.None, "access_error", true, "SIGSEGV (access_error)")]
    public void An_outcome_prints_in_kernel_words_with_its_reason(VmFault fault, string? reason, bool sigsegv, string text) =>
        new FaultOutcome(fault, reason, sigsegv).ToString().Should().Be(text);

    [Fact]
    public void The_helpers_build_the_outcomes_the_port_returns()
    {
        FaultOutcome.Handled("PTE changed").Should().Be(new FaultOutcome(VmFault.None, "PTE changed"));
        FaultOutcome.Segv("bad_area").Should().Be(new FaultOutcome(VmFault.None, "bad_area", Sigsegv: true));
        ((FaultOutcome)VmFault.Retry).Should().Be(new FaultOutcome(VmFault.Retry));
    }

    [Fact]
    public void A_replayed_faults_outcome_is_the_vm_fault_t_and_its_event_prints_it()
    {
        var outcome = Replayer.Replay(Path.Combine(TestSupport.RepositoryRoot, "traces", "fault-vs-fork.6.4.fork-no-parent-lock.seed1.trace.json"));

        var completed = outcome.Steps.Select(s => s.Event).OfType<FaultCompleted>().Should().ContainSingle().Subject;
        completed.Outcome.Should().Be(FaultOutcome.Handled("copied page on write"));
        completed.Outcome.Fault.Should().Be(VmFault.None);
        completed.Describe().Should().Be("user1 page fault at 0x10000 done: handled (copied page on write)");
        outcome.Steps.Should().Contain(s => s.Kind == TraceStepKind.Return && s.Text == "handle_mm_fault = handled (copied page on write)");
    }
}
