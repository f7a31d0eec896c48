using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Port;

namespace VmaLockVerify.Harness.Scenarios;

/// <summary>One booted kernel a scenario drives: its world and its functions, as the generation (or the mutant) uses them.</summary>
public sealed record BootedKernel(KernelWorld World, Linux Linux);
