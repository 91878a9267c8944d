using System.Globalization;

namespace FileXfer.Client.Tests;

/// <summary>What one entry of a directory tree is, as far as a backup must keep it.</summary>
/// <param name="IsDirectory">Directory or file.</param>
/// <param name="Size">The size of a file.</param>
/// <param name="Sha256">The SHA-256 of a file's contents.</param>
/// <param name="ModifiedTicks">The modification time in .NET ticks (100 ns), UTC.</param>
/// <param name="Mode">The Unix permission bits (0 on Windows).</param>
public sealed record TreeEntryState(bool IsDirectory, long Size, string? Sha256, long ModifiedTicks, int Mode)
{
    /// <inheritdoc />
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{(IsDirectory ? "dir" : "file")} size={Size} sha256={Sha256 ?? "-"} mtime={new DateTime(ModifiedTicks, DateTimeKind.Utc):O} mode={Convert.ToString(Mode, 8)}");
}
