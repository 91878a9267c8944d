using System.CommandLine;
using System.Security.Cryptography;

namespace FileXfer.Server.Security;

/// <summary><c>filexfer-server token new NAME</c>: a fresh token line for the tokens file, and the client's credential.</summary>
internal static class TokenCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var name = new Argument<string>("NAME") { Description = "The token's name: 1 to 64 of A-Z, a-z, 0-9, '.', '_', '-'." };
        var access = new Option<string>("--access")
        {
            Description = "ro (get, ls, stat, hash) or rw (also put, rm, mkdir).",
            DefaultValueFactory = _ => "ro",
        };
        access.AcceptOnlyFromAmong("ro", "rw");
        var subtree = new Option<string?>("--subtree")
        {
            Description = "A remote directory, such as /backups/host1, that becomes this client's root.",
        };

        var create = new Command("new", "Print a tokens-file line with a fresh random secret, and the matching client credential.")
        {
            name, access, subtree,
        };
        create.SetAction(async (result, cancellationToken) =>
        {
            var tokenName = result.GetValue(name)!;
            if (!TokensFile.IsValidName(tokenName))
            {
                await stderr.WriteLineAsync($"filexfer-server: token name '{RemotePath.Escape(tokenName)}' must be 1 to 64 of A-Z, a-z, 0-9, '.', '_', '-'");
                return (int)ServerExitCode.Usage;
            }

            var accessText = result.GetValue(access)!;
            if (result.GetValue(subtree) is { } tree)
            {
                accessText += ":" + tree;
            }

            if (!TokensFile.TryParseAccess(accessText, out var parsedAccess, out var parsedSubtree, out var error))
            {
                await stderr.WriteLineAsync($"filexfer-server: {error}");
                return (int)ServerExitCode.Usage;
            }

            var secret = System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
            var entry = new TokenEntry(tokenName, parsedAccess, parsedSubtree, []);
            await stdout.WriteLineAsync("# for the server's tokens file (--tokens FILE, chmod 600):");
            await stdout.WriteLineAsync($"{entry} {secret}");
            await stdout.WriteLineAsync("# for the client (--token-file FILE, chmod 600, or FILEXFER_TOKEN):");
            await stdout.WriteLineAsync($"{tokenName}:{secret}");
            await stdout.FlushAsync(cancellationToken);
            return (int)ServerExitCode.Ok;
        });

        return new Command("token", "Manage client tokens.") { create };
    }
}
