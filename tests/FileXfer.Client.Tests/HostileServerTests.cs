using System.Security.Cryptography;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;

namespace FileXfer.Client.Tests;

/// <summary>The client against a fake server that lies: the client must notice, and must not damage local files.</summary>
public class HostileServerTests
{
    private static readonly byte[] Body = TestFiles.RandomBytes(100_000, seed: 3);

    [Fact(Timeout = 60000)]
    public async Task A_body_that_does_not_match_its_hash_is_an_integrity_mismatch()
    {
        var token = TestContext.Current.CancellationToken;
        await using var hostile = new HostileServer(HostileServer.SendBody(Body, WrongHash()));
        await using var client = await ConnectAsync(hostile);

        using var received = new MemoryStream();
        var error = await Assert.ThrowsAsync<FileXferException>(() => client.GetAsync("file", received, null, token));

        Assert.Equal(ErrorCode.IntegrityMismatch, error.Code);
        Assert.False(error.IsRemote);
    }

    [Fact(Timeout = 60000)]
    public async Task A_download_with_a_wrong_hash_leaves_the_existing_file_untouched_and_no_temp_file()
    {
        var token = TestContext.Current.CancellationToken;
        await using var hostile = new HostileServer(HostileServer.SendBody(Body, WrongHash()));
        using var local = new TempDirectory();
        var target = local.Combine("precious.txt");
        await File.WriteAllTextAsync(target, "keep me", token);
        var before = File.GetLastWriteTimeUtc(target);
        await using var client = await ConnectAsync(hostile);

        var error = await Assert.ThrowsAsync<FileXferException>(() => client.DownloadFileAsync("file", target, null, token));

        Assert.Equal(ErrorCode.IntegrityMismatch, error.Code);
        Assert.Equal("keep me", await File.ReadAllTextAsync(target, token));
        Assert.Equal(before, File.GetLastWriteTimeUtc(target));
        Assert.Equal(["precious.txt"], TestFiles.ListRelative(local.Path));
    }

    [Theory(Timeout = 60000)]
    [InlineData("../evil")]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("")]
    [InlineData("back\\slash")]
    [InlineData("bell\u0007")]
    public async Task A_listing_entry_with_an_unsafe_name_is_a_protocol_violation(string name)
    {
        var token = TestContext.Current.CancellationToken;
        await using var hostile = new HostileServer(async (connection, request, ct) =>
        {
            await connection.Writer.WriteAsync(Messages.Describe(MessageType.Entry, request.RequestId, new RemoteEntry("fine", EntryKind.File, 1, DateTimeOffset.UnixEpoch, null)), ct);
            await connection.Writer.WriteAsync(Messages.Describe(MessageType.Entry, request.RequestId, new RemoteEntry(name, EntryKind.File, 1, DateTimeOffset.UnixEpoch, null)), ct);
            await connection.Writer.WriteAsync(Messages.EndOfList(request.RequestId, 2), ct);
        });
        await using var client = await ConnectAsync(hostile);

        await Assert.ThrowsAsync<ProtocolViolationException>(() => client.ListAsync("/", token));
        // The connection cannot be trusted after a violation.
        await Assert.ThrowsAsync<ConnectionLostException>(() => client.StatAsync("x", token));
    }

    [Fact(Timeout = 60000)]
    public async Task A_server_closing_in_the_middle_of_a_body_is_a_lost_connection_and_leaves_no_temp_file()
    {
        var token = TestContext.Current.CancellationToken;
        await using var hostile = new HostileServer(async (connection, request, ct) =>
        {
            await connection.Writer.WriteAsync(Messages.Data(request.RequestId, Body.Length, request.GetString(FieldTag.HashAlgorithm), DateTimeOffset.UnixEpoch, null), ct);
            await connection.Stream.WriteAsync(Body.AsMemory(0, Body.Length / 2), ct);
            await connection.Stream.FlushAsync(ct);
            connection.Close();
        });
        using var local = new TempDirectory();
        var target = local.Combine("partial.bin");
        await File.WriteAllTextAsync(target, "old", token);
        await using var client = await ConnectAsync(hostile);

        await Assert.ThrowsAsync<ConnectionLostException>(() => client.DownloadFileAsync("file", target, null, token));

        Assert.Equal("old", await File.ReadAllTextAsync(target, token));
        Assert.Equal(["partial.bin"], TestFiles.ListRelative(local.Path));
    }

    [Fact(Timeout = 60000)]
    public async Task A_server_closing_in_the_middle_of_a_body_written_to_a_stream_is_a_lost_connection()
    {
        var token = TestContext.Current.CancellationToken;
        await using var hostile = new HostileServer(async (connection, request, ct) =>
        {
            await connection.Writer.WriteAsync(Messages.Data(request.RequestId, Body.Length, request.GetString(FieldTag.HashAlgorithm), DateTimeOffset.UnixEpoch, null), ct);
            await connection.Stream.WriteAsync(Body.AsMemory(0, 10), ct);
            connection.Close();
        });
        await using var client = await ConnectAsync(hostile);

        using var received = new MemoryStream();
        await Assert.ThrowsAsync<ConnectionLostException>(() => client.GetAsync("file", received, null, token));
    }

    [Fact(Timeout = 60000)]
    public async Task A_put_answered_with_a_different_stored_hash_is_an_integrity_mismatch()
    {
        var token = TestContext.Current.CancellationToken;
        await using var hostile = new HostileServer(async (connection, request, ct) =>
        {
            var algorithm = request.GetString(FieldTag.HashAlgorithm);
            long size = request.GetSize(FieldTag.Size);
            await connection.Writer.WriteAsync(Messages.Ready(request.RequestId, 0), ct);
            await connection.Reader.DiscardBodyAsync(size, ct);
            await connection.Reader.ReadRequiredFrameAsync(ct);
            await connection.Writer.WriteAsync(Messages.HashOk(request.RequestId, request.GetString(FieldTag.Path), size, algorithm, WrongHash()), ct);
        });
        await using var client = await ConnectAsync(hostile);

        using var source = new MemoryStream(Body);
        var error = await Assert.ThrowsAsync<FileXferException>(() => client.PutAsync(source, Body.Length, "x", null, null, null, token));

        Assert.Equal(ErrorCode.IntegrityMismatch, error.Code);
    }

    internal static byte[] WrongHash()
    {
        var hash = SHA256.HashData(Body);
        hash[0] ^= 0xFF;
        return hash;
    }

    private static Task<FileXferClient> ConnectAsync(HostileServer hostile) =>
        FileXferClient.ConnectAsync(hostile.EndPoint, options: null, TestContext.Current.CancellationToken);
}
