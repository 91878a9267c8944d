using System.Security.Cryptography;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;

namespace FileXfer.Server.Tests.Hosting;

/// <summary>Connections are served side by side, and one going wrong leaves the others alone.</summary>
public sealed class ConcurrencyTests
{
    [Fact(Timeout = 30000)]
    public async Task Sixteen_clients_putting_distinct_files_at_once_all_succeed()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        var contents = Enumerable.Range(0, 16).Select(_ => RandomNumberGenerator.GetBytes(256 * 1024)).ToArray();
        var start = new StartLine(16);

        var answers = await Task.WhenAll(contents.Select(async (content, i) =>
        {
            await using var client = await server.ConnectReadyAsync(token);
            await start.ArriveAndWaitAsync(token);
            return await client.PutAsync((uint)i + 1, $"clients/{i}.bin", content, token);
        }));

        for (int i = 0; i < contents.Length; i++)
        {
            FrameAssert.Is(answers[i], MessageType.Ok, (uint)i + 1);
            Assert.Equal(SHA256.HashData(contents[i]), answers[i].GetBytesOrNull(FieldTag.HashValue));
            Assert.Equal(contents[i], await File.ReadAllBytesAsync(server.PathOf($"clients/{i}.bin"), token));
        }

        Assert.Empty(server.TempFiles());
    }

    [Fact(Timeout = 30000)]
    public async Task A_connection_sending_garbage_does_not_disturb_a_transfer_in_progress()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        var content = RandomNumberGenerator.GetBytes(512 * 1024);
        await using var good = await server.ConnectReadyAsync(token);
        FrameAssert.Is(await good.StartPutAsync(1, "good.bin", content.Length, token), MessageType.Ready, 1);
        await good.SendRawAsync(content.AsMemory(0, content.Length / 2), token);

        await using (var bad = await server.ConnectReadyAsync(token))
        {
            // A plausible length, then text where the type and flags should be.
            byte[] garbage = [0, 0, 0, 11, .. "garbage garbage garbage"u8];
            await bad.SendRawAsync(garbage, token);
            using var deadline = Deadline.After(TimeSpan.FromSeconds(10));
            FrameAssert.IsError(Assert.Single(await bad.ReadUntilClosedAsync(deadline.Token)), ErrorCode.ProtocolViolation, 0);
        }

        await using (var rude = await server.ConnectAsync(token))
        {
            await rude.SendRawAsync(RandomNumberGenerator.GetBytes(1000), token);
            rude.Abort();
        }

        await good.SendRawAsync(content.AsMemory(content.Length / 2), token);
        await good.SendAsync(Messages.BodyEnd(1, HashAlgorithms.Sha256, SHA256.HashData(content)), token);

        FrameAssert.Is(await good.ReadAsync(token), MessageType.Ok, 1);
        Assert.Equal(content, await File.ReadAllBytesAsync(server.PathOf("good.bin"), token));
        await good.SendAsync(Messages.PathRequest(MessageType.Stat, 2, "good.bin"), token);
        FrameAssert.Is(await good.ReadAsync(token), MessageType.Ok, 2);
    }
}
