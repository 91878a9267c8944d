namespace FileXfer.Client;

/// <summary>
/// Connections a transfer opens beside the one it has, to carry part of its work (a tree's transfer connections, the
/// ranges of one file in <see cref="ParallelTransfer"/>): when to stop waiting for one that is no longer needed, and
/// which failures to open one leave its work to the others instead of failing the transfer.
/// </summary>
internal static class ExtraConnections
{
    /// <summary>
    /// A connection from <paramref name="connect"/>, or null when <paramref name="drained"/> completed before it was up:
    /// nothing is left for it to carry. A connection whose SYN or handshake was lost waits for TCP's retransmission (a
    /// SYN's first after 1 s): the transfer must not wait for it once the others carried everything, as a tree did (at
    /// 20 ms a 1,000-file tree took 1.2–1.3 s instead of 0.6 s in two rounds of three). Its connect is then cancelled,
    /// and one that comes up all the same is closed.
    /// </summary>
    public static async Task<FileXferClient?> ConnectUnlessDrainedAsync(Func<CancellationToken, Task<FileXferClient>> connect, Task drained, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var connecting = connect(stop.Token);
        if (await Task.WhenAny(connecting, drained) == connecting)
        {
            return await connecting;
        }

        await stop.CancelAsync();
        try
        {
            var late = await connecting;
            await late.DisposeAsync();
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Given up: nothing is left for it to carry.
        }

        cancellationToken.ThrowIfCancellationRequested();
        return null;
    }

    /// <summary>
    /// A connection from <paramref name="connect"/> with its authentication settled: a server's refusal (a bad token, a
    /// busy server) shows here, where the worker that opens it may retire, and not as the failure of its first request.
    /// The Ok comes while the walk finds the first work, so this costs no time.
    /// </summary>
    public static async Task<FileXferClient> ConnectAuthenticatedAsync(Func<CancellationToken, Task<FileXferClient>> connect, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connect);
        var client = await connect(cancellationToken);
        try
        {
            await client.WhenAuthenticatedAsync(cancellationToken);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// True when <paramref name="error"/>, raised while opening a connection beside others, says the server is at its
    /// limit rather than that the transfer cannot go on: it refused the connection as busy (too many from this address,
    /// or in all), or closed it still in its handshake to make room for a newer one. The transfer then goes on over the
    /// connections it has. Never when <paramref name="cancellationToken"/> stopped it: that is the transfer's own failure.
    /// </summary>
    public static bool IsRefusal(Exception error, CancellationToken cancellationToken) =>
        error is FileXferException or ConnectionFailedException or ConnectionLostException && !cancellationToken.IsCancellationRequested;
}
