using System.Security.Cryptography;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;

namespace FileXfer.Server.Tests.Protocol;

/// <summary>
/// The warning that a directory's time could not be set (ServerLog 71 for a token's connection) is logged once per
/// directory on the server, not once per path a client names: the real server runs as another user (nobody, through
/// setpriv) over a root it owns, with two tokens confined to the subtrees <c>/a</c> and <c>/b</c>, each holding a
/// directory <c>shared</c> owned by root and writable by all, so the server can add entries to both but set the time of
/// neither (EPERM). The same relative path in each subtree is two directories: two warnings.
/// </summary>
public sealed class ParentTimeNotSetTests
{
    private const int Nobody = 65534;

    private static readonly DateTimeOffset Wanted = new(2011, 3, 4, 5, 6, 7, TimeSpan.Zero);

    private static readonly (string Name, string Subtree, string Secret)[] Tokens =
    [
        ("alice", "a", "alice-secret-0123456789"),
        ("bob", "b", "bob-secret-0123456789ab"),
    ];

    [Fact(Timeout = 120000)]
    public async Task The_same_directory_path_in_two_tokens_subtrees_is_warned_about_once_each()
    {
        ServerProcess.SkipUnlessRunnableAsAnotherUser();
        var token = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory();
        File.SetUnixFileMode(temp.Path, (UnixFileMode)0x1ED);

        // The store: a root nobody owns; in each token's subtree (nobody's too), "shared", owned by root and writable by all.
        var root = temp.CreateDirectory("root");
        await ChownAsync(root, token);
        foreach (var (_, subtree, _) in Tokens)
        {
            await ChownAsync(Directory.CreateDirectory(Path.Combine(root, subtree)).FullName, token);
            File.SetUnixFileMode(Directory.CreateDirectory(Path.Combine(root, subtree, "shared")).FullName, (UnixFileMode)0x1FF);
        }

        // The tokens file the server reads as nobody: its own, closed to others.
        var tokens = temp.Combine("tokens");
        await File.WriteAllLinesAsync(tokens, Tokens.Select(t => $"{t.Name} rw:/{t.Subtree} {t.Secret}"), token);
        File.SetUnixFileMode(tokens, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await ChownAsync(tokens, token);

        using var server = ServerProcess.StartAsUser(Nobody, "--root", root, "--listen", "127.0.0.1:0", "--tokens", tokens);
        var endPoint = await server.WaitUntilListeningAsync(token);
        foreach (var (name, _, secret) in Tokens)
        {
            await using var client = await RawClient.ConnectAsync(endPoint, token);
            var (answer, _, _) = await client.AuthenticateAsync(name, secret, token);
            FrameAssert.Is(answer, MessageType.Ok, 0);

            // Two requests into the same directory: both told, one warning.
            for (uint id = 1; id <= 2; id++)
            {
                var ok = await PutWithParentTimeAsync(client, id, $"shared/f{id}.txt", token);
                FrameAssert.Is(ok, MessageType.Ok, id);
                Assert.True(Messages.ReadParentTimeNotSet(ok), $"{name}'s put {id} was not told its directory's time was not set");
            }
        }

        server.SendSigTerm();
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20), token));

        foreach (var (_, subtree, _) in Tokens)
        {
            Assert.Equal(["f1.txt", "f2.txt"], Directory.GetFiles(Path.Combine(root, subtree, "shared")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            Assert.NotEqual(Wanted.UtcDateTime, Directory.GetLastWriteTimeUtc(Path.Combine(root, subtree, "shared")));
        }

        // One warning per directory on the server, each naming it as its client did, with the token and its subtree.
        var log = string.Join('\n', server.StandardError);
        var warnings = server.StandardError.Where(line => line.Contains("FileXfer.Server[71]", StringComparison.Ordinal)).ToList();
        Assert.True(warnings.Count == 2, log);
        Assert.Contains("of token alice: ", warnings.Single(w => w.Contains("alice", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Contains("directory shared (in the token's subtree /a) ", warnings.Single(w => w.Contains("alice", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Contains("directory shared (in the token's subtree /b) ", warnings.Single(w => w.Contains("of token bob", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.DoesNotContain(server.StandardError, line => line.Contains("FileXfer.Server[68]", StringComparison.Ordinal));
    }

    /// <summary>A whole put of a few bytes whose Put carries <see cref="Wanted"/> as its directory's time; returns the final answer.</summary>
    private static async Task<Frame> PutWithParentTimeAsync(RawClient client, uint id, string path, CancellationToken cancellationToken)
    {
        var content = System.Text.Encoding.UTF8.GetBytes(path);
        await client.SendAsync(Messages.WithParentTime(Messages.Put(id, path, content.Length, HashAlgorithms.Sha256, null, null), Wanted), cancellationToken);
        FrameAssert.Is(await client.ReadAsync(cancellationToken), MessageType.Ready, id);
        await client.SendRawAsync(content, cancellationToken);
        await client.SendAsync(Messages.BodyEnd(id, HashAlgorithms.Sha256, SHA256.HashData(content)), cancellationToken);
        return await client.ReadAsync(cancellationToken);
    }

    /// <summary>Gives <paramref name="path"/> to nobody, through chown(1).</summary>
    private static async Task ChownAsync(string path, CancellationToken cancellationToken)
    {
        var owner = Nobody.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var chown = System.Diagnostics.Process.Start("chown", [$"{owner}:{owner}", path]);
        await chown.WaitForExitAsync(cancellationToken);
        Assert.Equal(0, chown.ExitCode);
    }
}
