namespace FileXfer.Server.Tests.Support;

/// <summary>Holds concurrent tasks until all of them have arrived, so they really start together.</summary>
public sealed class StartLine(int participants)
{
    private readonly TaskCompletionSource _allArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _arrived;

    public Task ArriveAndWaitAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _arrived) == participants)
        {
            _allArrived.TrySetResult();
        }

        return _allArrived.Task.WaitAsync(cancellationToken);
    }
}
