using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Harness.Scenarios;

/// <summary>
/// A named race: an address space set up before any thread runs, some page-fault threads
/// ("fault0".."fault3", the readers) and one or two writer threads, run to completion under the
/// controlled scheduler. A scenario is one class in this folder plus one line in
/// <see cref="ScenarioRegistry"/>.
/// </summary>
public abstract class Scenario
{
    /// <summary>Where the first VMA starts.</summary>
    protected const ulong Vma1Start = MmStruct.TaskBase;

    /// <summary>Where the first VMA ends and the second (adjacent, mergeable) one starts.</summary>
    protected const ulong Vma2Start = MmStruct.TaskBase + 0x2000;

    /// <summary>Where the second VMA ends.</summary>
    protected const ulong Vma2End = MmStruct.TaskBase + 0x4000;

    /// <summary>The protection of the scenarios' VMAs: private anonymous read/write memory.</summary>
    protected const VmFlags ReadWrite = VmFlags.Read | VmFlags.Write | VmFlags.MayRead | VmFlags.MayWrite;

    public abstract string Name { get; }

    /// <summary>One line: what the writer does while the faults run.</summary>
    public abstract string Description { get; }

    /// <summary>
    /// Whether the scenario exists in <paramref name="generation"/>: every one, unless its threads
    /// call functions only later kernels have (the /proc/PID/maps readers of v7.0).
    /// </summary>
    public virtual bool RunsOn(GenerationInfo generation) => true;

    /// <summary>Whether the generation is v7.0 or one after it (its kernel has Linux7_0's functions): for the scenarios whose threads call them.</summary>
    protected static bool FromV7_0(GenerationInfo generation) => typeof(Linux7_0).IsAssignableFrom(generation.Kernel);

    /// <summary>Sets up the address space, starts the threads, and waits for all of them.</summary>
    public abstract Task RunAsync(BootedKernel kernel, int readers);

    /// <summary>
    /// The address space every scenario starts from: "mm" with two adjacent anonymous VMAs sharing
    /// one anon_vma, vma1 = [0x10000, 0x12000) and vma2 = [0x12000, 0x14000), both read/write.
    /// </summary>
    protected static (MmStruct Mm, VmAreaStruct Vma1, VmAreaStruct Vma2) TwoAdjacentVmas(BootedKernel kernel) => TwoVmas(kernel, Vma2Start, Vma2End);

    /// <summary>
    /// "mm" with vma1 = [0x10000, 0x12000) and vma2 = [<paramref name="vma2Start"/>, <paramref name="vma2End"/>),
    /// anonymous, read/write, sharing one anon_vma (and so mergeable, when adjacent).
    /// </summary>
    protected static (MmStruct Mm, VmAreaStruct Vma1, VmAreaStruct Vma2) TwoVmas(BootedKernel kernel, ulong vma2Start, ulong vma2End)
    {
        var world = kernel.World;
        var mm = new MmStruct(world, "mm");
        var anonVma = new AnonVma(world, world.NewName("anon_vma"));
        var vma1 = kernel.Linux.VmAreaAlloc(mm, world.NewVmaName(), Vma1Start, Vma2Start, ReadWrite, anonVma);
        var vma2 = kernel.Linux.VmAreaAlloc(mm, world.NewVmaName(), vma2Start, vma2End, ReadWrite, anonVma);
        kernel.Linux.InstallAtSetup(mm, vma1);
        kernel.Linux.InstallAtSetup(mm, vma2);
        return (mm, vma1, vma2);
    }

    /// <summary>The writer of fault-vs-merge: vma_merge(vma1, vma2) in one mmap-write section, then __split_vma(vma1) at vma2's old start in a second.</summary>
    protected static Task MergeThenSplit(BootedKernel kernel, MmStruct mm, VmAreaStruct vma1, VmAreaStruct vma2) => Writer(kernel, "writer", mm, () =>
    {
        kernel.Linux.MmapWriteLock(mm);
        kernel.Linux.VmaMerge(vma1, vma2);
        kernel.Linux.MmapWriteUnlock(mm);

        kernel.Linux.MmapWriteLock(mm);
        kernel.Linux.__SplitVma(vma1, Vma2Start);
        kernel.Linux.MmapWriteUnlock(mm);
    });

    /// <summary>Starts <paramref name="readers"/> fault threads; fault i writes to <paramref name="addressOf"/>(i).</summary>
    protected static IEnumerable<Task> Faults(BootedKernel kernel, MmStruct mm, int readers, Func<int, ulong> addressOf) =>
        Enumerable.Range(0, readers).Select(i =>
            kernel.World.Spawn($"fault{i}", mm.Name, () => kernel.Linux.DoUserAddrFault(mm, addressOf(i), write: true)));

    /// <summary>
    /// The readers of the guard-install scenarios (v7.0): "madvise0", MADV_GUARD_INSTALL of the page
    /// at <paramref name="guardAt"/> (under its VMA's read lock, else mmap_read_lock()), and
    /// <paramref name="readers"/> - 1 page faults, fault i - 1 writing to <paramref name="faultAt"/>(i).
    /// The faults start when the result is enumerated, after the guard install.
    /// </summary>
    protected static IEnumerable<Task> GuardInstallAndFaults(BootedKernel kernel, MmStruct mm, ulong guardAt, int readers, Func<int, ulong> faultAt) =>
        MadviseAndFaults(kernel, mm, readers, mainline => mainline.DoMadvise(mm, guardAt, PageTable.PageSize, MadviseBehavior.GuardInstall), faultAt);

    /// <summary>
    /// The readers of the madvise scenarios (v7.0): "madvise0", started now, running
    /// <paramref name="madvise"/> on the v7.0 kernel, and <paramref name="readers"/> - 1 page faults,
    /// fault i - 1 writing to <paramref name="faultAt"/>(i), started when the result is enumerated.
    /// </summary>
    protected static IEnumerable<Task> MadviseAndFaults(BootedKernel kernel, MmStruct mm, int readers, Action<Linux7_0> madvise, Func<int, ulong> faultAt)
    {
        var mainline = kernel.Linux as Linux7_0 ?? throw new InvalidOperationException("madvise under the VMA lock needs a v7.0 kernel");
        var thread = kernel.World.Spawn("madvise0", mm.Name, () => madvise(mainline));
        var faults = Enumerable.Range(1, readers - 1).Select(i =>
            kernel.World.Spawn($"fault{i - 1}", mm.Name, () => kernel.Linux.DoUserAddrFault(mm, faultAt(i), write: true)));
        return faults.Append(thread);
    }

    /// <summary>Setup only: the process has written every page of [<paramref name="start"/>, <paramref name="end"/>), each mapped writable in <paramref name="vma"/>'s anon_vma.</summary>
    protected static void WrittenPages(BootedKernel kernel, MmStruct mm, VmAreaStruct vma, ulong start, ulong end)
    {
        for (var address = start; address < end; address += PageTable.PageSize)
        {
            mm.PageTable.Populate(address, new Pte(new Folio(kernel.World, vma.AnonVma.Peek()), Writable: true));
        }
    }

    /// <summary>Starts a thread of the process owning <paramref name="mm"/>.</summary>
    protected static Task Writer(BootedKernel kernel, ThreadName name, MmStruct mm, Action body) => kernel.World.Spawn(name, mm.Name, body);
}
