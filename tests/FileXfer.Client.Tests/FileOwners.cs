using System.Diagnostics;
using System.Globalization;

namespace FileXfer.Client.Tests;

/// <summary>Who owns a test's files, for the tests that run a program as another user (the caller must be root).</summary>
public static class FileOwners
{
    /// <summary>
    /// Skips the test, saying why, where <paramref name="program"/> (the client, the server) cannot be run as another user
    /// over files that user does not own: not on Unix, not root, or without util-linux's setpriv.
    /// </summary>
    public static void SkipUnlessRunnableAsAnotherUser(string program)
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "Unix owners and setpriv are needed");
        Assert.SkipUnless(Environment.UserName == "root", $"only root can run the {program} as another user and make files it does not own");
        Assert.SkipUnless(File.Exists("/usr/bin/setpriv"), $"setpriv (util-linux) is needed to run the {program} as another user");
    }

    /// <summary>Gives <paramref name="path"/> to user and group <paramref name="id"/>, through chown(1).</summary>
    public static async Task ChownAsync(string path, int id, CancellationToken cancellationToken)
    {
        var owner = id.ToString(CultureInfo.InvariantCulture);
        using var chown = Process.Start("chown", [$"{owner}:{owner}", path]);
        await chown.WaitForExitAsync(cancellationToken);
        Assert.Equal(0, chown.ExitCode);
    }
}
