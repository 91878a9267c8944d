using System.Security.Cryptography;
using System.Text;
using FileXfer.Protocol.Hashing;
using FsCheck;
using FsCheck.Fluent;

namespace FileXfer.Protocol.Tests;

/// <summary>The managed SHA-256 used for the first small inputs of a process, against the platform's.</summary>
public class ManagedSha256Tests
{
    [Theory]
    [InlineData("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")]
    public void Known_answers(string input, string expectedHex)
    {
        Assert.Equal(expectedHex, Convert.ToHexStringLower(ManagedSha256.Hash(Encoding.ASCII.GetBytes(input))));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(55)]
    [InlineData(56)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(119)]
    [InlineData(120)]
    [InlineData(127)]
    [InlineData(128)]
    [InlineData(4096)]
    [InlineData(65535)]
    [InlineData(65536)]
    [InlineData(200_001)]
    public void Every_padding_boundary_matches_the_platform(int length)
    {
        var data = ProtocolReaderTests.RandomBytes(length, seed: length);

        Assert.Equal(SHA256.HashData(data), ManagedSha256.Hash(data));
    }

    [Fact]
    public void Random_inputs_match_the_platform()
    {
        Prop.ForAll(
                Gen.Choose(0, 3000).SelectMany(n => Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), n)).ToArbitrary(),
                data => SHA256.HashData(data).AsSpan().SequenceEqual(ManagedSha256.Hash(data)))
            .QuickCheckThrowOnFailure();
    }

    [Theory]
    [InlineData(10)]
    [InlineData(Sha256Hasher.ManagedLimit)]
    [InlineData(Sha256Hasher.ManagedLimit + 1)]
    [InlineData(300_000)]
    public void The_hasher_gives_the_platforms_hash_below_and_above_the_managed_limit_in_any_pieces(int length)
    {
        var data = ProtocolReaderTests.RandomBytes(length, seed: 7);
        using var hasher = new Sha256Hasher();
        var random = new Random(length);
        int offset = 0;
        while (offset < data.Length)
        {
            int count = Math.Min(random.Next(1, 9000), data.Length - offset);
            hasher.Append(data.AsSpan(offset, count));
            offset += count;
        }

        var current = hasher.GetCurrentHash();
        var final = hasher.GetHashAndReset();
        hasher.Append("abc"u8);

        Assert.Equal(SHA256.HashData(data), current);
        Assert.Equal(SHA256.HashData(data), final);
        Assert.Equal(SHA256.HashData("abc"u8), hasher.GetHashAndReset());
    }
}
