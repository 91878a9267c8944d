using System.Net.Sockets;
using System.Security.Authentication;
using FileXfer.Protocol;
using Polly;
using Polly.Retry;

namespace FileXfer.Client.Resilience;

/// <summary>
/// The retry pipeline of the client, built once per command: exponential backoff with jitter, only for
/// transient faults. Each attempt reconnects and, for puts and gets, resumes from what the other side proves it
/// holds, so a retry costs what is left to send, not the whole file again.
/// </summary>
public static class TransferRetry
{
    /// <summary>The delay before the first retry; later ones grow exponentially, with jitter.</summary>
    public static TimeSpan BaseDelay { get; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest delay between two attempts.</summary>
    public static TimeSpan MaxDelay { get; } = TimeSpan.FromSeconds(30);

    /// <summary>Builds the pipeline; with <paramref name="maxRetries"/> 0 it runs each operation once.</summary>
    /// <param name="maxRetries">Retries after the first attempt.</param>
    /// <param name="time">The clock the delays run on (a fake one in tests).</param>
    /// <param name="onRetry">Told of each retry: the failure, the attempt that failed (from 0) and the delay before the next.</param>
    public static ResiliencePipeline Create(int maxRetries, TimeProvider time, Func<Exception, int, TimeSpan, ValueTask>? onRetry)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetries);
        var builder = new ResiliencePipelineBuilder { TimeProvider = time };
        if (maxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(IsTransient),
                MaxRetryAttempts = maxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = BaseDelay,
                MaxDelay = MaxDelay,
                OnRetry = args => onRetry is null || args.Outcome.Exception is null
                    ? default
                    : onRetry(args.Outcome.Exception, args.AttemptNumber, args.RetryDelay),
            });
        }

        return builder.Build();
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
}
