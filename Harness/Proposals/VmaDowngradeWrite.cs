using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Harness.Scenarios;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Harness.Proposals;

/// <summary>
/// What-if: vma_downgrade_write(vma), the last name Matthew Wilcox listed in the seed thread
/// (shared/seed, January 2023). The kernel never had it: mmap_write_downgrade() releases every
/// VMA write lock. Here the writer turns one VMA's write lock into a read hold: new page faults
/// may enter the VMA, and no other writer may change it until the writer's vma_end_read(), even
/// after mmap_write_unlock().
/// </summary>
public sealed class VmaDowngradeWrite : Proposal
{
    public override string Name => "vma-downgrade-write";

    public override string Description => "vma_downgrade_write(vma): a VMA's write lock becomes a read hold of the writer's (released by vma_end_read()); new readers may enter";

    public override string Origin => "named in the seed thread (Matthew Wilcox, 2023-01-17, shared/seed); never in the kernel, where mmap_write_downgrade() releases every VMA write lock";

    public override IReadOnlyList<string> Adds => ["vma_downgrade_write"];

    public override IReadOnlyList<string> Replaces => [];

    /// <summary>An rw_semaphore VMA lock (6.5, 6.14) and the reference count (6.15).</summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } =
        [MutantKernel.On("6.5", w => new On6_5(w)), MutantKernel.On("6.14", w => new On6_14(w)), MutantKernel.On("6.15", w => new On6_15(w))];

    public override IReadOnlyList<ProposalScenario> Scenarios { get; } = [new ReadsUnderItsHold(), new WritesAgainUnderItsHold()];

    /// <summary>vma_downgrade_write() on a VMA locked by an rw_semaphore.</summary>
    public interface Patch : Linux6_5
    {
        /// <summary>
        /// vma_downgrade_write(), proposal, never in the kernel (v6.5 and v6.14's rw_semaphore VMA
        /// lock): take vm_lock for write (no reader can hold it: the VMA is write-locked), reset
        /// vm_lock_seq, and downgrade_write(): the writer keeps vm_lock for read, new readers'
        /// down_read_trylock() succeeds, and vma_start_write() waits until the writer's up_read().
        /// </summary>
        void VmaDowngradeWrite(VmAreaStruct vma)
        {
            using var fn = this.World.Enter("vma_downgrade_write", vma.Name);
            this.VmaAssertWriteLocked(vma);
            vma.VmLock.DownWrite();
            vma.VmLockSeq.WriteOnce(VmaEndWrite.Unlocked);

            // Reported before downgrade_write(): readers it lets in may run before it returns.
            this.World.Emit(new VmaWriteDowngraded(this.Thread, vma.VmMm.Name, vma.Name));
            vma.VmLock.DowngradeWrite();
        }
    }

    /// <summary>vma_downgrade_write() on a VMA locked by its reference count.</summary>
    public interface Patch6_15 : Linux6_15, Patch
    {
        /// <summary>
        /// vma_downgrade_write(), proposal, never in the kernel (v6.15's reference count): with
        /// readers excluded, reset vm_lock_seq and take the writer's own reference, then end the
        /// exclusion (its release pairs with readers' acquiring increments): vm_refcnt is 2, and
        /// __vma_enter_locked() of the next writer waits for the writer's vma_end_read().
        /// </summary>
        void Patch.VmaDowngradeWrite(VmAreaStruct vma)
        {
            using var fn = this.World.Enter("vma_downgrade_write", vma.Name);
            this.VmaAssertWriteLocked(vma);
            var locked = this.__VmaEnterLocked(vma, detaching: false, killable: false);
            this.World.VmBugOn(locked <= 0, $"WARN_ON_ONCE(!locked): {vma.Name} must be attached to be downgraded");
            vma.VmLockSeq.WriteOnce(VmaEndWrite.Unlocked);
            this.World.VmBugOn(!vma.VmRefcnt.AddNotZero(1), $"refcount_add_not_zero(1, &{vma.Name}->vm_refcnt) failed");
            this.World.Emit(new VmaWriteDowngraded(this.Thread, vma.VmMm.Name, vma.Name));
            this.World.VmBugOn(this.__VmaExitLocked(vma), $"WARN_ON_ONCE(detached): {vma.Name} must stay attached");
        }
    }

    /// <summary>
    /// Correct use: the writer mprotects vma1, downgrades, drops mmap_lock and goes on reading
    /// vma1 under its hold (as a populate would) while faults enter; a second writer's mprotect of
    /// vma1 must wait for the hold to end.
    /// </summary>
    public sealed class ReadsUnderItsHold : DowngradeScenario
    {
        public override string Name => "downgrade-write-then-read";

        public override string Description => "faults in vma1 while a writer mprotects vma1, vma_downgrade_write(vma1), mmap_write_unlock(), reads vma1, vma_end_read(vma1), and a second writer mprotects vma1";

        public override string? Expected => null;

        public override Task RunAsync(BootedKernel kernel, int readers) => Downgraded(
            kernel,
            readers,
            (linux, mm, vma1) =>
            {
                linux.MmapWriteUnlock(mm);
                _ = vma1.VmFlags.ReadOnce(); // what a populate would look at, under the read hold
                _ = vma1.VmPageProt.ReadOnce();
                linux.VmaEndRead(vma1);
            },
            (linux, mm) => Writer(kernel, "writer2", mm, () => linux.DoMprotectPkey(mm, Vma1Start, ReadWrite)));
    }

    /// <summary>
    /// Misuse: after the downgrade the writer, still in its mmap_lock write section, changes vma1
    /// again: vma_start_write() waits for the VMA's readers, the writer's own hold among them.
    /// There is no upgrade, as there is none for mmap_lock.
    /// </summary>
    public sealed class WritesAgainUnderItsHold : DowngradeScenario
    {
        public override string Name => "downgrade-write-then-write";

        public override string Description => "faults in vma1 while a writer mprotects vma1, vma_downgrade_write(vma1), then mprotects vma1 again before vma_end_read(vma1)";

        public override string? Expected => Finding.Deadlock;

        public override Task RunAsync(BootedKernel kernel, int readers) => Downgraded(
            kernel,
            readers,
            (linux, mm, vma1) =>
            {
                linux.MprotectFixup(vma1, ReadWrite);
                linux.MmapWriteUnlock(mm);
                linux.VmaEndRead(vma1);
            });
    }

    /// <summary>The race of both scenarios, which differ in what the writer does after its downgrade.</summary>
    public abstract class DowngradeScenario : ProposalScenario
    {
        /// <summary>
        /// Faults in vma1 while "writer" takes mmap_lock for write, mprotects vma1,
        /// vma_downgrade_write(vma1), then does <paramref name="then"/>; <paramref name="other"/>
        /// starts the scenario's other writer, if it has one.
        /// </summary>
        protected static Task Downgraded(BootedKernel kernel, int readers, Action<Patch, MmStruct, VmAreaStruct> then, Func<Patch, MmStruct, Task>? other = null)
        {
            var (mm, vma1, _) = TwoAdjacentVmas(kernel);
            var linux = Patched<Patch>(kernel);
            var writer = Writer(kernel, "writer", mm, () =>
            {
                linux.MmapWriteLock(mm);
                linux.MprotectFixup(vma1, ReadWrite | VmFlags.Exec);
                linux.VmaDowngradeWrite(vma1);
                then(linux, mm, vma1);
            });
            var threads = Faults(kernel, mm, readers, i => Vma1Start + ((ulong)(i % 2) * PageTable.PageSize)).Append(writer);
            return Task.WhenAll(other is null ? threads : threads.Append(other(linux, mm)));
        }
    }

    private sealed class On6_5(KernelWorld world) : Booted(world), Patch;

    private sealed class On6_14(KernelWorld world) : Booted(world), Linux6_14, Patch;

    private sealed class On6_15(KernelWorld world) : Booted(world), Linux6_15, Patch6_15;
}
