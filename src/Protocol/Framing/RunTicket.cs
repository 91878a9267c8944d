using System.Buffers.Binary;

namespace FileXfer.Protocol.Framing;

/// <summary>
/// What a Hello says about the connection's place in its client's run: the run's id, this connection's number,
/// and the earlier connections of the run the client gave up on while a request was still in flight. A server
/// commits nothing more from a connection once it heard it declared abandoned, so an attempt the client gave up
/// on (and retried) cannot land later, over what a later acknowledged request stored.
/// </summary>
/// <param name="RunId">16 random bytes the client chose for the run (one command).</param>
/// <param name="Number">This connection's number within the run, from 1.</param>
/// <param name="Abandoned">Numbers of earlier connections of the run (each below <paramref name="Number"/>) the client abandoned.</param>
public sealed record RunTicket(byte[] RunId, uint Number, IReadOnlyList<uint> Abandoned)
{
    /// <summary>Adds the ticket's fields to a Hello.</summary>
    public void AddTo(List<Field> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        fields.Add(Field.Bytes(FieldTag.RunId, RunId));
        fields.Add(Field.Unsigned(FieldTag.ConnectionNumber, Number));
        if (Abandoned.Count > 0)
        {
            var packed = new byte[Abandoned.Count * sizeof(uint)];
            for (int i = 0; i < Abandoned.Count; i++)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(packed.AsSpan(i * sizeof(uint)), Abandoned[i]);
            }

            fields.Add(Field.Bytes(FieldTag.Abandoned, packed));
        }
    }

    /// <summary>
    /// The ticket a Hello carries, or null when it has none (a client older than the fence). A ticket that is
    /// present must be whole and consistent.
    /// </summary>
    /// <exception cref="ProtocolViolationException">A run id that is not 16 bytes, a number of 0 or without its run id, or an abandoned list that is not whole numbers below this connection's.</exception>
    public static RunTicket? Read(Frame hello)
    {
        ArgumentNullException.ThrowIfNull(hello);
        var runId = hello.GetBytesOrNull(FieldTag.RunId);
        ulong? number = hello.GetUInt64OrNull(FieldTag.ConnectionNumber);
        var packed = hello.GetBytesOrNull(FieldTag.Abandoned);
        if (runId is null)
        {
            return number is null && packed is null ? null : throw new ProtocolViolationException("Hello has a connection number or abandoned connections without a run id");
        }

        if (runId.Length != ProtocolLimits.RunIdBytes)
        {
            throw new ProtocolViolationException($"Hello's run id is {runId.Length} bytes, not {ProtocolLimits.RunIdBytes}");
        }

        if (number is not (>= 1 and <= uint.MaxValue))
        {
            throw new ProtocolViolationException("Hello has a run id without a connection number from 1");
        }

        packed ??= [];
        if (packed.Length % sizeof(uint) != 0)
        {
            throw new ProtocolViolationException("Hello's abandoned connections are not a whole number of 32-bit integers");
        }

        var abandoned = new uint[packed.Length / sizeof(uint)];
        for (int i = 0; i < abandoned.Length; i++)
        {
            abandoned[i] = BinaryPrimitives.ReadUInt32LittleEndian(packed.AsSpan(i * sizeof(uint)));
            if (abandoned[i] == 0 || abandoned[i] >= number)
            {
                throw new ProtocolViolationException($"Hello declares connection {abandoned[i]} abandoned, which is not an earlier connection of its run");
            }
        }

        return new RunTicket(runId, (uint)number, abandoned);
    }
}
