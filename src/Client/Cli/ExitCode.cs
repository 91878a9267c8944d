namespace FileXfer.Client.Cli;

/// <summary>The documented exit codes of <c>filexfer</c>. Numbers never change meaning.</summary>
public enum ExitCode
{
    /// <summary>Everything asked for was done and verified.</summary>
    Ok = 0,

    /// <summary>An unexpected error.</summary>
    Unexpected = 1,

    /// <summary>Bad command line or arguments (including a remote path the rules refuse).</summary>
    Usage = 2,

    /// <summary>Cannot connect to the server, or the connection was lost.</summary>
    Connection = 3,

    /// <summary>An integrity check failed: the bytes do not match their hash.</summary>
    Integrity = 4,

    /// <summary>A file or directory was not found (remote or local).</summary>
    NotFound = 5,

    /// <summary>Permission or authentication denied.</summary>
    Denied = 6,

    /// <summary>Some files of a batch failed (the others were done); see the messages or the JSON lines.</summary>
    SomeFailed = 7,

    /// <summary>
    /// A warning, as rsync's 24: everything else was done, but some source files or directories vanished or changed
    /// while the run went on (deleted or rewritten after the walk saw them); they were not transferred.
    /// </summary>
    SourceVanished = 24,

    /// <summary>
    /// Interrupted by SIGINT (Ctrl+C): the command was cancelled, its temp files removed (a resumable get keeps its
    /// partial download for the next try), nothing stored under a real name. 128 + 2, as a shell reports a process
    /// ended by SIGINT.
    /// </summary>
    Interrupted = 130,

    /// <summary>
    /// Standard output was closed by its reader before everything was written (a broken pipe, as in
    /// <c>get REMOTE - | head</c>). 128 + 13, as a shell reports a process ended by SIGPIPE.
    /// </summary>
    BrokenPipe = 141,

    /// <summary>Ended by SIGTERM, as <see cref="Interrupted"/> by SIGINT. 128 + 15.</summary>
    Terminated = 143,
}
