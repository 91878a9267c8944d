using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;
using FileXfer.Protocol.Hashing;

namespace FileXfer.Protocol.Tests;

/// <summary>The content hashers: known answers, incremental use, and names.</summary>
public class HasherTests
{
    public static TheoryData<string> Algorithms => [HashAlgorithms.Sha256, HashAlgorithms.XxHash128, HashAlgorithms.Blake3];

    [Theory]
    [InlineData("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")]
    public void Sha256_known_answers(string input, string expectedHex)
    {
        using var hasher = HashAlgorithms.Create(HashAlgorithms.Sha256);

        hasher.Append(Encoding.ASCII.GetBytes(input));

        Assert.Equal(Convert.FromHexString(expectedHex), hasher.GetHashAndReset());
    }

    [Fact]
    public void Sha256_of_a_million_a()
    {
        using var hasher = HashAlgorithms.Create(HashAlgorithms.Sha256);
        var thousand = Enumerable.Repeat((byte)'a', 1000).ToArray();

        for (int i = 0; i < 1000; i++)
        {
            hasher.Append(thousand);
        }

        Assert.Equal(Convert.FromHexString("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"), hasher.GetHashAndReset());
    }

    [Theory]
    [InlineData("")]
    [InlineData("a")]
    [InlineData("abc")]
    [InlineData("The quick brown fox jumps over the lazy dog")]
    public void XxHash128_matches_System_IO_Hashing(string input)
    {
        var bytes = Encoding.UTF8.GetBytes(input);
        using var hasher = HashAlgorithms.Create(HashAlgorithms.XxHash128);

        hasher.Append(bytes);

        Assert.Equal(XxHash128.Hash(bytes), hasher.GetHashAndReset());
    }

    [Fact]
    public void XxHash128_of_abc_is_the_canonical_big_endian_value()
    {
        using var hasher = HashAlgorithms.Create(HashAlgorithms.XxHash128);

        hasher.Append("abc"u8);

        Assert.Equal(GoldenFrames.AbcXxHash128, hasher.GetHashAndReset());
        Assert.Equal(GoldenFrames.AbcXxHash128, XxHash128.Hash("abc"u8));
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Incremental_hashing_equals_one_shot(string algorithm)
    {
        var data = ProtocolReaderTests.RandomBytes(300_000, seed: 5);
        var random = new Random(6);
        using var hasher = HashAlgorithms.Create(algorithm);

        int offset = 0;
        while (offset < data.Length)
        {
            int count = Math.Min(random.Next(0, 70_000), data.Length - offset);
            hasher.Append(data.AsSpan(offset, count));
            offset += count;
        }

        var expected = Reference(algorithm, data);
        Assert.Equal(expected, hasher.GetHashAndReset());
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void GetHashAndReset_starts_over(string algorithm)
    {
        using var hasher = HashAlgorithms.Create(algorithm);

        hasher.Append("first"u8);
        var first = hasher.GetHashAndReset();
        hasher.Append("abc"u8);
        var second = hasher.GetHashAndReset();
        var empty = hasher.GetHashAndReset();

        Assert.NotEqual(first, second);
        Assert.Equal(Reference(algorithm, "abc"u8.ToArray()), second);
        Assert.Equal(Reference(algorithm, []), empty);
    }

    [Theory]
    [InlineData(HashAlgorithms.Sha256, 32, typeof(Sha256Hasher))]
    [InlineData(HashAlgorithms.XxHash128, 16, typeof(XxHash128Hasher))]
    [InlineData(HashAlgorithms.Blake3, 32, typeof(Blake3Hasher))]
    public void Create_gives_a_hasher_with_its_wire_name_and_size(string name, int size, Type type)
    {
        using var hasher = HashAlgorithms.Create(name);

        Assert.IsType(type, hasher);
        Assert.Equal(name, hasher.Name);
        Assert.Equal(size, hasher.HashSizeInBytes);
        Assert.Equal(size, hasher.GetHashAndReset().Length);
        Assert.True(size <= ProtocolLimits.MaxHashBytes);
        Assert.True(HashAlgorithms.IsSupported(name));
    }

    [Theory]
    [InlineData("md5")]
    [InlineData("SHA256")]
    [InlineData("sha-256")]
    [InlineData("")]
    [InlineData("xxh64")]
    public void Create_refuses_an_unknown_name(string name)
    {
        var exception = Assert.Throws<FileXferException>(() => HashAlgorithms.Create(name));

        Assert.Equal(ErrorCode.UnsupportedHashAlgorithm, exception.Code);
        Assert.False(exception.IsRemote);
        Assert.False(HashAlgorithms.IsSupported(name));
    }

    [Fact]
    public void Null_is_not_supported()
    {
        Assert.False(HashAlgorithms.IsSupported(null));
    }

    [Fact]
    public void Sha256_is_the_default_and_the_first_preference()
    {
        Assert.Equal("sha256", HashAlgorithms.Default);
        Assert.Equal(["sha256", "xxh128", "blake3"], HashAlgorithms.Supported);
    }

    [Theory]
    [InlineData("", "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262")]
    [InlineData("abc", "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85")]
    public void Blake3_known_answers(string input, string expectedHex)
    {
        using var hasher = HashAlgorithms.Create(HashAlgorithms.Blake3);

        hasher.Append(System.Text.Encoding.ASCII.GetBytes(input));

        Assert.Equal(expectedHex, Convert.ToHexStringLower(hasher.GetHashAndReset()));
    }

    [Fact]
    public void Blake3_current_hash_does_not_end_the_input()
    {
        using var hasher = HashAlgorithms.Create(HashAlgorithms.Blake3);

        hasher.Append("ab"u8);
        var partial = hasher.GetCurrentHash();
        hasher.Append("c"u8);

        Assert.Equal(Blake3.Hasher.Hash("ab"u8).AsSpan().ToArray(), partial);
        Assert.Equal("6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85", Convert.ToHexStringLower(hasher.GetHashAndReset()));
    }

    // An independent implementation of each algorithm, to check the incremental hashers against.
    private static byte[] Reference(string algorithm, byte[] data) => algorithm switch
    {
        HashAlgorithms.Sha256 => SHA256.HashData(data),
        HashAlgorithms.XxHash128 => XxHash128.Hash(data),
        HashAlgorithms.Blake3 => Blake3.Hasher.Hash(data).AsSpan().ToArray(),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };
}
