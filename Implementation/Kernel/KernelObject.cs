using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Implementation.Kernel;

/// <summary>
/// A slab object of the port (mm_struct, vm_area_struct, its vma_lock). Freeing it poisons it: any
/// later access to one of its <see cref="SharedVar{T}"/> locations is a use-after-free, reported the
/// way KASAN reports one (the access, the object, and who freed it).
/// </summary>
public abstract class KernelObject(KernelWorld world, string name)
{
    /// <summary>The name traces use: "mm", "vma1". A recycled slab object takes a new name.</summary>
    public string Name { get; private set; } = name;

    public KernelWorld World { get; } = world;

    /// <summary>The object's liveness as a location (<see cref="IStepFootprint"/>): read by every access, written by a free or a reuse.</summary>
    private readonly int livenessLocation = world.NewLocation();

    /// <summary>Who freed the object and where; null while it is live.</summary>
    public string? FreedBy { get; private set; }

    /// <summary>Frees the object (kmem_cache_free): later accesses are use-after-free.</summary>
    public void Free(string where)
    {
        if (this.FreedBy is not null)
        {
            this.World.Emit(new FreedObjectAccessed(this.World.Current.Name, this.Name, "(object)", "free", "kfree", where, this.FreedBy));
            this.World.Bug($"KASAN: double-free of {this.Name} in {where}, already freed by {this.FreedBy}");
        }

        this.World.Footprint?.Touch(this.livenessLocation, write: true);
        this.FreedBy = $"{this.World.Current.Name} in {where}";
    }

    /// <summary>
    /// Reuses a freed object of a SLAB_TYPESAFE_BY_RCU cache as a new one: its memory never stopped
    /// being an object of this type, so it is not poisoned; it gets the new object's name.
    /// </summary>
    protected void Reincarnate(string name)
    {
        this.World.Footprint?.Touch(this.livenessLocation, write: true);
        this.Name = name;
        this.FreedBy = null;
    }

    internal void CheckAlive(AccessKind kind, string op, string field)
    {
        this.World.Footprint?.Touch(this.livenessLocation, write: false);
        if (this.FreedBy is not null)
        {
            var what = kind == AccessKind.Load ? "read" : "write";
            this.World.Emit(new FreedObjectAccessed(this.World.Current.Name, this.Name, field, what, op, this.World.Current.FunctionName, this.FreedBy));
            this.World.Bug(
                $"KASAN: use-after-free {what} of {this.Name}->{field} ({op}) by {this.World.Current.Name} in {this.World.Current.FunctionName}; freed by {this.FreedBy}");
        }
    }

    public override string ToString() => this.Name;
}
