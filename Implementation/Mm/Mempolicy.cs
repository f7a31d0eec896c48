namespace VmaLockVerify.Implementation.Mm;

/// <summary>The policy modes of include/uapi/linux/mempolicy.h (v7.0), in its order.</summary>
public enum MpolMode
{
    Default,
    Preferred,
    Bind,
    Interleave,
    Local,
    PreferredMany,
    WeightedInterleave,
}

/// <summary>
/// struct mempolicy (include/linux/mempolicy.h), for what mbind() stores: the mode and the node
/// mask (bit n: node n). Printed as /proc/PID/numa_maps prints a policy ("bind:1").
/// </summary>
public sealed record Mempolicy(MpolMode Mode, ulong Nodes)
{
    public override string ToString() =>
        $"{this.Mode.ToString().ToLowerInvariant()}:{string.Join(',', Enumerable.Range(0, 64).Where(n => (this.Nodes & (1UL << n)) != 0))}";
}
