using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Security.Authentication;
using Polly;
using Polly.Retry;

namespace FileXfer.Client.Resilience;

/// <summary>
/// The retry policy of the client, one per command: exponential backoff with jitter, only for transient faults.
/// Each attempt reconnects and, for puts and gets, resumes from what the other side proves it holds, so a retry
/// costs what is left to send, not the whole file again.
/// </summary>
/// <remarks>
/// The first attempt runs directly. The Polly pipeline that times and counts the retries is built only when that
/// attempt fails with a transient fault, and its own first attempt replays that failure: the delays, the count and
/// what <c>onRetry</c> hears are those of a pipeline that ran the first attempt itself. Building a pipeline
/// validates its options through reflection (DataAnnotations), which cost a short command about as much time as
/// its whole transfer (a 4 KiB put with the Native AOT client), and a command that succeeds at once never needs it.
/// </remarks>
public sealed class TransferRetry
{
    private readonly int _maxRetries;
    private readonly TimeProvider _time;
    private readonly Func<Exception, int, TimeSpan, ValueTask>? _onRetry;
    private ResiliencePipeline? _pipeline;

    private TransferRetry(int maxRetries, TimeProvider time, Func<Exception, int, TimeSpan, ValueTask>? onRetry)
    {
        _maxRetries = maxRetries;
        _time = time;
        _onRetry = onRetry;
    }

    /// <summary>The delay before the first retry; later ones grow exponentially, with jitter.</summary>
    public static TimeSpan BaseDelay { get; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest delay between two attempts.</summary>
    public static TimeSpan MaxDelay { get; } = TimeSpan.FromSeconds(30);

    /// <summary>True once a transient failure made this policy build its Polly pipeline.</summary>
    internal bool IsPipelineBuilt => _pipeline is not null;

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
    public async ValueTask<TResult> ExecuteAsync<TResult>(Func<CancellationToken, ValueTask<TResult>> callback, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(callback);
        ExceptionDispatchInfo failure;
        try
        {
            return await callback(cancellationToken);
        }
        catch (Exception ex) when (_maxRetries > 0 && IsTransient(ex))
        {
            failure = ExceptionDispatchInfo.Capture(ex);
        }

        bool replayed = false;
        return await Pipeline().ExecuteAsync(token =>
        {
            if (!replayed)
            {
                replayed = true;
                failure.Throw();
            }

            return callback(token);
        }, cancellationToken);
    }

    /// <summary>Runs <paramref name="callback"/>, again after each transient failure while retries are left.</summary>
    public async ValueTask ExecuteAsync(Func<CancellationToken, ValueTask> callback, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(callback);
        await ExecuteAsync(async token =>
        {
            await callback(token);
            return true;
        }, cancellationToken);
    }

    private ResiliencePipeline Pipeline() => _pipeline ??= new ResiliencePipelineBuilder { TimeProvider = _time }
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(IsTransient),
            MaxRetryAttempts = _maxRetries,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = BaseDelay,
            MaxDelay = MaxDelay,
            OnRetry = args => _onRetry is null || args.Outcome.Exception is null
                ? default
                : _onRetry(args.Outcome.Exception, args.AttemptNumber, args.RetryDelay),
        })
        .Build();

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
}
