using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Mm;
using VmaLockVerify.Implementation.VmaLock;

namespace VmaLockVerify.Harness.Scenarios;

/// <summary>The parts of one booted kernel a scenario drives: the per-VMA lock generation, the writers, the fault path.</summary>
public sealed record BootedKernel(KernelWorld World, VmaLockGeneration Locking, MmOperations Mm, FaultHandler Faults);
