using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.Port;

/// <summary>
/// The ported kernel functions, as one protocol generation uses them. Each is one member named
/// after the kernel function (C# casing, a leading "__" kept), whose body reads as the text of the
/// version its doc comment names, its gotos as early returns in the kernel's order. The members
/// are declared in partial declarations grouped by kernel file, in folders that mirror the kernel
/// tree (mm/memory.cs holds mm/memory.c); the bodies declared here are the first generation's,
/// v6.4 with its stable fixes.
/// <para>
/// A later generation (Implementation/Generations/) is an interface that derives from its parent
/// and overrides the functions it changed, each with that version's body. A mutant
/// (Harness/Mutants/) is an interface that overrides the functions a fix changed with their
/// pre-fix bodies. A booted kernel is a class that derives from <see cref="Booted"/> and
/// implements one generation (and at most one mutant): the runtime resolves each function to its
/// most specific body, and the compiler refuses a mutant on a generation that changed a function
/// the mutant replaces (no most specific body). Every function calls the others through
/// <c>this</c>, so it always gets the versions the booted kernel uses.
/// </para>
/// </summary>
public partial interface Linux
{
    /// <summary>The booted kernel's world: its tasks, RCU, memory model and observers.</summary>
    KernelWorld World { get; }

    /// <summary>vm_area_cachep: the slab cache VMAs come from (its freed objects, for v6.15's reuse).</summary>
    Stack<VmAreaStruct> VmAreaCachep { get; }

    /// <summary><c>current</c>'s name, as protocol events name threads.</summary>
    protected sealed ThreadName Thread => this.World.Current.Name;

    /// <summary>
    /// Puts a VMA made at boot into its mm's tree, before any thread runs (no scheduling points):
    /// the scenarios' address spaces as exec and earlier mmaps left them.
    /// </summary>
    void InstallAtSetup(MmStruct mm, VmAreaStruct vma) => mm.MmMt.Populate(vma);
}

/// <summary>A booted kernel: the state every function version shares. A generation's or mutant's kernel derives from it.</summary>
public abstract class Booted(KernelWorld world) : Linux
{
    public KernelWorld World { get; } = world;

    public Stack<VmAreaStruct> VmAreaCachep { get; } = new();
}

/// <summary>The errno values the port returns (include/uapi/asm-generic/errno-base.h).</summary>
public static class Errno
{
    public const int ENOENT = 2;

    public const int ESRCH = 3;

    public const int EINTR = 4;

    public const int EIO = 5;

    public const int EAGAIN = 11;

    public const int EFAULT = 14;

    public const int ENOMEM = 12;

    public const int EINVAL = 22;

    /// <summary>ERESTARTNOINTR (include/linux/errno.h): the syscall is restarted at once, as restart_syscall() asks.</summary>
    public const int ERESTARTNOINTR = 513;

    /// <summary>A negative errno as the kernel spells it: -4 is "-EINTR".</summary>
    public static string Name(int err) => -err switch
    {
        ENOENT => "-ENOENT",
        ESRCH => "-ESRCH",
        EINTR => "-EINTR",
        EIO => "-EIO",
        EAGAIN => "-EAGAIN",
        ENOMEM => "-ENOMEM",
        EFAULT => "-EFAULT",
        EINVAL => "-EINVAL",
        ERESTARTNOINTR => "-ERESTARTNOINTR",
        _ => err.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
