using System.Reflection;
using Microsoft.Coyote;
using Microsoft.Coyote.SystematicTesting;

namespace VmaLockVerify.Harness.Exploration;

/// <summary>
/// The schedule Coyote actually followed in a replay, as a reproducible trace. Coyote writes
/// <see cref="TestingEngine.ReproducibleTrace"/> only when exploring, not when replaying; but a
/// replayed prefix may be shorter than the run (the rest then comes from the trace's strategy),
/// and minimisation needs the whole executed schedule. Coyote 1.7.11 keeps it in the engine's
/// scheduler, serialised by its own trace report; both are internal, so they are reached by
/// reflection and their absence (another Coyote version) is a loud error, not a silent guess.
/// </summary>
public static class ExecutedSchedule
{
    private const BindingFlags Internal = BindingFlags.Instance | BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public;

    public static string Of(TestingEngine engine, Configuration configuration)
    {
        var scheduler = typeof(TestingEngine).GetProperty("Scheduler", Internal)?.GetValue(engine);
        var getJson = typeof(TestingEngine).Assembly.GetType("Microsoft.Coyote.SystematicTesting.TraceReport")?.GetMethod("GetJson", Internal);
        if (scheduler is null || getJson is null)
        {
            throw new HarnessException(
                ExitCodes.NotHonest,
                $"this Coyote ({typeof(TestingEngine).Assembly.GetName().Version}) does not expose the executed schedule of a replay; vmalock needs Coyote 1.7.11");
        }

        return (string)getJson.Invoke(null, [scheduler, configuration])!;
    }
}
