using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Harness.Scenarios;

/// <summary>
/// Reads /proc/PID/maps a line per read() (so every line goes through m_start(), lock_next_vma()
/// under RCU with one VMA read-locked at a time, and m_stop()) while a writer splits vma1, merges
/// it back, splits it again, moves vma2's pages away with mremap and unmaps vma1. Each line must
/// be a range its VMA had at some instant, and the lines must move forward (NoTornVmaRange).
/// The readers exist from v7.0 (6.17 upstream) on.
/// </summary>
public sealed class MapsReaderVsWriters : Scenario
{
    /// <summary>Where mremap moves vma2 to.</summary>
    private const ulong MovedTo = MmStruct.TaskBase + 0x8000;

    public override string Name => "maps-reader-vs-writers";

    public override string Description => "reads /proc/PID/maps a line per read() (lock_next_vma() under RCU, one VMA read-locked at a time) while a writer splits vma1, merges it back, splits it again, mremaps vma2 and munmaps vma1";

    public override bool RunsOn(GenerationInfo generation) => FromV7_0(generation);

    public override Task RunAsync(BootedKernel kernel, int readers)
    {
        var (mm, vma1, _) = TwoAdjacentVmas(kernel);
        var linux = kernel.Linux;
        var writer = Writer(kernel, "writer", mm, () =>
        {
            linux.MmapWriteLock(mm);
            var upper = linux.__SplitVma(vma1, Vma1Start + PageTable.PageSize);
            linux.MmapWriteUnlock(mm);

            linux.MmapWriteLock(mm);
            linux.VmaMerge(vma1, upper);
            linux.MmapWriteUnlock(mm);

            linux.MmapWriteLock(mm);
            linux.__SplitVma(vma1, Vma1Start + PageTable.PageSize);
            linux.MmapWriteUnlock(mm);

            linux.Mremap(mm, Vma2Start, MovedTo);
            linux.DoVmiMunmap(mm, Vma1Start);
        });
        return Task.WhenAll(MapsReaders.Start(kernel, mm, readers, (mainline, i) =>
        {
            // cat /proc/PID/maps with a buffer of one line.
            var file = mainline.ProcMapsOpen(mm, $"maps{i}'s /proc/{mm.Name}/maps");
            while (mainline.SeqReadIter(file, room: 1) > 0)
            {
            }
        }).Append(writer));
    }
}

/// <summary>The threads of the scenarios that read an address space's layout: "maps0", "maps1", ... on a v7.0 kernel.</summary>
internal static class MapsReaders
{
    /// <summary>Starts <paramref name="readers"/> reader threads of the process owning <paramref name="mm"/>.</summary>
    public static IEnumerable<Task> Start(BootedKernel kernel, MmStruct mm, int readers, Action<Linux7_0, int> body)
    {
        var mainline = kernel.Linux as Linux7_0 ?? throw new InvalidOperationException("the /proc/PID/maps readers need a v7.0 kernel");
        return Enumerable.Range(0, readers).Select(i => kernel.World.Spawn($"maps{i}", mm.Name, () => body(mainline, i)));
    }
}
