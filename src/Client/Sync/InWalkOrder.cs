using System.Threading.Channels;

namespace FileXfer.Client.Sync;

/// <summary>
/// Hands on the results of a walk's directories in walk order, each directory's as soon as its work (hashing,
/// say) is done, while later directories' work runs: at most <see cref="TreeTransfer.ReadAhead"/> directories ahead.
/// </summary>
internal sealed class InWalkOrder<T>(Func<T, ValueTask> onItem)
{
    private readonly Channel<Task<List<T>>> _directories = Channel.CreateBounded<Task<List<T>>>(TreeTransfer.ReadAhead);

    /// <summary>Adds the next directory's results (waits while too many are ahead).</summary>
    public ValueTask AddAsync(Task<List<T>> items, CancellationToken cancellationToken) => _directories.Writer.WriteAsync(items, cancellationToken);

    /// <summary>No more directories.</summary>
    public void Complete() => _directories.Writer.TryComplete();

    /// <summary>Hands on every directory's results, in order, until <see cref="Complete"/>.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await foreach (var directory in _directories.Reader.ReadAllAsync(cancellationToken))
        {
            foreach (var item in await directory)
            {
                await onItem(item);
            }
        }
    }
}
