using FileXfer.Server.Handlers;

namespace FileXfer.Server.Tests.Protocol;

/// <summary>
/// The server logs a parent time it could not set once per directory, for all its connections, in bounded memory
/// (ServerLog 68, 71 for a token's connection): every request is told in its Ok, the log is not flooded by a tree of
/// many files. A directory is known by where it is on the server: the session's subtree and the path below it.
/// </summary>
public class ParentTimeWarningsTests
{
    [Fact]
    public void Each_directory_is_logged_once()
    {
        var warnings = new ParentTimeWarnings();

        Assert.True(warnings.FirstFor(string.Empty, "shared"));
        Assert.False(warnings.FirstFor(string.Empty, "shared"));
        Assert.True(warnings.FirstFor(string.Empty, string.Empty));
        Assert.True(warnings.FirstFor(string.Empty, "shared/sub"));
        Assert.False(warnings.FirstFor(string.Empty, string.Empty));
        Assert.False(warnings.FirstFor(string.Empty, "shared"));
    }

    [Fact]
    public void The_same_relative_directory_in_two_subtrees_is_two_directories()
    {
        var warnings = new ParentTimeWarnings();

        Assert.True(warnings.FirstFor("alice", "shared"));
        Assert.True(warnings.FirstFor("bob", "shared"));
        Assert.True(warnings.FirstFor(string.Empty, "shared"));
        Assert.True(warnings.FirstFor("alice", string.Empty));
        Assert.True(warnings.FirstFor("bob", string.Empty));
        Assert.False(warnings.FirstFor("alice", "shared"));
        Assert.False(warnings.FirstFor("bob", "shared"));
    }

    [Fact]
    public void One_directory_named_from_subtrees_that_overlap_is_one_directory()
    {
        var warnings = new ParentTimeWarnings();

        Assert.True(warnings.FirstFor("tenants/a", "photos"));
        Assert.False(warnings.FirstFor("tenants", "a/photos"));
        Assert.False(warnings.FirstFor(string.Empty, "tenants/a/photos"));
        Assert.False(warnings.FirstFor("tenants/a/photos", string.Empty));
    }

    [Fact]
    public void Past_its_capacity_it_forgets_and_a_directory_may_be_logged_again()
    {
        var warnings = new ParentTimeWarnings();
        for (int i = 0; i < ParentTimeWarnings.Capacity; i++)
        {
            Assert.True(warnings.FirstFor(i % 2 == 0 ? "even" : string.Empty, $"d{i}"));
        }

        Assert.False(warnings.FirstFor("even", "d0"));
        Assert.True(warnings.FirstFor("odd", "d1"));
        Assert.True(warnings.FirstFor("even", "d0"));
        Assert.False(warnings.FirstFor("odd", "d1"));
    }
}
