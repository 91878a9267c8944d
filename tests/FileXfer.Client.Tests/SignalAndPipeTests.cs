using System.Security.Cryptography;
using FileXfer.Client.Cli;
using FileXfer.Protocol.Framing;
using Microsoft.Extensions.Time.Testing;

namespace FileXfer.Client.Tests;

/// <summary>
/// The real <c>filexfer</c> process ended by SIGINT or SIGTERM (130 or 143, temp files removed, nothing under a real
/// name), and writing into a pipe its reader closed (141, one line); and the signal handling itself on a fake clock.
/// </summary>
public class SignalAndPipeTests
{
    private const string Interrupted = "filexfer: interrupted\n";

    [Fact(Timeout = 60000)]
    public async Task Sigint_in_the_middle_of_a_get_exits_130_and_leaves_no_temp_file()
    {
        // A process started in the background by a shell without job control ignores SIGINT, and so does every process it
        // starts: the client then rightly keeps ignoring it, as a background job should.
        Assert.SkipWhen(SigintIgnoredHere(), "SIGINT is ignored in this process (started in the background without job control), so the client inherits that");
        var token = TestContext.Current.CancellationToken;
        // The server sends the first 64 KiB of 1 MiB and nothing more: the client waits in the middle of the body.
        await using var server = new HostileServer(async (connection, request, cancellationToken) =>
        {
            Assert.Equal(MessageType.Get, request.Type);
            var algorithm = request.GetString(FieldTag.HashAlgorithm);
            await connection.Writer.WriteAsync(Messages.Data(request.RequestId, 1 << 20, algorithm, DateTimeOffset.UnixEpoch, 0x1A4), cancellationToken);
            await connection.Stream.WriteAsync(new byte[64 * 1024], cancellationToken);
            await new TaskCompletionSource().Task.WaitAsync(cancellationToken);
        });
        using var local = new TempDirectory();

        using var process = ClientProcess.Start(server.Address, "get", "big.bin", local.Combine("big.bin"));
        var stderr = process.StandardError.ReadToEndAsync(token);
        await DirectoryWatch.UntilAsync(local.Path, () => Directory.GetFiles(local.Path).Length > 0 || process.HasExited, TimeSpan.FromSeconds(30), "the client opens its temp file", token);
        Assert.False(process.HasExited, "the client ended before the signal");
        await ClientProcess.SignalAsync(process, "INT", token);
        await process.WaitForExitAsync(token);

        Assert.Equal(Interrupted, await stderr);
        Assert.Equal((int)ExitCode.Interrupted, process.ExitCode);
        Assert.Empty(Directory.GetFileSystemEntries(local.Path));
    }

    [Fact(Timeout = 60000)]
    public async Task Sigterm_while_a_put_reads_standard_input_exits_143_and_stores_nothing()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();

        using var process = ClientProcess.Start(server.Address, "put", "-", "streamed.bin");
        var stderr = process.StandardError.ReadToEndAsync(token);
        // Some bytes, and standard input kept open: the client is left waiting for more (a read it cannot cancel).
        await process.StandardInput.BaseStream.WriteAsync(RandomNumberGenerator.GetBytes(256 * 1024), token);
        await process.StandardInput.BaseStream.FlushAsync(token);
        await server.Log.WaitForAsync(m => m.Contains(": client filexfer/", StringComparison.Ordinal), TimeSpan.FromSeconds(30), token);
        await ClientProcess.SignalAsync(process, "TERM", token);
        await process.WaitForExitAsync(token);

        Assert.Equal(Interrupted, await stderr);
        Assert.Equal((int)ExitCode.Terminated, process.ExitCode);
        await server.Log.WaitForAsync(m => m.Contains(" closed after ", StringComparison.Ordinal), TimeSpan.FromSeconds(30), token);
        Assert.Equal([".filexfer"], Directory.GetFileSystemEntries(server.Root).Select(Path.GetFileName));
    }

    [Fact(Timeout = 60000)]
    public async Task A_get_to_standard_output_whose_reader_went_away_exits_141_with_one_line()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await File.WriteAllBytesAsync(server.PathOf("data.bin"), RandomNumberGenerator.GetBytes(4 << 20), token);

        // As `filexfer get data.bin - | head -c 10`: the reader takes 10 bytes and closes the pipe.
        using var process = ClientProcess.Start(server.Address, "get", "data.bin", "-");
        var stderr = process.StandardError.ReadToEndAsync(token);
        await process.StandardOutput.BaseStream.ReadExactlyAsync(new byte[10], token);
        await process.StandardOutput.BaseStream.DisposeAsync();
        await process.WaitForExitAsync(token);

        Assert.Equal("filexfer: standard output was closed before everything was written (broken pipe)\n", await stderr);
        Assert.Equal((int)ExitCode.BrokenPipe, process.ExitCode);
    }

    [Fact]
    public void The_first_signal_cancels_the_command_which_gets_a_grace_period_to_clean_up()
    {
        var time = new FakeTimeProvider();
        var exits = new List<int>();
        using var signals = new TerminationSignals(time, exits.Add);

        signals.OnSignal(System.Runtime.InteropServices.PosixSignal.SIGINT);

        Assert.True(signals.Token.IsCancellationRequested);
        Assert.Equal(ExitCode.Interrupted, signals.Received);
        Assert.Equal(130, signals.ExitCodeAfter((int)ExitCode.Unexpected));
        Assert.Equal(0, signals.ExitCodeAfter(0));
        time.Advance(TerminationSignals.GracePeriod - TimeSpan.FromTicks(1));
        Assert.Empty(exits);
        time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal([130], exits);
    }

    [Fact]
    public void A_second_signal_ends_the_process_at_once_with_its_code()
    {
        var exits = new List<int>();
        using var signals = new TerminationSignals(new FakeTimeProvider(), exits.Add);

        signals.OnSignal(System.Runtime.InteropServices.PosixSignal.SIGTERM);
        Assert.Empty(exits);
        signals.OnSignal(System.Runtime.InteropServices.PosixSignal.SIGINT);

        Assert.Equal([130], exits);
        Assert.Equal(ExitCode.Terminated, signals.Received);
        Assert.Equal(143, signals.ExitCodeAfter((int)ExitCode.SomeFailed));
    }

    [Fact]
    public void A_command_that_returned_in_time_is_not_forced_out_afterwards()
    {
        var time = new FakeTimeProvider();
        var exits = new List<int>();
        using var signals = new TerminationSignals(time, exits.Add);

        signals.OnSignal(System.Runtime.InteropServices.PosixSignal.SIGINT);
        signals.Finish();
        time.Advance(TerminationSignals.GracePeriod * 2);
        signals.OnSignal(System.Runtime.InteropServices.PosixSignal.SIGINT);

        // The process ends by returning from Main, never also by a forced exit racing it.
        Assert.Empty(exits);
        Assert.Equal(130, signals.ExitCodeAfter((int)ExitCode.Unexpected));
    }

    /// <summary>True when SIGINT is ignored in this process (bit 2 of SigIgn in /proc/self/status), as children then inherit.</summary>
    private static bool SigintIgnoredHere()
    {
        const string Prefix = "SigIgn:";
        var line = OperatingSystem.IsLinux() ? File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(Prefix, StringComparison.Ordinal)) : null;
        return line is not null && (Convert.ToUInt64(line[Prefix.Length..].Trim(), 16) & 0x2) != 0;
    }
}
