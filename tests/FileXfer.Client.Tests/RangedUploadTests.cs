using System.Security.Cryptography;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Protocol.Net;
using FileXfer.Client.Local;
using Microsoft.Win32.SafeHandles;

namespace FileXfer.Client.Tests;

/// <summary>
/// The ranged put exchange through the client library against the real server: hostile ranges (out of bounds,
/// overlapping) refused with a clear error and the connection kept, Assemble refused while a range is missing, and a
/// whole-file hash that differs from the assembled bytes leaving nothing under the name.
/// </summary>
public class RangedUploadTests
{
    private const int Size = 1024 * 1024;

    [Fact(Timeout = 60000)]
    public async Task A_range_outside_the_file_is_refused_and_the_connection_stays_usable()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await LibraryTests.ConnectAsync(server, HashAlgorithms.Sha256);
        using var local = new TempDirectory();
        using var handle = await WriteAsync(local, token);

        var error = await Assert.ThrowsAsync<FileXferException>(() => client.PutRangeAsync(new FilePart(handle, new FileRange(Size - 10, 20)), "f.bin", Size, [1, 2, 3], progress: null, token));

        Assert.Equal(ErrorCode.BadRequest, error.Code);
        Assert.Contains("not a nonempty range within the file", error.Message, StringComparison.Ordinal);
        Assert.Equal(EntryKind.Directory, (await client.StatAsync("", token)).Kind);
    }

    [Fact(Timeout = 60000)]
    public async Task An_overlapping_range_is_refused_and_the_missing_bytes_keep_assemble_from_naming_the_file()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await LibraryTests.ConnectAsync(server, HashAlgorithms.Sha256);
        using var local = new TempDirectory();
        using var handle = await WriteAsync(local, token);
        byte[] id = [4, 5, 6];

        await client.PutRangeAsync(new FilePart(handle, new FileRange(0, Size / 2)), "f.bin", Size, id, progress: null, token);
        var overlap = await Assert.ThrowsAsync<FileXferException>(() => client.PutRangeAsync(new FilePart(handle, new FileRange(Size / 4, Size / 2)), "f.bin", Size, id, progress: null, token));
        var early = await Assert.ThrowsAsync<FileXferException>(() => client.AssembleAsync("f.bin", Size, id, SHA256.HashData(File.ReadAllBytes(local.Combine("f.bin"))), null, null, token));

        Assert.Equal(ErrorCode.BadRequest, overlap.Code);
        Assert.Contains("overlaps", overlap.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorCode.BadRequest, early.Code);
        Assert.Contains($"lacks its bytes from {Size / 2}", early.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(server.PathOf("f.bin")));
    }

    [Fact(Timeout = 60000)]
    public async Task A_whole_file_hash_that_differs_leaves_nothing_under_the_name()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await LibraryTests.ConnectAsync(server, HashAlgorithms.Sha256);
        using var local = new TempDirectory();
        using var handle = await WriteAsync(local, token);
        byte[] id = [7, 8, 9];
        foreach (var range in FileRange.Split(Size, 3))
        {
            await client.PutRangeAsync(new FilePart(handle, range), "f.bin", Size, id, progress: null, token);
        }

        var wrong = SHA256.HashData("not the file"u8);
        var error = await Assert.ThrowsAsync<FileXferException>(() => client.AssembleAsync("f.bin", Size, id, wrong, null, null, token));

        Assert.Equal(ErrorCode.IntegrityMismatch, error.Code);
        Assert.False(File.Exists(server.PathOf("f.bin")));
        Assert.Empty(server.TempFiles());

        // The ranges went with it: a new Assemble finds none.
        var again = await Assert.ThrowsAsync<FileXferException>(() => client.AssembleAsync("f.bin", Size, id, wrong, null, null, token));
        Assert.Contains("no ranges of this transfer", again.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task Ranges_sent_out_of_order_assemble_into_the_file_with_its_hash()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await LibraryTests.ConnectAsync(server, HashAlgorithms.Sha256);
        using var local = new TempDirectory();
        using var handle = await WriteAsync(local, token);
        byte[] id = [1];
        foreach (var range in FileRange.Split(Size, 4).Reverse())
        {
            await client.PutRangeAsync(new FilePart(handle, range), "d/f.bin", Size, id, progress: null, token);
        }

        // A range sent again is proven by its hash and not sent twice.
        long held = await client.PutRangeAsync(new FilePart(handle, FileRange.Split(Size, 4)[2]), "d/f.bin", Size, id, progress: null, token);
        await client.AssembleAsync("d/f.bin", Size, id, SHA256.HashData(File.ReadAllBytes(local.Combine("f.bin"))), null, null, token);

        Assert.Equal(Size / 4, held);
        Assert.Equal(File.ReadAllBytes(local.Combine("f.bin")), File.ReadAllBytes(server.PathOf("d/f.bin")));
        Assert.Empty(server.TempFiles());
    }

    [Fact(Timeout = 60000)]
    public async Task A_store_that_cannot_take_ranges_is_served_without_the_capability()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new Trees.GeneratedTreeServer(directories: 1, filesPerDirectory: 1);
        await using var generated = await FileXferClient.ConnectAsync(server.EndPoint, new FileXferClientOptions(), token);
        await using var local = new TestServer();
        await using var client = await LibraryTests.ConnectAsync(local, HashAlgorithms.Sha256);

        Assert.False(generated.Capabilities.HasFlag(Capabilities.ParallelStreams));
        Assert.True(client.Capabilities.HasFlag(Capabilities.ParallelStreams));
        Assert.Equal(1, ParallelTransfer.ChooseStreams(generated, 1L << 30, requested: 8));
        Assert.Equal(8, ParallelTransfer.ChooseStreams(client, 1L << 30, requested: 8));
        Assert.Equal(1, ParallelTransfer.ChooseStreams(client, ParallelTransfer.MinimumSize - 1, requested: 8));
    }

    [Fact(Timeout = 60000)]
    public async Task Without_streams_asked_for_the_round_trip_decides_and_a_slow_handshake_on_loopback_is_not_a_long_link()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        var address = new HostPort("127.0.0.1", server.Port);

        // The program's clock says 40 ms (a loaded machine); the kernel's measure of the loopback connection says less.
        await using var slow = await FileXferClient.ConnectAsync(address, new FileXferClientOptions { TimeProvider = new SteppingClock(TimeSpan.FromMilliseconds(40)) }, token);
        await using var near = await FileXferClient.ConnectAsync(address, new FileXferClientOptions { TimeProvider = new SteppingClock(TimeSpan.Zero) }, token);

        Assert.Equal(TimeSpan.FromMilliseconds(40), slow.HandshakeRoundTrip);
        Assert.True(slow.RoundTrip < ParallelTransfer.LongRoundTrip, $"loopback's round trip read as {slow.RoundTrip}");
        Assert.Equal(1, ParallelTransfer.ChooseStreams(slow, 1L << 30, requested: null));
        Assert.Equal(1, ParallelTransfer.ChooseStreams(near, 1L << 30, requested: null));
        Assert.Equal(6, ParallelTransfer.ChooseStreams(near, 1L << 30, requested: 6));
    }

    [Theory]
    [InlineData(10, ParallelTransfer.DefaultLongLinkStreams)]
    [InlineData(39, ParallelTransfer.DefaultLongLinkStreams)]
    [InlineData(40, ParallelTransfer.DefaultFarLinkStreams)]
    [InlineData(80, ParallelTransfer.DefaultFarLinkStreams)]
    public void The_default_streams_grow_with_the_round_trip(int milliseconds, int streams)
    {
        Assert.Equal(streams, ParallelTransfer.DefaultStreams(TimeSpan.FromMilliseconds(milliseconds)));
        Assert.True(ParallelTransfer.DefaultFarLinkStreams > ParallelTransfer.DefaultLongLinkStreams);
    }

    [Fact(Timeout = 60000)]
    public async Task Ranges_from_a_queue_go_one_after_the_other_and_once_the_server_holds_none_without_waiting_for_ready()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new Faults.RecordingProxy(server);
        await using var client = await FileXferClient.ConnectAsync(new HostPort("127.0.0.1", proxy.EndPoint.Port), new FileXferClientOptions { HashAlgorithm = HashAlgorithms.Sha256 }, token);
        using var local = new TempDirectory();
        using var handle = await WriteAsync(local, token);
        byte[] id = [2, 4];
        var schedule = FileRange.Schedule(Size, streams: 2, minimum: 64 * 1024);

        long held = await client.PutRangesAsync(handle, new RangeQueue(schedule), "q.bin", Size, id, progress: null, token);
        await client.AssembleAsync("q.bin", Size, id, SHA256.HashData(File.ReadAllBytes(local.Combine("f.bin"))), null, null, token);

        Assert.True(client.Capabilities.HasFlag(Capabilities.EagerRanges));
        Assert.Equal(0, held);
        Assert.Equal(File.ReadAllBytes(local.Combine("f.bin")), File.ReadAllBytes(server.PathOf("q.bin")));

        // One Ready (the first range's, which found nothing held), then an Ok per range and one for the Assemble.
        var answers = FramesOf(proxy.ServerToClient);
        Assert.Equal(1, answers.Count(f => f.Type == MessageType.Ready));
        Assert.Equal(schedule.Count + 1, answers.Count(f => f.Type == MessageType.Ok));
        Assert.Empty(server.TempFiles());
    }

    [Fact(Timeout = 60000)]
    public async Task Ranges_the_server_holds_are_offered_with_ready_and_not_sent_again()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await LibraryTests.ConnectAsync(server, HashAlgorithms.Sha256);
        using var local = new TempDirectory();
        using var handle = await WriteAsync(local, token);
        byte[] id = [3, 5];
        var schedule = FileRange.Schedule(Size, streams: 2, minimum: 64 * 1024);

        // An earlier try got the first two ranges over.
        foreach (var range in schedule.Take(2))
        {
            await client.PutRangeAsync(new FilePart(handle, range), "h.bin", Size, id, progress: null, token);
        }

        long held = await client.PutRangesAsync(handle, new RangeQueue(schedule), "h.bin", Size, id, progress: null, token);
        await client.AssembleAsync("h.bin", Size, id, SHA256.HashData(File.ReadAllBytes(local.Combine("f.bin"))), null, null, token);

        Assert.Equal(schedule[0].Length + schedule[1].Length, held);
        Assert.Equal(File.ReadAllBytes(local.Combine("f.bin")), File.ReadAllBytes(server.PathOf("h.bin")));
    }

    [Fact]
    public void The_schedule_covers_the_file_in_order_long_ranges_first_and_none_below_the_minimum_but_the_last()
    {
        const long size = (200L * 1024 * 1024) + 12345;
        const long minimum = 2L * 1024 * 1024;

        var schedule = FileRange.Schedule(size, streams: 4, minimum);

        Assert.Equal(0, schedule[0].Offset);
        Assert.Equal(25L * 1024 * 1024, schedule[0].Length);
        Assert.All(schedule.Zip(schedule.Skip(1)), pair => Assert.Equal(pair.First.End, pair.Second.Offset));
        Assert.Equal(size, schedule[^1].End);
        Assert.All(schedule, r => Assert.True(r.Length >= minimum, $"{r} is shorter than the minimum"));
        Assert.True(schedule[^1].Length < 2 * minimum, $"the last range {schedule[^1]} should be short");
        Assert.Equal(schedule, FileRange.Schedule(size, streams: 4, minimum));
        Assert.Equal([new FileRange(0, 100)], FileRange.Schedule(100, streams: 4, minimum));
    }

    /// <summary>A clock that moves by a fixed step each time it is read, so a measured interval is that step.</summary>
    private sealed class SteppingClock(TimeSpan step) : TimeProvider
    {
        private long _now;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Add(ref _now, step.Ticks);
    }

    private static List<Frame> FramesOf(byte[] received)
    {
        // The server's magic, then frames only: a put's answers carry no body.
        var frames = new List<Frame>();
        var rest = received.AsSpan(ProtocolLimits.Magic.Length);
        while (FrameCodec.TryRead(rest, out var frame, out int consumed, out _) == System.Buffers.OperationStatus.Done)
        {
            frames.Add(frame!);
            rest = rest[consumed..];
        }

        Assert.True(rest.IsEmpty, $"{rest.Length} bytes after the last frame");
        return frames;
    }

    private static async Task<SafeFileHandle> WriteAsync(TempDirectory local, CancellationToken cancellationToken)
    {
        var path = local.Combine("f.bin");
        await TestFiles.WriteRandomAsync(path, Size, seed: 80, cancellationToken);
        return File.OpenHandle(path, FileMode.Open, FileAccess.Read);
    }
}
