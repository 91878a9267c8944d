using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using FileXfer.Client;
using FileXfer.Client.Resilience;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Protocol.Net;
using Microsoft.Extensions.Logging;

namespace FileXfer.Server.Tests.Hosting;

/// <summary>
/// What a server on a network faces: hundreds of connections that stall (from a handful of hosts, each under the
/// per-address limit, together over the total), and a stream of garbage and mutated frames, while a real client
/// needs its backup done. The server runs with its default limits and timeouts: the stalled connections make room for
/// the client once they have been in their handshakes for its eviction age (1 s), until then the client is refused as
/// busy and retries as the command line does. Runs alone: it measures the process's memory, and it would slow other
/// tests' timings.
/// </summary>
[Collection(nameof(FloodTests))]
[CollectionDefinition(nameof(FloodTests), DisableParallelization = true)]
public class FloodTests
{
    private const int Stallers = 300;
    private const int StallingHosts = 10;
    private const int FuzzUnderWay = 20;

    [Fact(Timeout = 120000)]
    public async Task Three_hundred_stalled_connections_and_random_frames_leave_a_real_client_served_within_seconds_with_memory_flat()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        var address = new HostPort("127.0.0.1", server.EndPoint.Port);
        var content = RandomNumberGenerator.GetBytes(1024 * 1024);
        await PutAndGetAsync(address, "warm-up.bin", content, token);
        long baseline = ManagedMemory();

        // Bare sockets: the test's own side of 300 connections must not weigh on the memory it measures.
        var stallers = new List<Socket>();
        using var stopFlood = CancellationTokenSource.CreateLinkedTokenSource(token);
        Task? trickle = null;
        Task<int>? fuzz = null;
        try
        {
            for (int i = 0; i < Stallers; i++)
            {
                var host = IPAddress.Parse($"127.0.0.{10 + (i % StallingHosts)}");
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                stallers.Add(socket);
                socket.Bind(new IPEndPoint(host, 0));
                await socket.ConnectAsync(server.EndPoint, token);
                await StallAsync(socket, i % 5, token);
            }

            trickle = TrickleAsync([.. stallers.Where((_, i) => i % 5 == 4)], stopFlood.Token);
            var fuzzing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            fuzz = FuzzAsync(server.EndPoint, fuzzing, stopFlood.Token);

            // The real client arrives in the middle of it all, and is served within its own 5 s timeouts and its retries.
            await fuzzing.Task.WaitAsync(token);
            int retries = await PutAndGetAsync(address, "during-the-flood.bin", content, token);
            long during = ManagedMemory();

            // The garbage reaches a handler only when it finds room: until the stallers are old enough to be evicted,
            // the fuzzer is refused as busy like everyone else, and on a fast machine the client can be done before
            // any of it got in. So the flood goes on until the server has turned garbage away for its bad magic
            // (logged one connection at a time, up to the failure log's burst per interval).
            await server.Log.WaitForAsync(m => m.Contains("(bad magic)", StringComparison.Ordinal), TimeSpan.FromSeconds(60), token);

            await stopFlood.CancelAsync();
            int fuzzed = await fuzz;
            await trickle;

            // Still serving after the garbage.
            await PutAndGetAsync(address, "after-the-flood.bin", content, token);

            TestContext.Current.TestOutputHelper?.WriteLine(
                $"managed memory {baseline / 1048576.0:F1} MiB before the flood, {during / 1048576.0:F1} MiB during it ({server.Server.ActiveConnections} connections); "
                + $"the client's put and get done after {retries} retries");
            Assert.InRange(fuzzed, 20, int.MaxValue);
            Assert.InRange(server.Server.ActiveConnections, 1, 256 + 64);
            // Each stalled connection holds a few KiB (buffers grow only when a large frame arrives).
            Assert.InRange(during - baseline, long.MinValue, 32L * 1024 * 1024);
            Assert.NotEmpty(server.Log.WithEvent(ServerEvents.ConnectionEvicted));
            // Bad frames are turned away and logged, one connection at a time; none crashes a request or the server.
            Assert.Contains(server.Log.WithEvent(ServerEvents.ConnectionFailed), e => e.Message.Contains("(bad magic)", StringComparison.Ordinal));
            Assert.DoesNotContain(server.Log.Entries, e => e.Level >= LogLevel.Error);
            Assert.False(server.Serving.IsCompleted);
        }
        finally
        {
            await stopFlood.CancelAsync();
            foreach (var socket in stallers)
            {
                socket.LingerState = new LingerOption(enable: true, seconds: 0);
                socket.Dispose();
            }
        }

        // The stalled connections are gone, and so is what they held.
        int opened = server.Log.WithEvent(ServerEvents.ConnectionOpened).Count;
        await server.Log.WaitForEventAsync(ServerEvents.ConnectionClosed, opened, TimeSpan.FromSeconds(30), token);
        Assert.Equal(0, server.Server.ActiveConnections);
        Assert.InRange(ManagedMemory() - baseline, long.MinValue, 32L * 1024 * 1024);
    }

    private static long ManagedMemory() => GC.GetTotalMemory(forceFullCollection: true);

    /// <summary>
    /// A put and a get on one connection, retried as the command line retries them (with 5 retries rather than its
    /// default 3, so that the jitter of the first delays cannot make the test flaky): a full server refuses it as busy
    /// until its stalled connections are old enough to be evicted. Returns how many attempts were refused or failed.
    /// </summary>
    private static async Task<int> PutAndGetAsync(HostPort server, string remotePath, byte[] content, CancellationToken cancellationToken)
    {
        int retries = 0;
        var retry = TransferRetry.Create(maxRetries: 5, TimeProvider.System, (_, _, _) =>
        {
            retries++;
            return ValueTask.CompletedTask;
        });
        await retry.ExecuteAsync(token => new ValueTask(PutAndGetOnceAsync(server, remotePath, content, token)), cancellationToken);
        return retries;
    }

    private static async Task PutAndGetOnceAsync(HostPort server, string remotePath, byte[] content, CancellationToken cancellationToken)
    {
        var options = new FileXferClientOptions { ConnectTimeout = TimeSpan.FromSeconds(5), IdleTimeout = TimeSpan.FromSeconds(5) };
        await using var client = await FileXferClient.ConnectAsync(server, options, cancellationToken);
        using var source = new MemoryStream(content);
        var put = await client.PutAsync(source, content.Length, remotePath, modifiedUtc: null, mode: null, progress: null, cancellationToken);
        using var received = new MemoryStream();
        var get = await client.GetAsync(remotePath, received, progress: null, cancellationToken);

        Assert.Equal(content.Length, put.Size);
        Assert.Equal(put.Hash, get.Hash);
        Assert.Equal(content, received.ToArray());
    }

    private static readonly byte[] Handshake = [.. ProtocolLimits.Magic, .. RawFrames.Of(Messages.Hello(ProtocolLimits.Version, Capabilities.None, RawClient.Agent))];

    /// <summary>Leaves a connection stalled in one of five ways.</summary>
    private static async Task StallAsync(Socket socket, int kind, CancellationToken cancellationToken)
    {
        switch (kind)
        {
            case 0:
                // Connected, silent.
                break;
            case 1:
                await socket.SendAsync(ProtocolLimits.Magic[..2].ToArray(), cancellationToken);
                break;
            case 2:
                // A whole handshake, then half a frame header of a request that never comes.
                await socket.SendAsync((byte[])[.. Handshake, 0, 0, 0], cancellationToken);
                break;
            case 3:
                await socket.SendAsync(Handshake.AsMemory(0, Handshake.Length - 10), cancellationToken);
                break;
            default:
                // Trickled later, a byte a second.
                break;
        }
    }

    /// <summary>Sends the magic and a Hello to each socket one byte per second, until cancelled or all is sent.</summary>
    private static async Task TrickleAsync(IReadOnlyList<Socket> sockets, CancellationToken cancellationToken)
    {
        var live = new HashSet<Socket>(sockets);
        try
        {
            for (int sent = 0; sent < Handshake.Length && live.Count > 0; sent++)
            {
                foreach (var socket in live.ToArray())
                {
                    try
                    {
                        await socket.SendAsync(Handshake.AsMemory(sent, 1), cancellationToken);
                    }
                    catch (SocketException)
                    {
                        // Closed by the server (evicted, or past the handshake deadline): that is its defence working.
                        live.Remove(socket);
                    }
                }

                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // The test is done with the trickle.
        }
    }

    /// <summary>
    /// Until cancelled, on fresh connections from many hosts: random bytes, a mutated Hello, or a good handshake followed
    /// by mutated requests; <paramref name="underWay"/> is completed after <see cref="FuzzUnderWay"/> connections. Returns
    /// how many connections it made.
    /// </summary>
    private static async Task<int> FuzzAsync(IPEndPoint server, TaskCompletionSource underWay, CancellationToken cancellationToken)
    {
        var random = new Random(5);
        int connections = 0;
        byte[][] requests =
        [
            RawFrames.Of(Messages.List(1, "/", ListFlags.Recursive)),
            RawFrames.Of(Messages.PathRequest(MessageType.Stat, 2, "warm-up.bin")),
            RawFrames.Of(Messages.Put(3, "fuzz.bin", 10, HashAlgorithms.Sha256, null, null)),
            RawFrames.Of(Messages.Get(4, "warm-up.bin", HashAlgorithms.Sha256)),
        ];
        byte[] hello = RawFrames.Of(Messages.Hello(ProtocolLimits.Version, Capabilities.None, RawClient.Agent));
        while (!cancellationToken.IsCancellationRequested)
        {
            if (connections == FuzzUnderWay)
            {
                underWay.TrySetResult();
            }

            var host = IPAddress.Parse($"127.0.1.{1 + (connections % 250)}");
            RawClient client;
            try
            {
                client = await RawClient.ConnectFromAsync(server, host, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            await using var connection = client;
            connections++;
            try
            {
                switch (connections % 3)
                {
                    case 0:
                        await client.SendRawAsync(RandomBytes(random, random.Next(1, 4096)), cancellationToken);
                        break;
                    case 1:
                        await client.SendRawAsync((byte[])[.. ProtocolLimits.Magic, .. Mutate(random, hello)], cancellationToken);
                        break;
                    default:
                        await client.SendMagicAsync(cancellationToken);
                        await client.SendHelloAsync(ProtocolLimits.Version, cancellationToken);
                        for (int i = 0; i < 5; i++)
                        {
                            await client.SendRawAsync(Mutate(random, requests[random.Next(requests.Length)]), cancellationToken);
                        }

                        break;
                }

                // Give the server a moment to answer, then go: a fuzzer does not wait for stalled puts.
                using var answer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                answer.CancelAfter(TimeSpan.FromMilliseconds(100));
                await client.ReadRawUntilClosedAsync(answer.Token);
            }
            catch (Exception ex) when (ex is ConnectionLostException or OperationCanceledException)
            {
                // The server closed on the garbage (as it should), or the answer wait ran out.
            }
        }

        return connections;
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>A copy with a few bytes changed, sometimes cut short or with junk after it.</summary>
    private static byte[] Mutate(Random random, byte[] frame)
    {
        var copy = (byte[])frame.Clone();
        for (int i = random.Next(1, 4); i > 0; i--)
        {
            copy[random.Next(copy.Length)] = (byte)random.Next(256);
        }

        return random.Next(4) switch
        {
            0 => copy[..random.Next(1, copy.Length)],
            1 => [.. copy, .. RandomBytes(random, random.Next(1, 64))],
            _ => copy,
        };
    }
}
