using System.Runtime.ExceptionServices;
using FileXfer.Protocol.Transfer;

namespace FileXfer.Server.Handlers;

/// <summary>
/// The Working frames of one request (<see cref="Capabilities.WorkingBeats"/>): while the handler does long work before
/// the request's answer, a timer of the connection's <see cref="TimeProvider"/> sends one every interval, with how many
/// bytes are done, so the client's idle timeout sees progress. The handler writes nothing while a beat runs (the work
/// before an answer only reads), and stops it before it writes the answer: <see cref="StopAsync"/> waits for the frame in
/// flight, so no Working goes out inside another frame or after its request's answer.
/// </summary>
internal sealed class WorkingBeat : IAsyncDisposable
{
    private readonly FrameWriter _writer;
    private readonly uint _requestId;
    private readonly PeriodicTimer _timer;
    private readonly Task _loop;
    private long _done;
    private Exception? _failure;

    private WorkingBeat(FrameWriter writer, uint requestId, TimeSpan interval, TimeProvider time, CancellationToken cancellationToken)
    {
        _writer = writer;
        _requestId = requestId;
        _timer = new PeriodicTimer(interval, time);
        _loop = RunAsync(cancellationToken);
    }

    /// <summary>
    /// Starts the beat of request <paramref name="requestId"/> when the client announced WorkingBeats
    /// (<paramref name="enabled"/>); null otherwise: an older client never sees a frame it does not know.
    /// </summary>
    public static WorkingBeat? Start(bool enabled, FrameWriter writer, uint requestId, TimeSpan interval, TimeProvider time, CancellationToken cancellationToken) =>
        enabled ? new WorkingBeat(writer, requestId, interval, time, cancellationToken) : null;

    /// <summary>
    /// The interval of a server whose idle timeout is <paramref name="idleTimeout"/>: a quarter of it, at most
    /// <paramref name="cap"/> (clients read under idle timeouts of their own, usually shorter than the server's).
    /// </summary>
    public static TimeSpan IntervalFor(TimeSpan idleTimeout, TimeSpan cap) =>
        idleTimeout > TimeSpan.Zero && idleTimeout / 4 < cap ? idleTimeout / 4 : cap;

    /// <summary>Records how many bytes of the work are done, for the next Working frame. Called by the working task.</summary>
    public void Report(long done) => Volatile.Write(ref _done, done);

    /// <summary>Adds <paramref name="bytes"/> to the bytes done (for a copy that reports each chunk it wrote).</summary>
    public void Add(long bytes) => Interlocked.Add(ref _done, bytes);

    /// <summary>
    /// Stops the beat and waits for the frame in flight; then the handler may write the answer. Rethrows what made a
    /// Working frame fail (the connection was lost): the answer could not reach the client either.
    /// </summary>
    public async Task StopAsync()
    {
        _timer.Dispose();
        await _loop;
        if (_failure is not null)
        {
            ExceptionDispatchInfo.Throw(_failure);
        }
    }

    /// <summary>Stops the beat when the work failed: its failure, not the beat's, is what the handler reports.</summary>
    public async ValueTask DisposeAsync()
    {
        _timer.Dispose();
        await _loop;
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            // A disposed timer ends the wait with false: no write is ever cut off halfway by the stop.
            while (await _timer.WaitForNextTickAsync(cancellationToken))
            {
                await _writer.WriteAsync(Messages.Working(_requestId, Volatile.Read(ref _done)), cancellationToken);
                await _writer.FlushAsync(cancellationToken);
            }
        }
        catch (Exception ex) when (ex is ConnectionLostException or IOException or OperationCanceledException)
        {
            // Kept for StopAsync: the working task goes on until it is done or fails itself, then reports this.
            _failure = ex;
        }
    }
}
