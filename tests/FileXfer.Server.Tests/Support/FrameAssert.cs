using FileXfer.Protocol;
using FileXfer.Protocol.Framing;

namespace FileXfer.Server.Tests.Support;

/// <summary>Assertions on frames the server sent.</summary>
public static class FrameAssert
{
    /// <summary>Checks that <paramref name="frame"/> is an error with <paramref name="code"/> for <paramref name="requestId"/>.</summary>
    public static void IsError(Frame frame, ErrorCode code, uint requestId)
    {
        ArgumentNullException.ThrowIfNull(frame);
        Assert.True(frame.Type == MessageType.Error, $"expected an Error frame, got {frame}");
        var error = Messages.ToException(frame);
        Assert.True(error.Code == code, $"expected error {code}, got {error.Code}: {error.Message}");
        Assert.Equal(requestId, frame.RequestId);
        Assert.False(string.IsNullOrWhiteSpace(frame.GetStringOrNull(FieldTag.Message)));
    }

    /// <summary>Checks that <paramref name="frame"/> is of <paramref name="type"/> and answers <paramref name="requestId"/>.</summary>
    public static void Is(Frame frame, MessageType type, uint requestId)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var detail = frame.Type == MessageType.Error ? $" ({Messages.ToException(frame).Code}: {frame.GetStringOrNull(FieldTag.Message)})" : string.Empty;
        Assert.True(frame.Type == type, $"expected {type}, got {frame}{detail}");
        Assert.Equal(requestId, frame.RequestId);
    }
}
