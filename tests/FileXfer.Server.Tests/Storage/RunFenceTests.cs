using FileXfer.Protocol.Framing;
using FileXfer.Server.Storage;
using Microsoft.Extensions.Time.Testing;

namespace FileXfer.Server.Tests.Storage;

/// <summary>The fence's rules: what a declaration fences, for how long, and how much it keeps.</summary>
public sealed class RunFenceTests
{
    private static RunTicket Ticket(byte run, uint number, params uint[] abandoned) =>
        new([.. Enumerable.Repeat(run, 16)], number, abandoned);

    [Fact]
    public void A_declared_connection_is_fenced_and_no_other()
    {
        var fence = new RunFence(new FakeTimeProvider());
        fence.Declare("writer", Ticket(1, 3, 1));

        Assert.True(fence.IsAbandoned("writer", Ticket(1, 1)));
        Assert.False(fence.IsAbandoned("writer", Ticket(1, 2)));
        Assert.False(fence.IsAbandoned("writer", Ticket(2, 1)));
        Assert.False(fence.IsAbandoned("reader", Ticket(1, 1)));
    }

    [Fact]
    public void A_fenced_connection_publishes_nothing_and_an_unfenced_or_ticketless_one_publishes()
    {
        var fence = new RunFence(new FakeTimeProvider());
        fence.Declare(string.Empty, Ticket(1, 2, 1));
        int published = 0;

        Assert.False(fence.TryPublish(string.Empty, Ticket(1, 1), () => ++published, out _));
        Assert.True(fence.TryPublish(string.Empty, Ticket(1, 2), () => ++published, out int second));
        Assert.True(fence.TryPublish(string.Empty, null, () => ++published, out int third));
        Assert.Equal((2, 1, 2), (published, second, third));
    }

    [Fact]
    public void A_run_without_abandonments_costs_nothing_and_declarations_expire_after_the_keep_time()
    {
        var time = new FakeTimeProvider();
        var fence = new RunFence(time) { Keep = TimeSpan.FromHours(1) };
        fence.Declare(string.Empty, Ticket(1, 1));
        Assert.Equal(0, fence.Count);

        fence.Declare(string.Empty, Ticket(1, 2, 1));
        time.Advance(TimeSpan.FromMinutes(61));
        // A new run's declaration prunes what outlived the keep time.
        fence.Declare(string.Empty, Ticket(2, 2, 1));

        Assert.Equal(1, fence.Count);
        Assert.False(fence.IsAbandoned(string.Empty, Ticket(1, 1)));
        Assert.True(fence.IsAbandoned(string.Empty, Ticket(2, 1)));
    }

    [Fact]
    public void At_most_the_limit_of_runs_is_kept_the_oldest_dropped_first()
    {
        var time = new FakeTimeProvider();
        var fence = new RunFence(time) { MaxRuns = 3 };
        for (byte run = 1; run <= 5; run++)
        {
            fence.Declare(string.Empty, Ticket(run, 2, 1));
            time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(3, fence.Count);
        Assert.False(fence.IsAbandoned(string.Empty, Ticket(2, 1)));
        Assert.True(fence.IsAbandoned(string.Empty, Ticket(3, 1)));
        Assert.True(fence.IsAbandoned(string.Empty, Ticket(5, 1)));
    }
}
