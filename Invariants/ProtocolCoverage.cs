using System.Text.RegularExpressions;
using VmaLockVerify.Spec;

namespace VmaLockVerify.Invariants;

/// <summary>
/// Counts the distinct abstract protocol states a run visits (<see cref="ProtocolSpec.AbstractState"/>
/// after each event), into <paramref name="states"/>, which a run's iterations share. It reads the
/// Spec the invariants already move (<paramref name="shared"/>, past the event by the time it is
/// told of it), or moves one of its own when they keep theirs apart. The page-fault threads
/// (fault0, fault1, ...), the user threads (user0, ...) and the /proc/PID/maps readers (maps0, ...) of a scenario are interchangeable, so
/// their names are made symmetric: a state where fault1 holds the read lock is the state where
/// fault0 holds it.
/// </summary>
public sealed partial class ProtocolCoverage(ISet<long> states, ProtocolSpec? shared) : IProtocolObserver
{
    private readonly ProtocolSpec spec = shared ?? new ProtocolSpec();
    private readonly bool own = shared is null;

    /// <summary>A thread's name with the scenario's interchangeable threads made one: fault0 and fault1 are "fault".</summary>
    public static ThreadName Symmetric(ThreadName thread) => Interchangeable().Match(thread.Name) is { Success: true } m ? new ThreadName(m.Groups[1].Value) : thread;

    public void Observe(ProtocolEvent e)
    {
        if (e is VmaInstalledAtBoot)
        {
            return; // a fact of the setup, not a step of the protocol
        }

        if (this.own)
        {
            this.spec.Apply(e);
        }

        states.Add(this.spec.AbstractState(Symmetric));
    }

    [GeneratedRegex(@"^(fault|user|maps)\d+$", RegexOptions.CultureInvariant)]
    private static partial Regex Interchangeable();
}
