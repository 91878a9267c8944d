using System.Buffers;
using FileXfer.Platform;

namespace FileXfer.Client.Local;

/// <summary>Hashes local files with the algorithms the protocol names, through a pooled buffer.</summary>
public static class LocalHasher
{
    private const int BufferSize = 1024 * 1024;

    /// <summary>The hash of a local file.</summary>
    public static async Task<byte[]> HashFileAsync(string path, string algorithm, CancellationToken cancellationToken)
    {
        await using var file = InlineFileStream.OpenRead(path);
        return await HashStreamAsync(file, algorithm, cancellationToken);
    }

    /// <summary>The hash of everything left in a stream.</summary>
    public static async Task<byte[]> HashStreamAsync(Stream stream, string algorithm, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var hasher = HashAlgorithms.Create(algorithm);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken)) > 0)
            {
                hasher.Append(buffer.AsSpan(0, read));
            }

            return hasher.GetHashAndReset();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
