using System.Collections;
using System.Reflection;
using Microsoft.Coyote;
using Microsoft.Coyote.SystematicTesting;

namespace VmaLockVerify.Harness.Exploration;

/// <summary>One thread as the scheduler offers it: Coyote's operation id and name, and the kind of scheduling point it is paused at.</summary>
public readonly record struct OfferedThread(ulong Id, string Name, string Point);

/// <summary>Who makes the decisions of a run in place of Coyote's strategy (<see cref="CoyoteSchedulerHook"/>).</summary>
public interface IScheduleDriver
{
    /// <summary>An iteration is about to start.</summary>
    void IterationStarting();

    /// <summary>
    /// Picks the thread to run next among <paramref name="enabled"/> (never empty, in Coyote's
    /// order); <paramref name="current"/> is the thread that reached the scheduling point, and
    /// whether it could go on.
    /// </summary>
    int PickThread(IReadOnlyList<OfferedThread> enabled, OfferedThread current, bool currentEnabled);

    /// <summary>Picks the value of a controlled choice among 0 to <paramref name="count"/> - 1 (count is at least 2).</summary>
    int PickValue(int count);
}

/// <summary>
/// Puts an <see cref="IScheduleDriver"/> in charge of a Coyote 1.7.11 engine's decisions, on the
/// engine's own scheduler, so that every schedule still runs on the rewritten port under Coyote
/// (its controlled operations, its deadlock and uncontrolled-invocation checks) and is recorded
/// as a reproducible trace. Coyote has no public way to drive its scheduler: the engine runs its
/// random strategy, and the hook, reached by reflection, (1) adds a schedule reducer that narrows
/// the enabled operations at each scheduling step to the one the driver picks (the strategy then
/// has one to choose from), (2) replaces the strategy's random value generator, so that each
/// controlled choice is the driver's, and (3) can end an iteration at its next step by lowering
/// the strategy's step bound. A Coyote without these internals is a loud error (exit 3), never a
/// silent fall-back to sampling.
/// </summary>
public sealed class CoyoteSchedulerHook
{
    private const BindingFlags Internal = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public;

    private static readonly Assembly CoyoteCore = typeof(Configuration).Assembly;
    private static readonly Type OperationType = CoreType("Microsoft.Coyote.Runtime.ControlledOperation");
    private static readonly FieldInfo OperationStatus = Member(OperationType.GetField("Status", Internal));
    private static readonly FieldInfo OperationPoint = Member(OperationType.GetField("LastSchedulingPoint", Internal));
    private static readonly FieldInfo OperationRuntime = Member(OperationType.GetField("Runtime", Internal));
    private static readonly PropertyInfo OperationId = Member(OperationType.GetProperty("Id", Internal));
    private static readonly PropertyInfo OperationName = Member(OperationType.GetProperty("Name", Internal));

    private readonly IScheduleDriver driver;
    private readonly object strategy;
    private readonly FieldInfo maxSteps;
    private readonly int stepBound;
    private object? runtime;

    private CoyoteSchedulerHook(TestingEngine engine, IScheduleDriver driver, int stepBound)
    {
        this.driver = driver;
        this.stepBound = stepBound;
        var scheduler = Member(typeof(TestingEngine).GetProperty("Scheduler", Internal)).GetValue(engine)!;
        var schedulerType = scheduler.GetType();
        this.strategy = Member(schedulerType.GetProperty("Strategy", Internal)).GetValue(scheduler)!;
        if (this.strategy.GetType().FullName != "Microsoft.Coyote.Testing.Interleaving.RandomStrategy")
        {
            throw Missing($"the engine runs {this.strategy.GetType().Name}, not the random strategy the hook drives");
        }

        this.maxSteps = Member(FindField(this.strategy.GetType(), "MaxSteps"));

        var reducerType = CoreType("Microsoft.Coyote.Runtime.IScheduleReducer");
        var reducer = DispatchProxy.Create(reducerType, typeof(Proxy));
        ((Proxy)reducer).Handler = this.Reduce;
        var reducers = (IList)Member(schedulerType.GetField("Reducers", Internal)).GetValue(scheduler)!;
        reducers.Add(reducer);

        var generatorType = CoreType("Microsoft.Coyote.IRandomValueGenerator");
        var generator = DispatchProxy.Create(generatorType, typeof(Proxy));
        ((Proxy)generator).Handler = this.Generate;
        Member(FindProperty(this.strategy.GetType(), "RandomValueGenerator")).SetValue(this.strategy, generator);
    }

    /// <summary>Hands the decisions of <paramref name="engine"/> (configured with the random strategy) to <paramref name="driver"/>.</summary>
    public static CoyoteSchedulerHook Install(TestingEngine engine, IScheduleDriver driver, int stepBound) => new(engine, driver, stepBound);

    /// <summary>Ends the running iteration at its next scheduling step (Coyote ends it as it ends one that reached its step bound).</summary>
    public void CutIteration() => this.maxSteps.SetValue(this.strategy, 1);

    /// <summary>
    /// Makes the engine stop after the iteration now running, however many iterations or seconds
    /// it was given: its loop reads both before each iteration.
    /// </summary>
    public static void StopAfterThisIteration(Configuration configuration, uint iteration)
    {
        Member(typeof(Configuration).GetProperty(nameof(Configuration.TestingIterations), Internal)).SetValue(configuration, iteration + 1);
        Member(typeof(Configuration).GetField("TestingTimeout", Internal)).SetValue(configuration, 0);
    }

    private object? Reduce(MethodInfo method, object?[] args)
    {
        if (method.Name == "InitializeNextIteration")
        {
            this.maxSteps.SetValue(this.strategy, this.stepBound);
            this.runtime = null;
            this.driver.IterationStarting();
            return null;
        }

        // ReduceOperations(IEnumerable<ControlledOperation> ops, ControlledOperation current)
        var ops = ((IEnumerable)args[0]!).Cast<object>().ToList();
        var current = args[1]!;
        var runtime = OperationRuntime.GetValue(current);
        this.runtime ??= runtime;
        if (!ReferenceEquals(runtime, this.runtime) || ops.Count == 0)
        {
            return Narrow(OperationType, ops.Take(1)); // a thread of an iteration that already ended
        }

        var offered = ops.Select(Offer).ToList();
        var pick = this.driver.PickThread(offered, Offer(current), OperationStatus.GetValue(current)!.ToString() == "Enabled");
        return Narrow(OperationType, [ops[pick]]);
    }

    private object? Generate(MethodInfo method, object?[] args) => method.Name switch
    {
        "get_Seed" => 0u,
        "set_Seed" => null,
        "Next" when args.Length == 1 && args[0] is int count => count <= 1 ? 0 : this.driver.PickValue(count),
        "Next" => 0,
        "NextDouble" => 0.0,
        _ => throw Missing($"IRandomValueGenerator.{method.Name} is not one the hook knows"),
    };

    private static OfferedThread Offer(object op) =>
        new((ulong)OperationId.GetValue(op)!, (string)OperationName.GetValue(op)!, OperationPoint.GetValue(op)!.ToString()!);

    private static object Narrow(Type elementType, IEnumerable<object> ops)
    {
        var list = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(elementType))!;
        foreach (var op in ops)
        {
            list.Add(op);
        }

        return list;
    }

    private static FieldInfo? FindField(Type? type, string name)
    {
        for (; type is not null; type = type.BaseType)
        {
            if (type.GetField(name, Internal | BindingFlags.DeclaredOnly) is { } field)
            {
                return field;
            }
        }

        return null;
    }

    private static PropertyInfo? FindProperty(Type? type, string name)
    {
        for (; type is not null; type = type.BaseType)
        {
            if (type.GetProperty(name, Internal | BindingFlags.DeclaredOnly) is { } property)
            {
                return property;
            }
        }

        return null;
    }

    private static Type CoreType(string name) => CoyoteCore.GetType(name) ?? throw Missing($"no type {name}");

    private static T Member<T>(T? member)
        where T : MemberInfo => member ?? throw Missing($"a member of the scheduler is missing");

    private static HarnessException Missing(string what) => new(
        ExitCodes.NotHonest,
        $"this Coyote ({CoyoteCore.GetName().Version}) does not have the scheduler internals the exhaustive strategy drives ({what}); vmalock needs Coyote 1.7.11");

    /// <summary>The proxy class Coyote's internal interfaces are implemented with: every call goes to <see cref="Handler"/>.</summary>
    public class Proxy : DispatchProxy
    {
        public Func<MethodInfo, object?[], object?> Handler { get; set; } = (_, _) => null;

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => this.Handler(targetMethod!, args ?? []);
    }
}
