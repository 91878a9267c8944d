using System.Buffers;
using System.Text;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Security;
using FsCheck.Xunit;

namespace FileXfer.Protocol.Tests;

/// <summary>
/// Early authentication (a later connection of a run proves its token in the Hello over the run's ticket): the proofs
/// against vectors computed outside this code (Python's <c>hmac</c>), and the new frames and field over the wire.
/// </summary>
public class EarlyAuthenticationFrameTests
{
    private static readonly byte[] Secret = Encoding.UTF8.GetBytes(GoldenFrames.TokenSecret);

    // The ticket is the golden ServerNonce (20 … 3F), the run id 40 … 4F, the connection number 2.
    private static readonly byte[] RunId = [.. Enumerable.Range(0x40, 16).Select(b => (byte)b)];

    [Fact]
    public void The_run_proofs_match_the_independent_vectors()
    {
        byte[] client = [0x13, 0xE3, 0xDD, 0x56, 0x20, 0x9B, 0x50, 0x9D, 0x00, 0xB9, 0xC7, 0x21, 0x2C, 0xD8, 0x0F, 0xDF, 0xF8, 0xD0, 0xCF, 0x56, 0xF9, 0xED, 0x92, 0xCF, 0x2F, 0xB6, 0x45, 0x93, 0x56, 0x07, 0x78, 0x40];
        byte[] server = [0x17, 0x1B, 0x20, 0x79, 0xE2, 0xE4, 0x93, 0xC0, 0x49, 0x6B, 0x3B, 0xD1, 0x43, 0xD9, 0x81, 0xAC, 0xB2, 0x52, 0x0A, 0x8A, 0xDD, 0x58, 0x55, 0xD5, 0x3B, 0x43, 0x7D, 0x53, 0x39, 0x55, 0x1E, 0x2F];

        Assert.Equal(client, AuthProof.ForRunClient(Secret, GoldenFrames.ClientNonce, GoldenFrames.ServerNonce, RunId, 2, GoldenFrames.TokenName));
        Assert.Equal(server, AuthProof.ForRunServer(Secret, GoldenFrames.ClientNonce, GoldenFrames.ServerNonce, RunId, 2, GoldenFrames.TokenName));
    }

    [Fact]
    public void Every_input_changes_the_run_proof_and_it_never_equals_a_challenge_proof()
    {
        var baseline = AuthProof.ForRunClient(Secret, GoldenFrames.ClientNonce, GoldenFrames.ServerNonce, RunId, 2, GoldenFrames.TokenName);
        var otherRun = (byte[])RunId.Clone();
        otherRun[0] ^= 1;

        Assert.NotEqual(baseline, AuthProof.ForRunClient(Secret, GoldenFrames.ClientNonce, GoldenFrames.ServerNonce, RunId, 3, GoldenFrames.TokenName));
        Assert.NotEqual(baseline, AuthProof.ForRunClient(Secret, GoldenFrames.ClientNonce, GoldenFrames.ServerNonce, otherRun, 2, GoldenFrames.TokenName));
        Assert.NotEqual(baseline, AuthProof.ForRunClient(Secret, GoldenFrames.ServerNonce, GoldenFrames.ClientNonce, RunId, 2, GoldenFrames.TokenName));
        Assert.NotEqual(baseline, AuthProof.ForRunClient("other"u8, GoldenFrames.ClientNonce, GoldenFrames.ServerNonce, RunId, 2, GoldenFrames.TokenName));
        Assert.NotEqual(baseline, AuthProof.ForRunClient(Secret, GoldenFrames.ClientNonce, GoldenFrames.ServerNonce, RunId, 2, "bob"));
        Assert.NotEqual(baseline, AuthProof.ForClient(Secret, GoldenFrames.ClientNonce, GoldenFrames.ServerNonce, GoldenFrames.TokenName));
    }

    [Property(MaxTest = 300)]
    public void A_hello_with_a_proof_over_the_ticket_survives_the_wire(Guid run, uint rawNumber, byte[] rawNonce, byte[] rawProof)
    {
        uint number = Math.Max(1, rawNumber);
        byte[] nonce = [.. rawNonce.Concat(new byte[32]).Take(32)];
        byte[] proof = [.. rawProof.Concat(new byte[32]).Take(32)];
        var hello = Messages.Hello(1, Messages.Implemented, "fx/1", nonce, new RunTicket(run.ToByteArray(), number, []), "alice", proof);

        Assert.Equal(OperationStatus.Done, FrameCodec.TryRead(FrameCodec.ToArray(hello), out var frame, out _, out _));

        Assert.Equal("alice", frame!.GetString(FieldTag.TokenName));
        Assert.Equal(proof, frame.GetBytes(FieldTag.Proof));
        Assert.Equal(nonce, frame.GetBytes(FieldTag.ClientNonce));
        Assert.Equal(number, RunTicket.Read(frame)!.Number);
    }

    [Property(MaxTest = 300)]
    public void The_welcome_of_an_early_authentication_and_the_ok_that_issues_a_ticket_survive_the_wire(byte[] rawProof, bool write, ushort seconds)
    {
        byte[] proof = [.. rawProof.Concat(new byte[32]).Take(32)];
        var access = write ? AccessFlags.Write : AccessFlags.None;
        var welcome = Messages.Welcome(1, Messages.Implemented, "fxd/1", 1L << 40, proof, access);
        var ok = Messages.AuthenticateOk(proof, access, TimeSpan.FromSeconds(seconds));

        Assert.Equal(OperationStatus.Done, FrameCodec.TryRead(FrameCodec.ToArray(welcome), out var readWelcome, out _, out _));
        Assert.Equal(OperationStatus.Done, FrameCodec.TryRead(FrameCodec.ToArray(ok), out var readOk, out _, out _));

        Assert.Equal(proof, readWelcome!.GetBytes(FieldTag.ServerProof));
        Assert.Null(readWelcome.GetBytesOrNull(FieldTag.ServerNonce));
        Assert.Equal(write ? (ulong)AccessFlags.Write : null, readWelcome.GetUInt64OrNull(FieldTag.Flags));
        Assert.Equal((ulong)Math.Max(1, (int)seconds), readOk!.GetUInt64OrNull(FieldTag.TicketLifetime));
    }

    [Fact]
    public void The_ticket_lifetime_is_an_integer_of_exactly_8_bytes()
    {
        Assert.Equal(FieldKind.Integer, FieldKinds.Of(FieldTag.TicketLifetime));
        var bytes = new byte[] { 0x00, 0x00, 0x00, 0x0D, 0x21, 0x00, 0x00, 0x00, 0x00, 0x00, 0x26, 0x00, 0x04, 0x00, 0x00, 0x02, 0x58 };

        Assert.Equal(OperationStatus.InvalidData, FrameCodec.TryRead(bytes, out _, out _, out _));
    }

    [Fact]
    public void An_ok_without_a_lifetime_issues_no_ticket() =>
        Assert.False(Messages.AuthenticateOk(new byte[32], AccessFlags.Write).Has(FieldTag.TicketLifetime));
}
