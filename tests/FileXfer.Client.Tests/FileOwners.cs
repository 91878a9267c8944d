using System.Diagnostics;
using System.Globalization;

namespace FileXfer.Client.Tests;

/// <summary>Who owns a test's files, for the tests that run a program as another user (the caller must be root).</summary>
public static class FileOwners
{
    /// <summary>Gives <paramref name="path"/> to user and group <paramref name="id"/>, through chown(1).</summary>
    public static async Task ChownAsync(string path, int id, CancellationToken cancellationToken)
    {
        var owner = id.ToString(CultureInfo.InvariantCulture);
        using var chown = Process.Start("chown", [$"{owner}:{owner}", path]);
        await chown.WaitForExitAsync(cancellationToken);
        Assert.Equal(0, chown.ExitCode);
    }
}
