using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Invariants;

namespace VmaLockVerify.Harness.Mutants;

/// <summary>
/// expand_downwards() without the vma_start_write() of c137381f71ae: the stack's vm_start and
/// vm_pgoff move while page faults hold the VMA's read lock and compute page offsets from them
/// (docs/protocol.md 8, B6).
/// </summary>
public sealed class StackExpandNoLock : Mutant
{
    public override string Name => "stack-expand-no-lock";

    public override string Description => "expand_downwards() changes vm_start and vm_pgoff without vma_start_write()";

    public override string Origin => "reverts c137381f71ae (mm: lock a vma before stack expansion; v6.5-rc1, v6.4.3)";

    public override string Scenario => "fault-vs-stack-expand";

    public override string CaughtBy => nameof(WriterExcludesReaders);

    public override IReadOnlyList<string> Replaces => ["expand_downwards"];

    /// <summary>The rw_semaphore generations (on 6.15 SpecConformance reports the unlocked change first).</summary>
    public override IReadOnlyList<MutantKernel> Kernels { get; } =
        [MutantKernel.On("6.4", w => new On6_4(w)), MutantKernel.On("6.5", w => new On6_5(w)), MutantKernel.On("6.14", w => new On6_14(w))];

    /// <summary>expand_downwards() before c137381f71ae.</summary>
    public interface Patch : Linux
    {
        /// <summary>expand_downwards(), mm/mmap.c, v6.4.0, before c137381f71ae: the stack grows under its readers.</summary>
        int Linux.ExpandDownwards(VmAreaStruct vma, ulong address)
        {
            using var fn = this.World.Enter("expand_downwards", $"{vma.Name}, {VmAreaStruct.Hex(address)}");
            if ((vma.VmFlags.ReadOnce() & (ulong)VmFlags.GrowsDown) == 0)
            {
                return fn.Returns(-Errno.EFAULT);
            }

            // Enforce stack_guard_gap.
            var prev = vma.VmMm.MmMt.VmaPrev(vma);
            if (prev is not null && (prev.VmFlags.ReadOnce() & (ulong)VmFlags.GrowsDown) == 0 && address - prev.VmEnd.ReadOnce() < StackGuardGap)
            {
                return fn.Returns(-Errno.ENOMEM);
            }

            // We must make sure the anon_vma is allocated (the scenarios' stacks have theirs already).
            if (vma.AnonVma.ReadOnce() is null)
            {
                return fn.Returns(-Errno.ENOMEM);
            }

            var error = 0;
            var start = vma.VmStart.Plain();
            if (address < start)
            {
                var grow = (start - address) / PageTable.PageSize;
                error = -Errno.ENOMEM;
                if (grow <= vma.VmPgoff.Plain())
                {
                    vma.VmStart.WriteOnce(address);
                    vma.VmPgoff.WriteOnce(vma.VmPgoff.Plain() - grow);
                    vma.VmMm.MmMt.Store(vma, address, vma.VmEnd.Plain()); // overwrite the old entry in the tree
                    error = 0;
                }
            }

            return fn.Returns(error);
        }
    }

    private sealed class On6_4(KernelWorld world) : Booted(world), Patch;

    private sealed class On6_5(KernelWorld world) : Booted(world), Linux6_5, Patch;

    private sealed class On6_14(KernelWorld world) : Booted(world), Linux6_14, Patch;
}
