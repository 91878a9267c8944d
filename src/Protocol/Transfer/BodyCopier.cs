using System.Buffers;
using FileXfer.Protocol.Hashing;

namespace FileXfer.Protocol.Transfer;

/// <summary>
/// The "receive exactly what remains" loop: read <c>min(buffer, remaining)</c> until <c>remaining</c> is 0,
/// hashing every byte as it passes. End of stream before that is an error, never a short copy.
/// </summary>
public static class BodyCopier
{
    /// <summary>The size of the pooled buffer bodies are copied through.</summary>
    public const int BufferSize = 1024 * 1024;

    // Below this, hashing inline costs less than handing chunks to another thread.
    private const long OverlapThreshold = 4L * BufferSize;

    /// <summary>Copies exactly <paramref name="length"/> bytes from <paramref name="source"/> to <paramref name="destination"/>.</summary>
    /// <param name="source">Where the bytes come from.</param>
    /// <param name="destination">Where they go.</param>
    /// <param name="length">How many bytes to copy.</param>
    /// <param name="hasher">Hashes the copied bytes, when given.</param>
    /// <param name="progress">Told the byte count of each chunk as it is written, when given.</param>
    /// <param name="cancellationToken">Cancels the copy.</param>
    /// <exception cref="EndOfStreamException">The source ended before <paramref name="length"/> bytes.</exception>
    public static async Task CopyExactlyAsync(
        Stream source,
        Stream destination,
        long length,
        ContentHasher? hasher,
        Action<long>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfNegative(length);

        if (hasher is not null && length >= OverlapThreshold)
        {
            await CopyOverlappedAsync(source, destination, length, hasher, progress, cancellationToken);
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(BufferSize, Math.Max(length, 1)));
        try
        {
            long remaining = length;
            while (remaining > 0)
            {
                int want = (int)Math.Min(buffer.Length, remaining);
                int read = await source.ReadAsync(buffer.AsMemory(0, want), cancellationToken);
                if (read == 0)
                {
                    throw new EndOfStreamException($"stream ended after {length - remaining} of {length} bytes");
                }

                hasher?.Append(buffer.AsSpan(0, read));
                await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                remaining -= read;
                progress?.Invoke(read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The same copy with hashing moved off the I/O path: while one chunk is hashed on another thread, it is
    /// written and the next one is read, so a large transfer can use two cores. Chunks are hashed in order;
    /// a buffer is read into again only after both its hash and its write are done.
    /// </summary>
    private static async Task KeepPartialAsync(Stream destination, ReadOnlyMemory<byte> partial)
    {
        try
        {
            await destination.WriteAsync(partial, CancellationToken.None);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or NotSupportedException)
        {
            // The copy fails anyway; its own error is the one to report.
        }
    }

    private static async Task CopyOverlappedAsync(
        Stream source,
        Stream destination,
        long length,
        ContentHasher hasher,
        Action<long>? progress,
        CancellationToken cancellationToken)
    {
        byte[][] buffers = [ArrayPool<byte>.Shared.Rent(BufferSize), ArrayPool<byte>.Shared.Rent(BufferSize)];
        Task hashing = Task.CompletedTask;
        var connection = source as Net.GuardedNetworkStream;
        try
        {
            long remaining = length;
            int current = 0;
            while (remaining > 0)
            {
                var buffer = buffers[current];
                int want = (int)Math.Min(BufferSize, remaining);

                // Whole chunks: a socket hands out what has arrived, often far less than a chunk, and each chunk
                // costs a hand-off to the hashing thread.
                int read = 0;
                try
                {
                    while (read < want)
                    {
                        connection?.ExpectBody(remaining - read);
                        int got = await source.ReadAsync(buffer.AsMemory(read, want - read), cancellationToken);
                        if (got == 0)
                        {
                            throw new EndOfStreamException($"stream ended after {length - remaining + read} of {length} bytes");
                        }

                        read += got;
                    }
                }
                catch when (read > 0)
                {
                    // What did arrive is kept (an interrupted transfer resumes after it), then the copy fails.
                    await KeepPartialAsync(destination, buffer.AsMemory(0, read));
                    throw;
                }

                // The previous chunk's hash must be done before this one starts (order) and before its buffer
                // is read into again (next turn).
                await hashing;
                hashing = Task.Run(() => hasher.Append(buffer.AsSpan(0, read)), cancellationToken);
                await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                remaining -= read;
                progress?.Invoke(read);
                current ^= 1;
            }

            await hashing;
        }
        finally
        {
            connection?.ExpectBody(1);
            // Never hand a buffer back to the pool while a hash may still be reading it.
            await hashing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            ArrayPool<byte>.Shared.Return(buffers[0]);
            ArrayPool<byte>.Shared.Return(buffers[1]);
        }
    }
}
