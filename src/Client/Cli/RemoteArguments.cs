using System.CommandLine;
using System.Runtime.CompilerServices;

namespace FileXfer.Client.Cli;

/// <summary>
/// Checks remote paths given on the command line before anything connects. .NET decodes arguments that are not
/// UTF-8 with U+FFFD, so such a path would silently name another remote file (<c>put f $'bad\xff'</c> would store
/// <c>bad\ufffd</c>). The wire rules allow U+FFFD (another client may store it); only the command line refuses it.
/// </summary>
internal static class RemoteArguments
{
    // The arguments that name remote paths, for NAME:path (see Remotes.RemoteSelection); true when only the last token is one.
    private static readonly ConditionalWeakTable<Argument, StrongBox<bool>> Remote = [];

    /// <summary>True when <paramref name="argument"/> takes remote paths; <paramref name="lastOnly"/> when only its last token is one.</summary>
    public static bool IsRemote(Argument argument, out bool lastOnly)
    {
        lastOnly = Remote.TryGetValue(argument, out var box) && box.Value;
        return box is not null;
    }

    /// <summary>Adds the check to <paramref name="argument"/>: every token, or only the last one (verify's REMOTE).</summary>
    public static Argument<T> Checked<T>(Argument<T> argument, bool lastOnly = false)
    {
        ArgumentNullException.ThrowIfNull(argument);
        Remote.AddOrUpdate(argument, new StrongBox<bool>(lastOnly));
        argument.Validators.Add(result =>
        {
            var tokens = lastOnly ? result.Tokens.TakeLast(1) : result.Tokens;
            foreach (var token in tokens)
            {
                if (token.Value.Contains('\uFFFD', StringComparison.Ordinal))
                {
                    result.AddError($"invalid remote path '{RemotePath.Escape(token.Value)}': not valid UTF-8 (U+FFFD)");
                }
            }
        });
        return argument;
    }
}
