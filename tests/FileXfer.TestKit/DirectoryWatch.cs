namespace FileXfer.TestKit;

/// <summary>Waits for a condition on a directory's contents, woken by file-system events rather than a polling delay.</summary>
public static class DirectoryWatch
{
    /// <summary>
    /// Completes as soon as <paramref name="condition"/> holds, re-checking it on every change in
    /// <paramref name="directory"/>; fails when <paramref name="timeout"/> passes first.
    /// </summary>
    public static async Task UntilAsync(string directory, Func<bool> condition, TimeSpan timeout, string description, CancellationToken cancellationToken)
    {
        using var changed = new SemaphoreSlim(0);
        using var watcher = new FileSystemWatcher(directory)
        {
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.LastWrite,
        };
        void Wake(object sender, EventArgs e) => changed.Release();
        watcher.Created += Wake;
        watcher.Changed += Wake;
        watcher.Deleted += Wake;
        watcher.Renamed += Wake;
        watcher.Error += Wake;
        watcher.EnableRaisingEvents = true;

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            // Checked after the watcher is armed, so a change between the check and the wait still wakes it.
            while (!condition())
            {
                await changed.WaitAsync(deadline.Token);
            }
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"timed out after {timeout.TotalSeconds:F0} s waiting until {description}", ex);
        }
    }
}
