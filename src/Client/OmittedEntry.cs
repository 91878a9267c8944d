namespace FileXfer.Client;

/// <summary>An entry the server could not send in a listing (its name breaks the protocol's rules).</summary>
/// <param name="ShownName">Its name as the server escaped it, safe to print.</param>
/// <param name="Kind">What it is.</param>
/// <param name="Reason">Why it cannot be sent.</param>
public sealed record OmittedEntry(string ShownName, EntryKind Kind, string Reason)
{
    /// <summary>The failure to report for it: it is missing from what was transferred, hashed or compared.</summary>
    public FileXferException ToException() =>
        new(ErrorCode.InvalidPath, $"entry '{ShownName}' cannot be sent by the server: {Reason}") { IsRemote = true };
}
