using System.Buffers;
using BenchmarkDotNet.Attributes;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;

namespace FileXfer.Benchmarks;

/// <summary>The header codec: encoding and decoding the frames every request and answer costs.</summary>
[MemoryDiagnoser]
public class FrameCodecBenchmarks
{
    private readonly Frame _put = Messages.Put(7, "backups/2026/11/27/data/file-00042.bin", 4096, HashAlgorithms.Sha256, DateTimeOffset.UnixEpoch, 0x1A4, PutFlags.Chunked | PutFlags.NoWait);
    private readonly byte[] _buffer = new byte[1024];
    private byte[] _encoded = [];

    [GlobalSetup]
    public void Setup() => _encoded = FrameCodec.ToArray(_put);

    [Benchmark]
    public int EncodePut() => FrameCodec.Write(_put, _buffer);

    [Benchmark]
    public int DecodePut()
    {
        FrameCodec.TryRead(_encoded, out var frame, out int consumed, out _);
        return consumed + frame!.Fields.Count;
    }

    [Benchmark]
    public Frame BuildPut() => Messages.Put(7, "backups/2026/11/27/data/file-00042.bin", 4096, HashAlgorithms.Sha256, DateTimeOffset.UnixEpoch, 0x1A4, PutFlags.Chunked | PutFlags.NoWait);

    [Benchmark]
    public OperationStatus PrefixOfPut() => FrameCodec.TryRead(_encoded.AsSpan(0, _encoded.Length - 1), out _, out _, out _);
}
