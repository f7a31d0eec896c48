using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.Port;

namespace VmaLockVerify.Implementation.Fs;

/// <summary>
/// A struct vm_area_struct * that may be an ERR_PTR() (include/linux/err.h): a VMA, NULL, or a
/// negative errno. <see cref="IsErr"/> is IS_ERR(), <see cref="IsErrOrNull"/> IS_ERR_OR_NULL().
/// </summary>
public readonly record struct VmaPtr(VmAreaStruct? Vma, int Err)
{
    public static VmaPtr Null => default;

    public bool IsErr => this.Err != 0;

    public bool IsErrOrNull => this.Err != 0 || this.Vma is null;

    /// <summary>ERR_PTR(err).</summary>
    public static VmaPtr ErrPtr(int err) => new(null, err);

    public static implicit operator VmaPtr(VmAreaStruct? vma) => new(vma, 0);

    public override string ToString() => this.IsErr ? $"ERR_PTR({Errno.Name(this.Err)})" : this.Vma?.ToString() ?? "NULL";
}

/// <summary>Which seq_operations a /proc/PID file reads with (the port has /proc/PID/maps's).</summary>
public enum SeqOperations
{
    /// <summary>proc_pid_maps_op: m_start, m_next, m_stop, show_map.</summary>
    ProcPidMaps,
}

/// <summary>
/// struct proc_maps_locking_ctx, fs/proc/internal.h (v7.0): the mm, whether mmap_lock is held,
/// and the VMA read-locked for the reader (locked_vma). One per open maps file, one per
/// PROCMAP_QUERY call.
/// </summary>
public sealed class ProcMapsLockingCtx(MmStruct mm)
{
    public MmStruct Mm { get; } = mm;

    public VmAreaStruct? LockedVma { get; set; }

    public bool MmapLocked { get; set; }
}

/// <summary>
/// struct proc_maps_private, fs/proc/internal.h (v7.0), and the struct seq_file it is private to
/// (include/linux/seq_file.h): what one open /proc/PID/maps keeps between read() calls. The
/// task and mempolicy references are left out (the process outlives its readers here).
/// </summary>
public sealed class SeqFile(string name, MmStruct mm, SeqOperations op)
{
    /// <summary>The file as traces name it: "maps0's /proc/mm/maps".</summary>
    public string Name { get; } = name;

    /// <summary>m->op.</summary>
    public SeqOperations Op { get; } = op;

    /// <summary>m->index: the position the next m_start() continues from (a VMA's vm_end, or a sentinel).</summary>
    public long Index { get; set; }

    /// <summary>m->count: the records in the buffer of the read() in progress.</summary>
    public int Count { get; set; }

    /// <summary>priv->task is set: m_start() got the task, so m_stop() has something to release.</summary>
    public bool HasTask { get; set; }

    /// <summary>priv->lock_ctx.</summary>
    public ProcMapsLockingCtx LockCtx { get; } = new(mm);

    /// <summary>priv->iter.</summary>
    public VmaIterator Iter { get; } = new(mm, 0);

    /// <summary>priv->last_pos: the position before the last proc_get_vma(), where the next read() restarts.</summary>
    public long LastPos { get; set; }

    /// <summary>The lines shown so far, as user space reads them.</summary>
    public List<string> Lines { get; } = [];
}
