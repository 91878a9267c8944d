namespace FileXfer.Server;

/// <summary>The exit codes of <c>filexfer-server</c>, documented in README and <c>--help</c>.</summary>
internal enum ServerExitCode
{
    /// <summary>Stopped cleanly after SIGINT or SIGTERM.</summary>
    Ok = 0,

    /// <summary>An unexpected failure.</summary>
    Unexpected = 1,

    /// <summary>Bad arguments, or a root directory that cannot be used.</summary>
    Usage = 2,

    /// <summary>The listen address cannot be bound (in use, not local, not permitted).</summary>
    CannotListen = 3,
}
