using System.Net;
using Microsoft.Extensions.Logging;

namespace FileXfer.Server;

/// <summary>Every log message of the server, with stable event ids.</summary>
internal static partial class ServerLog
{
    [LoggerMessage(1, LogLevel.Information, "Listening on {EndPoint}")]
    public static partial void Listening(ILogger logger, IPEndPoint endPoint);

    // At start, so an operator sees the values in force, the eviction age's too when it follows the handshake timeout.
    [LoggerMessage(70, LogLevel.Information, "Handshake deadline {HandshakeTimeoutSeconds} s from the accept; when the server is full, the oldest connection in its handshake for {EvictionAgeSeconds} s or more makes room for a newcomer, else the newcomer is refused as busy")]
    public static partial void HandshakeLimits(ILogger logger, double handshakeTimeoutSeconds, double evictionAgeSeconds);

    [LoggerMessage(2, LogLevel.Debug, "Connection {ConnectionId} from {RemoteEndPoint} opened")]
    public static partial void ConnectionOpened(ILogger logger, long connectionId, IPEndPoint remoteEndPoint);

    [LoggerMessage(EventId = 3, Message = "Connection {ConnectionId} from {RemoteEndPoint} closed after {DurationMs:F0} ms")]
    public static partial void ConnectionClosed(ILogger logger, LogLevel level, long connectionId, IPEndPoint remoteEndPoint, double durationMs);

    [LoggerMessage(4, LogLevel.Warning, "Connection {ConnectionId} from {RemoteEndPoint} failed: {Reason}")]
    public static partial void ConnectionFailed(ILogger logger, Exception exception, long connectionId, IPEndPoint remoteEndPoint, string reason);

    [LoggerMessage(19, LogLevel.Warning, "{Count} more connections failed in the last {IntervalSeconds:F0} s and were not logged one by one")]
    public static partial void ConnectionFailuresSuppressed(ILogger logger, int count, double intervalSeconds);

    [LoggerMessage(5, LogLevel.Warning, "Connection {ConnectionId} from {RemoteEndPoint} aborted at the shutdown deadline")]
    public static partial void ConnectionAborted(ILogger logger, long connectionId, IPEndPoint remoteEndPoint);

    [LoggerMessage(6, LogLevel.Information, "Request {ConnectionId}/{RequestId} {Operation} {Path}: ok, {Bytes} bytes in {DurationMs:F1} ms")]
    public static partial void RequestCompleted(ILogger logger, long connectionId, uint requestId, string operation, string path, long bytes, double durationMs);

    [LoggerMessage(7, LogLevel.Warning, "Request {ConnectionId}/{RequestId} {Operation} {Path}: failed with {ErrorCode} after {Bytes} bytes in {DurationMs:F1} ms: {Reason}")]
    public static partial void RequestFailed(ILogger logger, long connectionId, uint requestId, string operation, string path, string errorCode, long bytes, double durationMs, string reason);

    [LoggerMessage(8, LogLevel.Information, "Stopping: no new connections, waiting for {Count} in flight")]
    public static partial void Draining(ILogger logger, int count);

    [LoggerMessage(9, LogLevel.Warning, "Shutdown deadline passed; aborting {Count} connections")]
    public static partial void ShutdownDeadline(ILogger logger, int count);

    [LoggerMessage(10, LogLevel.Information, "Removed {Count} stale uploads from the staging area")]
    public static partial void StaleUploadsRemoved(ILogger logger, int count);

    [LoggerMessage(11, LogLevel.Information, "Connection {ConnectionId} from {RemoteEndPoint}: client {Agent}, protocol version {Version}")]
    public static partial void HandshakeCompleted(ILogger logger, long connectionId, IPEndPoint remoteEndPoint, string agent, long version);

    [LoggerMessage(12, LogLevel.Error, "Request {ConnectionId}/{RequestId} {Operation} {Path}: unexpected failure")]
    public static partial void RequestCrashed(ILogger logger, Exception exception, long connectionId, uint requestId, string operation, string path);

    // Why: none to evict (all established: raise the limit), or all too young (the eviction age), tells the operator which knob.
    [LoggerMessage(13, LogLevel.Warning, "Refused a connection from {RemoteEndPoint}: {Reason}, and none to evict: {Why} ({Unreported} more refused since the last report)")]
    public static partial void ConnectionRefused(ILogger logger, IPEndPoint remoteEndPoint, string reason, string why, int unreported);

    [LoggerMessage(14, LogLevel.Information, "Connection {ConnectionId} from {RemoteEndPoint} evicted: still in its handshake after {AgeMs:F0} ms when the server was full (making room for connection {NewConnectionId})")]
    public static partial void ConnectionEvicted(ILogger logger, long connectionId, IPEndPoint remoteEndPoint, double ageMs, long newConnectionId);

    // Debug, not Information: a load balancer's health check every 2 s would be 43,200 lines a day of nothing.
    [LoggerMessage(69, LogLevel.Debug, "Connection {ConnectionId} from {RemoteEndPoint} closed before sending anything: a probe (a TCP health check, or a connection its client opened ahead and gave up), not a failed handshake")]
    public static partial void ClosedBeforeSending(ILogger logger, long connectionId, IPEndPoint remoteEndPoint);

    [LoggerMessage(15, LogLevel.Debug, "Refused connection {ConnectionId} from {RemoteEndPoint} was closed without its answer: {Reason}")]
    public static partial void RefusalNotDelivered(ILogger logger, long connectionId, IPEndPoint remoteEndPoint, string reason);

    [LoggerMessage(40, LogLevel.Information, "TLS on: certificate {Subject} from {Source}, SHA-256 fingerprint {Fingerprint}")]
    public static partial void TlsCertificate(ILogger logger, string subject, string source, string fingerprint);

    [LoggerMessage(41, LogLevel.Warning, "Connection {ConnectionId} from {RemoteEndPoint}: a plaintext client refused, this server requires TLS")]
    public static partial void PlaintextRefused(ILogger logger, long connectionId, IPEndPoint remoteEndPoint);

    [LoggerMessage(16, LogLevel.Information, "Connection {ConnectionId} from {RemoteEndPoint}: authenticated as {TokenName} ({Access})")]
    public static partial void AuthenticationSucceeded(ILogger logger, long connectionId, IPEndPoint remoteEndPoint, string tokenName, string access);

    [LoggerMessage(17, LogLevel.Warning, "Connection {ConnectionId} from {RemoteEndPoint}: authentication failed for token {TokenName}: {Reason}")]
    public static partial void AuthenticationFailed(ILogger logger, long connectionId, IPEndPoint remoteEndPoint, string tokenName, string reason);

    [LoggerMessage(18, LogLevel.Information, "Loaded {Count} tokens from {Path}; clients must authenticate")]
    public static partial void TokensLoaded(ILogger logger, int count, string path);

    [LoggerMessage(20, LogLevel.Warning, "Connection {ConnectionId}: closed before request {RequestId} ({Operation}): a later connection of its client declared it abandoned, so what it still sends is stale and is not carried out")]
    public static partial void ConnectionAbandoned(ILogger logger, long connectionId, string operation, uint requestId);

    [LoggerMessage(21, LogLevel.Information, "Connection {ConnectionId}: its client gave up {Count} earlier connection(s) of its run ({Numbers}); nothing more they send is carried out")]
    public static partial void AbandonedDeclared(ILogger logger, long connectionId, int count, string numbers);

    [LoggerMessage(30, LogLevel.Information, "Connection {ConnectionId} from {RemoteEndPoint}: authenticated as {TokenName} ({Token}) in its Hello, over its run's ticket (connection {Number} of the run)")]
    public static partial void TicketAccepted(ILogger logger, long connectionId, IPEndPoint remoteEndPoint, string tokenName, string token, uint number);

    [LoggerMessage(31, LogLevel.Information, "Connection {ConnectionId}: the run ticket in its Hello (token {TokenName}, connection {Number} of the run) cannot serve ({Reason}); the challenge follows")]
    public static partial void TicketRefused(ILogger logger, long connectionId, string tokenName, uint number, string reason);

    [LoggerMessage(50, LogLevel.Information, "Reloaded {Count} tokens from {Path} (SIGHUP); connections already authenticated keep their access")]
    public static partial void TokensReloaded(ILogger logger, int count, string path);

    [LoggerMessage(51, LogLevel.Error, "Tokens not reloaded (SIGHUP), the {Count} tokens loaded before stay in use: {Reason}")]
    public static partial void TokensReloadFailed(ILogger logger, int count, string reason);

    [LoggerMessage(52, LogLevel.Information, "SIGHUP: nothing to reload, the server runs without --tokens")]
    public static partial void NothingToReload(ILogger logger);

    [LoggerMessage(53, LogLevel.Information, "Metrics on http://{EndPoint}/metrics, health on http://{EndPoint}/healthz")]
    public static partial void MetricsListening(ILogger logger, string endPoint);

    [LoggerMessage(54, LogLevel.Debug, "Metrics request not answered: {Kind}: {Reason}")]
    public static partial void MetricsRequestFailed(ILogger logger, string kind, string reason);

    [LoggerMessage(55, LogLevel.Debug, "Connection {ConnectionId}: authentication refused; {Bytes} bytes the client sent behind it dropped unread ({Ending})")]
    public static partial void RefusedRequestsDropped(ILogger logger, long connectionId, long bytes, string ending);

    [LoggerMessage(68, LogLevel.Warning, "Request {ConnectionId}/{RequestId} {Operation}: the entry was made, but its directory {Directory} could not be given the time the client asked (ParentMTime): {Reason}. The client is told; further failures for this directory are not logged")]
    public static partial void ParentTimeNotSet(ILogger logger, long connectionId, uint requestId, string operation, string directory, string reason);

    [LoggerMessage(71, LogLevel.Warning, "Request {ConnectionId}/{RequestId} {Operation} of token {TokenName}: the entry was made, but its directory {Directory} (in the token's subtree {Subtree}) could not be given the time the client asked (ParentMTime): {Reason}. The client is told; further failures for this directory are not logged")]
    public static partial void ParentTimeNotSetForToken(ILogger logger, long connectionId, uint requestId, string operation, string tokenName, string directory, string subtree, string reason);

    [LoggerMessage(60, LogLevel.Warning, "The sweep of stale uploads in the object store failed: {Reason}")]
    public static partial void StaleSweepFailed(ILogger logger, string reason);

    [LoggerMessage(22, LogLevel.Information, "Request {ConnectionId}/{RequestId} Put {Path}: range at {RangeOffset} of {RangeLength} bytes checked out, {Received} bytes received in {DurationMs:F1} ms")]
    public static partial void RangeReceived(ILogger logger, long connectionId, uint requestId, string path, long rangeOffset, long rangeLength, long received, double durationMs);
}
