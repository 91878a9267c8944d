namespace FileXfer.Server.Storage;

/// <summary>One entry of a listing as the store produces it.</summary>
/// <param name="Entry">What the entry is; its name as stored.</param>
/// <param name="Omitted">Why the entry cannot be sent (its name breaks the protocol's name rules), or null.</param>
public readonly record struct ListedEntry(RemoteEntry Entry, string? Omitted);
