namespace VmaLockVerify.Spec;

// The names a scenario gives the objects of a run, each its own type, so that a thread's name
// cannot be passed where a VMA's is expected. A string literal converts to any of them (as
// System.Xml.Linq's XName does), which keeps scenarios and tests readable; none converts back to
// string implicitly, or to another: code that needs the text asks for .Name. They order as their
// text does, ordinally.

/// <summary>A task's name, as traces and events name threads: "fault0", "writer", "(boot)".</summary>
public readonly record struct ThreadName(string Name) : IComparable<ThreadName>
{
    public int CompareTo(ThreadName other) => string.CompareOrdinal(this.Name, other.Name);

    public static implicit operator ThreadName(string name) => new(name);

    public override string ToString() => this.Name;
}

/// <summary>An mm_struct's name, as the scenario named it: "mm", "child".</summary>
public readonly record struct MmName(string Name) : IComparable<MmName>
{
    public int CompareTo(MmName other) => string.CompareOrdinal(this.Name, other.Name);

    public static implicit operator MmName(string name) => new(name);

    public override string ToString() => this.Name;
}

/// <summary>A vm_area_struct's name, as the scenario or the allocating function named it: "vma1", "vma1'".</summary>
public readonly record struct VmaName(string Name) : IComparable<VmaName>
{
    public int CompareTo(VmaName other) => string.CompareOrdinal(this.Name, other.Name);

    public static implicit operator VmaName(string name) => new(name);

    public override string ToString() => this.Name;
}
