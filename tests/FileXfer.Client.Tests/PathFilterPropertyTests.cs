using FileXfer.Client.Sync;
using FsCheck.Xunit;

namespace FileXfer.Client.Tests;

/// <summary>
/// <see cref="PathFilter"/> against answers worked out the plain way: character classes on random names, and a
/// --files-from list's binary search against a scan of the list.
/// </summary>
public class PathFilterPropertyTests
{
    [Property(Arbitrary = [typeof(FilterArbitraries)], MaxTest = 2000)]
    public void A_class_pattern_agrees_with_a_character_by_character_reading_of_it(ClassCase classCase)
    {
        var filter = new PathFilter(null, [classCase.Pattern]);

        Assert.Equal(classCase.Expected(), !filter.IncludesFile("d/" + classCase.Name));
    }

    [Property(Arbitrary = [typeof(FilterArbitraries)], MaxTest = 1000)]
    public void A_files_from_list_agrees_with_a_scan_of_the_list(ListCase listCase)
    {
        var filter = new PathFilter(null, null, new ListedPaths(listCase.Spelled));

        foreach (var query in listCase.Queries)
        {
            bool covered = listCase.ExpectedCovers(query);
            Assert.Equal(covered, filter.IncludesFile(query));
            Assert.Equal(covered || listCase.ExpectedAncestor(query), filter.IncludesDirectory(query));
        }
    }
}
