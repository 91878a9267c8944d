namespace FileXfer.Client.Sync;

/// <summary>What verification found for one file.</summary>
public enum VerifyStatus
{
    /// <summary>Both sides hash the same.</summary>
    Identical,

    /// <summary>The hashes differ.</summary>
    Differs,

    /// <summary>The file is here (or in the manifest) but not on the server.</summary>
    MissingOnServer,

    /// <summary>The file is on the server but not here.</summary>
    OnlyOnServer,

    /// <summary>One side could not be hashed.</summary>
    Failed,
}
