using System.Buffers.Binary;
using System.Text.Unicode;

namespace FileXfer.Protocol.Framing;

/// <summary>
/// Walks the field area of one frame without copying it: each field's tag and value, checked as
/// <see cref="FrameCodec"/> checks them (header and value within the frame, at most
/// <see cref="ProtocolLimits.MaxFieldsPerFrame"/> fields, a known tag at most once, its value's length and, for
/// strings, UTF-8 without NUL). Unknown tags are returned too; receivers skip them.
/// </summary>
public ref struct FieldReader
{
    private readonly ReadOnlySpan<byte> _fields;
    private int _offset;
    private int _count;
    private TagSet _seen;

    /// <summary>A reader of <paramref name="fields"/>: the bytes after a frame's fixed header.</summary>
    public FieldReader(ReadOnlySpan<byte> fields)
    {
        _fields = fields;
    }

    /// <summary>The tag of the current field.</summary>
    public FieldTag Tag { get; private set; }

    /// <summary>Where the current field's value starts in the field area.</summary>
    public int ValueOffset { get; private set; }

    /// <summary>The current field's value.</summary>
    public readonly ReadOnlySpan<byte> Value => _fields.Slice(ValueOffset, ValueLength);

    /// <summary>The length of the current field's value.</summary>
    public int ValueLength { get; private set; }

    /// <summary>Why the field area is invalid, once <see cref="MoveNext"/> returned false for that reason; null at a clean end.</summary>
    public string? Error { get; private set; }

    /// <summary>The number of fields read so far.</summary>
    public readonly int Count => _count;

    /// <summary>Moves to the next valid field; false at the end of the area or at an invalid field (see <see cref="Error"/>).</summary>
    public bool MoveNext()
    {
        if (_offset >= _fields.Length || Error is not null)
        {
            return false;
        }

        if (_fields.Length - _offset < ProtocolLimits.FieldHeaderBytes)
        {
            Error = "a field header is cut short by the end of the frame";
            return false;
        }

        var tag = (FieldTag)_fields[_offset];
        int valueLength = BinaryPrimitives.ReadUInt16BigEndian(_fields[(_offset + 1)..]);
        _offset += ProtocolLimits.FieldHeaderBytes;
        if (valueLength > _fields.Length - _offset)
        {
            Error = $"field 0x{(byte)tag:x2} declares {valueLength} bytes but only {_fields.Length - _offset} remain in the frame";
            return false;
        }

        int valueOffset = _offset;
        _offset += valueLength;
        if (_count == ProtocolLimits.MaxFieldsPerFrame)
        {
            Error = $"frame has more than {ProtocolLimits.MaxFieldsPerFrame} fields";
            return false;
        }

        if (Validate(tag, _fields.Slice(valueOffset, valueLength), ref _seen) is { } error)
        {
            Error = error;
            return false;
        }

        _count++;
        Tag = tag;
        ValueOffset = valueOffset;
        ValueLength = valueLength;
        return true;
    }

    /// <summary>The current field as a signed 64-bit integer (an integer field's value is 8 bytes, checked).</summary>
    public readonly long Int64 => BinaryPrimitives.ReadInt64BigEndian(Value);

    /// <summary>The current field as an unsigned 64-bit integer.</summary>
    public readonly ulong UInt64 => BinaryPrimitives.ReadUInt64BigEndian(Value);

    /// <summary>Null when the field is valid, else why not.</summary>
    private static string? Validate(FieldTag tag, ReadOnlySpan<byte> value, ref TagSet seen)
    {
        var kind = FieldKinds.Of(tag);
        if (kind == FieldKind.Unknown)
        {
            // Unknown tags are skipped: a later version may add fields an older peer can ignore.
            return null;
        }

        if (!seen.Add((byte)tag))
        {
            return $"field {tag} appears twice";
        }

        int max = FieldKinds.MaxLength(tag);
        return kind switch
        {
            FieldKind.Integer when value.Length != 8 => $"integer field {tag} has {value.Length} bytes, not 8",
            FieldKind.String or FieldKind.Bytes when value.Length > max => $"field {tag} has {value.Length} bytes, over the limit of {max}",
            FieldKind.String when value.Contains((byte)0) => $"string field {tag} contains a NUL byte",
            FieldKind.String when !Utf8.IsValid(value) => $"string field {tag} is not valid UTF-8",
            _ => null,
        };
    }

    /// <summary>The tags seen so far, one bit each.</summary>
    private struct TagSet
    {
        private ulong _low, _high;
        private ulong[]? _upper;

        public bool Add(byte tag)
        {
            ulong bit = 1UL << (tag & 63);
            if (tag < 64)
            {
                return Set(ref _low, bit);
            }

            if (tag < 128)
            {
                return Set(ref _high, bit);
            }

            // Tags this version does not know never get here; kept correct should one above 127 be added.
            _upper ??= new ulong[2];
            return Set(ref _upper[(tag >> 6) - 2], bit);
        }

        private static bool Set(ref ulong word, ulong bit)
        {
            if ((word & bit) != 0)
            {
                return false;
            }

            word |= bit;
            return true;
        }
    }
}
