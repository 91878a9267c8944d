namespace FileXfer.Platform.Tests;

/// <summary>Random bytes for nonces and temp names (from AuthProofTests, where nonces were made before the platform room).</summary>
public class SecureRandomTests
{
    [Theory]
    [InlineData(32)]
    [InlineData(6)]
    [InlineData(1000)]
    public void Each_call_gives_fresh_random_bytes_of_the_length_asked(int count)
    {
        var a = SecureRandom.GetBytes(count);
        var b = SecureRandom.GetBytes(count);

        Assert.Equal(count, a.Length);
        Assert.NotEqual(a, b);
    }
}
