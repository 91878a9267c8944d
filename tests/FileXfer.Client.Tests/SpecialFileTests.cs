using System.Diagnostics;
using System.Net.Sockets;

namespace FileXfer.Client.Tests;

/// <summary>
/// Local paths that are not regular files: a get writes into a character device or a FIFO in place and never replaces
/// it; a put reads a FIFO or a <c>/proc</c> file to its real end; devices it cannot use, and sockets, are refused.
/// Device nodes are the test's own, made in its temp directory: the machine's /dev is never written to.
/// </summary>
public class SpecialFileTests
{
    private const int BodySize = 3 * 1024 * 1024;

    // Its size says 0, its bytes do not change while the tests run (unlike /proc/cpuinfo's MHz lines).
    private const string ProcFile = "/proc/version";

    [Fact(Timeout = 60000)]
    public async Task Get_into_a_character_device_writes_into_it_and_leaves_the_device_in_place()
    {
        var (result, _, node, left) = await GetIntoDeviceAsync("null", 1, 3, TestContext.Current.CancellationToken);

        CliAssert.Success(result);
        Assert.Equal("character special file 1 3", node);
        Assert.Equal(["null"], left);
    }

    [Fact(Timeout = 60000)]
    public async Task Get_into_a_full_device_is_one_no_space_error_and_the_device_stays()
    {
        var (result, device, node, left) = await GetIntoDeviceAsync("full", 1, 7, TestContext.Current.CancellationToken);

        var line = CliAssert.OneErrorLine(result, 1);
        Assert.Contains("no space left", line, StringComparison.Ordinal);
        Assert.Contains(device, line, StringComparison.Ordinal);
        Assert.Equal("character special file 1 7", node);
        Assert.Equal(["full"], left);
    }

    [Fact(Timeout = 60000)]
    public async Task Get_into_a_fifo_delivers_the_bytes_to_its_reader()
    {
        var token = TestContext.Current.CancellationToken;
        using var local = new TempDirectory();
        var fifo = local.Combine("pipe");
        await SpecialNodes.MakeFifoAsync(fifo, token);
        await using var server = new TestServer();
        await TestFiles.WriteRandomAsync(server.PathOf("f.bin"), BodySize, seed: 3, token);

        // A reader in another process: if the FIFO were replaced, its open would wait for ever, and it is killed below.
        using var reader = Process.Start(new ProcessStartInfo("cat", [fifo]) { RedirectStandardOutput = true })!;
        try
        {
            using var received = new MemoryStream();
            var reading = reader.StandardOutput.BaseStream.CopyToAsync(received, token);

            var result = await CliRunner.RunAsync(server, ["get", "f.bin", fifo], token);

            CliAssert.Success(result);
            Assert.Equal("fifo 0 0", await SpecialNodes.DescribeAsync(fifo, token));
            await reading;
            await reader.WaitForExitAsync(token);
            Assert.Equal(await File.ReadAllBytesAsync(server.PathOf("f.bin"), token), received.ToArray());
            Assert.Equal(["pipe"], TestFiles.ListRelative(local.Path));
        }
        finally
        {
            if (!reader.HasExited)
            {
                reader.Kill();
            }
        }
    }

    [Fact(Timeout = 60000)]
    public async Task A_hash_mismatch_into_a_device_is_exit_4_and_says_the_bytes_were_written_there()
    {
        var token = TestContext.Current.CancellationToken;
        using var local = new TempDirectory();
        var device = local.Combine("null");
        await SpecialNodes.MakeCharacterDeviceAsync(device, 1, 3, token);
        await using var hostile = new HostileServer(HostileServer.SendBody(TestFiles.RandomBytes(50_000, seed: 4), new byte[32]));

        var result = await CliRunner.RunAsync(hostile.Address, ["get", "f.bin", device], token);

        var line = CliAssert.OneErrorLine(result, 4);
        Assert.Contains("do not match", line, StringComparison.Ordinal);
        Assert.Contains($"already written to '{device}'", line, StringComparison.Ordinal);
        Assert.Equal("character special file 1 3", await SpecialNodes.DescribeAsync(device, token));
    }

    [Fact(Timeout = 60000)]
    public async Task Get_into_a_block_device_is_refused_before_connecting()
    {
        var token = TestContext.Current.CancellationToken;
        Assert.SkipUnless(OperatingSystem.IsLinux() && Environment.UserName == "root", "making a device node needs root on Linux");
        using var local = new TempDirectory();
        var device = local.Combine("disk");
        // Loop device 0's numbers; nothing listens at the address, so no byte could reach it whatever the client did.
        using (var mknod = Process.Start(new ProcessStartInfo("mknod", [device, "b", "7", "0"]))!)
        {
            await mknod.WaitForExitAsync(token);
            Assert.SkipUnless(mknod.ExitCode == 0, "mknod failed here");
        }

        var result = await CliRunner.RunAsync(ExitCodeTests.ClosedPortAddress(), ["get", "f.bin", device], token);

        Assert.Contains("is a block device", CliAssert.OneErrorLine(result, 2), StringComparison.Ordinal);
        Assert.Equal("block special file 7 0", await SpecialNodes.DescribeAsync(device, token));
    }

    [Fact(Timeout = 60000)]
    public async Task Put_of_a_proc_file_sends_it_to_its_real_end()
    {
        var token = TestContext.Current.CancellationToken;
        SkipUnlessSizeSaysZero(ProcFile);
        await using var server = new TestServer();

        var result = await CliRunner.RunAsync(server, ["put", ProcFile, "version"], token);

        CliAssert.Success(result);
        await AssertStoredWholeAsync(server.PathOf("version"), token);
    }

    [Fact(Timeout = 60000)]
    public async Task Put_of_a_tree_sends_a_proc_file_in_it_to_its_real_end()
    {
        var token = TestContext.Current.CancellationToken;
        SkipUnlessSizeSaysZero(ProcFile);
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await File.WriteAllTextAsync(local.Combine("a.txt"), "a", token);
        // A link to a file is followed: the tree holds the /proc file's bytes under this name.
        File.CreateSymbolicLink(local.Combine("version"), ProcFile);

        var result = await CliRunner.RunAsync(server, ["put", "-r", local.Path, "tree"], token);

        CliAssert.Success(result);
        await AssertStoredWholeAsync(server.PathOf("tree/version"), token);
    }

    [Fact(Timeout = 60000)]
    public async Task Put_of_a_fifo_streams_what_its_writer_writes()
    {
        var token = TestContext.Current.CancellationToken;
        using var local = new TempDirectory();
        var fifo = local.Combine("pipe");
        await SpecialNodes.MakeFifoAsync(fifo, token);
        await using var server = new TestServer();
        var data = TestFiles.RandomBytes(BodySize, seed: 5);
        var writer = Task.Run(() => File.WriteAllBytes(fifo, data), token);
        try
        {
            var result = await CliRunner.RunAsync(server, ["put", fifo, "piped.bin"], token);

            CliAssert.Success(result);
            await writer;
            Assert.Equal(data, await File.ReadAllBytesAsync(server.PathOf("piped.bin"), token));
        }
        finally
        {
            if (!writer.IsCompleted)
            {
                // The client never opened the FIFO: opening its reading end lets the writer's open return, and closing it ends the writer.
                File.OpenHandle(fifo, FileMode.Open, FileAccess.Read).Dispose();
            }

            await writer.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    [Fact(Timeout = 60000)]
    public async Task A_device_or_a_socket_cannot_be_put_and_nothing_connects()
    {
        var token = TestContext.Current.CancellationToken;
        Assert.SkipUnless(OperatingSystem.IsLinux() && File.Exists("/dev/zero"), "needs Linux's /dev/zero");
        using var local = new TempDirectory();
        var socketPath = local.Combine("socket");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(socketPath));
        // Nothing listens here: a refusal must come before any attempt to connect.
        var address = ExitCodeTests.ClosedPortAddress();

        var zero = await CliRunner.RunAsync(address, ["put", "/dev/zero", "zero"], token);
        var unix = await CliRunner.RunAsync(address, ["put", socketPath, "socket"], token);

        Assert.Contains("'/dev/zero' is a device", CliAssert.OneErrorLine(zero, 2), StringComparison.Ordinal);
        Assert.Contains("is a socket", CliAssert.OneErrorLine(unix, 2), StringComparison.Ordinal);
    }

    /// <summary>
    /// Gets a file into a character device node of the test's own (<paramref name="major"/>, <paramref name="minor"/>) in a
    /// temp directory; returns what the command did, the node's path, what <c>stat</c> says it is afterwards, and what the
    /// directory holds.
    /// </summary>
    private static async Task<(CliResult Result, string Device, string Node, string[] Left)> GetIntoDeviceAsync(string name, int major, int minor, CancellationToken cancellationToken)
    {
        using var local = new TempDirectory();
        var device = local.Combine(name);
        await SpecialNodes.MakeCharacterDeviceAsync(device, major, minor, cancellationToken);
        await using var server = new TestServer();
        await TestFiles.WriteRandomAsync(server.PathOf("f.bin"), BodySize, seed: minor, cancellationToken);

        var result = await CliRunner.RunAsync(server, ["get", "f.bin", device], cancellationToken);

        return (result, device, await SpecialNodes.DescribeAsync(device, cancellationToken), TestFiles.ListRelative(local.Path));
    }

    private static void SkipUnlessSizeSaysZero(string path) =>
        Assert.SkipUnless(File.Exists(path) && new FileInfo(path).Length == 0, $"{path} is not a file whose size says 0 here");

    /// <summary>The stored file holds all of <see cref="ProcFile"/>, read to its end.</summary>
    private static async Task AssertStoredWholeAsync(string stored, CancellationToken cancellationToken)
    {
        var bytes = await File.ReadAllBytesAsync(stored, cancellationToken);
        Assert.NotEmpty(bytes);
        Assert.Equal(await File.ReadAllBytesAsync(ProcFile, cancellationToken), bytes);
    }
}
