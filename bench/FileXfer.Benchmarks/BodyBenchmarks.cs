using BenchmarkDotNet.Attributes;
using FileXfer.Protocol.Hashing;
using FileXfer.Protocol.Transfer;

namespace FileXfer.Benchmarks;

/// <summary>The copy loop and the hashes a body goes through: their throughput bounds a large transfer.</summary>
[MemoryDiagnoser]
public class BodyBenchmarks
{
    private const int Size = 64 * 1024 * 1024;
    private readonly byte[] _data = new byte[Size];

    [Params(HashAlgorithms.Sha256, HashAlgorithms.Blake3, HashAlgorithms.XxHash128)]
    public string Algorithm { get; set; } = HashAlgorithms.Sha256;

    [GlobalSetup]
    public void Setup() => new Random(1).NextBytes(_data);

    [Benchmark]
    public byte[] Hash()
    {
        using var hasher = HashAlgorithms.Create(Algorithm);
        hasher.Append(_data);
        return hasher.GetHashAndReset();
    }

    [Benchmark]
    public async Task<byte[]> CopyExactlyWithHash()
    {
        using var hasher = HashAlgorithms.Create(Algorithm);
        await BodyCopier.CopyExactlyAsync(new MemoryStream(_data, writable: false), Stream.Null, Size, hasher, progress: null, CancellationToken.None);
        return hasher.GetHashAndReset();
    }

    [Benchmark(Baseline = true)]
    public async Task CopyWithoutHash() =>
        await BodyCopier.CopyExactlyAsync(new MemoryStream(_data, writable: false), Stream.Null, Size, hasher: null, progress: null, CancellationToken.None);
}
