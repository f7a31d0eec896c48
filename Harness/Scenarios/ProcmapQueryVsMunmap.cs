using VmaLockVerify.Implementation.Fs;
using VmaLockVerify.Implementation.Generations;
using VmaLockVerify.Implementation.Mm;

namespace VmaLockVerify.Harness.Scenarios;

/// <summary>
/// Two threads issue PROCMAP_QUERY on one open /proc/PID/maps (each query with its own lock
/// context, the VMA read-locked through lock_next_vma()) while a writer unmaps vma2, the
/// file-backed VMA they ask about. maps0 asks for vma2 with its name (do_procmap_query() then
/// allocates the name buffer); maps1 asks for the first file-backed VMA from vma1 on, skipping
/// vma1. The answers must be untorn ranges, and nothing may sleep under RCU.
/// </summary>
public sealed class ProcmapQueryVsMunmap : Scenario
{
    public override string Name => "procmap-query-vs-munmap";

    public override string Description => "two threads issue PROCMAP_QUERY on one open /proc/PID/maps (vma2 by address with its name; the first file-backed VMA from vma1) while munmap(vma2) removes the file-backed VMA";

    public override bool RunsOn(GenerationInfo generation) => FromV7_0(generation);

    public override Task RunAsync(BootedKernel kernel, int readers)
    {
        var world = kernel.World;
        var mm = new MmStruct(world, "mm");
        var file = new AddressSpace(world, "file1");
        var vma1 = kernel.Linux.VmAreaAlloc(mm, world.NewVmaName(), Vma1Start, Vma2Start, ReadWrite, new AnonVma(world, world.NewName("anon_vma")));
        var vma2 = kernel.Linux.VmAreaAlloc(mm, world.NewVmaName(), Vma2Start, Vma2End, VmFlags.Read | VmFlags.MayRead, anonVma: null, file);
        kernel.Linux.InstallAtSetup(mm, vma1);
        kernel.Linux.InstallAtSetup(mm, vma2);

        var writer = Writer(kernel, "writer", mm, () => kernel.Linux.DoVmiMunmap(mm, Vma2Start));
        var opened = new SeqFile($"/proc/{mm.Name}/maps", mm, SeqOperations.ProcPidMaps); // opened before the threads start
        return Task.WhenAll(MapsReaders.Start(kernel, mm, readers, (mainline, i) =>
        {
            if (i % 2 == 0)
            {
                mainline.ProcfsProcmapIoctl(opened, Vma2Start, ProcmapQueryFlags.None, vmaNameSize: 64);
            }
            else
            {
                mainline.ProcfsProcmapIoctl(opened, Vma1Start, ProcmapQueryFlags.CoveringOrNextVma | ProcmapQueryFlags.FileBackedVma, vmaNameSize: 0);
            }
        }).Append(writer));
    }
}
