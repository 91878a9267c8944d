namespace FileXfer.Server.Security;

/// <summary>What a token may do.</summary>
public enum TokenAccess
{
    /// <summary>Get, stat, list and hash only.</summary>
    ReadOnly,

    /// <summary>Everything, including put, delete and make directory.</summary>
    ReadWrite,
}
