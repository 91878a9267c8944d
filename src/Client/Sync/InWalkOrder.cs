using System.Threading.Channels;

namespace FileXfer.Client.Sync;

/// <summary>
/// Hands on the results of a walk's directories in walk order, each directory's as soon as its work (hashing,
/// say) is done, while later directories' work runs: at most <see cref="TreeTransfer.ReadAhead"/> directories ahead.
/// </summary>
internal sealed class InWalkOrder<T>(Func<T, ValueTask> onItem)
{
    /// <summary>
    /// Walks from <paramref name="top"/>, each directory's results (from <paramref name="visit"/>, which also names
    /// the directories below it) handed to <paramref name="onItem"/> in walk order.
    /// </summary>
    public static async Task WalkAsync(
        DirectoryJob top,
        string localTop,
        string remoteRoot,
        RequestQueue requests,
        Func<DirectoryPair, (Task<List<T>> Items, IReadOnlyList<DirectoryJob> Children)> visit,
        Func<T, ValueTask> onItem,
        CancellationToken cancellationToken)
    {
        var inOrder = new InWalkOrder<T>(onItem);
        var emitting = inOrder.RunAsync(cancellationToken);
        try
        {
            await TreeWalk.RunAsync(
                top,
                job => TreeTransfer.FetchAsync(job, localTop, remoteRoot, requests),
                async pair =>
                {
                    var (items, children) = visit(pair);
                    await inOrder.AddAsync(items, cancellationToken);
                    return children;
                },
                TreeTransfer.ReadAhead,
                cancellationToken);
        }
        finally
        {
            inOrder.Complete();
        }

        await emitting;
    }

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
