using VmaLockVerify.Implementation.Kernel;

namespace VmaLockVerify.Implementation.Mm;

/// <summary>struct anon_vma (mm/rmap.c): the reverse-map root shared by mergeable anonymous VMAs.</summary>
public sealed class AnonVma(KernelWorld world, string name) : KernelObject(world, name);
