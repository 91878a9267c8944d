using FileXfer.Protocol;

namespace FileXfer.Server.Tests.Support;

/// <summary>Assertions on the coded failures of the store.</summary>
public static class StoreAssert
{
    /// <summary>Runs <paramref name="action"/> and checks it fails with <paramref name="code"/>.</summary>
    public static FileXferException Fails(ErrorCode code, Action action)
    {
        var ex = Assert.Throws<FileXferException>(action);
        Assert.True(ex.Code == code, $"expected {code}, got {ex.Code}: {ex.Message}");
        return ex;
    }

    /// <summary>The asynchronous form of <see cref="Fails"/>.</summary>
    public static async Task<FileXferException> FailsAsync(ErrorCode code, Func<Task> action)
    {
        var ex = await Assert.ThrowsAsync<FileXferException>(action);
        Assert.True(ex.Code == code, $"expected {code}, got {ex.Code}: {ex.Message}");
        return ex;
    }
}
