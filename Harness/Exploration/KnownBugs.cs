using VmaLockVerify.Implementation.VmaLock;

namespace VmaLockVerify.Harness.Exploration;

/// <summary>
/// A bug a generation shipped with under one memory model and a later generation fixed: the
/// generation is modelled as released, so exploring it under that model finds the bug, as it
/// should. An explore that does not name the generation (<c>--generation</c>) leaves the pair out
/// and says so; naming it runs it.
/// </summary>
/// <param name="Generation">The generation as released.</param>
/// <param name="Memory">The memory model the bug needs.</param>
/// <param name="Fix">The commit that fixed it, and where.</param>
/// <param name="What">One line: the bug, in kernel terms.</param>
public sealed record KnownBug(string Generation, string Memory, string Fix, string What)
{
    /// <summary>The header's line: what is left out, why, and how to run it.</summary>
    public string Skipped(int runs) =>
        $"skipped: {this.Generation} under {this.Memory} ({runs} run(s)), its known race ({this.Fix}): {this.What}; " +
        $"--generation {this.Generation} --memory {this.Memory} runs it";
}

/// <summary>The known bugs of the generations as released.</summary>
public static class KnownBugs
{
    public static IReadOnlyList<KnownBug> All { get; } =
    [
        new("6.4", RunRequest.LkmmMemory, "fixed in 6.5 by b1f02b95758d",
            "vma_end_write_all()'s WRITE_ONCE of mm_lock_seq orders nothing, so a fault can see the write sequence ended and still read the VMA as it was before it"),
    ];

    /// <summary>The known bug of <paramref name="generation"/> under <paramref name="memory"/>, if there is one.</summary>
    public static KnownBug? Of(GenerationInfo generation, string memory) =>
        All.FirstOrDefault(b => b.Generation == generation.Name && b.Memory == memory);
}
