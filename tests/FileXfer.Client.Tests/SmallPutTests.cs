using System.Security.Cryptography;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;

namespace FileXfer.Client.Tests;

/// <summary>
/// Which Put a single file goes as: a small one follows its Put at once (NoWait, one round trip less), a larger one
/// waits for Ready to learn where to resume.
/// </summary>
public class SmallPutTests
{
    [Theory(Timeout = 60000)]
    [InlineData(0, PutFlags.NoWait)]
    [InlineData(4096, PutFlags.NoWait)]
    [InlineData(FileXferClient.UnresumedPutLimit, PutFlags.NoWait)]
    [InlineData(FileXferClient.UnresumedPutLimit + 1, PutFlags.Resume)]
    public async Task A_file_up_to_the_limit_is_sent_without_waiting_and_a_larger_one_is_resumable(long size, PutFlags expected)
    {
        var token = TestContext.Current.CancellationToken;
        var flags = new List<PutFlags>();
        await using var server = new HostileServer(async (connection, put, ct) =>
        {
            var sent = (PutFlags)(put.GetUInt64OrNull(FieldTag.Flags) ?? 0);
            flags.Add(sent);
            if (!sent.HasFlag(PutFlags.NoWait))
            {
                await connection.Writer.WriteAsync(Messages.Ready(put.RequestId, 0), ct);
                Assert.Equal(MessageType.ResumeFrom, (await connection.Reader.ReadRequiredFrameAsync(ct)).Type);
            }

            // An honest store: hash what arrived and answer with it.
            var algorithm = put.GetString(FieldTag.HashAlgorithm);
            using var hasher = HashAlgorithms.Create(algorithm);
            await connection.Reader.CopyBodyToAsync(Stream.Null, put.GetSize(FieldTag.Size), hasher, null, ct);
            var end = await connection.Reader.ReadRequiredFrameAsync(ct);
            Assert.Equal(MessageType.BodyEnd, end.Type);
            await connection.Writer.WriteAsync(Messages.HashOk(put.RequestId, put.GetString(FieldTag.Path), put.GetSize(FieldTag.Size), algorithm, hasher.GetCurrentHash()), ct);
        }, Capabilities.Pipelining | Capabilities.Resume);
        using var local = new TempDirectory();
        var source = local.Combine("small.bin");
        await File.WriteAllBytesAsync(source, TestFiles.RandomBytes((int)size, seed: 7), token);
        await using var client = await FileXferClient.ConnectAsync(server.EndPoint, options: null, token);

        var result = await client.UploadFileAsync(source, "small.bin", null, token);

        Assert.Equal(expected, Assert.Single(flags));
        Assert.Equal(size, result.Size);
        Assert.Equal(SHA256.HashData(await File.ReadAllBytesAsync(source, token)), result.Hash);
    }

    [Fact(Timeout = 60000)]
    public async Task A_small_file_waits_for_Ready_when_the_server_does_not_pipeline()
    {
        var token = TestContext.Current.CancellationToken;
        var flags = new List<PutFlags>();
        await using var server = new HostileServer(async (connection, put, ct) =>
        {
            flags.Add((PutFlags)(put.GetUInt64OrNull(FieldTag.Flags) ?? 0));
            await connection.Writer.WriteAsync(Messages.Ready(put.RequestId, 0), ct);
            var algorithm = put.GetString(FieldTag.HashAlgorithm);
            using var hasher = HashAlgorithms.Create(algorithm);
            await connection.Reader.CopyBodyToAsync(Stream.Null, put.GetSize(FieldTag.Size), hasher, null, ct);
            await connection.Reader.ReadRequiredFrameAsync(ct);
            await connection.Writer.WriteAsync(Messages.HashOk(put.RequestId, put.GetString(FieldTag.Path), put.GetSize(FieldTag.Size), algorithm, hasher.GetCurrentHash()), ct);
        });
        using var local = new TempDirectory();
        var source = local.Combine("small.bin");
        await File.WriteAllBytesAsync(source, TestFiles.RandomBytes(4096, seed: 8), token);
        await using var client = await FileXferClient.ConnectAsync(server.EndPoint, options: null, token);

        await client.UploadFileAsync(source, "small.bin", null, token);

        Assert.Equal(PutFlags.None, Assert.Single(flags));
    }
}
