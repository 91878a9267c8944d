namespace FileXfer.Client;

/// <summary>The requests a <see cref="RequestQueue"/> pipelines, and the queue's run over this connection.</summary>
public sealed partial class FileXferClient
{
    /// <summary>
    /// Starts a queue of pipelined small requests on this connection; the connection serves nothing else until the
    /// queue is completed. Listings need nothing from the server; directory changes need the Trees capability.
    /// </summary>
    public RequestQueue StartRequestQueue(CancellationToken cancellationToken) =>
        new(_options.HashAlgorithm, requests => PipelineAsync<QueuedRequest, bool>(
            requests,
            async (request, id, token) =>
            {
                await _writer.WriteAsync(request.Build(id), token);
                return true;
            },
            (request, _, id, token) => ((IReceives)request).ReceiveAsync(this, id, token),
            cancellationToken));

    private interface IReceives
    {
        Task ReceiveAsync(FileXferClient client, uint id, CancellationToken cancellationToken);
    }

    /// <summary>A queued request whose answer is a <typeparamref name="T"/>.</summary>
    internal abstract class QueuedRequest<T> : QueuedRequest, IReceives
    {
        private readonly TaskCompletionSource<T> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<T> Task => _answer.Task;

        public async Task ReceiveAsync(FileXferClient client, uint id, CancellationToken cancellationToken)
        {
            T result;
            try
            {
                result = await ReadAsync(client, id, cancellationToken);
            }
            catch (FileXferException ex) when (client.IsItemFailure(ex))
            {
                // The server refused this request only; the connection is still in step.
                Settle(() => _answer.TrySetException(ex));
                return;
            }

            Settle(() => _answer.TrySetResult(result));
        }

        internal override void Fail(Exception error) => Settle(() => _answer.TrySetException(error));

        protected abstract Task<T> ReadAsync(FileXferClient client, uint id, CancellationToken cancellationToken);

        private void Settle(Func<bool> settle)
        {
            if (settle())
            {
                OnAnswered();
            }
        }
    }

    /// <summary>A request whose server error is its result's error, not an exception.</summary>
    internal abstract class ItemRequest(string remotePath) : QueuedRequest<BatchItemResult>
    {
        protected string Remote { get; } = RemotePath.Normalize(remotePath);

        protected sealed override async Task<BatchItemResult> ReadAsync(FileXferClient client, uint id, CancellationToken cancellationToken)
        {
            try
            {
                return Result(client, await client.ReadResponseAsync(id, MessageType.Ok, cancellationToken));
            }
            catch (FileXferException ex) when (client.IsItemFailure(ex))
            {
                return new BatchItemResult(Remote, null, 0, client._options.HashAlgorithm, null, ex);
            }
        }

        protected virtual BatchItemResult Result(FileXferClient client, Frame ok) =>
            new(Remote, null, 0, client._options.HashAlgorithm, null, null);
    }

    internal sealed class ListRequest(string remotePath) : QueuedRequest<DirectoryListing>
    {
        private readonly string _remote = RemotePath.Normalize(remotePath);

        internal override Frame Build(uint id) => Messages.List(id, _remote, ListFlags.None);

        protected override Task<DirectoryListing> ReadAsync(FileXferClient client, uint id, CancellationToken cancellationToken) =>
            client.ReadListingAsync(id, _remote, cancellationToken);
    }

    internal sealed class StatRequest(string remotePath) : QueuedRequest<RemoteEntry>
    {
        private readonly string _remote = RemotePath.Normalize(remotePath);

        internal override Frame Build(uint id) => Messages.PathRequest(MessageType.Stat, id, _remote);

        protected override async Task<RemoteEntry> ReadAsync(FileXferClient client, uint id, CancellationToken cancellationToken) =>
            Messages.ReadEntry(await client.ReadResponseAsync(id, MessageType.Ok, cancellationToken));
    }

    internal sealed class HashRequest(string remotePath, string algorithm) : ItemRequest(remotePath)
    {
        internal override Frame Build(uint id) => Messages.Hash(id, Remote, algorithm);

        protected override BatchItemResult Result(FileXferClient client, Frame ok) =>
            new(Remote, null, ok.GetSize(FieldTag.Size), algorithm, ok.GetBytes(FieldTag.HashValue), null);
    }

    internal sealed class MakeDirectoryRequest(RemoteEntry directory, DateTimeOffset? parentModified) : ItemRequest(directory.Name)
    {
        internal override Frame Build(uint id) => Messages.WithParentTime(Messages.MakeDirectory(id, Remote, directory.ModifiedUtc, directory.Mode), parentModified);

        protected override BatchItemResult Result(FileXferClient client, Frame ok) =>
            base.Result(client, ok) with { ParentTimeNotSet = Messages.ReadParentTimeNotSet(ok) };
    }

    internal sealed class CreateDirectoryRequest(string remotePath) : ItemRequest(remotePath)
    {
        internal override Frame Build(uint id) => Messages.MakeDirectory(id, Remote, modified: null, mode: null);
    }

    internal sealed class DeleteRequest(string remotePath) : ItemRequest(remotePath)
    {
        internal override Frame Build(uint id) => Messages.PathRequest(MessageType.Delete, id, Remote);
    }
}
