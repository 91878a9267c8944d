using System.Security.Cryptography;
using FileXfer.Protocol.Framing;

namespace FileXfer.Protocol.Tests;

/// <summary>The byte-by-byte examples of docs/PROTOCOL.md, "Parallel streams", as the codec writes them.</summary>
public class RangeGoldenFrameTests
{
    private static readonly byte[] TransferId = [.. Enumerable.Range(0, 16).Select(i => (byte)i)];

    [Fact]
    public void A_ranged_put_of_the_second_half_of_abcdef()
    {
        var frame = RangeMessages.Put(2, "a.txt", 6, "sha256", TransferId, new FileRange(3, 3));

        Assert.Equal(
            "00000056100000000002010005612e747874020008000000000000000604000673686132353612000800000000000000081c0010000102030405060708090a0b0c0d0e0f1d000800000000000000031e00080000000000000003",
            Convert.ToHexStringLower(FrameCodec.ToArray(frame)));
    }

    [Fact]
    public void The_assemble_of_abcdef()
    {
        var frame = RangeMessages.Assemble(3, "a.txt", 6, "sha256", TransferId, SHA256.HashData("abcdef"u8), modified: null, mode: null);

        Assert.Equal(
            "00000058180000000003010005612e74787402000800000000000000060400067368613235361c0010000102030405060708090a0b0c0d0e0f050020bef57ec7f53a6d40beb640a780a639c83bc29ac8a9816f1fc6c5c6dcd93c4721",
            Convert.ToHexStringLower(FrameCodec.ToArray(frame)));
    }

    [Fact]
    public void A_ranged_get_of_the_second_half()
    {
        var frame = RangeMessages.Get(4, "a.txt", "sha256", new FileRange(3, 3), held: 0, heldHash: null);

        Assert.Equal(
            "0000002d110000000004010005612e7478740400067368613235361d000800000000000000031e00080000000000000003",
            Convert.ToHexStringLower(FrameCodec.ToArray(frame)));
    }
}
