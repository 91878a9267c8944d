namespace FileXfer.Server.Tests.Support;

/// <summary>Shorter bounds than the test timeout, for waits that are expected to end much sooner.</summary>
public static class Deadline
{
    /// <summary>A token cancelled after <paramref name="timeout"/> or when the test is cancelled.</summary>
    public static CancellationTokenSource After(TimeSpan timeout)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        source.CancelAfter(timeout);
        return source;
    }
}
