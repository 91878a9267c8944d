using FileXfer.Server.Storage.Local;

namespace FileXfer.Server.Tests.Storage;

/// <summary>
/// sendfile pieces each get the whole stall deadline, so their size follows the link: on a slow uplink a fixed
/// 8 MiB piece would outlast a 60 s deadline (below 140 KB/s) and a healthy transfer would be called stalled.
/// </summary>
public class FileSenderTests
{
    [Theory]
    [InlineData(1024 * 1024, 8.0, 60, 1_966_080)]            // 128 KiB/s (a 1 Mbit/s uplink): 15 s worth
    [InlineData(1024 * 1024, 0.001, 60, 64 * 1024 * 1024)]   // loopback: capped at 64 MiB
    [InlineData(1024 * 1024, 300.0, 60, 256 * 1024)]         // 3.4 KiB/s: never below 256 KiB
    [InlineData(256 * 1024, 1.0, 10, 655_360)]               // 256 KiB/s, 10 s: 2.5 s worth
    public void A_piece_holds_a_quarter_of_the_deadline_at_the_last_rate(int lastPiece, double lastSeconds, int timeoutSeconds, long expected)
    {
        var next = FileSender.NextPiece(lastPiece, TimeSpan.FromSeconds(lastSeconds), TimeSpan.FromSeconds(timeoutSeconds));

        Assert.Equal(expected, next);
    }

    [Fact]
    public void Without_a_deadline_pieces_are_as_large_as_allowed() =>
        Assert.Equal(64 * 1024 * 1024, FileSender.NextPiece(1024 * 1024, TimeSpan.FromSeconds(100), stallTimeout: null));
}
