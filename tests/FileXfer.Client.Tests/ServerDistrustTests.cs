using System.Security.Cryptography;
using FileXfer.Client.Local;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;

namespace FileXfer.Client.Tests;

/// <summary>
/// The client distrusts the server: names it sends are checked before use and escaped before they are printed,
/// declared counts and sizes are checked, frames out of order end the connection, and nothing is written outside
/// the destination the user gave, nor under a real name with content that failed its check.
/// </summary>
public class ServerDistrustTests
{
    private const Capabilities TreeCapabilities = Capabilities.Trees | Capabilities.Pipelining | Capabilities.ChunkedBody;
    private static readonly byte[] Body = "what the server sent\n"u8.ToArray();
    private static readonly DateTimeOffset Time = new(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static readonly TheoryData<string, string> UnsafeNamesPerCommand = Combine(
        ["ls", "get -r", "hash -r", "verify -r"],
        ["", ".", "..", "../up", "a\\b", "/abs", "C:", "nul\0byte", "esc\u001b[31mred"]);

    [Theory(Timeout = 60000)]
    [MemberData(nameof(UnsafeNamesPerCommand))]
    public async Task A_name_from_a_listing_that_is_unsafe_is_refused_by_every_command_that_lists(string command, string name)
    {
        var token = TestContext.Current.CancellationToken;
        using var sandbox = new TempDirectory();
        var local = sandbox.Combine("local");
        Directory.CreateDirectory(local);
        await File.WriteAllBytesAsync(Path.Combine(local, "ok.txt"), Body, token);
        await using var hostile = new HostileServer(ListingWith(name), TreeCapabilities);
        string[] args = command switch
        {
            "ls" => ["ls", "tree"],
            "get -r" => ["get", "-r", "tree", sandbox.Combine("restore")],
            "hash -r" => ["hash", "-r", "tree"],
            _ => ["verify", "-r", local, "tree"],
        };

        var run = await CliRunner.RunAsync(hostile.Address, ["--quiet", "--retries", "0", .. args], token);

        var line = CliAssert.OneErrorLine(run, 1);
        Assert.StartsWith("filexfer: protocol error:", line, StringComparison.Ordinal);
        AssertNoControlCharacters(run);
        Assert.DoesNotContain(TestFiles.ListRelative(sandbox.Path), p => p != "local/ok.txt" && p != "restore");
    }

    [Fact(Timeout = 60000)]
    public async Task Ls_shows_a_name_with_a_terminal_escape_escaped_never_raw()
    {
        var token = TestContext.Current.CancellationToken;
        await using var hostile = new HostileServer(ListingWith("esc\u001b[31mred"), TreeCapabilities);

        var run = await CliRunner.RunAsync(hostile.Address, ["--retries", "0", "ls", "tree"], token);

        var line = CliAssert.OneErrorLine(run, 1);
        Assert.Contains("esc\\u001b[31mred", line, StringComparison.Ordinal);
        AssertNoControlCharacters(run);
    }

    [Fact(Timeout = 60000)]
    public async Task An_error_message_from_the_server_is_printed_escaped()
    {
        var token = TestContext.Current.CancellationToken;
        await using var hostile = new HostileServer((connection, request, ct) =>
            connection.Writer.WriteAsync(Messages.Error(request.RequestId, ErrorCode.NotFound, "gone\u001b]0;owned\u0007\u001b[2J\nfilexfer: forged line"), ct).AsTask());

        var run = await CliRunner.RunAsync(hostile.Address, ["--retries", "0", "stat", "x"], token);

        var line = CliAssert.OneErrorLine(run, 5);
        Assert.Contains("\\u001b]0;owned\\u0007\\u001b[2J\\nfilexfer: forged line", line, StringComparison.Ordinal);
        AssertNoControlCharacters(run);
    }

    [Fact(Timeout = 60000)]
    public async Task Stat_shows_a_path_from_the_server_escaped()
    {
        var token = TestContext.Current.CancellationToken;
        await using var hostile = new HostileServer((connection, request, ct) =>
            connection.Writer.WriteAsync(Messages.Describe(MessageType.Ok, request.RequestId, new RemoteEntry("x\u001b[2Jy", EntryKind.File, 1, Time, 0x1A4)), ct).AsTask());

        var run = await CliRunner.RunAsync(hostile.Address, ["--retries", "0", "stat", "x"], token);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("x\\u001b[2Jy", run.Stdout, StringComparison.Ordinal);
        AssertNoControlCharacters(run);
    }

    [Fact(Timeout = 60000)]
    public async Task A_listing_over_the_entry_cap_is_refused()
    {
        var token = TestContext.Current.CancellationToken;
        await using var hostile = new HostileServer(async (connection, request, ct) =>
        {
            for (int i = 0; i < 4; i++)
            {
                await connection.Writer.WriteAsync(Messages.Describe(MessageType.Entry, request.RequestId, new RemoteEntry($"f{i}", EntryKind.File, 1, Time, null)), ct);
            }

            await connection.Writer.WriteAsync(Messages.EndOfList(request.RequestId, 4), ct);
        });
        await using var client = await FileXferClient.ConnectAsync(hostile.EndPoint, new FileXferClientOptions { MaxListEntries = 3 }, token);

        var error = await Assert.ThrowsAsync<ProtocolViolationException>(() => client.ListAsync("/", token));

        Assert.Contains("more than 3 entries", error.Message, StringComparison.Ordinal);
    }

    [Theory(Timeout = 60000)]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(3L)]
    [InlineData(ProtocolLimits.MaxBodySize)]
    public async Task A_listing_whose_count_does_not_match_its_entries_is_refused(long count)
    {
        var token = TestContext.Current.CancellationToken;
        await using var hostile = new HostileServer(async (connection, request, ct) =>
        {
            await connection.Writer.WriteAsync(Messages.Describe(MessageType.Entry, request.RequestId, new RemoteEntry("a", EntryKind.File, 1, Time, null)), ct);
            await connection.Writer.WriteAsync(Messages.Describe(MessageType.Entry, request.RequestId, new RemoteEntry("b", EntryKind.File, 1, Time, null)), ct);
            await connection.Writer.WriteAsync(Messages.EndOfList(request.RequestId, count), ct);
        });

        var run = await CliRunner.RunAsync(hostile.Address, ["--retries", "0", "ls"], token);

        Assert.Contains("count", CliAssert.OneErrorLine(run, 1), StringComparison.Ordinal);
        Assert.Empty(run.Stdout);
    }

    [Fact(Timeout = 60000)]
    public async Task A_download_with_a_wrong_hash_exits_4_and_leaves_no_file_under_its_name()
    {
        var token = TestContext.Current.CancellationToken;
        using var local = new TempDirectory();
        var wrong = SHA256.HashData(Body);
        wrong[^1] ^= 1;
        await using var hostile = new HostileServer(HostileServer.SendBody(Body, wrong));

        var run = await CliRunner.RunAsync(hostile.Address, ["--retries", "0", "get", "file.txt", local.Combine("out.txt")], token);

        CliAssert.OneErrorLine(run, 4);
        Assert.Empty(TestFiles.ListRelative(local.Path));
    }

    [Fact(Timeout = 60000)]
    public async Task A_body_longer_than_its_declared_size_is_a_protocol_error_and_nothing_is_kept()
    {
        var token = TestContext.Current.CancellationToken;
        using var local = new TempDirectory();
        await using var hostile = new HostileServer(async (connection, request, ct) =>
        {
            var algorithm = request.GetString(FieldTag.HashAlgorithm);
            await connection.Writer.WriteAsync(Messages.Data(request.RequestId, 4, algorithm, Time, 0x1A4), ct);
            await connection.Stream.WriteAsync(Body, ct);
            await connection.Writer.WriteAsync(Messages.BodyEnd(request.RequestId, algorithm, SHA256.HashData(Body.AsSpan(0, 4))), ct);
        });

        var run = await CliRunner.RunAsync(hostile.Address, ["--retries", "0", "get", "file.txt", local.Combine("out.txt")], token);

        Assert.StartsWith("filexfer: protocol error:", CliAssert.OneErrorLine(run, 1), StringComparison.Ordinal);
        Assert.Empty(TestFiles.ListRelative(local.Path));
    }

    [Fact(Timeout = 60000)]
    public async Task A_body_shorter_than_its_declared_size_is_never_a_short_file()
    {
        // The BodyEnd that follows too early is read as body bytes; the client then waits for the rest, and the
        // stall timeout ends it: a lost connection, not a file.
        var token = TestContext.Current.CancellationToken;
        using var local = new TempDirectory();
        await using var hostile = new HostileServer(async (connection, request, ct) =>
        {
            var algorithm = request.GetString(FieldTag.HashAlgorithm);
            await connection.Writer.WriteAsync(Messages.Data(request.RequestId, Body.Length + 100, algorithm, Time, 0x1A4), ct);
            await connection.Stream.WriteAsync(Body, ct);
            await connection.Writer.WriteAsync(Messages.BodyEnd(request.RequestId, algorithm, SHA256.HashData(Body)), ct);
        });

        var run = await CliRunner.RunAsync(hostile.Address, ["--retries", "0", "--timeout", "1", "get", "file.txt", local.Combine("out.txt")], token);

        CliAssert.OneErrorLine(run, 3);
        Assert.DoesNotContain("out.txt", TestFiles.ListRelative(local.Path));
    }

    [Theory(Timeout = 60000)]
    [InlineData(-1L)]
    [InlineData(ProtocolLimits.MaxBodySize + 1)]
    public async Task A_declared_size_that_is_negative_or_over_the_cap_is_refused_before_any_byte_is_written(long size)
    {
        var token = TestContext.Current.CancellationToken;
        using var local = new TempDirectory();
        await using var hostile = new HostileServer(async (connection, request, ct) =>
        {
            await connection.Writer.WriteAsync(new Frame(MessageType.Data, request.RequestId, Field.Integer(FieldTag.Size, size), Field.String(FieldTag.HashAlgorithm, request.GetString(FieldTag.HashAlgorithm)), Field.Integer(FieldTag.MTime, 0)), ct);
            await connection.Stream.WriteAsync(Body, ct);
        });

        var run = await CliRunner.RunAsync(hostile.Address, ["--retries", "0", "get", "file.txt", local.Combine("out.txt")], token);

        Assert.StartsWith("filexfer: protocol error:", CliAssert.OneErrorLine(run, 1), StringComparison.Ordinal);
        Assert.Empty(TestFiles.ListRelative(local.Path));
    }

    [Theory(Timeout = 60000)]
    [InlineData("ok-instead-of-data")]
    [InlineData("entry-instead-of-data")]
    [InlineData("another-request-id")]
    [InlineData("unknown-type")]
    [InlineData("second-welcome")]
    [InlineData("ready-to-a-get")]
    [InlineData("offset-not-offered")]
    [InlineData("other-algorithm")]
    public async Task A_frame_out_of_order_ends_the_download_and_nothing_is_written(string lie)
    {
        var token = TestContext.Current.CancellationToken;
        using var local = new TempDirectory();
        await using var hostile = new HostileServer(async (connection, request, ct) =>
        {
            var id = request.RequestId;
            var algorithm = request.GetString(FieldTag.HashAlgorithm);
            var frame = lie switch
            {
                "ok-instead-of-data" => Messages.HashOk(id, "file.txt", Body.Length, algorithm, SHA256.HashData(Body)),
                "entry-instead-of-data" => Messages.Describe(MessageType.Entry, id, new RemoteEntry("file.txt", EntryKind.File, Body.Length, Time, null)),
                "another-request-id" => Messages.Data(id + 1, Body.Length, algorithm, Time, 0x1A4),
                "unknown-type" => new Frame((MessageType)0x7E, id),
                "second-welcome" => Messages.Welcome(ProtocolLimits.Version, Capabilities.None, "again", 1 << 20),
                "ready-to-a-get" => Messages.Ready(id, 0),
                "offset-not-offered" => Messages.Data(id, Body.Length, algorithm, Time, 0x1A4, offset: 5),
                _ => Messages.Data(id, Body.Length, algorithm == "sha256" ? "xxh128" : "sha256", Time, 0x1A4),
            };
            await connection.Writer.WriteAsync(frame, ct);
            await connection.Stream.WriteAsync(Body, ct);
            await connection.Writer.WriteAsync(Messages.BodyEnd(id, algorithm, SHA256.HashData(Body)), ct);
        });

        var run = await CliRunner.RunAsync(hostile.Address, ["--retries", "0", "get", "file.txt", local.Combine("out.txt")], token);

        Assert.StartsWith("filexfer: protocol error:", CliAssert.OneErrorLine(run, 1), StringComparison.Ordinal);
        Assert.Empty(TestFiles.ListRelative(local.Path));
    }

    [Fact(Timeout = 60000)]
    public async Task A_link_planted_at_the_partial_download_name_is_not_followed()
    {
        // The partial of a resumable get has a fixed name beside the destination. Opening it through a link would
        // read a file outside as the "held" prefix, then truncate and overwrite it when the server starts over.
        var token = TestContext.Current.CancellationToken;
        using var local = new TempDirectory();
        using var outside = new TempDirectory("filexfer-outside");
        var victim = outside.Combine("victim.txt");
        await File.WriteAllTextAsync(victim, "must survive", token);
        var destination = local.Combine("out.txt");
        File.CreateSymbolicLink(Path.Combine(local.Path, LocalDownload.TempFileName("out.txt", random: false)), victim);
        await using var hostile = new HostileServer(HostileServer.SendBody(Body, SHA256.HashData(Body)), Capabilities.Resume);

        var run = await CliRunner.RunAsync(hostile.Address, ["--retries", "0", "get", "file.txt", destination], token);

        Assert.Contains("symbolic link", CliAssert.OneErrorLine(run, 1), StringComparison.Ordinal);
        Assert.Equal("must survive", await File.ReadAllTextAsync(victim, token));
        Assert.False(File.Exists(destination));
    }

    [Fact(Timeout = 60000)]
    public async Task A_single_file_get_writes_exactly_the_local_path_given()
    {
        var token = TestContext.Current.CancellationToken;
        using var local = new TempDirectory();
        Directory.CreateDirectory(local.Combine("into"));
        await using var hostile = new HostileServer(HostileServer.SendBody(Body, SHA256.HashData(Body)));

        var named = await CliRunner.RunAsync(hostile.Address, ["--quiet", "get", "deep/remote.txt", local.Combine("chosen.bin")], token);
        var into = await CliRunner.RunAsync(hostile.Address, ["--quiet", "get", "deep/remote.txt", local.Combine("into")], token);

        CliAssert.Success(named);
        CliAssert.Success(into);
        Assert.Equal(["chosen.bin", "into/remote.txt"], TestFiles.ListRelative(local.Path));
    }

    private static void AssertNoControlCharacters(CliResult run)
    {
        Assert.DoesNotContain(run.Stdout, c => char.IsControl(c) && c != '\n');
        Assert.DoesNotContain(run.Stderr, c => char.IsControl(c) && c != '\n');
    }

    /// <summary>Answers a List with one safe file and one entry named <paramref name="name"/>, and Stat with a directory.</summary>
    private static Func<HostileConnection, Frame, CancellationToken, Task> ListingWith(string name) =>
        async (connection, request, cancellationToken) =>
        {
            if (request.Type == MessageType.List)
            {
                bool recursive = ((ListFlags)(request.GetUInt64OrNull(FieldTag.Flags) ?? 0)).HasFlag(ListFlags.Recursive);
                var tag = recursive ? FieldTag.Path : FieldTag.Name;
                await connection.Writer.WriteAsync(Messages.Describe(MessageType.Entry, request.RequestId, new RemoteEntry("ok.txt", EntryKind.File, Body.Length, Time, 0x1A4), tag), cancellationToken);
                await connection.Writer.WriteAsync(Messages.Describe(MessageType.Entry, request.RequestId, new RemoteEntry(name, EntryKind.File, Body.Length, Time, 0x1A4), tag), cancellationToken);
                await connection.Writer.WriteAsync(Messages.EndOfList(request.RequestId, 2), cancellationToken);
            }
            else if (request.Type == MessageType.Stat)
            {
                await connection.Writer.WriteAsync(Messages.Describe(MessageType.Ok, request.RequestId, new RemoteEntry(request.GetString(FieldTag.Path), EntryKind.Directory, 0, Time, 0x1ED)), cancellationToken);
            }
            else
            {
                // A client that got this far used a name it should have refused.
                connection.Close();
            }
        };

    private static TheoryData<string, string> Combine(string[] commands, string[] names)
    {
        var data = new TheoryData<string, string>();
        foreach (var command in commands)
        {
            foreach (var name in names)
            {
                data.Add(command, name);
            }
        }

        return data;
    }
}
