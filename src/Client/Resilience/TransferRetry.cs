using System.Net.Sockets;
using System.Security.Authentication;
using FileXfer.Protocol;

namespace FileXfer.Client.Resilience;

/// <summary>
/// The retry policy of the client, one per command: exponential backoff with decorrelated jitter, only for transient
/// faults. Each attempt reconnects and, for puts and gets, resumes from what the other side proves it holds, so a
/// retry costs what is left to send, not the whole file again.
/// </summary>
/// <remarks>
/// A loop of its own rather than a Polly pipeline: building one validates its options through reflection
/// (DataAnnotations), and Polly with that reflection made the Native AOT client larger (13.6 instead of 11.8 MB)
/// and slower to start, about 0.5 ms of a 4 KiB put that takes 6 ms in all.
/// </remarks>
public sealed class TransferRetry
{
    private readonly int _maxRetries;
    private readonly TimeProvider _time;
    private readonly Func<Exception, int, TimeSpan, ValueTask>? _onRetry;

    private TransferRetry(int maxRetries, TimeProvider time, Func<Exception, int, TimeSpan, ValueTask>? onRetry)
    {
        _maxRetries = maxRetries;
        _time = time;
        _onRetry = onRetry;
    }

    /// <summary>The delay before the first retry, on average; later ones grow exponentially, with jitter.</summary>
    public static TimeSpan BaseDelay { get; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest delay between two attempts.</summary>
    public static TimeSpan MaxDelay { get; } = TimeSpan.FromSeconds(30);

    /// <summary>Creates the policy; with <paramref name="maxRetries"/> 0 it runs each operation once.</summary>
    /// <param name="maxRetries">Retries after the first attempt.</param>
    /// <param name="time">The clock the delays run on (a fake one in tests).</param>
    /// <param name="onRetry">Told of each retry: the failure, the attempt that failed (from 0) and the delay before the next.</param>
    public static TransferRetry Create(int maxRetries, TimeProvider time, Func<Exception, int, TimeSpan, ValueTask>? onRetry)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetries);
        ArgumentNullException.ThrowIfNull(time);
        return new TransferRetry(maxRetries, time, onRetry);
    }

    /// <summary>Runs <paramref name="callback"/>, again after each transient failure while retries are left.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled during a delay.</exception>
    public async ValueTask<TResult> ExecuteAsync<TResult>(Func<CancellationToken, ValueTask<TResult>> callback, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var backoff = new Backoff();
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return await callback(cancellationToken);
            }
            catch (Exception ex) when (attempt < _maxRetries && IsTransient(ex))
            {
                var delay = backoff.Next(attempt);
                if (_onRetry is not null)
                {
                    await _onRetry(ex, attempt, delay);
                }

                await Task.Delay(delay, _time, cancellationToken);
            }
        }
    }

    /// <summary>Runs <paramref name="callback"/>, again after each transient failure while retries are left.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled during a delay.</exception>
    public async ValueTask ExecuteAsync(Func<CancellationToken, ValueTask> callback, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(callback);
        await ExecuteAsync(async token =>
        {
            await callback(token);
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// True for faults another attempt can cure: a refused, reset, lost or stalled connection, a busy or stopping
    /// server, bytes corrupted in flight (the hash caught them), a source that changed while it was read. Not
    /// for usage errors, missing files, denied access, a full disk, or a failed TLS handshake or certificate check.
    /// </summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        ConnectionFailedException { InnerException: SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData } } => false,
        // A server that does not answer TLS, or whose certificate is not trusted, will not change its mind.
        ConnectionFailedException { InnerException: AuthenticationException } or ServerCertificateException => false,
        ConnectionFailedException or ConnectionLostException or SocketException or TimeoutException => true,
        SourceChangedException => true,
        FileXferException { Code: ErrorCode.Unavailable or ErrorCode.IntegrityMismatch or ErrorCode.TransferAborted } => true,
        _ => false,
    };

    /// <summary>
    /// Exponential backoff with decorrelated jitter, on the curve f(t) = 2^t·tanh(√(4t)) that Polly's exponential
    /// backoff with jitter uses (so the delays are what they were when this policy was a Polly pipeline): retry n
    /// waits the step from the previous point to f(t) at a random t in [n, n + 1), scaled by
    /// <see cref="BaseDelay"/>/1.4. The first delay is under 0.7 s (0.45 s at the median), the later ones grow to about
    /// twice the one before; clients that failed together do not retry together. The points only grow, so every delay is
    /// positive; none exceeds <see cref="MaxDelay"/>.
    /// </summary>
    internal struct Backoff
    {
        private const double Scale = 1 / 1.4;
        private double _previous;

        public TimeSpan Next(int attempt)
        {
            double t = attempt + Random.Shared.NextDouble();
            double point = Math.Pow(2, t) * Math.Tanh(Math.Sqrt(4 * t));
            double ticks = (point - _previous) * Scale * BaseDelay.Ticks;
            _previous = point;
            return TimeSpan.FromTicks((long)Math.Clamp(ticks, 1, MaxDelay.Ticks));
        }
    }
}
