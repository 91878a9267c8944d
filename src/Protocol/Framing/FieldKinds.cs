namespace FileXfer.Protocol.Framing;

/// <summary>The value kind and the largest value length of each known <see cref="FieldTag"/>.</summary>
public static class FieldKinds
{
    /// <summary>The kind of a tag's value; <see cref="FieldKind.Unknown"/> for tags this version does not know.</summary>
    public static FieldKind Of(FieldTag tag) => tag switch
    {
        FieldTag.Path or FieldTag.HashAlgorithm or FieldTag.Message or FieldTag.Agent
            or FieldTag.HashAlgorithms or FieldTag.Name or FieldTag.TokenName => FieldKind.String,
        FieldTag.HashValue or FieldTag.ResumeKey or FieldTag.ClientNonce or FieldTag.ServerNonce
            or FieldTag.Proof or FieldTag.ServerProof or FieldTag.RunId or FieldTag.Abandoned or FieldTag.TransferId => FieldKind.Bytes,
        FieldTag.Size or FieldTag.MTime or FieldTag.Offset or FieldTag.Kind or FieldTag.Mode
            or FieldTag.ErrorCode or FieldTag.Version or FieldTag.Capabilities or FieldTag.Count
            or FieldTag.MaxFileSize or FieldTag.Flags or FieldTag.ConnectionNumber or FieldTag.BodyEncoding or FieldTag.TicketLifetime
            or FieldTag.ParentMTime or FieldTag.ParentTimeNotSet or FieldTag.RangeOffset or FieldTag.RangeLength => FieldKind.Integer,
        _ => FieldKind.Unknown,
    };

    /// <summary>The largest number of value bytes a field with this tag may carry.</summary>
    public static int MaxLength(FieldTag tag) => tag switch
    {
        FieldTag.Path => ProtocolLimits.MaxPathBytes,
        FieldTag.Name => ProtocolLimits.MaxNameBytes,
        FieldTag.Message => ProtocolLimits.MaxMessageBytes,
        FieldTag.HashValue or FieldTag.ResumeKey => ProtocolLimits.MaxHashBytes,
        FieldTag.HashAlgorithm => ProtocolLimits.MaxAlgorithmNameBytes,
        FieldTag.Agent or FieldTag.HashAlgorithms => ProtocolLimits.MaxShortStringBytes,
        FieldTag.ClientNonce or FieldTag.ServerNonce or FieldTag.Proof or FieldTag.ServerProof => ProtocolLimits.AuthBytes,
        FieldTag.TokenName => ProtocolLimits.MaxTokenNameBytes,
        FieldTag.RunId => ProtocolLimits.RunIdBytes,
        FieldTag.TransferId => ProtocolLimits.MaxTransferIdBytes,
        FieldTag.Abandoned => ProtocolLimits.MaxAbandonedConnections * sizeof(uint),
        _ when Of(tag) == FieldKind.Integer => 8,
        _ => ProtocolLimits.MaxFrameLength,
    };
}
