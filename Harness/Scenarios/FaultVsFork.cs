using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Harness.Scenarios;

/// <summary>
/// Threads of a process keep storing to a page they have written before while another thread of
/// the process forks it (docs/protocol.md 8, B1). dup_mmap() write-protects the page in both processes
/// for copy-on-write and flushes the parent's TLB only when it is done, so a thread still holding
/// a writable translation may store to the page the child now shares; a thread that takes a
/// copy-on-write fault meanwhile must not be able to copy the page before that flush.
/// </summary>
public sealed class FaultVsFork : Scenario
{
    /// <summary>Each user thread stores this many bits of its own, one at a time, then loads the word.</summary>
    private const int StoresPerThread = 16;

    public override string Name => "fault-vs-fork";

    public override string Description => "user threads store to and load a page they already wrote while fork() (dup_mmap) write-protects it for copy-on-write";

    public override Task RunAsync(BootedKernel kernel, int readers)
    {
        var (mm, vma1, _) = TwoAdjacentVmas(kernel);

        // The process has written to every page of its two VMAs: each is mapped writable, in the
        // VMAs' anon_vma. fork copies vma2's page table after vma1's, before its TLB flush.
        WrittenPages(kernel, mm, vma1, Vma1Start, Vma2End);

        var cpu = new UserAccess(kernel.World, kernel.Linux);
        var users = Enumerable.Range(0, readers).Select(i => kernel.World.Spawn($"user{i}", mm.Name, () =>
        {
            for (var store = 0; store < StoresPerThread; store++)
            {
                cpu.Store(mm, Vma1Start, 1UL << ((StoresPerThread * i) + store));
            }

            cpu.Load(mm, Vma1Start);
        }));
        var fork = Writer(kernel, "forker", mm, () => kernel.Linux.DupMmap(new MmStruct(kernel.World, "child"), mm));
        return Task.WhenAll(users.Append(fork));
    }
}
