using System.Runtime.Versioning;
using FileXfer.Client.Sync;
using FileXfer.Client.Tests.Resilience;

namespace FileXfer.Client.Tests;

/// <summary>
/// A directory whose time the server cannot set (DirectoryTimes, ParentTimeNotSet): the real server runs as another
/// user (nobody, through setpriv) over a root it owns, holding a directory owned by root and writable by all, so the
/// server can add entries to it but not set its time (EPERM). The client must then not count that directory as
/// covered: its last pass tries again and reports the failure, while every other directory gets its time.
/// </summary>
public class ParentTimeNotSetTests
{
    private const int Nobody = 65534;

    private static readonly DateTime TopTime = new(2001, 1, 1, 1, 1, 1, DateTimeKind.Utc);
    private static readonly DateTime SubTime = new(2002, 2, 2, 2, 2, 2, DateTimeKind.Utc);
    private static readonly DateTime DeeperTime = new(2003, 3, 3, 3, 3, 3, DateTimeKind.Utc);

    /// <summary>What the top directory of the tree holds: the request that adds an entry to the unowned directory differs.</summary>
    public enum TopHolds
    {
        /// <summary>Small files (a pipelined batch of Puts) and a subdirectory (MakeDirectory).</summary>
        FilesAndDirectory,

        /// <summary>Only a subdirectory: only a MakeDirectory carries the top's time.</summary>
        DirectoryOnly,

        /// <summary>Only a file of 16 MiB and more: only a resumable Put sent on its own carries it (no subdirectory).</summary>
        LargeFileOnly,
    }

    [Theory(Timeout = 120000)]
    [InlineData(TopHolds.FilesAndDirectory)]
    [InlineData(TopHolds.DirectoryOnly)]
    [InlineData(TopHolds.LargeFileOnly)]
    [UnsupportedOSPlatform("windows")]
    public async Task A_tree_put_into_a_directory_the_server_cannot_time_reports_it_and_sets_every_other_time(TopHolds holds)
    {
        FileOwners.SkipUnlessRunnableAsAnotherUser("server");
        var token = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory();
        File.SetUnixFileMode(temp.Path, (UnixFileMode)0x1ED);

        // The store: a root nobody owns, holding "shared", owned by root and writable by all.
        var root = temp.CreateDirectory("root");
        await FileOwners.ChownAsync(root, Nobody, token);
        var shared = Directory.CreateDirectory(Path.Combine(root, "shared")).FullName;
        File.SetUnixFileMode(shared, (UnixFileMode)0x1FF);

        // The source: its top has the same permission bits as "shared", so only its time differs (the last pass has no
        // other reason to visit it).
        var source = temp.CreateDirectory("source");
        var files = await CreateSourceAsync(source, holds, token);

        await using var server = await ServerProcess.StartAsUserAsync(Nobody, root, token);
        var put = await CliRunner.RunAsync(server.Address, ["put", "-r", source, "shared"], token);
        Assert.Equal(0, await server.TerminateAsync(token));

        // (a) Every file stored.
        foreach (var file in files)
        {
            Assert.True(await TestFiles.ContentEqualsAsync(Path.Combine(source, file), Path.Combine(shared, file), token), $"{file} was not stored\n{put}");
        }

        // (b) The time that could not be set is reported as the last pass reports a directory it could not set: one
        // failed item, exit 7.
        Assert.True(put.ExitCode == 7, put.ToString());
        Assert.Contains("filexfer: shared: server: ", put.Stderr, StringComparison.Ordinal);
        Assert.StartsWith($"put: {files.Count} transferred, 0 unchanged, 1 failed; ", put.StdoutLines[^1], StringComparison.Ordinal);
        Assert.NotEqual(TopTime, Directory.GetLastWriteTimeUtc(shared));

        // (c) Every directory the server owns has its time.
        if (holds != TopHolds.LargeFileOnly)
        {
            Assert.Equal(SubTime, Directory.GetLastWriteTimeUtc(Path.Combine(shared, "sub")));
            Assert.Equal(DeeperTime, Directory.GetLastWriteTimeUtc(Path.Combine(shared, "sub", "deeper")));
        }

        // The server logged it once for that directory, however many requests it refused a time to.
        var logged = server.LogLines.Where(line => line.Contains("FileXfer.Server[68]", StringComparison.Ordinal)).ToList();
        Assert.True(logged.Count == 1, string.Join('\n', server.LogLines));
        Assert.Contains("directory shared ", logged[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_directory_whose_time_the_server_did_not_set_is_not_covered(bool madeWithAttributes)
    {
        // Covered before the answer: its time alone differed, or it was made with its time and mode.
        var node = new DirectoryNode("a", carried: null, committed: false) { EntryTime = TopTime, MadeWithAttributes = madeWithAttributes };
        node.AddTimedEntry();
        Assert.False(node.NeedsLastPass);

        node.MarkParentTimeNotSet();

        Assert.True(node.ParentTimeNotSet);
        Assert.True(node.NeedsLastPass);
    }

    [Fact]
    public void Without_entry_times_a_directory_always_needs_the_last_pass()
    {
        var node = new DirectoryNode("a", carried: null, committed: false);

        Assert.False(node.ParentTimeNotSet);
        Assert.True(node.NeedsLastPass);
    }

    /// <summary>The source tree; returns the files it holds (relative paths).</summary>
    [UnsupportedOSPlatform("windows")]
    private static async Task<List<string>> CreateSourceAsync(string source, TopHolds holds, CancellationToken cancellationToken)
    {
        var files = new List<string>();
        var sub = Path.Combine(source, "sub");
        switch (holds)
        {
            case TopHolds.FilesAndDirectory:
                for (int i = 0; i < 5; i++)
                {
                    files.Add($"f{i}.txt");
                }

                files.Add(Path.Combine("sub", "g.txt"));
                files.Add(Path.Combine("sub", "deeper", "h.txt"));
                break;
            case TopHolds.DirectoryOnly:
                files.Add(Path.Combine("sub", "deeper", "h.txt"));
                break;
            case TopHolds.LargeFileOnly:
                await TestFiles.WriteRandomAsync(Path.Combine(source, "large.bin"), TreeTransfer.ResumableSize + 1, seed: 29, cancellationToken);
                files.Add("large.bin");
                break;
        }

        foreach (var file in files.Where(f => f.EndsWith(".txt", StringComparison.Ordinal)))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(source, file))!);
            await File.WriteAllTextAsync(Path.Combine(source, file), $"{file}\n", cancellationToken);
        }

        if (Directory.Exists(sub))
        {
            Directory.SetLastWriteTimeUtc(Path.Combine(sub, "deeper"), DeeperTime);
            Directory.SetLastWriteTimeUtc(sub, SubTime);
        }

        File.SetUnixFileMode(source, (UnixFileMode)0x1FF);
        Directory.SetLastWriteTimeUtc(source, TopTime);
        return files;
    }
}
