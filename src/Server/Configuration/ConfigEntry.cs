namespace FileXfer.Server.Configuration;

/// <summary>One setting from a configuration file or the environment, and where it came from, for messages.</summary>
/// <param name="Key">The option's name without its dashes: <c>max-connections</c>.</param>
/// <param name="Value">The text of the value.</param>
/// <param name="Source">Where it was read: <c>/etc/filexfer/server.conf line 4</c> or <c>$FILEXFER_SERVER_LISTEN</c>.</param>
/// <param name="BaseDirectory">The directory a relative path in it is relative to: the file's own, or the working directory.</param>
internal sealed record ConfigEntry(string Key, string Value, string Source, string BaseDirectory);
