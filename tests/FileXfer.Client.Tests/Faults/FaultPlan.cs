namespace FileXfer.Client.Tests.Faults;

/// <summary>
/// What a <see cref="FaultProxy"/> does to one connection: the faults of each direction. Immutable, so one plan can
/// be handed to many connections; the proxy decides which connection gets which plan
/// (<see cref="FaultProxy.Plan"/>, <see cref="FaultProxy.PlanNext(FaultPlan, int)"/>).
/// </summary>
public sealed record FaultPlan
{
    /// <summary>Every byte passes unchanged, in both directions.</summary>
    public static FaultPlan Clean { get; } = new();

    /// <summary>Faults on the bytes the client sends to the server.</summary>
    public DirectionFaults Upstream { get; init; } = DirectionFaults.None;

    /// <summary>Faults on the bytes the server sends to the client.</summary>
    public DirectionFaults Downstream { get; init; } = DirectionFaults.None;

    /// <summary>A plan with faults upstream only.</summary>
    public static FaultPlan Up(DirectionFaults faults) => new() { Upstream = faults };

    /// <summary>A plan with faults downstream only.</summary>
    public static FaultPlan Down(DirectionFaults faults) => new() { Downstream = faults };

    /// <summary>A plan with the same faults in both directions.</summary>
    public static FaultPlan Both(DirectionFaults faults) => new() { Upstream = faults, Downstream = faults };
}
