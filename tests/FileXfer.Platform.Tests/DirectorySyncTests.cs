namespace FileXfer.Platform.Tests;

/// <summary>A directory's fsync: done for real where it can be, and which of its failures mean "not stored".</summary>
public sealed class DirectorySyncTests
{
    [Fact]
    public void A_directory_is_synced_by_path_and_a_missing_one_fails_with_an_io_error()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "directory fsync is Linux only");
        var directory = Directory.CreateTempSubdirectory("fx-dirsync-");
        try
        {
            Durable.FsyncDirectory(directory.FullName);
            Assert.ThrowsAny<IOException>(() => Durable.FsyncDirectory(Path.Combine(directory.FullName, "missing")));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData(22, true)] // EINVAL: the file system does not sync directories
    [InlineData(95, true)] // EOPNOTSUPP
    [InlineData(5, false)] // EIO: the device failed; the names may be lost
    [InlineData(28, false)] // ENOSPC
    [InlineData(122, false)] // EDQUOT
    [InlineData(0, false)] // not from the system call at all: a directory that could not be opened
    public void Only_a_file_system_that_does_not_sync_directories_is_excused(int errno, bool excused) =>
        Assert.Equal(excused, Durable.IsUnsupportedDirectorySync(new IOException("fsync of a directory failed", errno)));
}
