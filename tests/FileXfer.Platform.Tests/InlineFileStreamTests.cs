using System.Diagnostics;

namespace FileXfer.Platform.Tests;

/// <summary>
/// The file stream of transfers: positioned reads and writes on the handle with its own position, the length it
/// knows for files it created, and the behaviours callers rely on from <see cref="FileStream"/>.
/// </summary>
public sealed class InlineFileStreamTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("filexfer-inline-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact(Timeout = 10000)]
    public async Task A_created_file_is_owner_only_written_in_order_and_knows_its_length()
    {
        var token = TestContext.Current.CancellationToken;
        var path = Path.Combine(_directory, "new.bin");
        await using (var file = InlineFileStream.CreateNew(path))
        {
            await file.WriteAsync("hello "u8.ToArray(), token);
            await file.WriteAsync("world"u8.ToArray(), token);
            Assert.Equal(11, file.Length);
            Assert.Equal(11, file.Position);
        }

        Assert.Equal("hello world", await File.ReadAllTextAsync(path, token));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        Assert.Throws<IOException>(() => InlineFileStream.CreateNew(path).Dispose());
    }

    [Fact(Timeout = 10000)]
    public async Task Reads_follow_the_position_and_a_seek_moves_it()
    {
        var token = TestContext.Current.CancellationToken;
        var path = Path.Combine(_directory, "read.txt");
        await File.WriteAllTextAsync(path, "0123456789", token);
        await using var file = InlineFileStream.OpenRead(path);
        var buffer = new byte[4];

        Assert.Equal(4, await file.ReadAsync(buffer, token));
        Assert.Equal("0123"u8.ToArray(), buffer);
        file.Position = 8;
        Assert.Equal(2, await file.ReadAsync(buffer, token));
        Assert.Equal(0, await file.ReadAsync(buffer, token));
        Assert.Equal(3, file.Seek(-7, SeekOrigin.End));
        Assert.Equal(10, file.Length);
    }

    [Fact(Timeout = 10000)]
    public async Task Shortening_a_file_below_the_position_moves_the_position_to_the_end_as_FileStream_does()
    {
        // A resumed download that the server restarts cuts its partial to 0 and writes from there.
        var token = TestContext.Current.CancellationToken;
        var path = Path.Combine(_directory, "partial");
        await using (var file = InlineFileStream.OpenResumable(path))
        {
            await file.WriteAsync("old bytes"u8.ToArray(), token);
            file.SetLength(0);
            await file.WriteAsync("new"u8.ToArray(), token);
        }

        Assert.Equal("new", await File.ReadAllTextAsync(path, token));
    }

    [Fact(Timeout = 10000)]
    public async Task A_handle_of_a_pipe_is_read_in_sequence()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("positioned reads are Linux's");
        }

        var token = TestContext.Current.CancellationToken;
        var fifo = Path.Combine(_directory, "fifo");
        using (var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", [fifo]) { UseShellExecute = false })!)
        {
            await mkfifo.WaitForExitAsync(token);
        }

        var writer = Task.Run(() => File.WriteAllText(fifo, "through a pipe"), token);
        await using var file = InlineFileStream.OpenRead(fifo);
        using var copy = new MemoryStream();
        await file.CopyToAsync(copy, token);
        await writer;

        Assert.Equal("through a pipe"u8.ToArray(), copy.ToArray());
    }
}
