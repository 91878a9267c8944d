using FileXfer.Server.Storage.Local;

namespace FileXfer.Server.Tests.Support;

/// <summary>
/// A temp parent holding a store root at <c>data</c> and, beside it, directories the store must never reach:
/// <c>outside</c> and <c>data-evil</c> (which shares the root's name as a prefix).
/// </summary>
public sealed class StoreFixture : IDisposable
{
    private readonly TempDirectory _parent = new();

    public StoreFixture(FileStoreOptions? options = null)
    {
        var root = _parent.CreateDirectory("data");
        Outside = _parent.CreateDirectory("outside");
        Sibling = _parent.CreateDirectory("data-evil");
        File.WriteAllText(Path.Combine(Outside, "secret.txt"), "outside secret");
        File.WriteAllText(Path.Combine(Sibling, "secret.txt"), "sibling secret");
        Store = new FileStore(root, options);
    }

    public FileStore Store { get; }

    /// <summary>A directory next to the root.</summary>
    public string Outside { get; }

    /// <summary><c>data-evil</c>: next to the root <c>data</c>, and a string prefix match of it.</summary>
    public string Sibling { get; }

    /// <summary>The local path of a remote path.</summary>
    public string Local(string remote) => Path.Combine(Store.Root, remote);

    /// <summary>Writes a file under the root, creating its parents.</summary>
    public string Write(string remote, string content)
    {
        var path = Local(remote);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>A path inside the temp parent, outside the root.</summary>
    public string Beside(string name) => _parent.Combine(name);

    public void Dispose() => _parent.Dispose();
}
