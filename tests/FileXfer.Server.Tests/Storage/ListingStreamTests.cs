using FileXfer.Protocol.Framing;
using FileXfer.Server.Storage.Local;

namespace FileXfer.Server.Tests.Storage;

/// <summary>
/// The store's listings stream: a tree is read one directory at a time as it is enumerated, and an entry is
/// examined when it is reached, so what a listing holds is one directory's names per level, never the tree.
/// </summary>
public sealed class ListingStreamTests : IDisposable
{
    private readonly StoreFixture _fixture = new(new FileStoreOptions { MaxListEntries = 10 });

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public void A_recursive_listing_reads_a_directory_only_when_the_walk_reaches_it()
    {
        _fixture.Write("a/1.txt", "1");
        _fixture.Write("z/2.txt", "2");

        using var listing = _fixture.Store.ListTree("/").GetEnumerator();
        Assert.True(listing.MoveNext());
        Assert.Equal("a", listing.Current.Entry.Name);

        // Made after the listing started: a listing that had gathered the tree could not see it.
        _fixture.Write("z/3.txt", "3");
        var rest = new List<string>();
        while (listing.MoveNext())
        {
            rest.Add(listing.Current.Entry.Name);
        }

        Assert.Equal(["a/1.txt", "z", "z/2.txt", "z/3.txt"], rest);
    }

    [Fact]
    public void A_listing_examines_each_entry_when_it_reaches_it()
    {
        _fixture.Write("dir/a.txt", "a");
        _fixture.Write("dir/b.txt", "b");

        using var listing = _fixture.Store.List("dir").GetEnumerator();
        Assert.True(listing.MoveNext());

        // Grown after the names were read: its size is the one it has when the listing gets to it.
        _fixture.Write("dir/b.txt", "grown");
        Assert.True(listing.MoveNext());

        Assert.Equal("b.txt", listing.Current.Entry.Name);
        Assert.Equal(5, listing.Current.Entry.Size);
        Assert.False(listing.MoveNext());
    }

    [Fact]
    public void A_tree_larger_than_the_per_directory_limit_is_listed_whole()
    {
        for (int d = 0; d < 5; d++)
        {
            for (int f = 0; f < 10; f++)
            {
                _fixture.Write($"d{d}/f{f}.txt", "x");
            }
        }

        var all = _fixture.Store.ListTree("/").Where(l => l.Omitted is null).ToList();

        Assert.Equal(5 + 50, all.Count);
        Assert.Equal(50, all.Count(l => l.Entry.Kind == EntryKind.File));
    }

    [Fact]
    public void A_name_the_protocol_cannot_carry_is_listed_as_omitted_with_the_reason()
    {
        _fixture.Write("dir/good.txt", "good");
        _fixture.Write("dir/bad\nname.txt", "bad");

        var listed = _fixture.Store.List("dir").ToList();

        var omitted = Assert.Single(listed, l => l.Omitted is not null);
        Assert.Equal("bad\nname.txt", omitted.Entry.Name);
        Assert.Equal("good.txt", Assert.Single(listed, l => l.Omitted is null).Entry.Name);
    }
}
