namespace FileXfer.Server.Hosting;

/// <summary>Settings of the TCP host.</summary>
public sealed class TcpServerOptions
{
    /// <summary>The listen backlog. Default: 512.</summary>
    public int Backlog { get; set; } = 512;

    /// <summary>How long a stop waits for connections in flight before aborting them. Default: 30 seconds.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
