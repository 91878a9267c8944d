namespace FileXfer.Server.Storage.Local;

/// <summary>A remote path mapped into the root, with what the walk found on the way.</summary>
/// <param name="FullPath">The local path.</param>
/// <param name="ParentsExist">Every component but the last is an existing directory.</param>
/// <param name="IsDirectory">The last component is an existing directory.</param>
internal readonly record struct ResolvedPath(string FullPath, bool ParentsExist, bool IsDirectory);
