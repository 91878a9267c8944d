using System.Security.Cryptography;
using FileXfer.Protocol.Framing;
using FileXfer.Platform;
using FileXfer.Protocol.Hashing;
using FileXfer.Server.Storage.Local;

namespace FileXfer.Server.Tests.Protocol;

/// <summary>
/// Resume after a crash: a partial upload is offered whole while the machine has not restarted since it was written
/// (a killed server leaves its writes in the page cache), and only what was flushed to disk after a restart (a power
/// loss may have taken the rest, see <see cref="DurablePrefix"/>).
/// </summary>
public sealed class DurableResumeTests
{
    private const int Size = 2 * 1024 * 1024;
    private const int Cut = 1024 * 1024;
    private const int Flushed = 600_000;
    private static readonly byte[] Key = [9, 8, 7, 6];

    [Fact(Timeout = 30000)]
    public async Task A_partial_left_before_a_restart_is_offered_only_what_was_on_disk_and_the_put_completes_from_there()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        var content = RandomNumberGenerator.GetBytes(Size);
        await LeavePartialAsync(server, content, token);

        // As a power loss after a restart would leave it: flushed up to Flushed (recorded by another boot), zeros after.
        RewritePartial(server, partial =>
        {
            DurablePrefix.Record(partial.Handle, Flushed, Guid.NewGuid());
            partial.Position = Flushed;
            partial.Write(new byte[Cut - Flushed]);
        });

        long offered = await ResumeAsync(server, content, token);

        Assert.Equal(Flushed, offered);
        Assert.Equal(content, await File.ReadAllBytesAsync(server.PathOf("big.bin"), token));
    }

    [Fact(Timeout = 30000)]
    public async Task A_partial_left_in_this_boot_is_offered_whole_even_past_its_last_flush()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        var content = RandomNumberGenerator.GetBytes(Size);
        await LeavePartialAsync(server, content, token);

        // A server killed before its next flush: the record of this boot is behind the bytes, which the page cache holds.
        RewritePartial(server, partial => DurablePrefix.Record(partial.Handle, Flushed, DurablePrefix.Boot));

        Assert.Equal(Cut, await ResumeAsync(server, content, token));
        Assert.Equal(content, await File.ReadAllBytesAsync(server.PathOf("big.bin"), token));
    }

    [Fact(Timeout = 30000)]
    public async Task A_partial_whose_connection_was_cut_is_flushed_and_recorded_whole()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        var content = RandomNumberGenerator.GetBytes(Size);
        await LeavePartialAsync(server, content, token);

        // Even after a restart, all that was received before the cut is offered: it was flushed when the upload ended.
        RewritePartial(server, partial =>
        {
            Assert.Equal((Cut, Cut), DurablePrefix.Claim(partial.Handle, partial.Length));
            var (_, durable) = DurablePrefix.Claim(partial.Handle, partial.Length);
            DurablePrefix.Record(partial.Handle, durable, Guid.NewGuid());
        });

        Assert.Equal(Cut, await ResumeAsync(server, content, token));
    }

    /// <summary>A resumable put that sends <see cref="Cut"/> bytes and is cut off; returns once the server has let go of the partial.</summary>
    private static async Task LeavePartialAsync(TestServer server, byte[] content, CancellationToken token)
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() && KeepsAttributes(server.StagingDirectory), "the staging area's file system keeps no user attributes");
        await using (var first = await server.ConnectReadyAsync(token))
        {
            await first.SendAsync(Messages.Put(1, "big.bin", content.Length, HashAlgorithms.Sha256, null, null, PutFlags.Resume, Key), token);
            await first.ReadAsync(MessageType.Ready, token);
            await first.SendAsync(Messages.ResumeFrom(1, 0), token);
            await first.SendRawAsync(content.AsMemory(0, Cut), token);
            await DirectoryWatch.UntilAsync(server.StagingDirectory, () => PartialLength(server) == Cut, TimeSpan.FromSeconds(10), "the partial holds what was sent", token);
            first.Abort();
        }

        await server.Log.WaitForAsync(m => m.Contains("Put big.bin: failed", StringComparison.Ordinal), TimeSpan.FromSeconds(10), token);
    }

    /// <summary>The retry: returns the offset the server offered, after completing the put from it.</summary>
    private static async Task<long> ResumeAsync(TestServer server, byte[] content, CancellationToken token)
    {
        await using var retry = await server.ConnectReadyAsync(token);
        await retry.SendAsync(Messages.Put(1, "big.bin", content.Length, HashAlgorithms.Sha256, null, null, PutFlags.Resume, Key), token);
        var ready = await retry.ReadAsync(MessageType.Ready, token);
        long offered = ready.GetSizeOrNull(FieldTag.Offset) ?? 0;
        Assert.Equal(SHA256.HashData(content.AsSpan(0, (int)offered)), ready.GetBytes(FieldTag.HashValue));
        await retry.SendAsync(Messages.ResumeFrom(1, offered), token);
        await retry.SendRawAsync(content.AsMemory((int)offered), token);
        await retry.SendAsync(Messages.BodyEnd(1, HashAlgorithms.Sha256, SHA256.HashData(content)), token);
        FrameAssert.Is(await retry.ReadAsync(token), MessageType.Ok, 1);
        return offered;
    }

    private static void RewritePartial(TestServer server, Action<InlineFileStream> change)
    {
        using var partial = InlineFileStream.OpenResumable(Assert.Single(Directory.GetFiles(server.StagingDirectory, "*.resume")));
        change(partial);
    }

    private static long PartialLength(TestServer server) =>
        Directory.GetFiles(server.StagingDirectory, "*.resume") is [var partial] ? new FileInfo(partial).Length : -1;

    private static bool KeepsAttributes(string directory)
    {
        var probe = Path.Combine(directory, "xattr-probe");
        try
        {
            using var file = File.Create(probe);
            return ExtendedAttributes.Set(file.SafeFileHandle, "user.filexfer.probe", [1]) == 0;
        }
        finally
        {
            File.Delete(probe);
        }
    }
}
