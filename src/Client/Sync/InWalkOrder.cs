using System.Threading.Channels;

namespace FileXfer.Client.Sync;

/// <summary>
/// Hands on the results of a walk in walk order (each directory's in the order its visit added them), each as soon as
/// its work (hashing, say) and that of every result before it are done, while later results' work runs: at most
/// <c>window</c> results are unfinished or waiting at once, whatever the number of files (a directory of a million files
/// is not a million tasks), and the walk waits while the window is full.
/// </summary>
internal sealed class InWalkOrder<T>
{
    private readonly Channel<Task<T>> _items;
    private readonly Func<T, ValueTask> _onItem;

    private InWalkOrder(int window, Func<T, ValueTask> onItem)
    {
        _items = Channel.CreateBounded<Task<T>>(new BoundedChannelOptions(Math.Max(1, window)) { SingleReader = true });
        _onItem = onItem;
    }

    /// <summary>
    /// Walks from <paramref name="top"/>; <paramref name="visit"/> adds each directory's results through the function it
    /// is given (which waits while <paramref name="window"/> results are ahead) and names the directories below it. The
    /// results go to <paramref name="onItem"/> in walk order. A result that fails stops the walk with its failure.
    /// </summary>
    public static async Task WalkAsync(
        DirectoryJob top,
        string localTop,
        string remoteRoot,
        RequestQueue requests,
        int window,
        Func<DirectoryPair, Func<Task<T>, ValueTask>, ValueTask<IReadOnlyList<DirectoryJob>>> visit,
        Func<T, ValueTask> onItem,
        CancellationToken cancellationToken)
    {
        var inOrder = new InWalkOrder<T>(window, onItem);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var emitting = inOrder.RunAsync(stop, stop.Token);
        try
        {
            await TreeWalk.RunAsync(
                top,
                job => TreeTransfer.FetchAsync(job, localTop, remoteRoot, requests),
                pair => visit(pair, item => inOrder._items.Writer.WriteAsync(item, stop.Token)),
                TreeTransfer.ReadAhead,
                stop.Token);
        }
        catch (Exception walkFailure)
        {
            // Nothing more is handed on after the walk failed; when a result's failure stopped it, that one is raised.
            await stop.CancelAsync();
            inOrder._items.Writer.TryComplete();
            await emitting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (emitting.IsFaulted)
            {
                await emitting;
            }

            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(walkFailure);
        }

        inOrder._items.Writer.TryComplete();
        await emitting;
    }

    /// <summary>Hands on every result, in order, until the walk ends; a failure stops the walk (<paramref name="stop"/>).</summary>
    private async Task RunAsync(CancellationTokenSource stop, CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            await foreach (var item in _items.Reader.ReadAllAsync(cancellationToken))
            {
                await _onItem(await item);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            await stop.CancelAsync();
            throw;
        }
    }
}
