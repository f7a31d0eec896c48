using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Implementation.Memory.Lkmm;
using Expr = VmaLockVerify.Harness.Litmus.LitmusExpr;
using Instr = VmaLockVerify.Harness.Litmus.LitmusInstruction;

namespace VmaLockVerify.Harness.Litmus;

/// <summary>What exhaustive enumeration of one test found.</summary>
public sealed record LitmusOutcome(
    LitmusTest Test,
    long Executions,
    IReadOnlyList<(string State, long Count)> States,
    long Positive,
    long Negative)
{
    /// <summary>herd's word for the condition's body over all executions: Never, Sometimes or Always.</summary>
    public string Observation => this.Positive == 0 ? "Never" : this.Negative == 0 ? "Always" : "Sometimes";
}

/// <summary>
/// Runs a litmus test on <see cref="LkmmMachine"/> in every way it can run: every interleaving of
/// the processes' memory primitives (local computation runs without a scheduling point), times every
/// answer of the memory model's choices (the message a load reads, where a store lands). It is a
/// depth-first search by replay: each execution starts afresh and follows a recorded prefix of
/// choices, so the enumeration is the same on every run.
/// </summary>
public static class LitmusRunner
{
    /// <summary>More executions than this for one test is an error, not a silent cut.</summary>
    public const long MaxExecutions = 2_000_000;

    public static LitmusOutcome Run(LitmusTest test, LkmmOptions options)
    {
        var shown = test.Locations.Concat(test.Condition.Atoms()).Concat(test.Filter?.Atoms() ?? [])
            .Select(a => a.Key).Distinct(StringComparer.Ordinal).ToList();
        var states = new Dictionary<string, long>(StringComparer.Ordinal);
        long executions = 0, positive = 0, negative = 0;
        var choices = new ReplayChoice();
        do
        {
            if (++executions > MaxExecutions)
            {
                throw new HarnessException(ExitCodes.BadInput, $"{test.File}: more than {MaxExecutions} executions; the test is too big to enumerate");
            }

            var final = new Execution(test, options, choices).Run(shown);
            if (test.Filter is { } filter && !filter.Holds(final))
            {
                continue;
            }

            var key = string.Concat(shown.Select(k => $"{k}={final[k]}; "));
            states[key] = states.GetValueOrDefault(key) + 1;
            if (test.Condition.Holds(final))
            {
                positive++;
            }
            else
            {
                negative++;
            }
        }
        while (choices.Advance());

        return new LitmusOutcome(test, executions, [.. states.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => (s.Key.TrimEnd(), s.Value))], positive, negative);
    }

    /// <summary>Answers choices from a recorded prefix, then 0 for new ones; <see cref="Advance"/> moves to the next leaf.</summary>
    private sealed class ReplayChoice : ILkmmChoice
    {
        private readonly List<(int Chosen, int Count)> path = [];
        private int next;

        public int Choose(int count)
        {
            if (this.next < this.path.Count)
            {
                var (chosen, recorded) = this.path[this.next++];
                return recorded == count ? chosen : throw new InvalidOperationException($"replay diverged: {count} choices where {recorded} were recorded");
            }

            this.path.Add((0, count));
            this.next++;
            return 0;
        }

        public bool Advance()
        {
            this.next = 0;
            while (this.path.Count > 0 && this.path[^1].Chosen == this.path[^1].Count - 1)
            {
                this.path.RemoveAt(this.path.Count - 1);
            }

            if (this.path.Count == 0)
            {
                return false;
            }

            this.path[^1] = (this.path[^1].Chosen + 1, this.path[^1].Count);
            return true;
        }
    }

    /// <summary>One execution: the machine, each process's program counter and locals.</summary>
    private sealed class Execution
    {
        private readonly LitmusTest test;
        private readonly ILkmmChoice choices;
        private readonly LkmmMachine machine;
        private readonly int[] pc;
        private readonly bool[] inGracePeriod;
        private readonly Dictionary<string, (object? Value, LkmmView? Dependency)>[] locals;

        public Execution(LitmusTest test, LkmmOptions options, ILkmmChoice choices)
        {
            this.test = test;
            this.choices = choices;
            this.machine = new LkmmMachine(options, choices);
            foreach (var (name, value) in test.Init)
            {
                this.machine.Initialize(new LitmusLocation(name), value);
            }

            var n = test.Threads.Count;
            this.pc = new int[n];
            this.inGracePeriod = new bool[n];
            this.locals = [.. Enumerable.Range(0, n).Select(_ => new Dictionary<string, (object?, LkmmView?)>(StringComparer.Ordinal))];
            foreach (var ((thread, register), value) in test.RegisterInit)
            {
                if (thread < n)
                {
                    this.locals[thread][register] = (value, null);
                }
            }
        }

        public Dictionary<string, object?> Run(List<string> shown)
        {
            var enabled = new List<int>();
            while (true)
            {
                enabled.Clear();
                for (var t = 0; t < this.pc.Length; t++)
                {
                    this.RunLocal(t);
                    if (this.IsEnabled(t))
                    {
                        enabled.Add(t);
                    }
                }

                if (enabled.Count == 0)
                {
                    break;
                }

                this.Step(enabled[enabled.Count == 1 ? 0 : this.choices.Choose(enabled.Count)]);
            }

            var blocked = Enumerable.Range(0, this.pc.Length).Where(t => this.pc[t] < this.test.Threads[t].Code.Count).ToList();
            if (blocked.Count > 0)
            {
                throw new HarnessException(ExitCodes.BadInput, $"{this.test.File}: P{blocked[0]} is blocked forever at line {this.test.Threads[blocked[0]].Code[this.pc[blocked[0]]].Line} (a deadlock)");
            }

            return shown.ToDictionary(k => k, this.Final, StringComparer.Ordinal);
        }

        private object? Final(string key)
        {
            var colon = key.IndexOf(':', StringComparison.Ordinal);
            return colon < 0
                ? this.machine.FinalValue(new LitmusLocation(key))
                : this.locals[int.Parse(key[..colon])].TryGetValue(key[(colon + 1)..], out var v) ? v.Value : 0L;
        }

        /// <summary>Runs assignments and jumps up to the next memory primitive: they touch no shared state.</summary>
        private void RunLocal(int t)
        {
            var code = this.test.Threads[t].Code;
            while (this.pc[t] < code.Count && code[this.pc[t]] is not Instr.Primitive)
            {
                switch (code[this.pc[t]])
                {
                    case Instr.Assign a:
                        this.locals[t][a.Target] = this.Eval(t, a.Value);
                        this.pc[t]++;
                        break;
                    case Instr.Jump j:
                        this.pc[t] = j.Condition is not null && Truth(this.Eval(t, j.Condition).Value) ? this.pc[t] + 1 : j.Target;
                        break;
                }
            }
        }

        private bool IsEnabled(int t)
        {
            var code = this.test.Threads[t].Code;
            if (this.pc[t] >= code.Count)
            {
                return false;
            }

            var p = (Instr.Primitive)code[this.pc[t]];
            return p.Op.Kind switch
            {
                LitmusPrimitiveKind.Lock => this.machine.CanLock(this.Location(t, p).Location),
                LitmusPrimitiveKind.SynchronizeRcu => !this.inGracePeriod[t] || this.machine.SynchronizeRcuCanEnd(t),
                _ => true,
            };
        }

        private void Step(int t)
        {
            var p = (Instr.Primitive)this.test.Threads[t].Code[this.pc[t]];
            try
            {
                var result = this.Execute(t, p);
                if (p.Target is not null)
                {
                    this.locals[t][p.Target] = result;
                }
            }
            catch (LitmusRuntimeException e)
            {
                throw new HarnessException(ExitCodes.BadInput, $"{this.test.File}:{p.Line}: {e.Message}");
            }
        }

        private (object? Value, LkmmView? Dependency) Execute(int t, Instr.Primitive p)
        {
            var m = this.machine;
            var op = p.Op;
            switch (op.Kind)
            {
                case LitmusPrimitiveKind.Load:
                {
                    var (location, dependency) = this.Location(t, p);
                    var load = m.Load(t, location, op.Order, dependency);
                    this.pc[t]++;
                    return (load.Value, load.Dependency);
                }

                case LitmusPrimitiveKind.Store:
                    m.Store(t, this.Location(t, p).Location, this.Eval(t, p.Args[1]).Value, op.Order);
                    break;
                case LitmusPrimitiveKind.ReadModifyWrite:
                {
                    var location = this.Location(t, p).Location;
                    var args = p.Args.Select((a, i) => i == op.LocationArg ? null : this.Eval(t, a).Value).ToArray();
                    var old = m.ReadModifyWrite(t, location, op.Order, (object? v, out object? n) =>
                    {
                        (var stores, n) = op.Update!(v, args);
                        return stores;
                    });
                    var (stored, updated) = op.Update!(old.Value, args);
                    this.pc[t]++;
                    return (op.Returns!(old.Value, updated, stored), old.Dependency);
                }

                case LitmusPrimitiveKind.Fence:
                    m.Fence(t, op.Barrier);
                    break;
                case LitmusPrimitiveKind.Lock:
                    m.Lock(t, this.Location(t, p).Location);
                    break;
                case LitmusPrimitiveKind.Unlock:
                    m.Unlock(t, this.Location(t, p).Location);
                    break;
                case LitmusPrimitiveKind.RcuReadLock:
                    m.RcuReadLock(t);
                    break;
                case LitmusPrimitiveKind.RcuReadUnlock:
                    m.RcuReadUnlock(t);
                    break;
                case LitmusPrimitiveKind.SynchronizeRcu when !this.inGracePeriod[t]:
                    m.SynchronizeRcuBegin(t);
                    this.inGracePeriod[t] = true;
                    return (null, null); // the same instruction ends the grace period later
                case LitmusPrimitiveKind.SynchronizeRcu:
                    m.SynchronizeRcuEnd(t);
                    this.inGracePeriod[t] = false;
                    break;
            }

            this.pc[t]++;
            return (null, null);
        }

        /// <summary>The location argument (<c>*p</c> or <c>p</c>) and the dependency its address carries.</summary>
        private (LitmusLocation Location, LkmmView? Dependency) Location(int t, Instr.Primitive p)
        {
            var arg = p.Args[p.Op.LocationArg];
            var (value, dependency) = this.Eval(t, arg is Expr.Deref d ? d.Pointer : arg);
            return value is LitmusLocation l ? (l, dependency) : throw new HarnessException(ExitCodes.BadInput, $"{this.test.File}:{p.Line}: {p.Op.Name} needs a location, not {value}");
        }

        private (object? Value, LkmmView? Dependency) Eval(int t, Expr e)
        {
            switch (e)
            {
                case Expr.Number n:
                    return (n.Value, null);
                case Expr.Name n:
                    return this.locals[t].TryGetValue(n.Identifier, out var v) ? v : (new LitmusLocation(n.Identifier), null);
                case Expr.Unary u:
                {
                    var (x, d) = this.Eval(t, u.Operand);
                    return (u.Op switch { "-" => -Long(x, e), "!" => Truth(x) ? 0L : 1L, _ => ~Long(x, e) }, d);
                }

                case Expr.Binary b:
                {
                    var (x, dx) = this.Eval(t, b.Left);
                    var (y, dy) = this.Eval(t, b.Right);
                    var dependency = dx is null ? dy : dy is null ? dx : LkmmView.JoinOf(dx, dy);
                    object value = b.Op switch
                    {
                        "==" => Equals(x, y) ? 1L : 0L,
                        "!=" => Equals(x, y) ? 0L : 1L,
                        "&&" => Truth(x) && Truth(y) ? 1L : 0L,
                        "||" => Truth(x) || Truth(y) ? 1L : 0L,
                        _ => Arithmetic(b.Op, Long(x, e), Long(y, e)),
                    };
                    return (value, dependency);
                }

                default:
                    throw new HarnessException(ExitCodes.BadInput, $"{this.test.File}:{e.Line}: expected READ_ONCE() around a dereference (plain accesses are not supported)");
            }
        }

        private long Long(object? value, Expr at) =>
            value as long? ?? throw new HarnessException(ExitCodes.BadInput, $"{this.test.File}:{at.Line}: arithmetic on the pointer {value}");

        private static long Arithmetic(string op, long x, long y) => op switch
        {
            "+" => x + y,
            "-" => x - y,
            "*" => x * y,
            "/" => y == 0 ? 0 : x / y,
            "%" => y == 0 ? 0 : x % y,
            "&" => x & y,
            "|" => x | y,
            "^" => x ^ y,
            "<" => x < y ? 1 : 0,
            ">" => x > y ? 1 : 0,
            "<=" => x <= y ? 1 : 0,
            _ => x >= y ? 1 : 0,
        };

        private static bool Truth(object? value) => value is not (0L or null);
    }
}
