using System.Diagnostics;
using System.Security.Cryptography;
using FileXfer.Platform;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Protocol.Paths;
using FileXfer.Server.Storage;
using FileXfer.Server.Storage.Local;

namespace FileXfer.Server.Tests.Storage;

/// <summary>
/// What may be at an upload's destination, and what each way of putting a file makes of it: the one-connection put
/// (<see cref="FileStore.BeginUpload"/>: by path, through a connection's kept directory, and with its body following at
/// once) and the ranged put (<see cref="IRangedUploads"/>: the destination checked when the first range begins, and
/// again at the Assemble). Every kind of destination and parent, over the real store: all ways must agree, so that a
/// check one of them gains and the other lacks shows here. Links inside the root lead to <c>target.txt</c> or
/// <c>targetdir</c>, which no put may change; the fixture's neighbours outside the root must stay untouched.
/// </summary>
public sealed class FileStoreDestinationTests
{
    private const string Content = "hello";
    private const string Stored = "stored: a regular file holding 'hello'";

    private static readonly Dictionary<string, (string Path, Func<StoreFixture, CancellationToken, Task> Arrange, string Expected)> Kinds = new()
    {
        // The destination itself, in the existing directory d.
        ["nothing"] = ("d/t", (f, _) => Dir(f, "d"), Stored),
        ["a regular file"] = ("d/t", (f, _) => RegularFile(f, "d/t"), Stored),
        ["a directory"] = ("d/t", (f, _) => Dir(f, "d/t"), "IsADirectory: 'd/t' is a directory"),
        ["a link to a file inside the root"] = ("d/t", (f, _) => Link(f, "d/t", f.Local("target.txt")), Stored),
        ["a link to a directory inside the root"] = ("d/t", (f, _) => Link(f, "d/t", f.Local("targetdir")), "IsADirectory: 'd/t' is a directory"),
        ["a link to a file outside the root"] = ("d/t", (f, _) => Link(f, "d/t", Path.Combine(f.Outside, "secret.txt")), "AccessDenied: 'd/t' leads outside the root through a symbolic link"),
        ["a link into the staging area"] = ("d/t", (f, _) => Link(f, "d/t", f.Store.StagingDirectory), "AccessDenied: 'd/t' leads outside the root through a symbolic link"),
        ["a dangling link"] = ("d/t", (f, _) => Link(f, "d/t", f.Local("missing.txt")), "AccessDenied: 'd/t' is a symbolic link whose target does not exist"),
        ["a relative dangling link"] = ("d/t", (f, _) => Link(f, "d/t", "../missing.txt"), "AccessDenied: 'd/t' is a symbolic link whose target does not exist"),
        ["a link to a dangling link"] = ("d/t", (f, _) => Links(f, ("d/t", f.Local("d/u")), ("d/u", f.Local("missing.txt"))), "AccessDenied: 'd/t' is a symbolic link whose target does not exist"),
        ["a dangling link outside the root"] = ("d/t", (f, _) => Link(f, "d/t", Path.Combine(f.Outside, "missing.txt")), "AccessDenied: 'd/t' leads outside the root through a symbolic link"),
        ["a dangling link through a link out of the root"] = ("d/t", (f, _) => Links(f, ("d/t", f.Local("out/missing.txt")), ("out", f.Outside)), "AccessDenied: 'd/t' leads outside the root through a symbolic link"),
        ["a dangling link into the staging area"] = ("d/t", (f, _) => Link(f, "d/t", Path.Combine(f.Store.StagingDirectory, "missing")), "AccessDenied: 'd/t' leads outside the root through a symbolic link"),
        ["a link to itself"] = ("d/t", (f, _) => Link(f, "d/t", "t"), "AccessDenied: 'd/t' leads outside the root through a symbolic link"),
        ["a FIFO"] = ("d/t", (f, token) => MakeFifoAsync(f, "d/t", token), Stored),
        ["a character device"] = ("d/t", (f, token) => MakeCharacterDeviceAsync(f, "d/t", token), Stored),

        // What lies above it.
        ["missing parents"] = ("p/q/t", (_, _) => Task.CompletedTask, Stored),
        ["a file as the parent"] = ("p/t", (f, _) => RegularFile(f, "p"), "NotADirectory: 'p' in 'p' is a file, not a directory"),
        ["a file as a grandparent"] = ("p/q/t", (f, _) => RegularFile(f, "p"), "NotADirectory: 'p' in 'p/q' is a file, not a directory"),
        ["a FIFO as the parent"] = ("p/t", (f, token) => MakeFifoAsync(f, "p", token), "NotADirectory: 'p' in 'p' is a file, not a directory"),
        ["a link to a file as the parent"] = ("p/t", (f, _) => Link(f, "p", f.Local("target.txt")), "NotADirectory: 'p' in 'p' is a file, not a directory"),
        ["a link to a directory inside the root as the parent"] = ("p/t", (f, _) => Link(f, "p", f.Local("targetdir")), Stored),
        ["a link to a directory outside the root as the parent"] = ("p/t", (f, _) => Link(f, "p", f.Outside), "AccessDenied: 'p/t' leads outside the root through a symbolic link"),
        ["a link to the root's look-alike sibling as the parent"] = ("p/t", (f, _) => Link(f, "p", f.Sibling), "AccessDenied: 'p/t' leads outside the root through a symbolic link"),
        ["a dangling link as the parent"] = ("p/t", (f, _) => Link(f, "p", f.Local("missingdir")), "AccessDenied: 'p/t' goes through 'p', a symbolic link whose target does not exist"),
        ["a dangling link outside the root as the parent"] = ("p/t", (f, _) => Link(f, "p", Path.Combine(f.Outside, "missingdir")), "AccessDenied: 'p/t' leads outside the root through a symbolic link"),
    };

    // Refused before anything of the path is looked at on disk: no Assemble can come to them (no range begins).
    private static readonly Dictionary<string, (string Path, string Expected)> Unreachable = new()
    {
        ["the root"] = ("", "IsADirectory: cannot put to the root directory itself"),
        ["the root, as a slash"] = ("/", "IsADirectory: cannot put to the root directory itself"),
        ["the server's own folder"] = (".filexfer/t", "InvalidPath: '.filexfer' is reserved by the server"),
    };

    public static TheoryData<string> KindNames => [.. Kinds.Keys];

    public static TheoryData<string> UnreachableNames => [.. Unreachable.Keys];

    private delegate Task<string> Way(StoreFixture fixture, string path, Func<CancellationToken, Task> arrange, CancellationToken cancellationToken);

    [Theory(Timeout = 30000)]
    [MemberData(nameof(KindNames))]
    public async Task A_put_by_path_and_a_ranged_put_make_the_same_of_a_destination(string kind)
    {
        var token = TestContext.Current.CancellationToken;
        var (path, arrange, expected) = Kinds[kind];

        Assert.Equal(At("begin", expected), await RunAsync(PutAsync, path, arrange, token));
        Assert.Equal(At("begin", expected), await RunAsync(RangedPutAsync, path, arrange, token));
    }

    [Theory(Timeout = 30000)]
    [MemberData(nameof(KindNames))]
    public async Task A_destination_that_became_this_while_the_ranges_arrived_is_judged_the_same_at_the_Assemble(string kind)
    {
        var token = TestContext.Current.CancellationToken;
        var (path, arrange, expected) = Kinds[kind];

        Assert.Equal(At("assemble", expected), await RunAsync(AssembleAfterAsync, path, arrange, token));
    }

    [Theory(Timeout = 30000)]
    [MemberData(nameof(KindNames))]
    public async Task A_put_through_a_kept_directory_makes_the_same_of_a_destination(string kind)
    {
        var token = TestContext.Current.CancellationToken;
        var (path, arrange, expected) = Kinds[kind];

        Assert.Equal(At("begin", expected), await RunAsync(KeptPutAsync(deferCheck: false), path, arrange, token));

        // With its body following at once, a destination in a kept directory is first looked at when it is published:
        // the same answer, at the commit. Where nothing could be kept (the parent is no directory), at the start.
        var deferred = path.StartsWith("d/", StringComparison.Ordinal) ? "commit" : "begin";
        Assert.Equal(At(deferred, expected), await RunAsync(KeptPutAsync(deferCheck: true), path, arrange, token));
    }

    [Theory(Timeout = 30000)]
    [MemberData(nameof(UnreachableNames))]
    public async Task The_root_and_the_server_s_folder_are_refused_alike_by_every_way(string kind)
    {
        var token = TestContext.Current.CancellationToken;
        var (path, expected) = Unreachable[kind];

        Assert.Equal(At("begin", expected), await RunAsync(PutAsync, path, (_, _) => Task.CompletedTask, token));
        Assert.Equal(At("begin", expected), await RunAsync(KeptPutAsync(deferCheck: true), path, (_, _) => Task.CompletedTask, token));
        Assert.Equal(At("begin", expected), await RunAsync(RangedPutAsync, path, (_, _) => Task.CompletedTask, token));
    }

    /// <summary>
    /// Runs one way of putting <see cref="Content"/> to <paramref name="path"/> on a fresh store, and describes the
    /// outcome: where it was refused and why, or what is at the destination after the commit. Then checks what no way
    /// may do: leave a temp file, or change a link's target or anything outside the root.
    /// </summary>
    private static async Task<string> RunAsync(Way way, string path, Func<StoreFixture, CancellationToken, Task> arrange, CancellationToken cancellationToken)
    {
        using var fixture = new StoreFixture();
        fixture.Write("target.txt", "target");
        Directory.CreateDirectory(fixture.Local("targetdir"));
        var outcome = await way(fixture, path, token => arrange(fixture, token), cancellationToken);

        Assert.Empty(Directory.GetFileSystemEntries(fixture.Store.StagingDirectory));
        Assert.Equal("target", await System.IO.File.ReadAllTextAsync(fixture.Local("target.txt"), cancellationToken));
        Assert.Empty(Directory.GetFileSystemEntries(fixture.Local("targetdir")).Select(Path.GetFileName).Except(["t", "sibling"]));
        Assert.Equal(["secret.txt"], Directory.GetFileSystemEntries(fixture.Outside).Select(Path.GetFileName));
        Assert.Equal("outside secret", await System.IO.File.ReadAllTextAsync(Path.Combine(fixture.Outside, "secret.txt"), cancellationToken));
        Assert.Equal(["secret.txt"], Directory.GetFileSystemEntries(fixture.Sibling).Select(Path.GetFileName));
        return outcome;
    }

    private static async Task<string> PutAsync(StoreFixture fixture, string path, Func<CancellationToken, Task> arrange, CancellationToken cancellationToken)
    {
        await arrange(cancellationToken);
        return await PutWithAsync(fixture, path, directories: null, deferCheck: false, cancellationToken);
    }

    private static Way KeptPutAsync(bool deferCheck) => async (fixture, path, arrange, cancellationToken) =>
    {
        await arrange(cancellationToken);
        using var directories = new DirectoryHandles();
        if (StoreRoot.TrySplit(RemotePath.Normalize(path), out var directory, out _) && directory.Length > 0 && Directory.Exists(fixture.Local(directory)))
        {
            // An earlier file of the connection in the same directory: its handle is kept for the next (where it can be:
            // a directory reached through a link that leads out is refused for it too, and nothing is kept).
            if (await PutWithAsync(fixture, directory + "/sibling", directories, deferCheck: false, cancellationToken) == Stored)
            {
                Assert.NotNull(directories.Peek(directory));
            }
        }

        return await PutWithAsync(fixture, path, directories, deferCheck, cancellationToken);
    };

    private static async Task<string> PutWithAsync(StoreFixture fixture, string path, DirectoryHandles? directories, bool deferCheck, CancellationToken cancellationToken)
    {
        PendingUpload upload;
        try
        {
            upload = fixture.Store.BeginUpload(path, Content.Length, Content.Length, resumeKey: null, directories, deferCheck);
        }
        catch (FileXferException ex)
        {
            return At("begin", ex);
        }

        await using (upload)
        {
            await upload.Body.WriteAsync(System.Text.Encoding.UTF8.GetBytes(Content), cancellationToken);
            var hash = SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Content));
            return await CommitAsync(fixture, path, upload, hash, cancellationToken);
        }
    }

    private static async Task<string> RangedPutAsync(StoreFixture fixture, string path, Func<CancellationToken, Task> arrange, CancellationToken cancellationToken)
    {
        await arrange(cancellationToken);
        var start = Start(path);
        try
        {
            await SendRangeAsync(fixture, start, cancellationToken);
        }
        catch (FileXferException ex)
        {
            return At("begin", ex);
        }

        return await AssembleAndCommitAsync(fixture, start, cancellationToken);
    }

    private static async Task<string> AssembleAfterAsync(StoreFixture fixture, string path, Func<CancellationToken, Task> arrange, CancellationToken cancellationToken)
    {
        var start = Start(path);
        await SendRangeAsync(fixture, start, cancellationToken);

        // The range's begin made the missing parents as directories: the destination's top is made what the case says.
        var top = fixture.Local(path.Split('/')[0]);
        Directory.Delete(top, recursive: true);
        await arrange(cancellationToken);
        var outcome = await AssembleAndCommitAsync(fixture, start, cancellationToken);

        // After the Assemble, refused or not, the upload is gone: its ranges are not kept for another try.
        var again = await Assert.ThrowsAsync<FileXferException>(() => fixture.Store.AssembleAsync(start, cancellationToken));
        Assert.Equal(ErrorCode.BadRequest, again.Code);
        return outcome;
    }

    private static RangeStart Start(string path) => new(path, Content.Length, HashAlgorithms.Sha256, [1, 2, 3, 4], new FileRange(0, Content.Length));

    private static async Task SendRangeAsync(StoreFixture fixture, RangeStart start, CancellationToken cancellationToken)
    {
        await using var range = await fixture.Store.BeginRangeAsync(start, TimeSpan.FromSeconds(10), TimeProvider.System, cancellationToken);
        var bytes = System.Text.Encoding.UTF8.GetBytes(Content);
        await range.Body.WriteAsync(bytes, cancellationToken);
        range.Complete(SHA256.HashData(bytes), SHA256.HashData(bytes));
    }

    private static async Task<string> AssembleAndCommitAsync(StoreFixture fixture, RangeStart start, CancellationToken cancellationToken)
    {
        PendingUpload upload;
        byte[] hash;
        try
        {
            (upload, hash) = await fixture.Store.AssembleAsync(start with { Range = default }, cancellationToken);
        }
        catch (FileXferException ex)
        {
            return At("assemble", ex);
        }

        await using (upload)
        {
            return await CommitAsync(fixture, start.Path, upload, hash, cancellationToken);
        }
    }

    private static async Task<string> CommitAsync(StoreFixture fixture, string path, PendingUpload upload, byte[] hash, CancellationToken cancellationToken)
    {
        try
        {
            await upload.CommitAsync(Content.Length, hash, hash, modified: null, mode: null, cancellationToken);
        }
        catch (FileXferException ex)
        {
            return At("commit", ex);
        }

        var local = fixture.Local(path);
        var info = new FileInfo(local);
        return info.LinkTarget is { } target ? $"stored: a link to {target}"
            : Directory.Exists(local) ? "stored: a directory"
            : !FileTypes.IsRegularFile(local) ? "stored: a special file"
            : $"stored: a regular file holding '{await System.IO.File.ReadAllTextAsync(local, cancellationToken)}'";
    }

    private static string At(string stage, FileXferException refusal) => $"refused at {stage}: {refusal.Code}: {refusal.Message}";

    private static string At(string stage, string expected) => expected.StartsWith("stored", StringComparison.Ordinal) ? expected : $"refused at {stage}: {expected}";

    private static Task Dir(StoreFixture fixture, string remote)
    {
        Directory.CreateDirectory(fixture.Local(remote));
        return Task.CompletedTask;
    }

    private static Task RegularFile(StoreFixture fixture, string remote)
    {
        fixture.Write(remote, "old");
        return Task.CompletedTask;
    }

    private static Task Link(StoreFixture fixture, string remote, string target)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(fixture.Local(remote))!);
        System.IO.File.CreateSymbolicLink(fixture.Local(remote), target);
        return Task.CompletedTask;
    }

    private static async Task Links(StoreFixture fixture, params (string Remote, string Target)[] links)
    {
        foreach (var (remote, target) in links)
        {
            await Link(fixture, remote, target);
        }
    }

    private static async Task MakeFifoAsync(StoreFixture fixture, string remote, CancellationToken cancellationToken)
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "FIFOs are made with mkfifo on Linux");
        Directory.CreateDirectory(Path.GetDirectoryName(fixture.Local(remote))!);
        var (exit, error) = await RunToolAsync("mkfifo", [fixture.Local(remote)], cancellationToken);
        Assert.True(exit == 0, $"mkfifo failed: {error}");
    }

    private static async Task MakeCharacterDeviceAsync(StoreFixture fixture, string remote, CancellationToken cancellationToken)
    {
        // 1 3 is what /dev/null is: nothing is lost if a put ever wrote into it.
        Assert.SkipUnless(OperatingSystem.IsLinux() && Environment.UserName == "root", "making a device node needs root on Linux");
        Directory.CreateDirectory(Path.GetDirectoryName(fixture.Local(remote))!);
        var (exit, error) = await RunToolAsync("mknod", ["-m", "666", fixture.Local(remote), "c", "1", "3"], cancellationToken);
        Assert.SkipUnless(exit == 0, $"mknod failed here: {error}");
    }

    private static async Task<(int ExitCode, string Error)> RunToolAsync(string command, string[] arguments, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(command, arguments) { RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {command}");
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, await error);
    }
}
