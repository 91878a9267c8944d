using System.Runtime.CompilerServices;
using System.Threading.Channels;
using FileXfer.Protocol.Transfer;

namespace FileXfer.Client.Tests;

/// <summary>The request pipeline of one connection: how it ends when the connection breaks.</summary>
public class RequestPipelineTests
{
    /// <summary>
    /// Found by the soak (bench/soak): a tree transfer whose connection broke while the sender flushed, waiting for
    /// the next file, ended with "unexpected error (NotSupportedException)" and exit 1, not retried: the sender
    /// disposed the items' async iterator while its MoveNextAsync was still running, which an async iterator refuses.
    /// </summary>
    [Fact]
    public async Task A_connection_that_breaks_while_the_next_item_is_awaited_fails_the_run_with_the_connections_error()
    {
        var token = TestContext.Current.CancellationToken;
        var items = Channel.CreateUnbounded<int>();
        items.Writer.TryWrite(1);
        var writer = new FrameWriter(new BrokenStream());

        // Item 1 is sent (into the writer's buffer); the next is not ready, so the sender flushes: the flush fails.
        var error = await Assert.ThrowsAnyAsync<Exception>(() => RequestPipeline.RunAsync(
            AsItems(items.Reader, token),
            writer,
            nextId: () => 1,
            window: 4,
            send: async (item, id, ct) =>
            {
                await writer.WriteMagicAsync(ct);
                return item;
            },
            receive: (item, sent, id, ct) => Task.CompletedTask,
            token));

        Assert.IsAssignableFrom<IOException>(error);
    }

    private static async IAsyncEnumerable<int> AsItems(ChannelReader<int> reader, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (await reader.WaitToReadAsync(cancellationToken))
        {
            while (reader.TryRead(out var item))
            {
                yield return item;
            }
        }
    }

    /// <summary>A connection that is gone: every write fails as a reset socket's would.</summary>
    private sealed class BrokenStream : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => throw Reset();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw Reset();
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromException(Reset());
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromException(Reset());
        public override Task FlushAsync(CancellationToken cancellationToken) => Task.FromException(Reset());

        private static IOException Reset() => new("Unable to write data to the transport connection: Connection reset by peer.");
    }
}
