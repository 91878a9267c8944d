using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace FileXfer.Platform;

/// <summary>
/// The system calls that make written files and renames durable, which .NET does not expose: a directory's
/// <c>fsync</c> and Linux's <c>syncfs</c>. Both sides use them to commit received files in groups.
/// </summary>
public static partial class Durable
{
    /// <summary>True where <see cref="SyncFileSystem"/> works (Linux).</summary>
    public static bool CanSyncFileSystem => OperatingSystem.IsLinux();

    /// <summary>
    /// Makes a rename in <paramref name="directory"/> durable. Without this, a crash right after a rename can
    /// lose it even though the file's own data was flushed.
    /// </summary>
    public static void FsyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        SafeFileHandle handle;
        try
        {
            handle = Posix.OpenDirectory(directory);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new IOException($"cannot open directory for fsync: {ex.Message}", ex);
        }

        using var directoryHandle = handle;
        FsyncDirectory(directoryHandle);
    }

    /// <summary>The same through a directory handle already open. Linux only.</summary>
    /// <exception cref="IOException">The fsync failed.</exception>
    public static void FsyncDirectory(SafeFileHandle directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (Fsync(directory) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"fsync of a directory failed: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }
    }

    /// <summary>
    /// True when a directory's fsync failed only because its file system does not sync directories (EINVAL,
    /// EOPNOTSUPP: its renames are as durable as it makes them, and nothing more can be done); false for a real
    /// failure (EIO, ENOSPC, ...), after which the names in that directory may not survive a power loss, so the files
    /// must not be reported stored.
    /// </summary>
    public static bool IsUnsupportedDirectorySync(IOException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        const int EINVAL = 22;
        const int EOPNOTSUPP = 95;
        return exception.HResult is EINVAL or EOPNOTSUPP;
    }

    /// <summary>Writes an open file's data to the device (fsync). Linux only.</summary>
    /// <exception cref="IOException">The fsync failed.</exception>
    public static void FsyncFile(SafeFileHandle file)
    {
        if (Fsync(file) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"fsync failed: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }
    }

    /// <summary>
    /// Flushes every file of the file system that holds <paramref name="anyFile"/> to disk: one call instead of
    /// one <c>fsync</c> per file for a group of files. Callers on several threads share the calls (see
    /// <see cref="SharedSync"/>): what each wrote before it called is on disk when it returns, but while one
    /// <c>syncfs</c> runs, those who call meanwhile wait and are served together by the next one.
    /// </summary>
    /// <exception cref="PlatformNotSupportedException">Not Linux; flush each file instead.</exception>
    /// <exception cref="IOException">The syncfs that was to cover this call failed.</exception>
    public static void SyncFileSystem(SafeFileHandle anyFile)
    {
        ArgumentNullException.ThrowIfNull(anyFile);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("syncfs is Linux only");
        }

        if (!Posix.TryStat(anyFile, out var status, out _))
        {
            // The file system cannot be told: a syncfs of its own.
            SyncFileSystemNow(anyFile);
            return;
        }

        SharedSync sync;
        lock (SharedSyncs)
        {
            if (!SharedSyncs.TryGetValue(status.Device, out sync!))
            {
                SharedSyncs[status.Device] = sync = new SharedSync();
            }
        }

        sync.Run(anyFile);
    }

    private static void SyncFileSystemNow(SafeFileHandle anyFile)
    {
        if (SyncFs(anyFile) != 0)
        {
            throw new IOException($"syncfs failed (errno {Marshal.GetLastPInvokeError()})");
        }
    }

    private static long s_sharedCalls;

    /// <summary>The shared syncfs calls made so far in this process (for tests).</summary>
    internal static long SharedSyncCalls => Interlocked.Read(ref s_sharedCalls);

    // One per file system (device number) synced in this process.
    private static readonly Dictionary<ulong, SharedSync> SharedSyncs = [];

    /// <summary>
    /// The <c>syncfs</c> calls of one file system, shared by the threads that need one: a group commit of group
    /// commits. A caller needs a syncfs that starts after it called (one already running may have started before
    /// its data was written): when none runs it starts one; while one runs it waits, and the first waiter to wake
    /// after it ends starts the next, which serves every caller that arrived meanwhile. With four connections each
    /// committing its own groups, four flushes of the same file system become about one.
    /// </summary>
    private sealed class SharedSync
    {
        private readonly object _gate = new();
        private long _started;
        private long _completed;
        private bool _running;
        private long _lastFailed = -1;
        private string? _lastError;

        public void Run(SafeFileHandle anyFile)
        {
            lock (_gate)
            {
                long needed = _started + 1;
                while (_completed < needed)
                {
                    if (_running)
                    {
                        Monitor.Wait(_gate);
                        continue;
                    }

                    _running = true;
                    long generation = ++_started;
                    string? error = null;
                    Monitor.Exit(_gate);
                    try
                    {
                        Interlocked.Increment(ref s_sharedCalls);
                        if (SyncFs(anyFile) != 0)
                        {
                            error = $"syncfs failed (errno {Marshal.GetLastPInvokeError()})";
                        }
                    }
                    finally
                    {
                        Monitor.Enter(_gate);
                        _running = false;
                        _completed = generation;
                        if (error is not null)
                        {
                            (_lastFailed, _lastError) = (generation, error);
                        }

                        Monitor.PulseAll(_gate);
                    }
                }

                // Served by the syncfs numbered needed, or a later one: any of those failing fails this call.
                if (_lastFailed >= needed)
                {
                    throw new IOException(_lastError);
                }
            }
        }
    }

    /// <summary>
    /// Flushes a group of written files to disk, as <paramref name="policy"/> (default <see cref="SyncPolicy.Default"/>)
    /// decides per file system: one <c>syncfs</c> where that is trusted, else each file. <paramref name="device"/> is the
    /// file system they all lie on when the caller knows it; 0 (unknown): they may lie on several, and each is examined.
    /// </summary>
    public static void FlushAll(IReadOnlyList<InlineFileStream> files, ulong device = 0, SyncPolicy? policy = null)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (!OperatingSystem.IsLinux())
        {
            foreach (var file in files)
            {
                file.FlushToDisk();
            }

            return;
        }

        (policy ?? SyncPolicy.Default).FlushAll([.. files.Select(f => f.Handle)], device);
    }

    /// <summary>
    /// Asks the device to start writing <paramref name="count"/> bytes of <paramref name="file"/> from
    /// <paramref name="offset"/> back now (Linux <c>sync_file_range</c> with <c>SYNC_FILE_RANGE_WRITE</c>), without
    /// waiting for it. A large file written this way as it arrives is mostly on the device when it is flushed at the
    /// end, so that flush waits for the last stretch only. Best effort: where the call is missing or refused
    /// (another system, a pipe, a file system without writeback), nothing happens; the flush at the end is what
    /// makes the file durable.
    /// </summary>
    public static void StartWriteback(SafeFileHandle file, long offset, long count)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (OperatingSystem.IsLinux() && count > 0)
        {
            _ = SyncFileRange(file, offset, count, SyncFileRangeWrite);
        }
    }

    private const uint SyncFileRangeWrite = 2;

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static partial int SyncFileRange(SafeFileHandle fd, long offset, long count, uint flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(SafeFileHandle fd);

    [LibraryImport("libc", EntryPoint = "syncfs", SetLastError = true)]
    private static partial int SyncFs(SafeFileHandle fd);
}
