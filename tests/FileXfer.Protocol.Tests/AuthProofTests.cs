using System.Text;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Security;

namespace FileXfer.Protocol.Tests;

/// <summary>The challenge-response proofs against vectors computed outside this code, and the auth fields' limits.</summary>
public class AuthProofTests
{
    private static readonly byte[] Secret = Encoding.UTF8.GetBytes(GoldenFrames.TokenSecret);

    [Fact]
    public void The_client_proof_matches_the_independent_vector()
    {
        var proof = AuthProof.ForClient(Secret, GoldenFrames.ClientNonce, GoldenFrames.ServerNonce, GoldenFrames.TokenName);

        Assert.Equal(GoldenFrames.ClientProof, proof);
    }

    [Fact]
    public void The_server_proof_matches_the_independent_vector_and_differs_from_the_client_proof()
    {
        var proof = AuthProof.ForServer(Secret, GoldenFrames.ClientNonce, GoldenFrames.ServerNonce, GoldenFrames.TokenName);

        Assert.Equal(GoldenFrames.ServerProof, proof);
        Assert.NotEqual(GoldenFrames.ClientProof, proof);
    }

    [Fact]
    public void Every_input_changes_the_proof()
    {
        var baseline = AuthProof.ForClient(Secret, GoldenFrames.ClientNonce, GoldenFrames.ServerNonce, GoldenFrames.TokenName);
        var otherNonce = (byte[])GoldenFrames.ClientNonce.Clone();
        otherNonce[31] ^= 1;

        Assert.NotEqual(baseline, AuthProof.ForClient("correct-horse-battery-stapleX"u8, GoldenFrames.ClientNonce, GoldenFrames.ServerNonce, GoldenFrames.TokenName));
        Assert.NotEqual(baseline, AuthProof.ForClient(Secret, otherNonce, GoldenFrames.ServerNonce, GoldenFrames.TokenName));
        Assert.NotEqual(baseline, AuthProof.ForClient(Secret, GoldenFrames.ClientNonce, otherNonce, GoldenFrames.TokenName));
        Assert.NotEqual(baseline, AuthProof.ForClient(Secret, GoldenFrames.ClientNonce, GoldenFrames.ServerNonce, "alicf"));
        Assert.True(AuthProof.Matches(baseline, (byte[])baseline.Clone()));
        Assert.False(AuthProof.Matches(baseline, baseline.AsSpan(0, 31)));
    }

    [Theory]
    [InlineData(FieldTag.ClientNonce)]
    [InlineData(FieldTag.ServerNonce)]
    [InlineData(FieldTag.Proof)]
    [InlineData(FieldTag.ServerProof)]
    public void A_nonce_or_proof_field_over_32_bytes_is_invalid(FieldTag tag)
    {
        Assert.Equal(FieldKind.Bytes, FieldKinds.Of(tag));
        var frame = new byte[] { 0x00, 0x00, 0x00, 0x2A, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, (byte)tag, 0x00, 0x21 }.Concat(new byte[33]).ToArray();

        Assert.Equal(System.Buffers.OperationStatus.InvalidData, FrameCodec.TryRead(frame, out _, out _, out _));
    }

    [Fact]
    public void A_token_name_over_64_bytes_is_invalid()
    {
        Assert.Equal(FieldKind.String, FieldKinds.Of(FieldTag.TokenName));
        var frame = new byte[] { 0x00, 0x00, 0x00, 0x4A, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x16, 0x00, 0x41 }.Concat(Enumerable.Repeat((byte)'a', 65)).ToArray();

        Assert.Equal(System.Buffers.OperationStatus.InvalidData, FrameCodec.TryRead(frame, out _, out _, out _));
    }
}
