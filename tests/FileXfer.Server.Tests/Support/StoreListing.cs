using FileXfer.Protocol.Framing;
using FileXfer.Server.Storage.Local;

namespace FileXfer.Server.Tests.Support;

/// <summary>A store's listing as a list of the entries it sends (those it cannot send left out).</summary>
internal static class StoreListing
{
    public static List<RemoteEntry> ListEntries(this FileStore store, string path) =>
        [.. store.List(path).Where(listed => listed.Omitted is null).Select(listed => listed.Entry)];
}
