namespace FileXfer.Server.Storage;

/// <summary>What a MakeDirectory did (<see cref="IStoreSession.MakeDirectoryAsync"/>).</summary>
/// <param name="Entry">The directory as it now is.</param>
/// <param name="ParentTimeFailure">
/// Why its parent directory could not be given the request's ParentMTime (the directory is made, and its parent keeps
/// the time the making gave it); null when that time was set or none was asked.
/// </param>
public sealed record MadeDirectory(RemoteEntry Entry, string? ParentTimeFailure = null);
