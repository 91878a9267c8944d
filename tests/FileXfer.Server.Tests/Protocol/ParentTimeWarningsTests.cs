using FileXfer.Server.Handlers;

namespace FileXfer.Server.Tests.Protocol;

/// <summary>
/// The server logs a parent time it could not set once per directory, for all its connections, in bounded memory
/// (ServerLog 68): every request is told in its Ok, the log is not flooded by a tree of many files.
/// </summary>
public class ParentTimeWarningsTests
{
    [Fact]
    public void Each_directory_is_logged_once()
    {
        var warnings = new ParentTimeWarnings();

        Assert.True(warnings.FirstFor("shared"));
        Assert.False(warnings.FirstFor("shared"));
        Assert.True(warnings.FirstFor(string.Empty));
        Assert.True(warnings.FirstFor("shared/sub"));
        Assert.False(warnings.FirstFor(string.Empty));
        Assert.False(warnings.FirstFor("shared"));
    }

    [Fact]
    public void Past_its_capacity_it_forgets_and_a_directory_may_be_logged_again()
    {
        var warnings = new ParentTimeWarnings();
        for (int i = 0; i < ParentTimeWarnings.Capacity; i++)
        {
            Assert.True(warnings.FirstFor($"d{i}"));
        }

        Assert.False(warnings.FirstFor("d0"));
        Assert.True(warnings.FirstFor("one more"));
        Assert.True(warnings.FirstFor("d0"));
        Assert.False(warnings.FirstFor("one more"));
    }
}
