using VmaLockVerify.Implementation.Memory;

namespace VmaLockVerify.Harness.Litmus;

/// <summary>A location of a litmus test, used as the memory model's key and as a pointer value.</summary>
public sealed record LitmusLocation(string Name)
{
    public override string ToString() => this.Name;
}

/// <summary>A parsed C litmus test in the format of the kernel's tools/memory-model/litmus-tests.</summary>
public sealed record LitmusTest(
    string File,
    string Name,
    string? Result,
    string? KnownLimit,
    IReadOnlyDictionary<string, object> Init,
    IReadOnlyDictionary<(int Thread, string Register), object> RegisterInit,
    IReadOnlyList<LitmusThread> Threads,
    LitmusCondition.Quantified Condition,
    LitmusCondition? Filter,
    IReadOnlyList<LitmusCondition.Atom> Locations);

/// <summary>One process: its locals and its code, one memory primitive per instruction.</summary>
public sealed record LitmusThread(int Id, IReadOnlyList<LitmusInstruction> Code);

/// <summary>An instruction of a process.</summary>
public abstract record LitmusInstruction(int Line)
{
    /// <summary><c>r = PRIMITIVE(args)</c> or <c>PRIMITIVE(args);</c>: the only instructions that touch memory.</summary>
    public sealed record Primitive(int Line, string? Target, LitmusPrimitive Op, IReadOnlyList<LitmusExpr> Args) : LitmusInstruction(Line);

    /// <summary><c>r = expression</c> over locals and constants.</summary>
    public sealed record Assign(int Line, string Target, LitmusExpr Value) : LitmusInstruction(Line);

    /// <summary>Continue at <paramref name="Target"/> when <paramref name="Condition"/> is false (null: always).</summary>
    public sealed record Jump(int Line, LitmusExpr? Condition, int Target) : LitmusInstruction(Line);
}

/// <summary>A C expression of a process body.</summary>
public abstract record LitmusExpr(int Line)
{
    public sealed record Number(int Line, long Value) : LitmusExpr(Line);

    /// <summary>A local, or a location's name (a pointer to it).</summary>
    public sealed record Name(int Line, string Identifier) : LitmusExpr(Line);

    /// <summary><c>*e</c>: only as a primitive's location argument.</summary>
    public sealed record Deref(int Line, LitmusExpr Pointer) : LitmusExpr(Line);

    public sealed record Unary(int Line, string Op, LitmusExpr Operand) : LitmusExpr(Line);

    public sealed record Binary(int Line, string Op, LitmusExpr Left, LitmusExpr Right) : LitmusExpr(Line);

    /// <summary>A primitive called inside an expression (rejected by the compiler with its line).</summary>
    public sealed record Call(int Line, string Function, IReadOnlyList<LitmusExpr> Args) : LitmusExpr(Line);
}

/// <summary>The final-state condition: <c>exists</c>, <c>~exists</c>, <c>forall</c>, <c>filter</c>.</summary>
public abstract record LitmusCondition
{
    public enum Quantifier
    {
        Exists,
        NotExists,
        Forall,
    }

    /// <summary><c>N:r=V</c> (Thread set) or <c>x=V</c>; <paramref name="Value"/> is a long or a <see cref="LitmusLocation"/>; null for a bare <c>locations</c> entry.</summary>
    public sealed record Atom(int? Thread, string Name, object? Value, bool Negated) : LitmusCondition
    {
        public string Key => this.Thread is { } t ? $"{t}:{this.Name}" : this.Name;
    }

    public sealed record Not(LitmusCondition Operand) : LitmusCondition;

    public sealed record And(LitmusCondition Left, LitmusCondition Right) : LitmusCondition;

    public sealed record Or(LitmusCondition Left, LitmusCondition Right) : LitmusCondition;

    public sealed record Quantified(Quantifier Kind, LitmusCondition Body, string Text) : LitmusCondition;

    /// <summary>Whether the final state satisfies this condition (the body, for a quantified one).</summary>
    public bool Holds(IReadOnlyDictionary<string, object?> state) => this switch
    {
        Atom a => Equals(state[a.Key], a.Value) != a.Negated,
        Not n => !n.Operand.Holds(state),
        And x => x.Left.Holds(state) && x.Right.Holds(state),
        Or o => o.Left.Holds(state) || o.Right.Holds(state),
        Quantified q => q.Body.Holds(state),
        _ => throw new InvalidOperationException(this.GetType().Name),
    };

    /// <summary>The atoms, in order of appearance.</summary>
    public IEnumerable<Atom> Atoms() => this switch
    {
        Atom a => [a],
        Not n => n.Operand.Atoms(),
        And x => x.Left.Atoms().Concat(x.Right.Atoms()),
        Or o => o.Left.Atoms().Concat(o.Right.Atoms()),
        Quantified q => q.Body.Atoms(),
        _ => [],
    };
}

/// <summary>What a primitive does to memory.</summary>
public enum LitmusPrimitiveKind
{
    Load,
    Store,
    ReadModifyWrite,
    Fence,
    Lock,
    Unlock,
    RcuReadLock,
    RcuReadUnlock,
    SynchronizeRcu,
}

/// <summary>
/// A kernel primitive the litmus language knows: its kind, ordering, arity and which argument is
/// the location. For an RMW, <see cref="Update"/> gives the new value from the old one and the
/// other arguments (false: no store), and <see cref="Returns"/> the value the call returns.
/// </summary>
public sealed record LitmusPrimitive(
    string Name,
    LitmusPrimitiveKind Kind,
    MemoryOrder Order,
    int Arity,
    int LocationArg = 0,
    MemoryBarrier Barrier = MemoryBarrier.Mb,
    Func<object?, object?[], (bool Stores, object? New)>? Update = null,
    Func<object?, object?, bool, object?>? Returns = null);
