using System.Globalization;
using FileXfer.Client.Sync;
using FileXfer.Protocol.Framing;

namespace FileXfer.Client.Tests.Trees;

/// <summary>
/// <see cref="InWalkOrder{T}"/>, the hand-on of <c>verify -r</c>'s and <c>hash -r</c>'s results: a window of results, not
/// a task per file of a directory, whatever its width; results in walk order.
/// </summary>
public sealed class InWalkOrderTests
{
    private const int Window = 64;

    [Fact(Timeout = 60000)]
    public async Task A_directory_wider_than_the_window_holds_at_most_the_window_of_unfinished_results_and_keeps_their_order()
    {
        // The first result finishes only once the walk has made as many as the window lets it (the window in the
        // channel, one being handed on, one being added): the walk must stop there, not make all 1,000 of the
        // directory's, and it must not stop earlier (the test would then never end).
        var token = TestContext.Current.CancellationToken;
        using var local = new TempDirectory();
        for (int i = 0; i < 1000; i++)
        {
            await File.WriteAllTextAsync(local.Combine(string.Create(CultureInfo.InvariantCulture, $"f{i:D4}")), "x", token);
        }

        Directory.CreateDirectory(local.Combine("sub"));
        await File.WriteAllTextAsync(local.Combine("sub", "a"), "x", token);
        var first = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        int made = 0, handedOn = 0, mostUnfinished = 0;
        var order = new List<string>();
        await using var unused = new RequestQueue("sha256", _ => Task.CompletedTask);

        await InWalkOrder<string>.WalkAsync(
            new DirectoryJob(string.Empty, Local: true, Remote: false),
            local.Path,
            string.Empty,
            unused,
            Window,
            async (pair, add) =>
            {
                var children = new List<DirectoryJob>();
                foreach (var entry in pair.Local!)
                {
                    var path = pair.Job.Relative.Length == 0 ? entry.Name : pair.Job.Relative + "/" + entry.Name;
                    if (entry.Kind == EntryKind.Directory)
                    {
                        children.Add(new DirectoryJob(path, Local: true, Remote: false));
                        continue;
                    }

                    int unfinished = Interlocked.Increment(ref made) - Volatile.Read(ref handedOn);
                    mostUnfinished = Math.Max(mostUnfinished, unfinished);
                    if (made == Window + 2)
                    {
                        first.TrySetResult("f0000");
                    }

                    await add(made == 1 ? first.Task : Task.FromResult(path));
                }

                return children;
            },
            item =>
            {
                Interlocked.Increment(ref handedOn);
                order.Add(item);
                return ValueTask.CompletedTask;
            },
            token);

        Assert.Equal(1001, order.Count);
        Assert.Equal(Window + 2, mostUnfinished);
        Assert.Equal([.. Enumerable.Range(0, 1000).Select(i => string.Create(CultureInfo.InvariantCulture, $"f{i:D4}")), "sub/a"], order);
    }

    [Fact(Timeout = 60000)]
    public async Task A_result_that_fails_stops_the_walk_with_its_failure()
    {
        var token = TestContext.Current.CancellationToken;
        using var local = new TempDirectory();
        for (int i = 0; i < 500; i++)
        {
            await File.WriteAllTextAsync(local.Combine(string.Create(CultureInfo.InvariantCulture, $"f{i:D4}")), "x", token);
        }

        await using var unused = new RequestQueue("sha256", _ => Task.CompletedTask);
        int made = 0;

        var error = await Assert.ThrowsAsync<IOException>(() => InWalkOrder<string>.WalkAsync(
            new DirectoryJob(string.Empty, Local: true, Remote: false),
            local.Path,
            string.Empty,
            unused,
            Window,
            async (pair, add) =>
            {
                foreach (var entry in pair.Local!)
                {
                    await add(++made == 10 ? Task.FromException<string>(new IOException("the tenth failed")) : Task.FromResult(entry.Name));
                }

                return [];
            },
            _ => ValueTask.CompletedTask,
            token));

        Assert.Equal("the tenth failed", error.Message);
        Assert.InRange(made, 10, 10 + Window + 2);
    }
}
