namespace FileXfer.Protocol.Hashing;

/// <summary>The hash algorithms this version knows, by wire name.</summary>
public static class HashAlgorithms
{
    /// <summary>SHA-256, the default.</summary>
    public const string Sha256 = "sha256";

    /// <summary>XXH128.</summary>
    public const string XxHash128 = "xxh128";

    /// <summary>BLAKE3 (256-bit).</summary>
    public const string Blake3 = "blake3";

    /// <summary>The default algorithm for transfers.</summary>
    public const string Default = Sha256;

    /// <summary>Every supported name, in order of preference.</summary>
    public static IReadOnlyList<string> Supported { get; } = [Sha256, XxHash128, Blake3];

    /// <summary>True when <paramref name="name"/> is a supported algorithm.</summary>
    public static bool IsSupported(string? name) => name is not null && Supported.Contains(name, StringComparer.Ordinal);

    /// <summary>A new hasher for a supported name.</summary>
    /// <exception cref="FileXferException">The name is not supported (<see cref="ErrorCode.UnsupportedHashAlgorithm"/>).</exception>
    public static ContentHasher Create(string name) => name switch
    {
        Sha256 => new Sha256Hasher(),
        XxHash128 => new XxHash128Hasher(),
        Blake3 => new Blake3Hasher(),
        _ => throw new FileXferException(ErrorCode.UnsupportedHashAlgorithm, $"unsupported hash algorithm '{name}'"),
    };
}
