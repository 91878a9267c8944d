using System.Diagnostics.CodeAnalysis;

namespace FileXfer.Server.Storage.Local;

/// <summary>
/// One upload's hold on a partial kept for resuming. Another upload of the same key and path takes the partial over by
/// revoking the hold (the holder abandons its upload) and waiting until the holder has let go.
/// </summary>
[SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "The source has no timer nor wait handle to free, and a revoker on another connection may cancel it at any time.")]
internal sealed class ResumeClaim
{
    private readonly CancellationTokenSource _revoked = new();
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ResumeClaim()
    {
        Revoked = _revoked.Token;
    }

    /// <summary>Cancelled when another upload takes the partial over: the holder stops using it.</summary>
    public CancellationToken Revoked { get; }

    /// <summary>Completes when the holder has let go of the partial (its file closed).</summary>
    public Task Released => _released.Task;

    /// <summary>Asks the holder to let go. Its callbacks (the holder's pending read) run on the thread pool, not here.</summary>
    public Task RevokeAsync() => _revoked.CancelAsync();

    /// <summary>The holder has let go.</summary>
    public void Release() => _released.TrySetResult();
}
