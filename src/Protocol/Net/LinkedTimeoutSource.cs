namespace FileXfer.Protocol.Net;

/// <summary>
/// A cancellation source that cancels after a timeout measured on a given <see cref="TimeProvider"/>, or when a
/// caller's token is cancelled, whichever comes first: <see cref="CancellationTokenSource.CreateLinkedTokenSource(CancellationToken)"/>
/// with <see cref="CancellationTokenSource.CancelAfter(TimeSpan)"/>, but on the injected clock, so tests can move
/// time with a fake one.
/// </summary>
public sealed class LinkedTimeoutSource : CancellationTokenSource
{
    private readonly CancellationTokenRegistration _link;

    /// <summary>Starts the timeout now.</summary>
    /// <param name="timeout">How long until the source cancels; <see cref="Timeout.InfiniteTimeSpan"/> for never.</param>
    /// <param name="timeProvider">The clock the timeout is measured on.</param>
    /// <param name="cancellationToken">The caller's token: its cancellation cancels this source at once.</param>
    public LinkedTimeoutSource(TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
        : base(timeout, timeProvider)
    {
        _link = cancellationToken.UnsafeRegister(static source => ((CancellationTokenSource)source!).Cancel(), this);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // First: once unregistered (which waits for a callback under way) nothing can cancel a disposed source.
            _link.Dispose();
        }

        base.Dispose(disposing);
    }
}
