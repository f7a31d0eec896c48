using VmaLockVerify.Harness.Mutants;
using VmaLockVerify.Harness.Scenarios;
using VmaLockVerify.Implementation.Port;

namespace VmaLockVerify.Harness.Proposals;

/// <summary>
/// A proposed patch: whole kernel functions added or replaced, in one file, as a mutant is, but
/// expected to be clean. The file declares an interface (Patch) that declares the functions it
/// <see cref="Adds"/> and overrides those it <see cref="KernelPatch.Replaces"/>, the kernel it
/// makes on each generation (<see cref="KernelPatch.Kernels"/>), and its own scenarios: what a caller that uses it correctly
/// does, and what a misuse does, with the verdict each is expected to get. <c>explore --patch
/// NAME</c> runs it on its scenarios and generations; <c>vmalock show NAME</c> prints its
/// functions. Adding one is a class in this folder plus a line in <see cref="ProposalRegistry"/>.
/// </summary>
public abstract class Proposal : KernelPatch
{
    /// <summary>The kernel functions it adds, as the kernel would name them (<c>vma_end_write</c>).</summary>
    public abstract IReadOnlyList<string> Adds { get; }

    /// <summary>Its scenarios: run by <c>explore --patch</c>, never by the default explore.</summary>
    public abstract IReadOnlyList<ProposalScenario> Scenarios { get; }

    /// <summary>One of its scenarios by name, or null.</summary>
    public ProposalScenario? Scenario(string name) => this.Scenarios.FirstOrDefault(s => s.Name == name);
}

/// <summary>
/// A scenario written for a proposal: it calls the functions the proposal adds, or races with the
/// ones it replaces, so it runs only on the proposal's kernels. <see cref="Expected"/> is the
/// verdict the proposal's author expects: null (clean) for a correct use, else the invariant or
/// finding that must report a misuse, or what the patch leaves unfixed.
/// </summary>
public abstract class ProposalScenario : Scenario
{
    /// <summary>Null: a correct use, expected clean; else what must report it.</summary>
    public abstract string? Expected { get; }

    /// <summary>
    /// The memory model the verdict is for, when it holds under one only (a fix of an interleaving
    /// that leaves a weak-memory reordering); null: the generation's default models, as explore's.
    /// </summary>
    public virtual string? Memory => null;

    /// <summary>The expected verdict in words: "clean", or the invariant, with the model it is for if the scenario names one.</summary>
    public string Verdict => $"{this.Expected ?? "clean"}{(this.Memory is null ? string.Empty : $" under {this.Memory}")}";

    /// <summary>The booted kernel as the proposal's Patch interface <typeparamref name="TPatch"/>.</summary>
    protected static TPatch Patched<TPatch>(BootedKernel kernel)
        where TPatch : class, Linux =>
        kernel.Linux as TPatch ?? throw new InvalidOperationException($"{kernel.Linux.GetType().Name} does not have the proposal's functions ({typeof(TPatch).FullName})");
}
