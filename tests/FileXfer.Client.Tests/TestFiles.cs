using System.Security.Cryptography;

namespace FileXfer.Client.Tests;

/// <summary>Makes test files of pseudo-random bytes in chunks (never the whole file in memory) and hashes files as streams.</summary>
public static class TestFiles
{
    private const int ChunkSize = 1024 * 1024;

    /// <summary>Writes <paramref name="size"/> reproducible pseudo-random bytes to <paramref name="path"/>.</summary>
    public static async Task WriteRandomAsync(string path, long size, int seed, CancellationToken cancellationToken)
    {
        var random = new Random(seed);
        var buffer = new byte[(int)Math.Min(ChunkSize, Math.Max(size, 1))];
        await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.Asynchronous);
        long remaining = size;
        while (remaining > 0)
        {
            int count = (int)Math.Min(buffer.Length, remaining);
            random.NextBytes(buffer.AsSpan(0, count));
            await file.WriteAsync(buffer.AsMemory(0, count), cancellationToken);
            remaining -= count;
        }
    }

    /// <summary>Reproducible pseudo-random bytes, for files small enough to hold in memory.</summary>
    public static byte[] RandomBytes(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>The SHA-256 of a file, read as a stream.</summary>
    public static async Task<string> Sha256HexAsync(string path, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken));
    }

    /// <summary>True when two files hold the same bytes, compared chunk by chunk.</summary>
    public static async Task<bool> ContentEqualsAsync(string left, string right, CancellationToken cancellationToken)
    {
        await using var a = File.OpenRead(left);
        await using var b = File.OpenRead(right);
        if (a.Length != b.Length)
        {
            return false;
        }

        var bufferA = new byte[ChunkSize];
        var bufferB = new byte[ChunkSize];
        while (true)
        {
            int readA = await a.ReadAtLeastAsync(bufferA, bufferA.Length, throwOnEndOfStream: false, cancellationToken);
            int readB = await b.ReadAtLeastAsync(bufferB, bufferB.Length, throwOnEndOfStream: false, cancellationToken);
            if (readA != readB || !bufferA.AsSpan(0, readA).SequenceEqual(bufferB.AsSpan(0, readB)))
            {
                return false;
            }

            if (readA == 0)
            {
                return true;
            }
        }
    }

    /// <summary>Every file below <paramref name="directory"/>, as paths relative to it.</summary>
    public static string[] ListRelative(string directory) =>
        [.. Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(directory, f)).Order(StringComparer.Ordinal)];
}
