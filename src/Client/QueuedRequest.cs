namespace FileXfer.Client;

/// <summary>A request of a <see cref="RequestQueue"/>: how it is sent, how its answer is read, how it fails.</summary>
public abstract class QueuedRequest
{
    private protected QueuedRequest()
    {
    }

    /// <summary>Raised once the request has its outcome, an answer or a failure.</summary>
    internal event Action<QueuedRequest>? Answered;

    /// <summary>The request's frame, with id <paramref name="id"/>.</summary>
    internal abstract Frame Build(uint id);

    /// <summary>Fails the request with <paramref name="error"/> unless it already has its outcome.</summary>
    internal abstract void Fail(Exception error);

    private protected void OnAnswered() => Answered?.Invoke(this);
}
