namespace FileXfer.TestKit;

/// <summary>The event ids of the server's log (ServerLog) that tests wait for.</summary>
public static class ServerEvents
{
    public const int ConnectionOpened = 2;
    public const int ConnectionClosed = 3;
    public const int ConnectionFailed = 4;
    public const int ConnectionAborted = 5;
    public const int RequestCompleted = 6;
    public const int RequestFailed = 7;
    public const int Draining = 8;
    public const int ShutdownDeadline = 9;
    public const int HandshakeCompleted = 11;
    public const int RequestCrashed = 12;
    public const int ConnectionRefused = 13;
    public const int ConnectionEvicted = 14;
    public const int RefusalNotDelivered = 15;
    public const int AuthenticationSucceeded = 16;
    public const int AuthenticationFailed = 17;
    public const int ConnectionFailuresSuppressed = 19;
    public const int TicketAccepted = 30;
    public const int TicketRefused = 31;
    public const int RefusedRequestsDropped = 55;
    public const int ClosedBeforeSending = 69;
}
