namespace FileXfer.Protocol.Framing;

/// <summary>The answers that end a request: Ok (and HashOk), Error with its text made fit for the wire, and the exception an Error stands for.</summary>
public static partial class Messages
{
    /// <summary>A success answer with request-specific fields.</summary>
    public static Frame Ok(uint requestId, params IEnumerable<Field> fields) => new(MessageType.Ok, requestId, fields);

    /// <summary>A success answer that carries a hash: to put and hash.</summary>
    public static Frame HashOk(uint requestId, string path, long size, string hashAlgorithm, byte[] hash) =>
        Ok(requestId,
            Field.String(FieldTag.Path, path),
            Field.Integer(FieldTag.Size, size),
            Field.String(FieldTag.HashAlgorithm, hashAlgorithm),
            Field.Bytes(FieldTag.HashValue, hash));

    /// <summary>A failed request, with its stable code and a message for people.</summary>
    public static Frame Error(uint requestId, ErrorCode code, string message) =>
        new(MessageType.Error, requestId, Field.Integer(FieldTag.ErrorCode, (long)code), Field.String(FieldTag.Message, FitMessage(message)));

    /// <summary>
    /// Makes any text a valid message field: NUL and lone surrogates replaced, cut to
    /// <see cref="ProtocolLimits.MaxMessageBytes"/> bytes on a character boundary.
    /// </summary>
    public static string FitMessage(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return Fit(message, ProtocolLimits.MaxMessageBytes);
    }

    /// <summary>The longest prefix of whole characters within <paramref name="maxBytes"/> of UTF-8, NUL read as '?'.</summary>
    private static string Fit(string text, int maxBytes)
    {
        var builder = new System.Text.StringBuilder(Math.Min(text.Length, maxBytes));
        int bytes = 0;
        foreach (var rune in EnumerateRunesLeniently(text))
        {
            var safe = rune.Value == 0 ? new System.Text.Rune('?') : rune;
            if (bytes + safe.Utf8SequenceLength > maxBytes)
            {
                break;
            }

            bytes += safe.Utf8SequenceLength;
            builder.Append(safe.ToString());
        }

        return builder.ToString();
    }

    private static IEnumerable<System.Text.Rune> EnumerateRunesLeniently(string text)
    {
        for (int i = 0; i < text.Length;)
        {
            if (System.Text.Rune.TryGetRuneAt(text, i, out var rune))
            {
                yield return rune;
                i += rune.Utf16SequenceLength;
            }
            else
            {
                yield return System.Text.Rune.ReplacementChar;
                i++;
            }
        }
    }

    /// <summary>The exception an error frame stands for, marked as remote.</summary>
    public static FileXferException ToException(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        long code = frame.GetInt64OrNull(FieldTag.ErrorCode) ?? (long)ErrorCode.Internal;
        var message = frame.GetStringOrNull(FieldTag.Message) ?? "error";
        var errorCode = Enum.IsDefined((ErrorCode)code) ? (ErrorCode)code : ErrorCode.Internal;
        return errorCode == ErrorCode.ProtocolViolation
            ? new ProtocolViolationException(message) { IsRemote = true }
            : new FileXferException(errorCode, message) { IsRemote = true };
    }
}
