namespace VmaLockVerify.Spec;

/// <summary>Receives every protocol event the port reports (the invariant monitors, a recorder).</summary>
public interface IProtocolObserver
{
    void Observe(ProtocolEvent e);
}
