namespace FileXfer.Client;

/// <summary>One remote directory as the server listed it.</summary>
/// <param name="Path">The listed directory (normalized).</param>
/// <param name="Entries">Its entries, sorted by name (ordinal), each name checked and unique.</param>
/// <param name="Omitted">Entries the server has but cannot send under the protocol's name rules.</param>
public sealed record DirectoryListing(string Path, IReadOnlyList<RemoteEntry> Entries, IReadOnlyList<OmittedEntry> Omitted);
