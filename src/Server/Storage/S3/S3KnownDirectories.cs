namespace FileXfer.Server.Storage.S3;

/// <summary>
/// The directories this server recently made or found (by key, the marker's key without its final <c>/</c>), shared by
/// all its connections: a tree's files, spread over several connections, cost the directory checks (a HEAD for a file
/// in the way, a HEAD and maybe a PUT of the marker) once per directory, not once per file or per connection.
/// </summary>
/// <remarks>
/// What was learned is trusted for <see cref="S3Subdirectories.FreshFor"/>, then checked again; a delete through this
/// server forgets what it removed. Another server's or client's change within that time is not seen: a file made
/// in the way of a directory meanwhile leaves a file and a directory of the same name, a marker deleted meanwhile
/// leaves the directory implicit (its keys still make it one; only its time and mode are lost). Nothing stored is
/// lost either way.
/// </remarks>
internal sealed class S3KnownDirectories(TimeProvider timeProvider)
{
    private readonly Dictionary<string, Known> _byKey = new(StringComparer.Ordinal);

    /// <summary>Runs <paramref name="ensure"/> for <paramref name="key"/> unless it ran (or runs) for it recently.</summary>
    public async Task EnsureAsync(string key, Func<Task> ensure, CancellationToken cancellationToken)
    {
        Task ensured;
        var now = timeProvider.GetUtcNow();
        lock (_byKey)
        {
            if (!_byKey.TryGetValue(key, out var known) || now - known.At > S3Subdirectories.FreshFor)
            {
                known = new Known(now, ensure());
                _byKey[key] = known;
            }

            ensured = known.Ensured;
        }

        try
        {
            await ensured.WaitAsync(cancellationToken);
        }
        catch (FileXferException)
        {
            lock (_byKey)
            {
                // Not kept: the next file asks again (the file in the way may be gone by then).
                if (_byKey.TryGetValue(key, out var failed) && failed.Ensured == ensured)
                {
                    _byKey.Remove(key);
                }
            }

            throw;
        }
    }

    /// <summary>Forgets <paramref name="key"/> and every directory below it.</summary>
    public void Forget(string key)
    {
        lock (_byKey)
        {
            foreach (var known in _byKey.Keys.Where(k => k == key || k.StartsWith(key + "/", StringComparison.Ordinal)).ToList())
            {
                _byKey.Remove(known);
            }
        }
    }

    private sealed record Known(DateTimeOffset At, Task Ensured);
}
