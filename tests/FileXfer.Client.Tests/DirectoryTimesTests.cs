using FileXfer.Client.Sync;
using FileXfer.Server.Handlers;

namespace FileXfer.Client.Tests;

/// <summary>
/// Directory times of <c>put -r</c> (DirectoryTimes): the requests that add entries carry their directory's time
/// (ParentMTime), so every directory ends at its local time without a last pass of MakeDirectory requests; the last
/// pass remains for what they do not cover (a time that alone differs, deletions, a server without the capability).
/// What the client sent is read from the server's log of completed requests, once every connection has closed.
/// </summary>
public class DirectoryTimesTests
{
    /// <summary>The tree's directories (relative, "" the top) with the number of files each holds.</summary>
    private static readonly (string Directory, int Files)[] Layout =
    [
        (string.Empty, 20), ("a", 60), ("a/deep", 40), ("a/deep/er", 30), ("b", 50), ("c", 0),
    ];

    [Fact(Timeout = 120000)]
    public async Task A_tree_put_leaves_every_directory_at_its_time_without_a_last_pass()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await CreateTreeAsync(local.Path, token);

        var put = await CliRunner.RunAsync(server, ["--quiet", "put", "-r", "--parallel", "4", local.Path, "dst"], token);

        CliAssert.Success(put);
        var made = await MakeDirectoryRequestsAsync(server, token);
        AssertTimesMatch(local.Path, server, "dst");
        Assert.True(server.Log.WithEvent(ServerEvents.HandshakeCompleted).Count >= 3, "the files should have gone over several transfer connections");

        // One MakeDirectory per directory, the one that made it with its time and mode: none in a last pass.
        Assert.Equal(Layout.Select(d => Remote("dst", d.Directory)).Order(StringComparer.Ordinal), made.Order(StringComparer.Ordinal));
    }

    [Fact(Timeout = 120000)]
    public async Task A_file_sent_resumably_on_its_own_carries_its_directory_time_too()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await CreateTreeAsync(local.Path, token);
        await TestFiles.WriteRandomAsync(TestTrees.Combine(local.Path, "a/deep/large.bin"), TreeTransfer.ResumableSize + 1, seed: 7, token);
        RestoreTimes(local.Path);

        var put = await CliRunner.RunAsync(server, ["--quiet", "put", "-r", local.Path, "dst"], token);

        CliAssert.Success(put);
        var made = await MakeDirectoryRequestsAsync(server, token);
        Assert.True(await TestFiles.ContentEqualsAsync(TestTrees.Combine(local.Path, "a/deep/large.bin"), server.PathOf("dst/a/deep/large.bin"), token));
        AssertTimesMatch(local.Path, server, "dst");
        Assert.Equal(Layout.Select(d => Remote("dst", d.Directory)).Order(StringComparer.Ordinal), made.Order(StringComparer.Ordinal));
    }

    [Fact(Timeout = 120000)]
    public async Task A_directory_whose_only_difference_is_its_time_gets_it_in_the_last_pass()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await CreateTreeAsync(local.Path, token);
        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "put", "-r", local.Path, "dst"], token));
        int before = (await MakeDirectoryRequestsAsync(server, token)).Count;
        var changed = new DateTime(2020, 2, 2, 2, 2, 2, DateTimeKind.Utc);
        Directory.SetLastWriteTimeUtc(TestTrees.Combine(local.Path, "a/deep"), changed);

        var again = await CliRunner.RunAsync(server, ["put", "-r", local.Path, "dst"], token);

        CliAssert.Success(again);
        Assert.StartsWith("put: 0 transferred, 200 unchanged, 0 failed; ", again.StdoutLines[^1], StringComparison.Ordinal);
        Assert.Equal(changed, Directory.GetLastWriteTimeUtc(server.PathOf("dst/a/deep")));
        AssertTimesMatch(local.Path, server, "dst");
        Assert.Equal(["dst/a/deep"], (await MakeDirectoryRequestsAsync(server, token)).Skip(before));
    }

    [Fact(Timeout = 120000)]
    public async Task Delete_leaves_every_directory_at_its_time_after_the_deletions()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await CreateTreeAsync(local.Path, token);
        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "put", "-r", local.Path, "dst"], token));

        // Only on the server: a file beside the others, and a directory with a file, each to be deleted.
        await File.WriteAllTextAsync(server.PathOf("dst/b/extra.txt"), "extra", token);
        Directory.CreateDirectory(server.PathOf("dst/a/gone"));
        await File.WriteAllTextAsync(server.PathOf("dst/a/gone/old.txt"), "old", token);
        // And a new local file in a directory that also loses an entry: sent with its parent time, then the deletion.
        await File.WriteAllTextAsync(TestTrees.Combine(local.Path, "b/new.txt"), "new", token);
        RestoreTimes(local.Path);

        var run = await CliRunner.RunAsync(server, ["put", "-r", "--delete", local.Path, "dst"], token);

        CliAssert.Success(run);
        Assert.False(File.Exists(server.PathOf("dst/b/extra.txt")));
        Assert.False(Directory.Exists(server.PathOf("dst/a/gone")));
        Assert.True(File.Exists(server.PathOf("dst/b/new.txt")));
        AssertTimesMatch(local.Path, server, "dst");
    }

    [Fact(Timeout = 120000)]
    public async Task A_server_without_directory_times_gets_the_last_pass_and_the_times_are_right()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer(root: null, handlerOptions: new FileXferHandlerOptions { DirectoryTimes = false });
        using var local = new TempDirectory();
        await CreateTreeAsync(local.Path, token);

        var put = await CliRunner.RunAsync(server, ["--quiet", "put", "-r", "--parallel", "4", local.Path, "dst"], token);

        CliAssert.Success(put);
        var made = await MakeDirectoryRequestsAsync(server, token);
        AssertTimesMatch(local.Path, server, "dst");

        // Each directory twice: made, then given its time once everything was in it.
        Assert.All(Layout, d => Assert.Equal(2, made.Count(path => path == Remote("dst", d.Directory))));
        Assert.Equal(2 * Layout.Length, made.Count);
    }

    /// <summary>The tree of <see cref="Layout"/>, each directory then given a time of its own (children first).</summary>
    private static async Task CreateTreeAsync(string root, CancellationToken cancellationToken)
    {
        foreach (var (directory, files) in Layout)
        {
            var path = TestTrees.Combine(root, directory);
            Directory.CreateDirectory(path);
            for (int i = 0; i < files; i++)
            {
                await File.WriteAllTextAsync(Path.Combine(path, $"f{i:D3}.txt"), $"{directory}/{i}\n", cancellationToken);
            }
        }

        RestoreTimes(root);
    }

    /// <summary>Gives every directory of the layout its own time, deepest first (setting a time changes no parent).</summary>
    private static void RestoreTimes(string root)
    {
        for (int i = Layout.Length - 1; i >= 0; i--)
        {
            Directory.SetLastWriteTimeUtc(TestTrees.Combine(root, Layout[i].Directory), new DateTime(2015, 1, 1 + i, 10, 20, 30, DateTimeKind.Utc).AddTicks(1234567 * (i + 1)));
        }
    }

    private static void AssertTimesMatch(string root, TestServer server, string remoteTop)
    {
        foreach (var (directory, _) in Layout)
        {
            var expected = Directory.GetLastWriteTimeUtc(TestTrees.Combine(root, directory));
            Assert.True(expected == Directory.GetLastWriteTimeUtc(server.PathOf(Remote(remoteTop, directory))),
                $"'{Remote(remoteTop, directory)}': {Directory.GetLastWriteTimeUtc(server.PathOf(Remote(remoteTop, directory))):O} on the server, {expected:O} here");
        }
    }

    private static string Remote(string top, string directory) => directory.Length == 0 ? top : $"{top}/{directory}";

    /// <summary>
    /// The paths of the MakeDirectory requests the server completed, in order: read once every connection it opened has
    /// closed, so that each request's log line is in.
    /// </summary>
    private static async Task<List<string>> MakeDirectoryRequestsAsync(TestServer server, CancellationToken cancellationToken)
    {
        await server.WaitForClosedConnectionsAsync(server.Log.WithEvent(ServerEvents.ConnectionOpened).Count, cancellationToken);
        const string Marker = " MakeDirectory ";
        return
        [
            .. server.Log.WithEvent(ServerEvents.RequestCompleted)
                .Select(e => e.Message)
                .Where(m => m.Contains(Marker, StringComparison.Ordinal))
                .Select(m => m[(m.IndexOf(Marker, StringComparison.Ordinal) + Marker.Length)..m.LastIndexOf(": ok", StringComparison.Ordinal)]),
        ];
    }
}
