using System.Text;
using FileXfer.Client.Resilience;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Net;
using FileXfer.Protocol.Security;

namespace FileXfer.Client.Tests;

/// <summary>
/// Requests behind Authenticate (PipelinedAuthentication) through the library, over real sockets: the first requests
/// travel with the Authenticate, the Ok is read as the first answer and believed only then; a refusal, or a server that
/// cannot prove it knows the token, fails them all; a server without the capability gets the old exchange.
/// </summary>
public sealed class PipelinedAuthenticationTests
{
    private static FileXferClientOptions As(string name, string secret) =>
        new() { Credential = new FileXferCredential(name, secret), Run = new ClientRun() };

    [Fact(Timeout = 60000)]
    public async Task The_first_request_travels_behind_Authenticate_and_the_Ok_is_believed_once_read()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthTestServer.Start();
        var options = As("writer", AuthTestServer.WriterSecret);

        await using var client = await FileXferClient.ConnectAsync(new HostPort("127.0.0.1", server.Port), options, token);

        // Connected without the Ok: nothing it grants is claimed yet.
        Assert.True(client.Capabilities.HasFlag(Capabilities.PipelinedAuthentication));
        Assert.False(client.IsAuthenticated);
        Assert.Equal(AccessFlags.None, client.Access);
        Assert.Null(options.Run.AuthTicket);

        var top = await client.StatAsync(string.Empty, token);

        Assert.Equal(EntryKind.Directory, top.Kind);
        Assert.True(client.IsAuthenticated);
        Assert.Equal(AccessFlags.Write, client.Access);
        Assert.NotNull(options.Run.AuthTicket);
        Assert.Single(server.Log.WithEvent(ServerEvents.AuthenticationSucceeded));
    }

    [Fact(Timeout = 60000)]
    public async Task A_server_that_answers_the_Ok_only_after_the_first_request_arrived_serves_it()
    {
        // The fake server holds its Ok back until the request behind Authenticate has arrived: a client that waited for
        // the Ok before sending its request would wait for ever (the test's timeout).
        var token = TestContext.Current.CancellationToken;
        var secret = Encoding.UTF8.GetBytes(AuthTestServer.WriterSecret);
        var received = new List<MessageType>();
        await using var server = new HostileServer(
            async (connection, request, cancellationToken) =>
            {
                received.Add(request.Type);
                if (request.Type == MessageType.Stat)
                {
                    await connection.Writer.WriteAsync(AuthenticateOk(connection, secret, AccessFlags.Write), cancellationToken);
                    await connection.Writer.WriteAsync(Messages.Describe(MessageType.Ok, request.RequestId, new RemoteEntry("x", EntryKind.Directory, 0, DateTimeOffset.UnixEpoch, null)), cancellationToken);
                }
            },
            Capabilities.Authentication | Capabilities.PipelinedAuthentication);

        await using var client = await FileXferClient.ConnectAsync(server.EndPoint, As("writer", AuthTestServer.WriterSecret), token);
        var entry = await client.StatAsync("x", token);

        Assert.Equal(EntryKind.Directory, entry.Kind);
        Assert.Equal([MessageType.Authenticate, MessageType.Stat], received);
        Assert.True(client.IsAuthenticated);
    }

    [Fact(Timeout = 60000)]
    public async Task A_server_without_the_capability_gets_the_Ok_waited_for_before_any_request()
    {
        var token = TestContext.Current.CancellationToken;
        var secret = Encoding.UTF8.GetBytes(AuthTestServer.WriterSecret);
        await using var server = new HostileServer(
            async (connection, request, cancellationToken) =>
            {
                if (request.Type == MessageType.Authenticate)
                {
                    await connection.Writer.WriteAsync(AuthenticateOk(connection, secret, AccessFlags.None), cancellationToken);
                }
            },
            Capabilities.Authentication);

        await using var client = await FileXferClient.ConnectAsync(server.EndPoint, As("writer", AuthTestServer.WriterSecret), token);

        // The Ok was read before the connection was handed over: the old exchange, one round trip of its own.
        Assert.False(client.Capabilities.HasFlag(Capabilities.PipelinedAuthentication));
        Assert.True(client.IsAuthenticated);
        Assert.Equal(AccessFlags.None, client.Access);
        Assert.Equal(1, server.Requests);
    }

    [Fact(Timeout = 60000)]
    public async Task A_wrong_server_proof_fails_every_request_behind_it_and_nothing_it_said_is_trusted()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new HostileServer(
            async (connection, request, cancellationToken) =>
            {
                if (request.Type == MessageType.List && request.RequestId == 1)
                {
                    // An Ok that grants write access and a ticket, with a proof under another secret; then a listing.
                    await connection.Writer.WriteAsync(AuthenticateOk(connection, Encoding.UTF8.GetBytes("not-the-secret"), AccessFlags.Write, TimeSpan.FromMinutes(10)), cancellationToken);
                    await connection.Writer.WriteAsync(Messages.EndOfList(request.RequestId, 0), cancellationToken);
                    await connection.Writer.WriteAsync(Messages.EndOfList(request.RequestId + 1, 0), cancellationToken);
                }
            },
            Capabilities.Authentication | Capabilities.PipelinedAuthentication | Capabilities.EarlyAuthentication);
        var options = As("writer", AuthTestServer.WriterSecret);
        await using var client = await FileXferClient.ConnectAsync(server.EndPoint, options, token);

        await using var queue = client.StartRequestQueue(token);
        var first = queue.ListAsync("a");
        var second = queue.ListAsync("b");

        var failure = await Assert.ThrowsAsync<FileXferException>(() => first);
        Assert.Equal(ErrorCode.AuthenticationFailed, failure.Code);
        Assert.Contains("could not prove", failure.Message, StringComparison.Ordinal);
        Assert.Same(failure, await Assert.ThrowsAsync<FileXferException>(() => second));
        Assert.Same(failure, await Assert.ThrowsAsync<FileXferException>(() => client.WhenAuthenticatedAsync(token)));
        Assert.False(client.IsAuthenticated);
        Assert.Equal(AccessFlags.None, client.Access);
        Assert.Null(options.Run.AuthTicket);
        await Assert.ThrowsAsync<ConnectionLostException>(() => client.StatAsync("a", token));
    }

    [Fact(Timeout = 60000)]
    public async Task A_wrong_secret_fails_a_pipelined_put_with_AuthenticationFailed_and_nothing_is_stored()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthTestServer.Start();
        using var local = new TempDirectory();
        var file = local.Combine("small.bin");
        await File.WriteAllBytesAsync(file, new byte[60 * 1024], token);
        var options = As("writer", "not-the-secret");

        await using (var single = await FileXferClient.ConnectAsync(new HostPort("127.0.0.1", server.Port), options, token))
        {
            // A NoWait put: the Put and its whole body follow the Authenticate at once.
            var failure = await Assert.ThrowsAsync<FileXferException>(() => single.UploadFileAsync(file, "small.bin", progress: null, token));
            Assert.Equal(ErrorCode.AuthenticationFailed, failure.Code);
            Assert.StartsWith("authentication failed as 'writer'", failure.Message, StringComparison.Ordinal);
        }

        await using (var batch = await FileXferClient.ConnectAsync(new HostPort("127.0.0.1", server.Port), options, token))
        {
            var items = Enumerable.Range(0, 20).Select(i => new TransferItem(file, $"batch/{i}.bin")).ToAsyncEnumerable();
            var results = new List<BatchItemResult>();
            var failure = await Assert.ThrowsAsync<FileXferException>(() => batch.PutBatchAsync(items, r => { results.Add(r); return ValueTask.CompletedTask; }, progress: null, token));
            Assert.Equal(ErrorCode.AuthenticationFailed, failure.Code);
            Assert.Empty(results);
        }

        Assert.False(File.Exists(server.PathOf("small.bin")));
        Assert.False(Directory.Exists(server.PathOf("batch")));
        Assert.Empty(server.TempFiles());
        Assert.Empty(server.Log.WithEvent(ServerEvents.RequestCompleted));
        Assert.Empty(server.Log.WithEvent(ServerEvents.RequestFailed));
        // Nothing of either connection is declared abandoned: the server carried nothing out.
        Assert.Empty(options.Run.Undeclared());
    }

    [Fact(Timeout = 120000)]
    public async Task A_tree_put_with_a_wrong_secret_exits_6_with_one_line_and_stores_nothing()
    {
        // The listing connection's Stat and List travel behind its Authenticate, its transfer connections' behind theirs.
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthTestServer.Start();
        using var local = new TempDirectory();
        var tokenFile = AuthTestServer.WriteTokenFile(local, "writer", "not-the-secret");
        var source = local.Combine("source");
        await TestTrees.CreateMixedTreeAsync(source, 20, token);

        var result = await CliRunner.RunAsync(server, ["--retries", "2", "--token-file", tokenFile, "put", "-r", source, "t"], token);

        // One line: no retry, and no warning about connections to declare abandoned (the server carried nothing out).
        Assert.StartsWith("filexfer: authentication failed as 'writer': ", CliAssert.OneErrorLine(result, 6), StringComparison.Ordinal);
        Assert.False(Directory.Exists(server.PathOf("t")));
        Assert.Empty(server.TempFiles());
        Assert.Empty(server.Log.WithEvent(ServerEvents.RequestCompleted));
    }

    [Fact(Timeout = 60000)]
    public async Task A_read_only_token_s_pipelined_put_is_refused_and_the_connection_stays_usable()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthTestServer.Start();
        using var local = new TempDirectory();
        var file = local.Combine("small.bin");
        await File.WriteAllBytesAsync(file, new byte[1000], token);
        await using var client = await FileXferClient.ConnectAsync(new HostPort("127.0.0.1", server.Port), As("reader", AuthTestServer.ReaderSecret), token);

        var denied = await Assert.ThrowsAsync<FileXferException>(() => client.UploadFileAsync(file, "small.bin", progress: null, token));

        Assert.Equal(ErrorCode.AccessDenied, denied.Code);
        Assert.True(client.IsAuthenticated);
        Assert.Equal(AccessFlags.None, client.Access);
        Assert.Equal(EntryKind.Directory, (await client.StatAsync(string.Empty, token)).Kind);
        await Assert.ThrowsAsync<FileXferException>(() => client.RequireWriteAccessAsync("put", token));
        Assert.False(File.Exists(server.PathOf("small.bin")));
    }

    [Fact(Timeout = 60000)]
    public async Task WhenAuthenticated_reads_the_Ok_on_an_idle_connection_and_waits_for_a_queue_that_reads_it()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthTestServer.Start();
        var endPoint = new HostPort("127.0.0.1", server.Port);
        await using var idle = await FileXferClient.ConnectAsync(endPoint, As("reader", AuthTestServer.ReaderSecret), token);
        await using var queued = await FileXferClient.ConnectAsync(endPoint, As("writer", AuthTestServer.WriterSecret), token);

        await idle.WhenAuthenticatedAsync(token);
        await using var queue = queued.StartRequestQueue(token);
        var listing = queue.ListAsync(string.Empty);
        await queued.RequireWriteAccessAsync("put", token);

        Assert.True(idle.IsAuthenticated);
        Assert.Equal(AccessFlags.None, idle.Access);
        Assert.True(queued.IsAuthenticated);
        Assert.Equal(string.Empty, (await listing).Path);
        await queue.CompleteAsync();
    }

    private static Frame AuthenticateOk(HostileConnection connection, byte[] secret, AccessFlags access, TimeSpan? ticketLifetime = null)
    {
        var clientNonce = connection.Hello!.GetBytes(FieldTag.ClientNonce);
        return Messages.AuthenticateOk(AuthProof.ForServer(secret, clientNonce, connection.ServerNonce!, "writer"), access, ticketLifetime);
    }
}
