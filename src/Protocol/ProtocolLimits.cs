namespace FileXfer.Protocol;

/// <summary>
/// Every limit that bounds what a peer can make the other side read or allocate.
/// Each number read from the wire is checked against one of these before it is used.
/// </summary>
public static class ProtocolLimits
{
    /// <summary>The current protocol version.</summary>
    public const int Version = 1;

    /// <summary>The oldest protocol version this code speaks.</summary>
    public const int MinVersion = 1;

    /// <summary>Four ASCII bytes that open every connection from the client: <c>FXFR</c>.</summary>
    public static ReadOnlySpan<byte> Magic => "FXFR"u8;

    /// <summary>Bytes in the frame length prefix.</summary>
    public const int LengthPrefixBytes = 4;

    /// <summary>Bytes after the prefix that every frame has: type, flags and request id.</summary>
    public const int FrameFixedBytes = 6;

    /// <summary>Bytes in a field's tag and length.</summary>
    public const int FieldHeaderBytes = 3;

    /// <summary>The largest frame, not counting its length prefix.</summary>
    public const int MaxFrameLength = 64 * 1024;

    /// <summary>The longest remote path in UTF-8 bytes.</summary>
    public const int MaxPathBytes = 4096;

    /// <summary>The longest single name (path component) in UTF-8 bytes.</summary>
    public const int MaxNameBytes = 255;

    /// <summary>The deepest remote path, in components.</summary>
    public const int MaxPathDepth = 64;

    /// <summary>The longest error or status message in UTF-8 bytes.</summary>
    public const int MaxMessageBytes = 1024;

    /// <summary>The longest hash value in bytes (room for 512-bit digests).</summary>
    public const int MaxHashBytes = 64;

    /// <summary>The longest hash algorithm name.</summary>
    public const int MaxAlgorithmNameBytes = 32;

    /// <summary>The longest agent string or algorithm list.</summary>
    public const int MaxShortStringBytes = 256;

    /// <summary>The most fields one frame may carry.</summary>
    public const int MaxFieldsPerFrame = 64;

    /// <summary>The largest body size the protocol can express: 2^62 bytes.</summary>
    public const long MaxBodySize = 1L << 62;

    /// <summary>The largest chunk of a chunked body.</summary>
    public const int MaxChunkLength = 16 * 1024 * 1024;

    /// <summary>The chunk length value that marks a body aborted by its sender.</summary>
    public const uint AbortChunkMarker = uint.MaxValue;

    /// <summary>The most entries a client accepts in one listing.</summary>
    public const int MaxListEntries = 1_000_000;

    /// <summary>The exact length of an authentication nonce or proof (HMAC-SHA256).</summary>
    public const int AuthBytes = 32;

    /// <summary>The longest token name in UTF-8 bytes.</summary>
    public const int MaxTokenNameBytes = 64;

    /// <summary>The exact length of a client's run id (<see cref="Framing.FieldTag.RunId"/>).</summary>
    public const int RunIdBytes = 16;

    /// <summary>The longest transfer id of a file sent as ranges (<see cref="Framing.FieldTag.TransferId"/>).</summary>
    public const int MaxTransferIdBytes = 32;

    /// <summary>The most abandoned connections one Hello declares (<see cref="Framing.FieldTag.Abandoned"/>).</summary>
    public const int MaxAbandonedConnections = 64;
}
