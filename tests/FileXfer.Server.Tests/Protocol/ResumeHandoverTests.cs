using System.Security.Cryptography;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;

namespace FileXfer.Server.Tests.Protocol;

/// <summary>
/// A retry of a resumable put whose first connection the server has not noticed is dead yet: the new connection takes
/// the partial over, and the old one's upload is abandoned at once.
/// </summary>
public sealed class ResumeHandoverTests
{
    [Fact(Timeout = 30000)]
    public async Task A_retry_takes_over_the_partial_of_a_connection_left_open_and_resumes_from_what_it_holds()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        var content = RandomNumberGenerator.GetBytes(2 * 1024 * 1024);
        int half = content.Length / 2;
        byte[] key = [1, 2, 3, 4];

        // The first try sends half its body, then nothing more and never closes: its machine or network is gone.
        await using var first = await server.ConnectReadyAsync(token);
        await first.SendAsync(Messages.Put(1, "big.bin", content.Length, HashAlgorithms.Sha256, null, null, PutFlags.Resume, key), token);
        Assert.Equal(0, (await first.ReadAsync(MessageType.Ready, token)).GetSizeOrNull(FieldTag.Offset) ?? 0);
        await first.SendAsync(Messages.ResumeFrom(1, 0), token);
        await first.SendRawAsync(content.AsMemory(0, half), token);
        await DirectoryWatch.UntilAsync(server.StagingDirectory, () => HeldBytes(server) == half, TimeSpan.FromSeconds(10), "the partial holds the first half", token);

        // The retry, on a new connection, with the same key.
        await using var second = await server.ConnectReadyAsync(token);
        await second.SendAsync(Messages.Put(1, "big.bin", content.Length, HashAlgorithms.Sha256, null, null, PutFlags.Resume, key), token);
        var ready = await second.ReadAsync(MessageType.Ready, token);
        Assert.Equal(half, ready.GetSizeOrNull(FieldTag.Offset));
        Assert.Equal(SHA256.HashData(content.AsSpan(0, half)), ready.GetBytes(FieldTag.HashValue));
        await second.SendAsync(Messages.ResumeFrom(1, half), token);
        await second.SendRawAsync(content.AsMemory(half), token);
        await second.SendAsync(Messages.BodyEnd(1, HashAlgorithms.Sha256, SHA256.HashData(content)), token);
        var ok = await second.ReadAsync(MessageType.Ok, token);

        Assert.Equal(SHA256.HashData(content), ok.GetBytes(FieldTag.HashValue));
        Assert.Equal(content, await File.ReadAllBytesAsync(server.PathOf("big.bin"), token));
        Assert.Empty(server.TempFiles());
        // The first connection's upload was abandoned, and the connection closed.
        Assert.Empty(await first.ReadUntilClosedAsync(token));
        await server.Log.WaitForAsync(m => m.Contains("taken over by a newer connection", StringComparison.Ordinal), TimeSpan.FromSeconds(10), token);
    }

    private static long HeldBytes(TestServer server) =>
        Directory.GetFiles(server.StagingDirectory, "*.resume") is [var partial] ? new FileInfo(partial).Length : -1;
}
