using System.Threading.Channels;
using FileXfer.Protocol.Transfer;

namespace FileXfer.Client;

/// <summary>
/// The request pipeline of one connection: a sender sends a request per item, at most a window ahead of a receiver that
/// reads the answers in order. Items may come as they are found: whenever the next one is not ready yet, what was
/// written is sent first, so no request waits in a buffer for a later one. The connection's owner holds it exclusively
/// for the run and gives the request ids.
/// </summary>
internal static class RequestPipeline
{
    /// <summary>Once the window is full, how many answers the sender waits for before it sends again (at most half the window).</summary>
    internal const int RefillBatch = 32;

    /// <summary>Runs the pipeline over <paramref name="items"/> until every answer was received, or one side failed.</summary>
    /// <param name="items">The items, one request each.</param>
    /// <param name="writer">The connection's writer, flushed whenever the sender would otherwise wait.</param>
    /// <param name="nextId">Gives each request its id.</param>
    /// <param name="window">How many requests may be in flight before the sender waits for answers.</param>
    /// <param name="send">Writes an item's request; what it returns is handed to <paramref name="receive"/> with the item.</param>
    /// <param name="receive">Reads an item's answer.</param>
    /// <param name="cancellationToken">Stops both sides.</param>
    public static async Task RunAsync<TItem, TSent>(
        IAsyncEnumerable<TItem> items,
        FrameWriter writer,
        Func<uint> nextId,
        int window,
        Func<TItem, uint, CancellationToken, Task<TSent>> send,
        Func<TItem, TSent, uint, CancellationToken, Task> receive,
        CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var inFlight = Channel.CreateBounded<(TItem Item, TSent Sent, uint Id)>(new BoundedChannelOptions(window)
        {
            SingleReader = true,
            SingleWriter = true,
        });

        var refill = new Refill();
        int refillAt = Math.Max(0, window - Math.Min(RefillBatch, window / 2));
        var sender = Task.Run(async () =>
        {
            try
            {
                // The items have their own stop: a failed flush stops them alone, and the failure is the connection's.
                using var itemsStop = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                await using var next = items.GetAsyncEnumerator(itemsStop.Token);
                while (true)
                {
                    var more = next.MoveNextAsync();
                    if (!more.IsCompleted)
                    {
                        try
                        {
                            await writer.FlushAsync(stop.Token);
                        }
                        catch
                        {
                            // An async iterator cannot be disposed while its MoveNextAsync runs (NotSupportedException,
                            // which would hide the connection's failure and stop the retry): stop it and let it end first.
                            await itemsStop.CancelAsync();
                            try
                            {
                                await more;
                            }
                            catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
                            {
                                // It stopped; the flush's failure is the one to report.
                            }

                            throw;
                        }
                    }

                    if (!await more)
                    {
                        break;
                    }

                    var item = next.Current;
                    uint id = nextId();
                    var sent = await send(item, id, stop.Token);
                    if (!inFlight.Writer.TryWrite((item, sent, id)))
                    {
                        // The window is full: send what is gathered so the answers can come back, then wait until a
                        // few have (RefillBatch), not just one: else, once the window fills, every answer lets one
                        // request through and each goes out in a send of its own, waking the server for each.
                        await writer.FlushAsync(stop.Token);
                        if (refill.WaitUntilDrained(inFlight.Reader, refillAt) is { } drained)
                        {
                            await drained.WaitAsync(stop.Token);
                        }

                        await inFlight.Writer.WriteAsync((item, sent, id), stop.Token);
                    }
                }

                await writer.FlushAsync(stop.Token);
                inFlight.Writer.Complete();
            }
            catch (Exception ex)
            {
                inFlight.Writer.Complete(ex);
                throw;
            }
        }, CancellationToken.None);

        try
        {
            await foreach (var (item, sent, id) in inFlight.Reader.ReadAllAsync(stop.Token))
            {
                refill.Drained(inFlight.Reader, refillAt);
                await receive(item, sent, id, stop.Token);
            }
        }
        catch (Exception ex) when (ex is not ChannelClosedException)
        {
            // The receiver failed (the connection broke): stop the sender too.
            await stop.CancelAsync();
            try
            {
                await sender;
            }
            catch (Exception senderFailure) when (senderFailure is OperationCanceledException or IOException or FileXferException)
            {
                // The receiver's failure is the one to report; the sender only stopped because of it.
            }

            throw;
        }
        catch (ChannelClosedException ex) when (ex.InnerException is not null)
        {
            // The sender failed: its exception is the cause.
            await sender.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw ex.InnerException;
        }

        await sender;
    }

    /// <summary>The sender's wait, once the window is full, for the in-flight requests to drop to a mark.</summary>
    private sealed class Refill
    {
        private readonly Lock _gate = new();
        private TaskCompletionSource? _waiting;

        /// <summary>Null when at most <paramref name="mark"/> requests are in flight, else the task of that moment.</summary>
        public Task? WaitUntilDrained<T>(ChannelReader<T> inFlight, int mark)
        {
            lock (_gate)
            {
                if (inFlight.Count <= mark)
                {
                    return null;
                }

                _waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                return _waiting.Task;
            }
        }

        /// <summary>The receiver took a request off: releases the sender once the mark is reached.</summary>
        public void Drained<T>(ChannelReader<T> inFlight, int mark)
        {
            lock (_gate)
            {
                if (_waiting is { } waiting && inFlight.Count <= mark)
                {
                    _waiting = null;
                    waiting.TrySetResult();
                }
            }
        }
    }
}
