using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;
using FileXfer.Protocol.Hashing;

namespace FileXfer.Protocol.Tests;

/// <summary>The content hashers: known answers, incremental use, and names.</summary>
public class HasherTests
{
    public static TheoryData<string> Algorithms => [HashAlgorithms.Sha256, HashAlgorithms.XxHash128];

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

        var expected = algorithm == HashAlgorithms.Sha256 ? SHA256.HashData(data) : XxHash128.Hash(data);
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
        Assert.Equal(algorithm == HashAlgorithms.Sha256 ? GoldenFrames.AbcSha256 : GoldenFrames.AbcXxHash128, second);
        Assert.Equal(algorithm == HashAlgorithms.Sha256 ? SHA256.HashData([]) : XxHash128.Hash([]), empty);
    }

    [Theory]
    [InlineData(HashAlgorithms.Sha256, 32, typeof(Sha256Hasher))]
    [InlineData(HashAlgorithms.XxHash128, 16, typeof(XxHash128Hasher))]
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
        Assert.Equal(["sha256", "xxh128"], HashAlgorithms.Supported);
    }
}
