namespace FileXfer.Client.Sync;

/// <summary>The counts of a finished verification.</summary>
public sealed record VerifySummary(int Identical, int Differs, int MissingOnServer, int OnlyOnServer, int Failed, TimeSpan Elapsed)
{
    /// <summary>True when everything checked is identical.</summary>
    public bool AllIdentical => Differs == 0 && MissingOnServer == 0 && OnlyOnServer == 0 && Failed == 0;
}
