using System.Buffers;
using FileXfer.Protocol.Framing;
using FsCheck.Xunit;

namespace FileXfer.Protocol.Tests;

/// <summary>The run ticket a Hello carries (run id, connection number, abandoned connections): its encoding and what is refused.</summary>
public class RunTicketTests
{
    [Property(MaxTest = 500)]
    public void A_ticket_survives_the_wire_unchanged(Guid run, uint rawNumber, uint[] rawAbandoned)
    {
        uint number = Math.Max(2, rawNumber);
        uint[] abandoned = [.. rawAbandoned.Take(ProtocolLimits.MaxAbandonedConnections).Select(a => 1 + (a % (number - 1)))];
        var ticket = new RunTicket(run.ToByteArray(), number, abandoned);

        var bytes = FrameCodec.ToArray(Messages.Hello(1, Capabilities.Resume, "fx/1", clientNonce: null, ticket));
        Assert.Equal(OperationStatus.Done, FrameCodec.TryRead(bytes, out var frame, out _, out _));
        var read = RunTicket.Read(frame!);

        Assert.NotNull(read);
        Assert.Equal(ticket.RunId, read.RunId);
        Assert.Equal(number, read.Number);
        Assert.Equal(abandoned, read.Abandoned);
    }

    [Fact]
    public void A_hello_without_a_ticket_has_none() =>
        Assert.Null(RunTicket.Read(Messages.Hello(1, Capabilities.Resume, "fx/1")));

    [Fact]
    public void The_most_abandoned_connections_a_hello_may_declare_fit_its_field()
    {
        var ticket = new RunTicket(new byte[16], 1000, [.. Enumerable.Range(1, ProtocolLimits.MaxAbandonedConnections).Select(i => (uint)i)]);
        var bytes = FrameCodec.ToArray(Messages.Hello(1, Capabilities.Resume, "fx/1", clientNonce: null, ticket));
        Assert.Equal(OperationStatus.Done, FrameCodec.TryRead(bytes, out var frame, out _, out _));
        Assert.Equal(ProtocolLimits.MaxAbandonedConnections, RunTicket.Read(frame!)!.Abandoned.Count);
    }

    public static TheoryData<string, Field[]> Malformed => new()
    {
        { "a run id of 15 bytes", [Field.Bytes(FieldTag.RunId, new byte[15]), Field.Unsigned(FieldTag.ConnectionNumber, 1)] },
        { "a run id without a number", [Field.Bytes(FieldTag.RunId, new byte[16])] },
        { "connection number 0", [Field.Bytes(FieldTag.RunId, new byte[16]), Field.Unsigned(FieldTag.ConnectionNumber, 0)] },
        { "a number past 32 bits", [Field.Bytes(FieldTag.RunId, new byte[16]), Field.Unsigned(FieldTag.ConnectionNumber, 1L << 32)] },
        { "a number without a run id", [Field.Unsigned(FieldTag.ConnectionNumber, 3)] },
        { "abandoned connections without a run id", [Field.Bytes(FieldTag.Abandoned, [1, 0, 0, 0])] },
        { "a partial integer", [Field.Bytes(FieldTag.RunId, new byte[16]), Field.Unsigned(FieldTag.ConnectionNumber, 3), Field.Bytes(FieldTag.Abandoned, [1, 0, 0])] },
        { "this connection itself", [Field.Bytes(FieldTag.RunId, new byte[16]), Field.Unsigned(FieldTag.ConnectionNumber, 3), Field.Bytes(FieldTag.Abandoned, [3, 0, 0, 0])] },
        { "a later connection", [Field.Bytes(FieldTag.RunId, new byte[16]), Field.Unsigned(FieldTag.ConnectionNumber, 3), Field.Bytes(FieldTag.Abandoned, [9, 0, 0, 0])] },
        { "connection 0", [Field.Bytes(FieldTag.RunId, new byte[16]), Field.Unsigned(FieldTag.ConnectionNumber, 3), Field.Bytes(FieldTag.Abandoned, [0, 0, 0, 0])] },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void A_malformed_ticket_is_a_protocol_violation(string what, Field[] fields)
    {
        var hello = new Frame(MessageType.Hello, 0, [Field.Integer(FieldTag.Version, 1), .. fields]);
        var ex = Assert.Throws<ProtocolViolationException>(() => RunTicket.Read(hello));
        Assert.False(string.IsNullOrEmpty(ex.Message), what);
    }
}
