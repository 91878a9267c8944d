using System.Runtime.InteropServices;

namespace FileXfer.Platform;

/// <summary>
/// The values of the Linux interface that differ between architectures: the <c>open(2)</c> flags and the terminal's
/// window-size request, one explicit row per supported architecture. On any other architecture (or system) the file
/// calls refuse to run, with a <see cref="PlatformNotSupportedException"/> naming it, instead of passing another
/// architecture's numbers, which there may mean other flags (MIPS's <c>O_CREAT</c> is x86's <c>O_NOCTTY</c>).
/// </summary>
/// <remarks>
/// x64 uses the kernel's <c>asm-generic/fcntl.h</c> values as they are; arm64 changes four of them
/// (<c>arch/arm64/include/uapi/asm/fcntl.h</c>: <c>O_DIRECTORY</c>, <c>O_NOFOLLOW</c>, <c>O_DIRECT</c>,
/// <c>O_LARGEFILE</c>). 32-bit ARM and x86 are not supported: beyond their own flags, their <c>pread</c>/<c>pwrite</c>
/// take a 32-bit <c>off_t</c>, which the 64-bit offsets passed here do not fit. What does not vary between x64 and arm64
/// (errno values, <c>AT_*</c> flags, the layout of <c>struct statx</c>, file-type bits) stays a constant where it is used.
/// </remarks>
/// <param name="Architecture">The architecture these values are for.</param>
/// <param name="ReadOnly"><c>O_RDONLY</c>.</param>
/// <param name="WriteOnly"><c>O_WRONLY</c>.</param>
/// <param name="ReadWrite"><c>O_RDWR</c>.</param>
/// <param name="Create"><c>O_CREAT</c>.</param>
/// <param name="Exclusive"><c>O_EXCL</c>.</param>
/// <param name="NonBlocking"><c>O_NONBLOCK</c>.</param>
/// <param name="Directory"><c>O_DIRECTORY</c>.</param>
/// <param name="NoFollow"><c>O_NOFOLLOW</c>.</param>
/// <param name="CloseOnExec"><c>O_CLOEXEC</c>.</param>
/// <param name="TempFile"><c>O_TMPFILE</c> (which includes <c>O_DIRECTORY</c>).</param>
/// <param name="GetWindowSize">The <c>ioctl</c> request <c>TIOCGWINSZ</c>.</param>
internal sealed record LinuxAbi(
    Architecture Architecture,
    int ReadOnly,
    int WriteOnly,
    int ReadWrite,
    int Create,
    int Exclusive,
    int NonBlocking,
    int Directory,
    int NoFollow,
    int CloseOnExec,
    int TempFile,
    nuint GetWindowSize)
{
    /// <summary>x86-64: <c>asm-generic/fcntl.h</c> and <c>asm-generic/ioctls.h</c> unchanged.</summary>
    public static readonly LinuxAbi X64 = new(
        Architecture.X64,
        ReadOnly: 0x0,
        WriteOnly: 0x1,
        ReadWrite: 0x2,
        Create: 0x40,
        Exclusive: 0x80,
        NonBlocking: 0x800,
        Directory: 0x10000,
        NoFollow: 0x20000,
        CloseOnExec: 0x80000,
        TempFile: 0x400000 | 0x10000,
        GetWindowSize: 0x5413);

    /// <summary>arm64: the generic values with arm64's own <c>O_DIRECTORY</c> and <c>O_NOFOLLOW</c>.</summary>
    public static readonly LinuxAbi Arm64 = X64 with
    {
        Architecture = Architecture.Arm64,
        Directory = 0x4000,
        NoFollow = 0x8000,
        TempFile = 0x400000 | 0x4000,
    };

    // This process's row, or null where there is none (another architecture, or not Linux).
    private static readonly LinuxAbi? s_current = OperatingSystem.IsLinux() ? Find(RuntimeInformation.ProcessArchitecture) : null;

    /// <summary>The values of this process's architecture.</summary>
    /// <exception cref="PlatformNotSupportedException">Not Linux on x64 or arm64.</exception>
    public static LinuxAbi Current => s_current ?? throw Unsupported(RuntimeInformation.ProcessArchitecture, OperatingSystem.IsLinux());

    /// <summary>This process's values, or null where the architecture is not supported (for what can do without them).</summary>
    public static LinuxAbi? CurrentOrNull => s_current;

    /// <summary>The values for <paramref name="architecture"/> (Linux); the seam the tests use.</summary>
    /// <exception cref="PlatformNotSupportedException">Not x64 or arm64.</exception>
    internal static LinuxAbi For(Architecture architecture) => Find(architecture) ?? throw Unsupported(architecture, isLinux: true);

    private static LinuxAbi? Find(Architecture architecture) => architecture switch
    {
        Architecture.X64 => X64,
        Architecture.Arm64 => Arm64,
        _ => null,
    };

    /// <summary>The refusal: one line that names the architecture (and the system, when it is not Linux).</summary>
    internal static PlatformNotSupportedException Unsupported(Architecture architecture, bool isLinux)
    {
        string name = architecture.ToString().ToLowerInvariant();
        return new PlatformNotSupportedException(isLinux
            ? $"unsupported architecture '{name}': FileXfer's Linux file calls know the values of x64 and arm64 only"
            : $"unsupported system ({RuntimeInformation.OSDescription.Trim()} on {name}): FileXfer's native file calls are for Linux on x64 and arm64");
    }
}
