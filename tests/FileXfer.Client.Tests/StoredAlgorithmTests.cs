using System.Security.Cryptography;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;

namespace FileXfer.Client.Tests;

/// <summary>
/// A put's answer names the algorithm of the hash it reports; the right bytes under another algorithm's name are not
/// a proof of what was stored, for a single put and for every file of a batch alike.
/// </summary>
public class StoredAlgorithmTests
{
    private static readonly byte[] Body = "the bytes that were sent\n"u8.ToArray();

    [Fact(Timeout = 60000)]
    public async Task A_single_put_answered_under_another_algorithm_name_is_an_integrity_mismatch()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new HostileServer(AnswerUnderAnotherName, Capabilities.Pipelining | Capabilities.ChunkedBody);
        using var local = new TempDirectory();
        var source = local.Combine("a.txt");
        await File.WriteAllBytesAsync(source, Body, token);
        await using var client = await FileXferClient.ConnectAsync(server.EndPoint, options: null, token);

        var error = await Assert.ThrowsAsync<FileXferException>(() => client.UploadFileAsync(source, "a.txt", null, token));

        Assert.Equal(ErrorCode.IntegrityMismatch, error.Code);
    }

    [Fact(Timeout = 60000)]
    public async Task A_batch_put_answered_under_another_algorithm_name_fails_each_item_as_an_integrity_mismatch()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new HostileServer(AnswerUnderAnotherName, Capabilities.Pipelining | Capabilities.ChunkedBody);
        using var local = new TempDirectory();
        var sources = new[] { local.Combine("a.txt"), local.Combine("b.txt") };
        foreach (var source in sources)
        {
            await File.WriteAllBytesAsync(source, Body, token);
        }

        await using var client = await FileXferClient.ConnectAsync(server.EndPoint, options: null, token);
        var results = new List<BatchItemResult>();

        await client.PutBatchAsync(
            sources.Select(s => new TransferItem(s, Path.GetFileName(s))).ToAsyncEnumerable(),
            result =>
            {
                results.Add(result);
                return ValueTask.CompletedTask;
            },
            progress: null,
            token);

        Assert.Equal(2, results.Count);
        Assert.All(results, result =>
        {
            Assert.False(result.Succeeded);
            Assert.Null(result.Hash);
            Assert.Equal(ErrorCode.IntegrityMismatch, Assert.IsType<FileXferException>(result.Error).Code);
        });
    }

    /// <summary>
    /// Reads a put's body (fixed or chunked) and answers with the true SHA-256 of it, named as another algorithm.
    /// </summary>
    private static async Task AnswerUnderAnotherName(HostileConnection connection, Frame put, CancellationToken cancellationToken)
    {
        Assert.Equal(MessageType.Put, put.Type);
        var flags = (PutFlags)(put.GetUInt64OrNull(FieldTag.Flags) ?? 0);
        Assert.Equal(HashAlgorithms.Sha256, put.GetString(FieldTag.HashAlgorithm));
        if (!flags.HasFlag(PutFlags.NoWait))
        {
            await connection.Writer.WriteAsync(Messages.Ready(put.RequestId, 0), cancellationToken);
        }

        using var hasher = HashAlgorithms.Create(HashAlgorithms.Sha256);
        long size;
        if (flags.HasFlag(PutFlags.Chunked))
        {
            size = (await connection.Reader.CopyChunkedBodyToAsync(Stream.Null, ProtocolLimits.MaxBodySize, hasher, null, cancellationToken)).Length;
        }
        else
        {
            size = put.GetSize(FieldTag.Size);
            await connection.Reader.CopyBodyToAsync(Stream.Null, size, hasher, null, cancellationToken);
        }

        Assert.Equal(MessageType.BodyEnd, (await connection.Reader.ReadRequiredFrameAsync(cancellationToken)).Type);
        var hash = hasher.GetCurrentHash();
        Assert.Equal(SHA256.HashData(Body), hash);
        await connection.Writer.WriteAsync(Messages.HashOk(put.RequestId, put.GetString(FieldTag.Path), size, HashAlgorithms.XxHash128, hash), cancellationToken);
    }
}
