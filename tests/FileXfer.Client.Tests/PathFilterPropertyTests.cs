using FileXfer.Client.Sync;
using FsCheck.Xunit;

namespace FileXfer.Client.Tests;

/// <summary>
/// <see cref="PathFilter"/> against answers worked out the plain way: character classes on random names.
/// </summary>
public class PathFilterPropertyTests
{
    [Property(Arbitrary = [typeof(FilterArbitraries)], MaxTest = 2000)]
    public void A_class_pattern_agrees_with_a_character_by_character_reading_of_it(ClassCase classCase)
    {
        var filter = new PathFilter(null, [classCase.Pattern]);

        Assert.Equal(classCase.Expected(), !filter.IncludesFile("d/" + classCase.Name));
    }
}
