using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace FileXfer.Platform.Tests;

/// <summary>
/// The per-architecture values against the kernel's own headers where this machine has them (x64's are
/// <c>asm-generic</c>'s unchanged), arm64's difference from them, and the refusal on every other architecture.
/// </summary>
public sealed partial class LinuxAbiTests
{
    private const string GenericFcntl = "/usr/include/asm-generic/fcntl.h";
    private const string X64Fcntl = "/usr/include/x86_64-linux-gnu/asm/fcntl.h";

    [Fact]
    public void X64_open_flags_are_the_kernel_headers()
    {
        var generic = Defines(GenericFcntl);
        // x86-64's asm/fcntl.h is asm-generic's, with nothing of its own.
        Assert.DoesNotContain("#define", File.ReadAllText(Header(X64Fcntl)), StringComparison.Ordinal);

        var x64 = LinuxAbi.For(Architecture.X64);
        Assert.Equal(generic["O_RDONLY"], x64.ReadOnly);
        Assert.Equal(generic["O_WRONLY"], x64.WriteOnly);
        Assert.Equal(generic["O_RDWR"], x64.ReadWrite);
        Assert.Equal(generic["O_CREAT"], x64.Create);
        Assert.Equal(generic["O_EXCL"], x64.Exclusive);
        Assert.Equal(generic["O_NONBLOCK"], x64.NonBlocking);
        Assert.Equal(generic["O_DIRECTORY"], x64.Directory);
        Assert.Equal(generic["O_NOFOLLOW"], x64.NoFollow);
        Assert.Equal(generic["O_CLOEXEC"], x64.CloseOnExec);
        Assert.Equal(generic["__O_TMPFILE"] | generic["O_DIRECTORY"], x64.TempFile);
    }

    [Fact]
    public void X64_open_flags_are_what_glibc_passes()
    {
        var glibc = Defines("/usr/include/x86_64-linux-gnu/bits/fcntl-linux.h");
        var x64 = LinuxAbi.For(Architecture.X64);
        Assert.Equal(glibc["O_CREAT"], x64.Create);
        Assert.Equal(glibc["O_EXCL"], x64.Exclusive);
        Assert.Equal(glibc["O_NONBLOCK"], x64.NonBlocking);
        Assert.Equal(glibc["__O_DIRECTORY"], x64.Directory);
        Assert.Equal(glibc["__O_NOFOLLOW"], x64.NoFollow);
        Assert.Equal(glibc["__O_CLOEXEC"], x64.CloseOnExec);
    }

    [Fact]
    public void X64_window_size_request_is_the_kernel_headers()
    {
        Assert.Contains("asm-generic/ioctls.h", File.ReadAllText(Header("/usr/include/x86_64-linux-gnu/asm/ioctls.h")), StringComparison.Ordinal);
        Assert.Equal((nuint)Defines("/usr/include/asm-generic/ioctls.h")["TIOCGWINSZ"], LinuxAbi.For(Architecture.X64).GetWindowSize);
    }

    [Fact]
    public void Errno_values_are_the_kernel_headers()
    {
        var errno = Defines("/usr/include/asm-generic/errno-base.h");
        foreach (var (name, value) in Defines("/usr/include/asm-generic/errno.h"))
        {
            errno[name] = value;
        }

        Assert.Equal(Posix.NotPermitted, errno["EPERM"]);
        Assert.Equal(Posix.NoSuchFile, errno["ENOENT"]);
        Assert.Equal(Posix.Interrupted, errno["EINTR"]);
        Assert.Equal(Posix.FileExists, errno["EEXIST"]);
        Assert.Equal(Posix.PermissionDenied, errno["EACCES"]);
        Assert.Equal(Posix.NotADirectory, errno["ENOTDIR"]);
        Assert.Equal(Posix.IsADirectory, errno["EISDIR"]);
        Assert.Equal(Posix.NoSpace, errno["ENOSPC"]);
        Assert.Equal(Posix.NotSeekable, errno["ESPIPE"]);
        Assert.Equal(Posix.ReadOnlyFileSystem, errno["EROFS"]);
        Assert.Equal(Posix.TooManyLinks, errno["ELOOP"]);
        Assert.Equal(StandardStream.BrokenPipe, errno["EPIPE"]);
    }

    [Fact]
    public void File_type_bits_are_the_kernel_headers()
    {
        var stat = Defines("/usr/include/linux/stat.h");
        Assert.Equal(Posix.FileTypeMask, stat["S_IFMT"]);
        Assert.Equal(Posix.RegularFileType, stat["S_IFREG"]);
        Assert.Equal(Posix.DirectoryType, stat["S_IFDIR"]);
        Assert.Equal(Posix.SymbolicLinkType, stat["S_IFLNK"]);
        Assert.Equal(Posix.FifoType, stat["S_IFIFO"]);
        Assert.Equal(Posix.CharacterDeviceType, stat["S_IFCHR"]);
        Assert.Equal(Posix.BlockDeviceType, stat["S_IFBLK"]);
        Assert.Equal(Posix.SocketType, stat["S_IFSOCK"]);
    }

    [Fact]
    public void Arm64_changes_only_directory_and_nofollow()
    {
        // arch/arm64/include/uapi/asm/fcntl.h: O_DIRECTORY 040000, O_NOFOLLOW 0100000 (and O_DIRECT, O_LARGEFILE, unused here).
        var arm64 = LinuxAbi.For(Architecture.Arm64);
        Assert.Equal(Architecture.Arm64, arm64.Architecture);
        Assert.Equal(0x4000, arm64.Directory);
        Assert.Equal(0x8000, arm64.NoFollow);
        Assert.Equal(LinuxAbi.X64 with { Architecture = Architecture.Arm64, Directory = 0x4000, NoFollow = 0x8000, TempFile = 0x400000 | 0x4000 }, arm64);
    }

    [Theory]
    [InlineData(Architecture.X64)]
    [InlineData(Architecture.Arm64)]
    public void A_temp_file_is_opened_as_a_directory_on_each_architecture(Architecture architecture)
    {
        var abi = LinuxAbi.For(architecture);
        Assert.Equal(abi.Directory, abi.TempFile & abi.Directory);
        Assert.Equal(0x400000, abi.TempFile & ~abi.Directory);
    }

    [Fact]
    public void This_process_gets_its_architectures_values()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64, "Linux x64 or arm64 only");

        Assert.Same(LinuxAbi.For(RuntimeInformation.ProcessArchitecture), LinuxAbi.Current);
        Assert.Same(LinuxAbi.Current, LinuxAbi.CurrentOrNull);
    }

    [Theory]
    [InlineData(Architecture.Arm, "arm")]
    [InlineData(Architecture.X86, "x86")]
    [InlineData(Architecture.Armv6, "armv6")]
    [InlineData(Architecture.RiscV64, "riscv64")]
    [InlineData(Architecture.LoongArch64, "loongarch64")]
    [InlineData(Architecture.S390x, "s390x")]
    [InlineData(Architecture.Ppc64le, "ppc64le")]
    [InlineData(Architecture.Wasm, "wasm")]
    public void Another_architecture_is_refused_in_one_line_that_names_it(Architecture architecture, string name)
    {
        var refusal = Assert.Throws<PlatformNotSupportedException>(() => LinuxAbi.For(architecture));

        Assert.Contains($"'{name}'", refusal.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', refusal.Message);
        Assert.Null(refusal.InnerException);
    }

    /// <summary>The numeric <c>#define</c>s of a header (octal, hexadecimal or decimal), by name.</summary>
    private static Dictionary<string, int> Defines(string path)
    {
        var defines = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (Match match in DefineLine().Matches(File.ReadAllText(Header(path))))
        {
            var text = match.Groups["value"].Value.TrimEnd('U', 'u', 'L', 'l');
            int value = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                ? int.Parse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
                : text.Length > 1 && text[0] == '0' ? Convert.ToInt32(text, 8) : int.Parse(text, CultureInfo.InvariantCulture);
            defines.TryAdd(match.Groups["name"].Value, value);
        }

        return defines;
    }

    private static string Header(string path)
    {
        Assert.SkipUnless(File.Exists(path), $"{path} is not installed");
        return path;
    }

    [GeneratedRegex(@"^\s*#\s*define\s+(?<name>\w+)\s+(?<value>0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*)\b", RegexOptions.Multiline)]
    private static partial Regex DefineLine();
}
