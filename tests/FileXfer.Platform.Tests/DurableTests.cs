namespace FileXfer.Platform.Tests;

/// <summary>Flushing groups of files: one syncfs per file system, and every file system the group touches.</summary>
public sealed class DurableTests : IDisposable
{
    private readonly List<string> _directories = [];

    public void Dispose()
    {
        foreach (var directory in _directories)
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact(Timeout = 10000)]
    public async Task A_group_on_two_file_systems_is_flushed_through_one_file_of_each()
    {
        if (!OperatingSystem.IsLinux() || !Directory.Exists("/dev/shm"))
        {
            Assert.Skip("needs Linux with a tmpfs at /dev/shm");
        }

        var token = TestContext.Current.CancellationToken;
        var disk = NewDirectory(Path.GetTempPath());
        var memory = NewDirectory("/dev/shm");
        if (SameDevice(disk, memory))
        {
            Assert.Skip("the temp directory is on /dev/shm's file system");
        }

        var files = new List<InlineFileStream>();
        try
        {
            foreach (var (directory, name) in new[] { (disk, "a"), (disk, "b"), (memory, "c"), (disk, "d"), (memory, "e") })
            {
                var file = InlineFileStream.CreateNew(Path.Combine(directory, name));
                await file.WriteAsync("data"u8.ToArray(), token);
                files.Add(file);
            }

            var chosen = Durable.OnePerFileSystem(files);

            Assert.Equal([files[0], files[2]], chosen);
            Durable.FlushAll(files);
        }
        finally
        {
            foreach (var file in files)
            {
                await file.DisposeAsync();
            }
        }
    }

    [Fact(Timeout = 10000)]
    public async Task A_group_on_one_file_system_is_flushed_through_its_first_file()
    {
        var token = TestContext.Current.CancellationToken;
        var directory = NewDirectory(Path.GetTempPath());
        var files = new List<InlineFileStream>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                var file = InlineFileStream.CreateNew(Path.Combine(directory, $"f{i}"));
                await file.WriteAsync("data"u8.ToArray(), token);
                files.Add(file);
            }

            if (OperatingSystem.IsLinux())
            {
                Assert.Equal([files[0]], Durable.OnePerFileSystem(files));
            }

            Durable.FlushAll(files);
        }
        finally
        {
            foreach (var file in files)
            {
                await file.DisposeAsync();
            }
        }

        Assert.All(Enumerable.Range(0, 3), i => Assert.Equal("data", File.ReadAllText(Path.Combine(directory, $"f{i}"))));
    }

    private static bool SameDevice(string first, string second)
    {
        using var a = File.OpenHandle(Path.Combine(first, "probe"), FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.DeleteOnClose);
        using var b = File.OpenHandle(Path.Combine(second, "probe"), FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.DeleteOnClose);
        return Posix.TryStat(a, out var sa, out _) && Posix.TryStat(b, out var sb, out _) && sa.Device == sb.Device;
    }

    private string NewDirectory(string parent)
    {
        var path = Path.Combine(parent, "filexfer-durable-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        _directories.Add(path);
        return path;
    }
}
