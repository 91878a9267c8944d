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
}
