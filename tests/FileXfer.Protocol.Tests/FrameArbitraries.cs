using System.Buffers.Binary;
using System.Text;
using FileXfer.Protocol.Framing;
using FsCheck;
using FsCheck.Fluent;

namespace FileXfer.Protocol.Tests;

/// <summary>FsCheck generators for frames whose fields carry valid values for their kinds.</summary>
public static class FrameArbitraries
{
    private static readonly FieldTag[] KnownTags = Enum.GetValues<FieldTag>();

    // Characters of one, two, three and four UTF-8 bytes; NUL is left out because strings may not hold it.
    private static readonly string[] Characters = ["a", "Z", "/", " ", ",", "\u0001", "\u007f", "é", "ß", "数", "文", "\uFFFD", "😀", "𝄞"];

    private static readonly Gen<byte> AnyByte = Gen.Choose(0, 255).Select(i => (byte)i);

    /// <summary>Frames of any type byte and request id with a random set of valid fields, unknown tags included.</summary>
    public static Arbitrary<FrameCase> FrameCase() => FrameCaseGen.ToArbitrary();

    /// <summary>A valid frame, a position in it, and a byte to put there.</summary>
    public static Arbitrary<MutatedFrame> MutatedFrame() =>
        (from frame in FrameCaseGen
         let bytes = FrameCodec.ToArray(frame.ToFrame())
         from position in Gen.Choose(0, bytes.Length - 1)
         from value in AnyByte
         select new MutatedFrame(bytes, position, value)).ToArbitrary();

    /// <summary>Byte arrays shaped like a frame (a plausible length, zero flags) with random bytes after the header.</summary>
    public static Arbitrary<FrameShapedBytes> FrameShapedBytes() =>
        (from fieldLength in Gen.Choose(0, 300)
         from fieldArea in Gen.ArrayOf(AnyByte, fieldLength)
         from declaredDelta in Gen.Frequency((3, Gen.Constant(0)), (1, Gen.Choose(-8, 8)))
         from type in AnyByte
         from extra in Gen.Choose(0, 4)
         select new FrameShapedBytes(Shape(type, fieldArea, declaredDelta, extra))).ToArbitrary();

    internal static Gen<FrameCase> FrameCaseGen =>
        from type in AnyByte
        from requestId in UInt32Gen
        from known in Gen.SubListOf(KnownTags)
        from unknownCount in Gen.Frequency((3, Gen.Choose(0, 3)), (1, Gen.Choose(0, 64 - known.Count)))
        from unknown in Gen.ListOf(UnknownFieldGen, unknownCount)
        from knownFields in Gen.CollectToList(known, KnownFieldGen)
        from fields in Gen.Shuffle(knownFields.Concat(unknown).Take(ProtocolLimits.MaxFieldsPerFrame))
        select new FrameCase(type, requestId, fields);

    private static Gen<uint> UInt32Gen =>
        Gen.ArrayOf(AnyByte, 4).Select(bytes => BinaryPrimitives.ReadUInt32BigEndian(bytes));

    private static Gen<long> Int64Gen =>
        Gen.OneOf(
            Gen.Elements(0L, 1L, -1L, long.MaxValue, long.MinValue, 1L << 62),
            Gen.ArrayOf(AnyByte, 8).Select(bytes => BinaryPrimitives.ReadInt64BigEndian(bytes)));

    private static Gen<Field> UnknownFieldGen =>
        from tag in Gen.OneOf(Gen.Constant(0), Gen.Choose(0x2C, 0xFF))
        from length in Gen.Frequency((4, Gen.Choose(0, 16)), (1, Gen.Choose(0, 600)))
        from value in Gen.ArrayOf(AnyByte, length)
        select new Field((FieldTag)tag, value);

    private static Gen<Field> KnownFieldGen(FieldTag tag) => FieldKinds.Of(tag) switch
    {
        FieldKind.Integer => Int64Gen.Select(value => Field.Integer(tag, value)),
        FieldKind.Bytes => Gen.Choose(0, FieldKinds.MaxLength(tag))
            .SelectMany(length => Gen.ArrayOf(AnyByte, length))
            .Select(value => Field.Bytes(tag, value)),
        _ => StringGen(FieldKinds.MaxLength(tag)).Select(value => Field.String(tag, value)),
    };

    private static Gen<string> StringGen(int maxBytes) =>
        Gen.Sized(size => Gen.Choose(0, Math.Min(size, maxBytes / 4)))
            .SelectMany(count => Gen.ArrayOf(Gen.Elements(Characters), count))
            .Select(string.Concat)
            .Select(text => Encoding.UTF8.GetByteCount(text) <= maxBytes ? text : string.Empty);

    private static byte[] Shape(byte type, byte[] fieldArea, int declaredDelta, int extra)
    {
        var bytes = new byte[10 + fieldArea.Length + extra];
        long declared = Math.Max(0, 6 + fieldArea.Length + declaredDelta);
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)declared);
        bytes[4] = type;
        fieldArea.CopyTo(bytes, 10);
        return bytes;
    }
}
