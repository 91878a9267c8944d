using System.Runtime.Versioning;
using FileXfer.Client.Local;
using FileXfer.Client.Sync;

namespace FileXfer.Client.Tests;

/// <summary>
/// A restore (<c>get -r</c>) into a local directory whose time and permission bits the client may not set: the client
/// runs as another user (nobody, through setpriv) and restores into a tree it owns that holds one directory owned by
/// root and writable by all, so it can write the files in it but not set its time (only a directory's owner may: EPERM)
/// nor its mode. The restore must not stop there: every file restored, that directory one failed item (exit 7, as a put
/// reports a directory the server refused), every other directory given its time. The same for a file: one whose time
/// and mode cannot be set after its data was verified is saved all the same and reported once.
/// </summary>
public class GetTimesNotSetTests
{
    private const int Nobody = 65534;

    private static readonly (string Directory, DateTime Time)[] Times =
    [
        // Deepest first: a directory's time is set after its entries are made.
        ("shared/inner", new DateTime(2004, 4, 4, 4, 4, 4, DateTimeKind.Utc)),
        ("shared", new DateTime(2002, 2, 2, 2, 2, 2, DateTimeKind.Utc)),
        ("other", new DateTime(2003, 3, 3, 3, 3, 3, DateTimeKind.Utc)),
        (string.Empty, new DateTime(2001, 1, 1, 1, 1, 1, DateTimeKind.Utc)),
    ];

    private static readonly string[] Files = ["a.txt", "other/o.txt", "shared/s1.txt", "shared/s2.txt", "shared/inner/i.txt"];

    [Theory(Timeout = 120000)]
    [InlineData("shared")]
    [InlineData("")]
    [UnsupportedOSPlatform("windows")]
    public async Task A_restore_into_a_directory_it_may_not_time_restores_every_file_and_reports_that_directory_once(string unowned)
    {
        FileOwners.SkipUnlessRunnableAsAnotherUser("client");
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await StoreAsync(server, Files, token);

        foreach (var (directory, time) in Times)
        {
            File.SetUnixFileMode(server.PathOf("t/" + directory), (UnixFileMode)0x1ED);
            Directory.SetLastWriteTimeUtc(server.PathOf("t/" + directory), time);
        }

        // The destination: nobody's, but for the one directory owned by root and writable by all (already there).
        using var temp = new TempDirectory();
        File.SetUnixFileMode(temp.Path, (UnixFileMode)0x1ED);
        var dest = temp.CreateDirectory("dest");
        var blocked = Directory.CreateDirectory(Path.Combine(dest, unowned)).FullName;
        if (unowned.Length > 0)
        {
            await FileOwners.ChownAsync(dest, Nobody, token);
        }

        File.SetUnixFileMode(blocked, (UnixFileMode)0x1FF);

        var get = await ClientProcess.RunAsUserAsync(Nobody, temp.Path, server.Address, ["get", "-r", "--json", "t", dest], token);

        // (a) Every file restored, with its bytes, the ones in that directory too.
        foreach (var file in Files)
        {
            Assert.True(await TestFiles.ContentEqualsAsync(server.PathOf("t/" + file), Path.Combine(dest, file), token), $"{file} was not restored\n{get}");
        }

        // (b) That directory is one failed item, named, with one line on stderr; exit 7.
        Assert.True(get.ExitCode == 7, get.ToString());
        var shown = Path.Join(dest, unowned);
        var remote = unowned.Length == 0 ? "t" : "t/" + unowned;
        var failed = Assert.Single(JsonOutput.Items(get), item => JsonOutput.Text(item, "status") == "failed");
        Assert.Equal(shown, JsonOutput.Text(failed, "local"));
        Assert.Equal(remote, JsonOutput.Text(failed, "remote"));
        Assert.Equal($"cannot set the time and permission bits of directory '{shown}': not permitted", JsonOutput.Text(failed, "error"));
        Assert.Equal([$"filexfer: {remote}: cannot set the time and permission bits of directory '{shown}': not permitted"], get.StderrLines);
        var summary = JsonOutput.Summary(get);
        Assert.Equal(Files.Length, summary.GetProperty("transferred").GetInt32());
        Assert.Equal(1, summary.GetProperty("failed").GetInt32());

        // (c) Every other directory has its time; that one is as it was.
        foreach (var (directory, time) in Times)
        {
            var local = Path.Join(dest, directory);
            if (directory == unowned)
            {
                Assert.NotEqual(time, Directory.GetLastWriteTimeUtc(local));
                Assert.Equal((UnixFileMode)0x1FF, File.GetUnixFileMode(local));
            }
            else
            {
                Assert.True(time == Directory.GetLastWriteTimeUtc(local), $"{directory}: {Directory.GetLastWriteTimeUtc(local):O}\n{get}");
            }
        }
    }

    [Fact(Timeout = 120000)]
    [UnsupportedOSPlatform("windows")]
    public async Task A_file_whose_time_it_may_not_set_is_saved_and_reported_once()
    {
        FileOwners.SkipUnlessRunnableAsAnotherUser("client");
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        string[] files = ["a.txt", "other/o.txt", "big/large.bin"];
        await StoreAsync(server, files[..2], token);
        var otherTime = new DateTime(2003, 3, 3, 3, 3, 3, DateTimeKind.Utc);
        Directory.SetLastWriteTimeUtc(server.PathOf("t/other"), otherTime);
        using var temp = new TempDirectory();
        var (dest, part) = await StoreLargeWithForeignPartAsync(server, temp, token);

        var get = await ClientProcess.RunAsUserAsync(Nobody, temp.Path, server.Address, ["get", "-r", "--json", "t", dest], token);

        // (a) Every file restored, the large one too: its data was verified.
        foreach (var file in files)
        {
            Assert.True(await TestFiles.ContentEqualsAsync(server.PathOf("t/" + file), Path.Combine(dest, file), token), $"{file} was not restored\n{get}");
        }

        // (b) It is one failed item, saying it is saved; exit 7.
        Assert.True(get.ExitCode == 7, get.ToString());
        var shown = Path.Combine(dest, "big", "large.bin");
        var failed = Assert.Single(JsonOutput.Items(get), item => JsonOutput.Text(item, "status") == "failed");
        Assert.Equal(shown, JsonOutput.Text(failed, "local"));
        Assert.Equal("t/big/large.bin", JsonOutput.Text(failed, "remote"));
        Assert.StartsWith($"'{shown}' is saved, but its time and permission bits could not be set: ", JsonOutput.Text(failed, "error"), StringComparison.Ordinal);
        Assert.Single(get.StderrLines);
        var summary = JsonOutput.Summary(get);
        Assert.Equal(files.Length - 1, summary.GetProperty("transferred").GetInt32());
        Assert.Equal(1, summary.GetProperty("failed").GetInt32());
        Assert.False(File.Exists(part), "the temp file was renamed into place");

        // (c) A directory with no failure below it has its time (those above the file are left for the next run, as after any failed file).
        Assert.Equal(otherTime, Directory.GetLastWriteTimeUtc(Path.Combine(dest, "other")));
    }

    [Fact(Timeout = 120000)]
    [UnsupportedOSPlatform("windows")]
    public async Task A_single_get_of_a_file_whose_time_it_may_not_set_saves_it_and_fails()
    {
        FileOwners.SkipUnlessRunnableAsAnotherUser("client");
        using var temp = new TempDirectory();
        await using var server = new TestServer();
        var token = TestContext.Current.CancellationToken;
        var (dest, part) = await StoreLargeWithForeignPartAsync(server, temp, token);
        var shown = Path.Combine(dest, "big", "large.bin");

        var get = await ClientProcess.RunAsUserAsync(Nobody, temp.Path, server.Address, ["get", "t/big/large.bin", shown], token);

        Assert.True(await TestFiles.ContentEqualsAsync(server.PathOf("t/big/large.bin"), shown, token), get.ToString());
        Assert.False(File.Exists(part), "the temp file was renamed into place");
        Assert.True(get.ExitCode == 1, get.ToString());
        Assert.StartsWith($"filexfer: '{shown}' is saved, but its time and permission bits could not be set: ", Assert.Single(get.StderrLines), StringComparison.Ordinal);
    }

    /// <summary>
    /// Stores <c>t/big/large.bin</c>, large enough to be received resumably, and makes <c>dest</c> in <paramref name="temp"/>:
    /// nobody's, but for the resumable get's temp file of that file, root's and writable by all (as an earlier restore run
    /// by root could leave it), holding a true prefix. The client can write into it and rename it, but not set its time nor
    /// its mode. Returns the destination and that temp file.
    /// </summary>
    [UnsupportedOSPlatform("windows")]
    private static async Task<(string Dest, string Part)> StoreLargeWithForeignPartAsync(TestServer server, TempDirectory temp, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(server.PathOf("t/big"));
        await TestFiles.WriteRandomAsync(server.PathOf("t/big/large.bin"), TreeTransfer.ResumableSize + 1, seed: 31, cancellationToken);
        File.SetUnixFileMode(temp.Path, (UnixFileMode)0x1ED);
        var dest = temp.CreateDirectory("dest");
        var big = temp.CreateDirectory("dest", "big");
        var part = Path.Combine(big, LocalDownload.TempFileName("large.bin", random: false));
        await File.WriteAllBytesAsync(part, (await File.ReadAllBytesAsync(server.PathOf("t/big/large.bin"), cancellationToken))[..4096], cancellationToken);
        File.SetUnixFileMode(part, (UnixFileMode)0x1B6);
        await FileOwners.ChownAsync(big, Nobody, cancellationToken);
        await FileOwners.ChownAsync(dest, Nobody, cancellationToken);
        return (dest, part);
    }

    /// <summary>Stores small files under <c>t/</c> on the server, each holding its own name.</summary>
    private static async Task StoreAsync(TestServer server, IEnumerable<string> files, CancellationToken cancellationToken)
    {
        foreach (var file in files)
        {
            var stored = server.PathOf("t/" + file);
            Directory.CreateDirectory(Path.GetDirectoryName(stored)!);
            await File.WriteAllTextAsync(stored, $"{file}\n", cancellationToken);
        }
    }
}
