using System.Security.Cryptography;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Protocol.Transfer;

namespace FileXfer.Protocol.Tests;

/// <summary>The write side of a connection: the magic, frames, and bodies with their trailing hash.</summary>
public class FrameWriterTests
{
    [Fact(Timeout = 10000)]
    public async Task Writes_the_magic_and_frames_as_golden_bytes()
    {
        using var wire = new MemoryStream();
        var writer = new FrameWriter(wire);
        var token = TestContext.Current.CancellationToken;

        await writer.WriteMagicAsync(token);
        await writer.WriteAsync(GoldenFrames.Build()["Hello"].Frame, token);
        await writer.WriteAsync(GoldenFrames.Build()["Get"].Frame, token);
        await writer.FlushAsync(token);

        Assert.Equal([.. "FXFR"u8, .. GoldenFrames.Hello, .. GoldenFrames.Get], wire.ToArray());
    }

    [Fact(Timeout = 10000)]
    public async Task Writes_a_body_then_BodyEnd_with_its_hash()
    {
        using var wire = new MemoryStream();
        var writer = new FrameWriter(wire);
        using var source = new MemoryStream("abc!!!"u8.ToArray());
        using var hasher = HashAlgorithms.Create(HashAlgorithms.Sha256);
        long progressed = 0;

        var hash = await writer.WriteBodyAsync(source, 3, hasher, 7, n => progressed += n, TestContext.Current.CancellationToken);
        await writer.FlushAsync(TestContext.Current.CancellationToken);

        Assert.Equal(GoldenFrames.AbcSha256, hash);
        Assert.Equal([.. "abc"u8, .. GoldenFrames.BodyEnd], wire.ToArray());
        Assert.Equal(3, progressed);
        Assert.Equal(3, source.Position);
    }

    [Fact(Timeout = 10000)]
    public async Task A_source_that_shrank_fails_the_body_with_EndOfStream()
    {
        using var wire = new MemoryStream();
        var writer = new FrameWriter(wire);
        using var hasher = HashAlgorithms.Create(HashAlgorithms.Sha256);

        await Assert.ThrowsAsync<EndOfStreamException>(
            () => writer.WriteBodyAsync(new MemoryStream(new byte[10]), 11, hasher, 1, progress: null, TestContext.Current.CancellationToken));

        // No BodyEnd was written after the short body.
        await writer.FlushAsync(TestContext.Current.CancellationToken);
        Assert.Equal(10, wire.Length);
    }

    [Fact(Timeout = 10000)]
    public async Task What_the_writer_writes_the_reader_reads()
    {
        var body = ProtocolReaderTests.RandomBytes(150_000, seed: 9);
        using var wire = new MemoryStream();
        var writer = new FrameWriter(wire);
        var token = TestContext.Current.CancellationToken;
        using var sendHasher = HashAlgorithms.Create(HashAlgorithms.XxHash128);

        await writer.WriteMagicAsync(token);
        await writer.WriteAsync(Messages.Put(5, "big.bin", body.Length, HashAlgorithms.XxHash128, null, null), token);
        var sent = await writer.WriteBodyAsync(new MemoryStream(body), body.Length, sendHasher, 5, progress: null, token);
        await writer.FlushAsync(token);

        using var reader = new ProtocolReader(new TrickleStream(wire.ToArray(), 1500));
        using var receiveHasher = HashAlgorithms.Create(HashAlgorithms.XxHash128);
        using var received = new MemoryStream();
        await reader.ReadMagicAsync(token);
        var put = await reader.ReadRequiredFrameAsync(token);
        await reader.CopyBodyToAsync(received, put.GetSize(FieldTag.Size), receiveHasher, progress: null, token);
        var bodyEnd = await reader.ReadRequiredFrameAsync(token);

        Assert.Equal(body, received.ToArray());
        Assert.Equal(sent, receiveHasher.GetHashAndReset());
        Assert.Equal(sent, bodyEnd.GetBytes(FieldTag.HashValue));
        Assert.Equal(HashAlgorithms.XxHash128, bodyEnd.GetString(FieldTag.HashAlgorithm));
        Assert.Equal(5u, bodyEnd.RequestId);
        Assert.Equal(SHA256.HashData(body), SHA256.HashData(received.ToArray()));
    }

    [Fact(Timeout = 10000)]
    public async Task Small_frames_are_gathered_until_flushed_and_large_bodies_go_straight_through()
    {
        var token = TestContext.Current.CancellationToken;
        var wire = new CountingStream();
        using var writer = new FrameWriter(wire);
        for (uint id = 1; id <= 100; id++)
        {
            await writer.WriteAsync(Messages.PathRequest(MessageType.Stat, id, "a"), token);
        }

        Assert.Equal(0, wire.Writes);
        Assert.True(writer.HasPendingBytes);
        await writer.FlushAsync(token);
        Assert.Equal(1, wire.Writes);

        using var hasher = HashAlgorithms.Create(HashAlgorithms.Sha256);
        await writer.WriteBodyAsync(new MemoryStream(new byte[5 * 1024 * 1024]), 5 * 1024 * 1024, hasher, 9, progress: null, token);
        await writer.FlushAsync(token);
        Assert.InRange(wire.Writes, 2, 10);
        Assert.Equal((100 * FrameCodec.GetEncodedLength(Messages.PathRequest(MessageType.Stat, 1, "a"))) + (5 * 1024 * 1024) + FrameCodec.GetEncodedLength(Messages.BodyEnd(9, "sha256", new byte[32])), wire.Length);
    }

    [Fact(Timeout = 10000)]
    public async Task Auto_flush_sends_every_frame_at_once()
    {
        var token = TestContext.Current.CancellationToken;
        var wire = new CountingStream();
        using var writer = new FrameWriter(wire) { AutoFlush = true };
        await writer.WriteAsync(Messages.PathRequest(MessageType.Stat, 1, "a"), token);
        await writer.WriteAsync(Messages.PathRequest(MessageType.Stat, 2, "a"), token);
        Assert.Equal(2, wire.Writes);
        Assert.False(writer.HasPendingBytes);
    }

    [Fact]
    public void A_null_stream_is_refused()
    {
        Assert.Throws<ArgumentNullException>(() => new FrameWriter(null!));
    }
}
