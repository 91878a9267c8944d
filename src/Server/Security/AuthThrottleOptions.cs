namespace FileXfer.Server.Security;

/// <summary>How failed authentications are slowed down and, per source address, locked out.</summary>
public sealed class AuthThrottleOptions
{
    /// <summary>The clock delays and windows are measured on (a fake one in tests). Default: the system clock.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>The delay before a failed attempt is answered; it grows by this much per recent failure. Default: 1 second.</summary>
    public TimeSpan FailureDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest delay before a failed attempt is answered. Default: 5 seconds.</summary>
    public TimeSpan MaxFailureDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Failures from one address within <see cref="Window"/> that lock it out. Default: 10.</summary>
    public int MaxFailures { get; set; } = 10;

    /// <summary>How long a failure counts against its address. Default: 10 minutes.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a locked-out address is refused at once, whatever it sends. Default: 10 minutes.</summary>
    public TimeSpan Lockout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The most addresses remembered; past it, the stalest are forgotten. Default: 10,000.</summary>
    public int MaxTrackedAddresses { get; set; } = 10_000;
}
