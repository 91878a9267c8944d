using System.Security.Cryptography;
using FileXfer.Protocol.Framing;

namespace FileXfer.Client.Tests;

/// <summary>
/// <c>get -r</c> decides every local path itself: a server naming paths outside the destination is refused, and a
/// symbolic link inside the destination is never written through.
/// </summary>
public class GetTreeSafetyTests
{
    private static readonly byte[] Body = "planted by a hostile server\n"u8.ToArray();

    [Theory(Timeout = 60000)]
    [InlineData("../evil")]
    [InlineData("a/../../x")]
    [InlineData("/abs")]
    [InlineData("a/../../../../../../../../../../tmp/filexfer-hostile-planted")]
    [InlineData("a\\..\\..\\x")]
    [InlineData("a//b")]
    [InlineData("a/./b")]
    [InlineData("a/")]
    public async Task A_listing_with_a_name_outside_the_destination_is_a_protocol_error_and_nothing_is_written(string hostilePath)
    {
        var token = TestContext.Current.CancellationToken;
        Assert.False(File.Exists("/abs"));
        Assert.False(File.Exists("/tmp/filexfer-hostile-planted"));
        using var sandbox = new TempDirectory();
        var destination = sandbox.Combine("deep", "restore");
        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        await using var hostile = new HostileServer(ListAndServe(hostilePath), Capabilities.Trees | Capabilities.Pipelining | Capabilities.ChunkedBody);

        var run = await CliRunner.RunAsync(hostile.Address, ["get", "-r", "tree", destination], token);

        var line = CliAssert.OneErrorLine(run, 1);
        Assert.StartsWith("filexfer: protocol error: server sent an unsafe name", line, StringComparison.Ordinal);
        Assert.Empty(TestFiles.ListRelative(sandbox.Path));
        Assert.False(File.Exists("/abs"));
        Assert.False(File.Exists("/tmp/filexfer-hostile-planted"));
    }

    [Fact(Timeout = 60000)]
    public async Task The_same_hostile_server_with_safe_names_only_is_served_into_the_destination()
    {
        // The control case: the responder works, so the refusals above are the client's checks.
        var token = TestContext.Current.CancellationToken;
        using var sandbox = new TempDirectory();
        var destination = sandbox.Combine("restore");
        await using var hostile = new HostileServer(ListAndServe(hostilePath: null), Capabilities.Trees | Capabilities.Pipelining | Capabilities.ChunkedBody);

        var run = await CliRunner.RunAsync(hostile.Address, ["--quiet", "get", "-r", "tree", destination], token);

        CliAssert.Success(run);
        Assert.Equal(["restore/fine/ok.txt"], TestFiles.ListRelative(sandbox.Path));
        Assert.Equal(Body, await File.ReadAllBytesAsync(Path.Combine(destination, "fine", "ok.txt"), token));
    }

    [Fact(Timeout = 60000)]
    public async Task Get_r_never_writes_through_a_symbolic_link_inside_the_destination()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var outside = new TempDirectory("filexfer-outside");
        using var local = new TempDirectory();
        await TestTrees.CreateAsync(server.PathOf("backup"), new Dictionary<string, string> { ["link/f.txt"] = "through the link", ["ok.txt"] = "ok" }, token);
        var destination = local.Combine("restore");
        Directory.CreateDirectory(destination);
        Directory.CreateSymbolicLink(Path.Combine(destination, "link"), outside.Path);

        var run = await CliRunner.RunAsync(server, ["get", "-r", "backup", destination], token);

        Assert.True(run.ExitCode == 7, run.ToString());
        Assert.Contains("symbolic link", run.Stderr, StringComparison.Ordinal);
        Assert.Empty(TestFiles.ListRelative(outside.Path));
        Assert.Equal("ok", await File.ReadAllTextAsync(Path.Combine(destination, "ok.txt"), token));
    }

    /// <summary>
    /// Lists <c>fine/</c> (holding <c>ok.txt</c>) and, when given, one more file named <paramref name="hostilePath"/>
    /// in the top directory; serves every Get with <see cref="Body"/> and its true hash.
    /// </summary>
    private static Func<HostileConnection, Frame, CancellationToken, Task> ListAndServe(string? hostilePath) =>
        async (connection, request, cancellationToken) =>
        {
            if (request.Type == MessageType.List)
            {
                var time = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);
                var entries = new List<RemoteEntry>();
                if (request.GetString(FieldTag.Path).EndsWith("/fine", StringComparison.Ordinal))
                {
                    entries.Add(new("ok.txt", EntryKind.File, Body.Length, time, 0x1A4));
                }
                else
                {
                    entries.Add(new("fine", EntryKind.Directory, 0, time, 0x1ED));
                    if (hostilePath is not null)
                    {
                        entries.Add(new RemoteEntry(hostilePath, EntryKind.File, Body.Length, time, 0x1A4));
                    }
                }

                foreach (var entry in entries)
                {
                    await connection.Writer.WriteAsync(Messages.Describe(MessageType.Entry, request.RequestId, entry, FieldTag.Name), cancellationToken);
                }

                await connection.Writer.WriteAsync(Messages.EndOfList(request.RequestId, entries.Count), cancellationToken);
            }
            else if (request.Type == MessageType.Get)
            {
                await HostileServer.SendBody(Body, SHA256.HashData(Body))(connection, request, cancellationToken);
            }
            else if (request.Type == MessageType.Stat)
            {
                // get -r asks what the top is before it walks.
                var top = new RemoteEntry(request.GetString(FieldTag.Path), EntryKind.Directory, 0, new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero), 0x1ED);
                await connection.Writer.WriteAsync(Messages.Describe(MessageType.Ok, request.RequestId, top), cancellationToken);
            }
            else
            {
                Assert.Fail($"unexpected request {request}");
            }
        };
}
