using Microsoft.Extensions.Logging;

namespace FileXfer.Server.Security;

/// <summary>
/// Reads the tokens file again (on SIGHUP) and puts its tokens in place of the ones in use, only when the whole file
/// is good: a file that cannot be read, is open to others, is malformed or holds no token keeps the old tokens, and
/// the log says why.
/// </summary>
internal static class TokensReload
{
    /// <summary>True when the tokens were replaced.</summary>
    public static bool TryReload(TokenAuthenticator authenticator, string path, ILogger logger)
    {
        IReadOnlyList<TokenEntry> tokens;
        try
        {
            tokens = TokensFile.Load(path);
        }
        catch (TokensFileException ex)
        {
            ServerLog.TokensReloadFailed(logger, authenticator.Count, ex.Message);
            return false;
        }

        if (tokens.Count == 0)
        {
            ServerLog.TokensReloadFailed(logger, authenticator.Count, $"tokens file '{path}' holds no token; no client could connect");
            return false;
        }

        authenticator.Replace(tokens);
        ServerLog.TokensReloaded(logger, tokens.Count, path);
        return true;
    }
}
