using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Protocol.Transfer;

namespace FileXfer.Protocol.Tests;

/// <summary>The worked Put example of docs/PROTOCOL.md, byte for byte, written and read by the real code.</summary>
public class WorkedExampleTests
{
    // The two directions of the example, copied from the hex dumps in docs/PROTOCOL.md.
    private const string ClientToServer =
        "46584652" +
        "0000003a0100000000000b000800000000000000010c000800000000000000000d000466782f310e00147368613235362c7878683132382c626c616b6533" +
        "00000022100000000001010005612e7478740200080000000000000003040006736861323536" +
        "616263" +
        "00000032300000000001040006736861323536050020ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    private const string ServerToClient =
        "46584652" +
        "000000460200000000000b000800000000000000010c000800000000000000000d00056678642f310e00147368613235362c7878683132382c626c616b65331100080000010000000000" +
        "000000112000000000010600080000000000000000" +
        "00000045210000000001010005612e7478740200080000000000000003040006736861323536050020ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    [Fact(Timeout = 10000)]
    public async Task The_client_side_writes_the_documented_bytes()
    {
        var token = TestContext.Current.CancellationToken;
        using var wire = new MemoryStream();
        var writer = new FrameWriter(wire);
        using var hasher = HashAlgorithms.Create(HashAlgorithms.Sha256);

        await writer.WriteMagicAsync(token);
        await writer.WriteAsync(Messages.Hello(ProtocolLimits.Version, Capabilities.None, "fx/1"), token);
        await writer.WriteAsync(Messages.Put(1, "a.txt", 3, HashAlgorithms.Sha256, null, null), token);
        await writer.WriteBodyAsync(new MemoryStream("abc"u8.ToArray()), 3, hasher, 1, progress: null, token);
        await writer.FlushAsync(token);

        Assert.Equal(ClientToServer, Convert.ToHexStringLower(wire.ToArray()));
        Assert.Equal(161, wire.Length);
    }

    [Fact(Timeout = 10000)]
    public async Task The_server_side_writes_the_documented_bytes()
    {
        var token = TestContext.Current.CancellationToken;
        using var wire = new MemoryStream();
        var writer = new FrameWriter(wire);

        await writer.WriteMagicAsync(token);
        await writer.WriteAsync(Messages.Welcome(Math.Min(1, ProtocolLimits.Version), Capabilities.None, "fxd/1", 1L << 40), token);
        await writer.WriteAsync(Messages.Ready(1, 0), token);
        await writer.WriteAsync(Messages.HashOk(1, "a.txt", 3, HashAlgorithms.Sha256, GoldenFrames.AbcSha256), token);
        await writer.FlushAsync(token);

        Assert.Equal(ServerToClient, Convert.ToHexStringLower(wire.ToArray()));
        Assert.Equal(172, wire.Length);
    }

    [Fact(Timeout = 10000)]
    public async Task The_server_reads_the_documented_client_bytes_one_byte_at_a_time()
    {
        var token = TestContext.Current.CancellationToken;
        using var reader = new ProtocolReader(new TrickleStream(Convert.FromHexString(ClientToServer)));
        using var hasher = HashAlgorithms.Create(HashAlgorithms.Sha256);
        using var stored = new MemoryStream();

        await reader.ReadMagicAsync(token);
        var hello = await reader.ReadRequiredFrameAsync(token);
        var put = await reader.ReadRequiredFrameAsync(token);
        await reader.CopyBodyToAsync(stored, put.GetSize(FieldTag.Size), hasher, progress: null, token);
        var bodyEnd = await reader.ReadRequiredFrameAsync(token);

        Assert.Equal(MessageType.Hello, hello.Type);
        Assert.Equal(1, hello.GetInt64OrNull(FieldTag.Version));
        Assert.Equal("a.txt", put.GetString(FieldTag.Path));
        Assert.Equal("abc"u8.ToArray(), stored.ToArray());
        Assert.Equal(bodyEnd.GetBytes(FieldTag.HashValue), hasher.GetHashAndReset());
        Assert.Null(await reader.ReadFrameAsync(token));
    }

    [Fact(Timeout = 10000)]
    public async Task The_client_reads_the_documented_server_bytes()
    {
        var token = TestContext.Current.CancellationToken;
        using var reader = new ProtocolReader(new TrickleStream(Convert.FromHexString(ServerToClient), 5));

        await reader.ReadMagicAsync(token);
        var welcome = await reader.ReadRequiredFrameAsync(token);
        var ready = await reader.ReadRequiredFrameAsync(token);
        var ok = await reader.ReadRequiredFrameAsync(token);

        Assert.Equal(1, welcome.GetInt64OrNull(FieldTag.Version));
        Assert.Equal(1L << 40, welcome.GetSize(FieldTag.MaxFileSize));
        Assert.Equal(0, ready.GetSize(FieldTag.Offset));
        Assert.Equal(1u, ok.RequestId);
        Assert.Equal(GoldenFrames.AbcSha256, ok.GetBytes(FieldTag.HashValue));
        Assert.Null(await reader.ReadFrameAsync(token));
    }
}
