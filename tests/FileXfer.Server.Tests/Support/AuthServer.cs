using System.Text;
using FileXfer.Server.Handlers;
using FileXfer.Server.Security;

namespace FileXfer.Server.Tests.Support;

/// <summary>A <see cref="TestServer"/> that requires tokens: a writer, a reader and a tenant confined to /tenants/a.</summary>
public static class AuthServer
{
    public const string WriterSecret = "writer-secret-0123456789";
    public const string ReaderSecret = "reader-secret-0123456789";
    public const string TenantSecret = "tenant-secret-0123456789";

    public static IReadOnlyList<TokenEntry> Tokens { get; } =
    [
        new("writer", TokenAccess.ReadWrite, string.Empty, Encoding.UTF8.GetBytes(WriterSecret)),
        new("reader", TokenAccess.ReadOnly, string.Empty, Encoding.UTF8.GetBytes(ReaderSecret)),
        new("tenant", TokenAccess.ReadWrite, "tenants/a", Encoding.UTF8.GetBytes(TenantSecret)),
    ];

    /// <summary>Starts a server with the tokens above; failures are answered at once unless <paramref name="throttle"/> says otherwise.</summary>
    public static TestServer Start(AuthThrottleOptions? throttle = null) =>
        new TestServer(root: null, handlerOptions: new FileXferHandlerOptions
        {
            Authenticator = new TokenAuthenticator(Tokens, new AuthThrottle(throttle ?? new AuthThrottleOptions { FailureDelay = TimeSpan.Zero, MaxFailureDelay = TimeSpan.Zero })),
        });

    /// <summary>A connection authenticated as <paramref name="name"/>; fails the test when the server refuses.</summary>
    public static async Task<RawClient> ConnectAsAsync(this TestServer server, string name, string secret, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        var client = await server.ConnectAsync(cancellationToken);
        try
        {
            var (answer, _, _) = await client.AuthenticateAsync(name, secret, cancellationToken);
            FrameAssert.Is(answer, FileXfer.Protocol.Framing.MessageType.Ok, 0);
            return client;
        }
        catch (Exception)
        {
            await client.DisposeAsync();
            throw;
        }
    }
}
