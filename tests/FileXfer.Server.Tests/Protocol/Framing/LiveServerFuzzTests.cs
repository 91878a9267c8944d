using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Server.Hosting;

namespace FileXfer.Server.Tests.Protocol.Framing;

/// <summary>
/// A seeded, randomized fuzz test of the live server: many connections, each sending valid request sequences
/// that were then mutated (bit flips, truncations, changed lengths, shuffled fields, random types, inserted or
/// repeated bytes). Every connection must get valid answers, or an error and a close; the server must never crash
/// a request, never write outside its root, and still serve a normal client afterwards. Set
/// <c>FILEXFER_FUZZ_SEED</c> to replay a failure (the seed is in every failure message).
/// </summary>
public sealed class LiveServerFuzzTests
{
    // A count, not a time budget: the same seed makes the same connections on a fast machine and a slow one.
    private const int Iterations = 150;

    private static readonly ErrorCode[] ClosingCodes = [ErrorCode.ProtocolViolation, ErrorCode.UnknownMessage, ErrorCode.UnsupportedVersion];

    [Fact(Timeout = 60000)]
    public async Task Mutated_frames_get_answers_or_an_error_and_a_close_and_the_server_serves_on()
    {
        var token = TestContext.Current.CancellationToken;
        int seed = Environment.GetEnvironmentVariable("FILEXFER_FUZZ_SEED") is { } fixedSeed
            ? int.Parse(fixedSeed, CultureInfo.InvariantCulture)
            : RandomNumberGenerator.GetInt32(int.MaxValue);
        TestContext.Current.TestOutputHelper?.WriteLine($"fuzz seed {seed}");
        var random = new Random(seed);
        await using var server = new TestServer(root: null, serverOptions: new TcpServerOptions { HandshakeTimeout = TimeSpan.FromSeconds(2) });
        var parent = Path.GetDirectoryName(server.Store.Root)!;
        await File.WriteAllBytesAsync(server.PathOf("seed.bin"), TestBytes(3000), token);
        Directory.CreateDirectory(server.PathOf("dir/sub"));

        int iterations = 0;
        while (iterations < Iterations)
        {
            iterations++;
            bool mutateHandshake = random.Next(10) == 0;
            var requests = ValidRequests(random);
            var bytes = mutateHandshake ? [.. Handshake()] : requests;
            var mutated = Mutate(random, bytes, out var mutation);
            var context = $"seed {seed}, iteration {iterations}, {mutation}";
            try
            {
                await RunConnectionAsync(server, mutateHandshake ? [.. mutated, .. requests] : mutated, mutateHandshake, token);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !token.IsCancellationRequested)
            {
                throw new Xunit.Sdk.XunitException($"fuzz failure ({context}): {ex.GetType().Name}: {ex.Message}", ex);
            }
        }

        Assert.True(server.Log.WithEvent(12).Count == 0, $"seed {seed}: a request crashed: {string.Join("; ", server.Log.WithEvent(12).Select(e => e.Message + " " + e.Exception))}");
        Assert.All(server.Log.WithEvent(ServerEvents.ConnectionFailed), entry => Assert.True(
            entry.Exception is FileXferException or IOException or TimeoutException or OperationCanceledException,
            $"seed {seed}: a connection failed with {entry.Exception}"));
        Assert.True(Directory.GetFileSystemEntries(parent).Length == 1, $"seed {seed}: written beside the root: {string.Join(", ", Directory.GetFileSystemEntries(parent))}");
        Assert.False(server.Serving.IsCompleted, $"seed {seed}: the accept loop ended");

        // A normal client still works.
        await using var normal = await server.ConnectReadyAsync(token);
        var content = TestBytes(5000);
        FrameAssert.Is(await normal.PutAsync(1, "after/fuzz.bin", content, token), MessageType.Ok, 1);
        await normal.SendAsync(Messages.Get(2, "after/fuzz.bin", HashAlgorithms.Sha256), token);
        var data = await normal.ReadAsync(MessageType.Data, token);
        Assert.Equal(content, await normal.ReadBodyAsync(data.GetSize(FieldTag.Size), token));
        Assert.Equal(SHA256.HashData(content), (await normal.ReadAsync(MessageType.BodyEnd, token)).GetBytes(FieldTag.HashValue));
    }

    /// <summary>Sends the bytes, ends the sending side, and checks everything the server answers until it closes.</summary>
    private static async Task RunConnectionAsync(TestServer server, byte[] bytes, bool rawHandshake, CancellationToken cancellationToken)
    {
        await using var client = await server.ConnectAsync(cancellationToken);
        if (!rawHandshake)
        {
            await client.HandshakeAsync(cancellationToken);
        }

        try
        {
            await client.SendRawAsync(bytes, cancellationToken);
            client.ShutdownSend();
        }
        catch (IOException)
        {
            // The server may close before it has read everything: that is one of the allowed outcomes.
        }

        using var deadline = Deadline.After(TimeSpan.FromSeconds(10));
        if (rawHandshake)
        {
            try
            {
                await client.ReadMagicAsync(deadline.Token);
            }
            catch (Exception ex) when (ex is ProtocolViolationException or IOException)
            {
                // Bad magic is answered with an Error without a magic, or the connection just closes; the
                // closing checks below do not apply to bytes that are not even frames.
                return;
            }
        }

        Frame? closingError = null;
        try
        {
            while (await ReadFrameOrNullAsync(client, deadline.Token) is { } frame)
            {
                Assert.True(closingError is null, $"the server sent {frame} after a closing error");
                if (frame.Type == MessageType.Error)
                {
                    var code = Messages.ToException(frame).Code;
                    Assert.NotEqual(ErrorCode.Internal, code);
                    if (ClosingCodes.Contains(code))
                    {
                        closingError = frame;
                    }
                }
                else if (frame.Type == MessageType.Data)
                {
                    long size = frame.GetSize(FieldTag.Size) - (frame.GetSizeOrNull(FieldTag.Offset) ?? 0);
                    await client.ReadBodyAsync(size, deadline.Token);
                }
                else
                {
                    Assert.Contains(frame.Type, new[] { MessageType.Welcome, MessageType.Ready, MessageType.Ok, MessageType.Entry, MessageType.EndOfList, MessageType.BodyEnd });
                }
            }
        }
        catch (ConnectionLostException)
        {
            // A reset is a close: the server may have left bytes of ours unread.
        }
    }

    private static async Task<Frame?> ReadFrameOrNullAsync(RawClient client, CancellationToken cancellationToken)
    {
        try
        {
            return await client.ReadAsync(cancellationToken);
        }
        catch (ConnectionLostException ex) when (ex.Message.Contains("closed by the other side", StringComparison.Ordinal))
        {
            return null;
        }
    }

    /// <summary>A few valid requests, with bodies where they need them, as one byte sequence.</summary>
    private static byte[] ValidRequests(Random random)
    {
        var bytes = new List<byte>();
        int count = random.Next(1, 4);
        for (uint id = 1; id <= count; id++)
        {
            var path = random.Next(4) switch
            {
                0 => "seed.bin",
                1 => "dir",
                2 => $"dir/sub/f{random.Next(5)}.bin",
                _ => $"n{random.Next(5)}",
            };
            switch (random.Next(9))
            {
                case 0:
                    bytes.AddRange(FrameCodec.ToArray(Messages.PathRequest(MessageType.Stat, id, path)));
                    break;
                case 1:
                    bytes.AddRange(FrameCodec.ToArray(Messages.Get(id, path, HashAlgorithms.Sha256)));
                    break;
                case 2:
                    bytes.AddRange(FrameCodec.ToArray(Messages.List(id, random.Next(2) == 0 ? "/" : "dir", random.Next(2) == 0 ? ListFlags.Recursive : ListFlags.None)));
                    break;
                case 3:
                    bytes.AddRange(FrameCodec.ToArray(Messages.Hash(id, path, HashAlgorithms.XxHash128)));
                    break;
                case 4:
                    bytes.AddRange(FrameCodec.ToArray(Messages.MakeDirectory(id, $"dir/m{random.Next(5)}", DateTimeOffset.UnixEpoch, 0x1ED)));
                    break;
                case 5:
                    bytes.AddRange(FrameCodec.ToArray(Messages.PathRequest(MessageType.Delete, id, $"n{random.Next(5)}")));
                    break;
                case 6:
                    bytes.AddRange(FrameCodec.ToArray(Messages.Get(id, "seed.bin", HashAlgorithms.Sha256, random.Next(0, 4000), new byte[32])));
                    break;
                default:
                    // A put that does not wait for Ready: its chunked body and BodyEnd follow at once.
                    var body = TestBytes(random.Next(0, 600));
                    bytes.AddRange(FrameCodec.ToArray(Messages.Put(id, $"n{random.Next(5)}", body.Length, HashAlgorithms.Sha256, null, null, PutFlags.Chunked | PutFlags.NoWait)));
                    if (body.Length > 0)
                    {
                        bytes.AddRange(BigEndian((uint)body.Length));
                        bytes.AddRange(body);
                    }

                    bytes.AddRange(BigEndian(0));
                    bytes.AddRange(FrameCodec.ToArray(Messages.BodyEnd(id, HashAlgorithms.Sha256, SHA256.HashData(body))));
                    break;
            }
        }

        return [.. bytes];
    }

    private static byte[] Handshake() =>
        [.. ProtocolLimits.Magic, .. FrameCodec.ToArray(Messages.Hello(ProtocolLimits.Version, Messages.Implemented, "fuzz/1"))];

    /// <summary>One or more mutations of a valid byte sequence; <paramref name="description"/> says which, for the failure message.</summary>
    private static byte[] Mutate(Random random, byte[] input, out string description)
    {
        var bytes = new List<byte>(input);
        var applied = new List<string>();
        int rounds = random.Next(1, 4);
        for (int round = 0; round < rounds && bytes.Count > 0; round++)
        {
            int at = random.Next(bytes.Count);
            switch (random.Next(8))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    applied.Add($"bit flip at {at}");
                    break;
                case 1:
                    bytes.RemoveRange(at, bytes.Count - at);
                    applied.Add($"truncated to {at}");
                    break;
                case 2:
                    // A frame or field length: overwrite 2 or 4 bytes with an edge value or a random one.
                    uint value = random.Next(4) switch { 0 => 0, 1 => uint.MaxValue, 2 => (uint)ProtocolLimits.MaxFrameLength + 1, _ => (uint)random.Next() };
                    var encoded = BigEndian(value);
                    for (int i = 0; i < 4 && at + i < bytes.Count; i++)
                    {
                        bytes[at + i] = encoded[i];
                    }

                    applied.Add($"length 0x{value:x} at {at}");
                    break;
                case 3:
                    if (ShuffleFirstFrameFields(random, bytes))
                    {
                        applied.Add("fields shuffled");
                    }

                    break;
                case 4:
                    if (bytes.Count > 4)
                    {
                        byte type = (byte)random.Next(256);
                        bytes[4] = type;
                        applied.Add($"type 0x{type:x2}");
                    }

                    break;
                case 5:
                    var noise = new byte[random.Next(1, 16)];
                    random.NextBytes(noise);
                    bytes.InsertRange(at, noise);
                    applied.Add($"{noise.Length} random bytes inserted at {at}");
                    break;
                case 6:
                    int length = Math.Min(random.Next(1, 64), bytes.Count - at);
                    bytes.InsertRange(at, bytes.GetRange(at, length));
                    applied.Add($"{length} bytes repeated at {at}");
                    break;
                default:
                    bytes.RemoveAt(at);
                    applied.Add($"byte {at} removed");
                    break;
            }
        }

        description = string.Join(", ", applied);
        return [.. bytes];
    }

    /// <summary>Reorders the fields of the first frame (still a valid frame: field order is free).</summary>
    private static bool ShuffleFirstFrameFields(Random random, List<byte> bytes)
    {
        var array = bytes.ToArray();
        if (FrameCodec.TryRead(array, out var frame, out int consumed, out _) != System.Buffers.OperationStatus.Done || frame!.Fields.Count < 2)
        {
            return false;
        }

        var fields = frame.Fields.ToArray();
        random.Shuffle(fields);
        var shuffled = FrameCodec.ToArray(new Frame(frame.Type, frame.RequestId, fields));
        bytes.RemoveRange(0, consumed);
        bytes.InsertRange(0, shuffled);
        return true;
    }

    private static byte[] BigEndian(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] TestBytes(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return bytes;
    }
}
