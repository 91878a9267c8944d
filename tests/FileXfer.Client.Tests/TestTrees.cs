using System.Globalization;

namespace FileXfer.Client.Tests;

/// <summary>
/// Builds directory trees the way backups meet them (many files, empty files and folders, deep nesting, names in
/// several scripts with spaces and emoji, odd modification times and permission bits) and compares two trees by
/// relative path, kind, SHA-256, modification time at .NET's 100 ns resolution and permission bits.
/// </summary>
public static class TestTrees
{
    private static readonly string[] FilePrefixes = ["файл", "文件", "ファイル", "file with  spaces", "🙂 smile", "mixé Ünïcode"];
    private static readonly string[] Extensions = [".txt", ".bin", "", ".tar.gz"];
    private static readonly int[] FileModes = [0x1A4 /* 0644 */, 0x180 /* 0600 */, 0x1ED /* 0755 */, 0x1A0 /* 0640 */, 0x1C0 /* 0700 */, 0x1B4 /* 0664 */];
    private static readonly int[] DirectoryModes = [0x1ED /* 0755 */, 0x1E8 /* 0750 */, 0x1C0 /* 0700 */, 0x1FD /* 0775 */];

    /// <summary>Six directories deep, each level in another script.</summary>
    public const string DeepChain = "深い 1/Глубже 2/さらに 3/level 4 🌲/уровень 5/最後 6";

    /// <summary>The directories that hold files.</summary>
    public static IReadOnlyList<string> FileDirectories { get; } =
    [
        string.Empty,
        "文档 资料",
        "文档 资料/子目录",
        "Документы и фото",
        "Документы и фото/Отпуск 2024",
        "書類 フォルダ",
        "emoji 📦 box",
        "plain",
        "plain/sub",
        "深い 1",
        "深い 1/Глубже 2/さらに 3",
        DeepChain,
    ];

    /// <summary>Directories that stay empty, one of them below the deepest level.</summary>
    public static IReadOnlyList<string> EmptyDirectories { get; } =
    [
        "empty",
        "empty/nested empty 空",
        "Документы и фото/пустая папка",
        DeepChain + "/空のフォルダ",
    ];

    /// <summary>
    /// Writes <paramref name="fileCount"/> files below <paramref name="root"/>: every tenth empty, two over 1 MiB,
    /// the rest up to 20 KB; then gives every file and directory its own modification time (with a non-zero
    /// sub-second part) and permission bits.
    /// </summary>
    public static async Task CreateMixedTreeAsync(string root, int fileCount, CancellationToken cancellationToken)
    {
        foreach (var directory in FileDirectories.Concat(EmptyDirectories))
        {
            Directory.CreateDirectory(Combine(root, directory));
        }

        var baseTime = new DateTime(2021, 3, 4, 5, 6, 7, DateTimeKind.Utc);
        for (int i = 0; i < fileCount; i++)
        {
            var relative = FileName(i);
            var path = Combine(root, relative);
            int size = i % 10 == 0 ? 0 : i is 13 or 277 ? 1_100_000 + i : (i * 7919) % 20_000;
            await File.WriteAllBytesAsync(path, TestFiles.RandomBytes(size, seed: i), cancellationToken);
            SetAttributes(path, baseTime.AddTicks((i * 10_000_001L) + 1_234_567), FileModes[i % FileModes.Length]);
        }

        // Deepest first, so that setting a directory's time is the last change to it.
        var directories = FileDirectories.Where(d => d.Length > 0).Concat(EmptyDirectories)
            .OrderByDescending(d => d.Count(c => c == '/')).ThenBy(d => d, StringComparer.Ordinal).ToList();
        for (int i = 0; i < directories.Count; i++)
        {
            var path = Combine(root, directories[i]);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, (UnixFileMode)DirectoryModes[i % DirectoryModes.Length]);
            }

            Directory.SetLastWriteTimeUtc(path, new DateTime(2019, 11, 12, 13, 14, 15, DateTimeKind.Utc).AddTicks((i * 987_654_321L) + 7));
        }
    }

    /// <summary>The relative path of the <paramref name="index"/>th file of <see cref="CreateMixedTreeAsync"/>.</summary>
    public static string FileName(int index)
    {
        var directory = FileDirectories[index % FileDirectories.Count];
        var name = string.Create(CultureInfo.InvariantCulture, $"{FilePrefixes[index % FilePrefixes.Length]} {index:D3}{Extensions[index % Extensions.Length]}");
        return directory.Length == 0 ? name : directory + "/" + name;
    }

    /// <summary>Writes small files with fixed contents (<c>path → text</c>) and a fixed modification time.</summary>
    public static async Task CreateAsync(string root, IReadOnlyDictionary<string, string> files, CancellationToken cancellationToken)
    {
        foreach (var (relative, content) in files)
        {
            var path = Combine(root, relative);
            if (relative.EndsWith('/'))
            {
                Directory.CreateDirectory(path);
                continue;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllTextAsync(path, content, cancellationToken);
            File.SetLastWriteTimeUtc(path, new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc));
        }
    }

    /// <summary>Every file and directory below <paramref name="root"/>, hidden ones included, by <c>/</c>-separated relative path.</summary>
    public static async Task<SortedDictionary<string, TreeEntryState>> DescribeAsync(string root, CancellationToken cancellationToken)
    {
        var entries = new SortedDictionary<string, TreeEntryState>(StringComparer.Ordinal);
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false };
        foreach (var info in new DirectoryInfo(root).EnumerateFileSystemInfos("*", options))
        {
            var relative = Path.GetRelativePath(root, info.FullName).Replace(Path.DirectorySeparatorChar, '/');
            int mode = OperatingSystem.IsWindows() ? 0 : (int)info.UnixFileMode;
            entries[relative] = info is FileInfo file
                ? new TreeEntryState(false, file.Length, await TestFiles.Sha256HexAsync(file.FullName, cancellationToken), file.LastWriteTimeUtc.Ticks, mode)
                : new TreeEntryState(true, 0, null, info.LastWriteTimeUtc.Ticks, mode);
        }

        return entries;
    }

    /// <summary>
    /// The two trees hold the same relative paths (files and directories, empty ones included), and each entry has
    /// the same kind, contents, modification time and permission bits.
    /// </summary>
    public static void AssertSame(IReadOnlyDictionary<string, TreeEntryState> expected, IReadOnlyDictionary<string, TreeEntryState> actual, string what)
    {
        var differences = new List<string>();
        foreach (var (path, state) in expected)
        {
            if (!actual.TryGetValue(path, out var other))
            {
                differences.Add($"missing: {path} ({state})");
            }
            else if (state != other)
            {
                differences.Add($"differs: {path}\n    expected {state}\n    actual   {other}");
            }
        }

        differences.AddRange(actual.Keys.Where(p => !expected.ContainsKey(p)).Select(p => $"extra: {p} ({actual[p]})"));
        Assert.True(differences.Count == 0, string.Create(CultureInfo.InvariantCulture, $"{what}: {differences.Count} differences, the first ones:\n") + string.Join("\n", differences.Take(20)));
    }

    /// <summary>Flips one byte of a file in place and puts its modification time back: bit rot that size and time do not show.</summary>
    public static void CorruptOneByte(string path, long offset)
    {
        var modified = File.GetLastWriteTimeUtc(path);
        using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = offset;
            int value = file.ReadByte();
            Assert.True(value >= 0, $"'{path}' is shorter than {offset + 1} bytes");
            file.Position = offset;
            file.WriteByte((byte)(value ^ 0x20));
        }

        File.SetLastWriteTimeUtc(path, modified);
    }

    /// <summary>A local path for a <c>/</c>-separated relative path.</summary>
    public static string Combine(string root, string relative) =>
        Path.Combine([root, .. relative.Split('/', StringSplitOptions.RemoveEmptyEntries)]);

    private static void SetAttributes(string path, DateTime modifiedUtc, int mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, (UnixFileMode)mode);
        }

        File.SetLastWriteTimeUtc(path, modifiedUtc);
    }
}
