namespace FileXfer.Protocol.Transfer;

/// <summary>How a chunked body ended.</summary>
/// <param name="Length">The data bytes received (or sent).</param>
/// <param name="Aborted">True when the sender abandoned the body with the abort marker.</param>
public readonly record struct ChunkedBodyResult(long Length, bool Aborted);
