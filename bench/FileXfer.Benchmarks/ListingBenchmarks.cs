using BenchmarkDotNet.Attributes;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Transfer;

namespace FileXfer.Benchmarks;

/// <summary>
/// The per-entry cost of a listing (issue 13): the server encoding an Entry frame, the client decoding it. Each pair
/// runs the general path (a <see cref="Frame"/> of <see cref="Field"/>s, as before) against the path for the known
/// shape (encoded straight into the writer's buffer, decoded straight from the reader's). Figures are per entry.
/// </summary>
[MemoryDiagnoser]
public class ListingBenchmarks
{
    private const int Entries = 1000;
    private readonly RemoteEntry[] _entries = new RemoteEntry[Entries];
    private readonly byte[] _buffer = new byte[256];
    private byte[] _stream = [];

    [GlobalSetup]
    public void Setup()
    {
        var modified = DateTimeOffset.FromUnixTimeSeconds(1_764_000_000);
        for (int i = 0; i < Entries; i++)
        {
            _entries[i] = new RemoteEntry($"file-{i:D6}.dat", EntryKind.File, 1000 + i, modified.AddSeconds(i), 0x1A4);
        }

        using var all = new MemoryStream();
        foreach (var entry in _entries)
        {
            all.Write(FrameCodec.ToArray(Messages.Describe(MessageType.Entry, 9, entry)));
        }

        _stream = all.ToArray();
    }

    /// <summary>Server, before: Describe builds a frame of fields, the codec encodes it.</summary>
    [Benchmark(OperationsPerInvoke = Entries)]
    public int EncodeEntryAsFrame()
    {
        int total = 0;
        foreach (var entry in _entries)
        {
            total += FrameCodec.Write(Messages.Describe(MessageType.Entry, 9, entry), _buffer);
        }

        return total;
    }

    /// <summary>Server, after: the entry encoded straight into the buffer.</summary>
    [Benchmark(OperationsPerInvoke = Entries)]
    public int EncodeEntryDirect()
    {
        int total = 0;
        foreach (var entry in _entries)
        {
            total += Messages.WriteDescribe(_buffer, MessageType.Entry, 9, entry, FieldTag.Name);
        }

        return total;
    }

    /// <summary>Server, before, through the connection's writer (to a null stream).</summary>
    [Benchmark(OperationsPerInvoke = Entries)]
    public async Task WriteEntryFrames()
    {
        using var writer = new FrameWriter(Stream.Null);
        foreach (var entry in _entries)
        {
            await writer.WriteAsync(Messages.Describe(MessageType.Entry, 9, entry), CancellationToken.None);
        }

        await writer.FlushAsync(CancellationToken.None);
    }

    /// <summary>Server, after, through the connection's writer.</summary>
    [Benchmark(OperationsPerInvoke = Entries)]
    public async Task WriteEntriesDirect()
    {
        using var writer = new FrameWriter(Stream.Null);
        foreach (var entry in _entries)
        {
            await writer.WriteDescribeAsync(MessageType.Entry, 9, entry, FieldTag.Name, CancellationToken.None);
        }

        await writer.FlushAsync(CancellationToken.None);
    }

    /// <summary>Client, before: each frame decoded into fields, then read into an entry.</summary>
    [Benchmark(OperationsPerInvoke = Entries)]
    public async Task<long> ReadEntryFrames()
    {
        using var reader = new ProtocolReader(new MemoryStream(_stream, writable: false));
        long total = 0;
        for (int i = 0; i < Entries; i++)
        {
            total += Messages.ReadEntry(await reader.ReadRequiredFrameAsync(CancellationToken.None)).Size;
        }

        return total;
    }

    /// <summary>Client, after: each entry read straight from the reader's buffer.</summary>
    [Benchmark(OperationsPerInvoke = Entries)]
    public async Task<long> ReadEntriesDirect()
    {
        using var reader = new ProtocolReader(new MemoryStream(_stream, writable: false));
        long total = 0;
        for (int i = 0; i < Entries; i++)
        {
            total += (await reader.ReadFrameOrEntryAsync(CancellationToken.None)).Entry!.Size;
        }

        return total;
    }
}
