using System.Diagnostics;
using FileXfer.Server.Storage.Local;

namespace FileXfer.Server.Tests.Storage;

/// <summary>
/// The server refuses to serve a root, or to stage uploads in a directory, that other users can write (they could
/// plant or swap what clients store and fetch), and a staging area that is a link or another user's.
/// </summary>
public sealed class RootPermissionTests : IDisposable
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private readonly TempDirectory _parent = new();

    public void Dispose() => _parent.Dispose();

    [Theory]
    [InlineData("775")]
    [InlineData("757")]
    [InlineData("777")]
    [InlineData("1777")]
    public void A_root_that_group_or_others_can_write_is_refused_with_the_fix(string mode)
    {
        var root = _parent.CreateDirectory("root");
        File.SetUnixFileMode(root, (UnixFileMode)Convert.ToInt32(mode, 8));

        var error = Assert.Throws<UnsafeDirectoryException>(() => new FileStore(root));

        Assert.Equal($"'{root}' is writable by other users (mode {mode.PadLeft(4, '0')}); fix with: chmod go-w '{root}'", error.Message);
        Assert.False(Directory.Exists(Path.Combine(root, FileStore.ReservedName)));
    }

    [Theory]
    [InlineData("755")]
    [InlineData("700")]
    [InlineData("555")]
    public void A_root_only_its_owner_can_write_is_served_and_its_staging_area_is_private(string mode)
    {
        var root = _parent.CreateDirectory("root");
        File.SetUnixFileMode(root, Private);
        var store = new FileStore(root);
        File.SetUnixFileMode(root, (UnixFileMode)Convert.ToInt32(mode, 8));

        _ = new FileStore(root);

        Assert.Equal(Private, File.GetUnixFileMode(store.StagingDirectory));
        Assert.Equal(Private, File.GetUnixFileMode(Path.GetDirectoryName(store.StagingDirectory)!));
    }

    [Theory]
    [InlineData(".filexfer", "777")]
    [InlineData(".filexfer", "770")]
    [InlineData(".filexfer/staging", "770")]
    [InlineData(".filexfer/staging", "1777")]
    public void A_staging_area_that_others_can_write_is_refused(string directory, string mode)
    {
        var root = _parent.CreateDirectory("root");
        var store = new FileStore(root);
        var path = Path.Combine(root, directory);
        File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32(mode, 8));

        var error = Assert.Throws<UnsafeDirectoryException>(() => new FileStore(root));

        Assert.Contains($"'{path}' is writable by other users", error.Message, StringComparison.Ordinal);
        Assert.Contains("chmod go-w", error.Message, StringComparison.Ordinal);
        Assert.NotNull(store);
    }

    [Fact]
    public void A_staging_area_that_is_a_link_is_refused()
    {
        var root = _parent.CreateDirectory("root");
        var elsewhere = _parent.CreateDirectory("elsewhere", "staging");
        Directory.CreateSymbolicLink(Path.Combine(root, FileStore.ReservedName), Path.GetDirectoryName(elsewhere)!);

        var error = Assert.Throws<UnsafeDirectoryException>(() => new FileStore(root));

        Assert.Contains("is a symbolic link", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_root_that_belongs_to_another_user_is_refused_whatever_its_mode()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Skip("giving a directory to another user needs root");
        }

        var token = TestContext.Current.CancellationToken;
        var root = _parent.CreateDirectory("theirs");
        File.SetUnixFileMode(root, (UnixFileMode)Convert.ToInt32("755", 8));
        using (var chown = Process.Start("chown", ["54321", root]))
        {
            await chown.WaitForExitAsync(token);
            Assert.Equal(0, chown.ExitCode);
        }

        var error = Assert.Throws<UnsafeDirectoryException>(() => new FileStore(root));

        Assert.Equal(
            $"'{root}' belongs to user 54321, not to user 0 who runs the server, and its owner can change what it holds; fix with: chown 0 '{root}'",
            error.Message);
        Assert.False(Directory.Exists(Path.Combine(root, FileStore.ReservedName)));
    }

    [Fact]
    public async Task A_staging_area_that_belongs_to_another_user_is_refused()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Skip("giving a directory to another user needs root");
        }

        var token = TestContext.Current.CancellationToken;
        var root = _parent.CreateDirectory("root");
        var store = new FileStore(root);
        using (var chown = Process.Start("chown", ["54321", store.StagingDirectory]))
        {
            await chown.WaitForExitAsync(token);
            Assert.Equal(0, chown.ExitCode);
        }

        var error = Assert.Throws<UnsafeDirectoryException>(() => new FileStore(root));

        Assert.Equal(
            $"'{store.StagingDirectory}' belongs to user 54321, not to user 0 who runs the server; fix with: chown -R 0 '{store.StagingDirectory}'",
            error.Message);
    }

    [Fact(Timeout = 60000)]
    public async Task The_server_refuses_a_root_others_can_write_with_exit_2_and_one_line()
    {
        var token = TestContext.Current.CancellationToken;
        var root = _parent.CreateDirectory("shared");
        File.SetUnixFileMode(root, (UnixFileMode)Convert.ToInt32("777", 8));
        using var server = ServerProcess.Start("--root", root, "--listen", "127.0.0.1:0");

        int exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(20), token);

        Assert.Equal(2, exitCode);
        var line = Assert.Single(server.StandardError);
        Assert.Equal($"filexfer-server: cannot use root '{root}': '{root}' is writable by other users (mode 0777); fix with: chmod go-w '{root}'", line);
        Assert.Empty(server.StandardOutput);
    }
}
