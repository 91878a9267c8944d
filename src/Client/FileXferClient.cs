using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using FileXfer.Client.Tls;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Protocol.Net;
using FileXfer.Protocol.Paths;
using FileXfer.Protocol.Security;
using FileXfer.Protocol.Transfer;
using Microsoft.Win32.SafeHandles;

namespace FileXfer.Client;

/// <summary>
/// One connection to a FileXfer server, with every transfer verified end to end. This is the library part of
/// the client: it never touches the console; the command line maps its results and exceptions to output and
/// exit codes.
/// </summary>
/// <remarks>
/// Failures surface as <see cref="FileXferException"/> (with the server's or the client's
/// <see cref="ErrorCode"/>), <see cref="ConnectionFailedException"/> and <see cref="ConnectionLostException"/>
/// (network), or plain <see cref="IOException"/> for local files. Requests on one client run one at a time.
/// </remarks>
public sealed partial class FileXferClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly GuardedNetworkStream _stream;
    private readonly ProtocolReader _reader;
    private readonly FrameWriter _writer;
    private readonly FileXferClientOptions _options;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private uint _nextRequestId;
    private bool _broken;

    private FileXferClient(Socket socket, Stream transport, FileXferClientOptions options)
    {
        _socket = socket;
        _options = options;
        _stream = new GuardedNetworkStream(transport) { IdleTimeout = options.IdleTimeout, Socket = options.Tls is null ? socket : null };
        _writer = new FrameWriter(_stream);
        // Requests are gathered and sent whenever the client is about to wait for an answer.
        _reader = new ProtocolReader(_stream) { BeforeBlockingRead = _writer.FlushAsync };
    }

    /// <summary>The server's agent string from the handshake.</summary>
    public string ServerAgent { get; private set; } = string.Empty;

    /// <summary>The protocol version both sides agreed on.</summary>
    public int ProtocolVersion { get; private set; }

    /// <summary>The optional features both sides implement.</summary>
    public Capabilities Capabilities { get; private set; }

    /// <summary>The largest file the server accepts.</summary>
    public long ServerMaxFileSize { get; private set; }

    /// <summary>True when the server required a token and both sides proved they know its secret.</summary>
    public bool IsAuthenticated { get; private set; }

    /// <summary>What the token may do: <see cref="AccessFlags.Write"/>, or none for read-only. Write on an anonymous server.</summary>
    public AccessFlags Access { get; private set; } = AccessFlags.Write;

    /// <summary>The hash algorithm this connection's transfers and hash requests use.</summary>
    public string HashAlgorithm => _options.HashAlgorithm;

    /// <summary>Connects to a server and completes the handshake.</summary>
    /// <exception cref="ConnectionFailedException">The server cannot be reached or did not answer in time.</exception>
    /// <exception cref="ServerCertificateException">TLS is on and the server's certificate is not trusted.</exception>
    public static async Task<FileXferClient> ConnectAsync(HostPort server, FileXferClientOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        options ??= new FileXferClientOptions();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.ConnectTimeout);

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        FileXferClient? client = null;
        try
        {
            await socket.ConnectAsync(server.Host, server.Port, deadline.Token);
            Stream transport = new NetworkStream(socket, ownsSocket: true);
            if (options.Tls is { } tls)
            {
                // Before a single FileXfer byte: the magic, the Hello and everything after go inside TLS or nowhere.
                transport = await TlsConnector.ConnectAsync(transport, server, tls, deadline.Token);
            }

            client = new FileXferClient(socket, transport, options);
            await client.HandshakeAsync(deadline.Token);
            return client;
        }
        catch (OperationCanceledException ex) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            await DisposeAsync(client, socket);
            throw new ConnectionFailedException($"cannot connect to {server}: no answer within {options.ConnectTimeout.TotalSeconds:F0} s", ex);
        }
        catch (SocketException ex)
        {
            await DisposeAsync(client, socket);
            throw new ConnectionFailedException($"cannot connect to {server}: {ex.Message}", ex);
        }
        catch (ConnectionLostException ex)
        {
            await DisposeAsync(client, socket);
            throw new ConnectionFailedException($"cannot connect to {server}: the server closed the connection during the handshake", ex);
        }
        catch
        {
            await DisposeAsync(client, socket);
            throw;
        }
    }

    /// <summary>
    /// Uploads <paramref name="length"/> bytes of <paramref name="source"/> to <paramref name="remotePath"/>.
    /// The server commits the file only when its hash of the received bytes equals the client's, and the
    /// client checks the hash the server reports of what it stored.
    /// </summary>
    /// <exception cref="SourceChangedException">The source ended before <paramref name="length"/> bytes.</exception>
    public Task<TransferResult> PutAsync(
        Stream source,
        long length,
        string remotePath,
        DateTimeOffset? modifiedUtc,
        int? mode,
        Action<long>? progress,
        CancellationToken cancellationToken) =>
        PutAsync(source, length, remotePath, modifiedUtc, mode, PutFlags.None, progress, cancellationToken);

    /// <summary>A put with a fixed-length body; with <see cref="PutFlags.NoWait"/> the body follows the Put at once.</summary>
    private async Task<TransferResult> PutAsync(
        Stream source,
        long length,
        string remotePath,
        DateTimeOffset? modifiedUtc,
        int? mode,
        PutFlags flags,
        Action<long>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var remote = RemotePath.Normalize(remotePath);
        var algorithm = _options.HashAlgorithm;
        return await RunAsync(async id =>
        {
            await _writer.WriteAsync(Messages.Put(id, remote, length, algorithm, modifiedUtc, mode, flags), cancellationToken);
            if (!flags.HasFlag(PutFlags.NoWait))
            {
                var ready = await ReadResponseAsync(id, MessageType.Ready, cancellationToken);
                if (ready.GetSizeOrNull(FieldTag.Offset) is not (null or 0))
                {
                    throw new ProtocolViolationException("server asked to resume a put this client did not offer to resume");
                }
            }

            using var hasher = HashAlgorithms.Create(algorithm);
            var hash = await SendUploadBodyAsync(source, length, hasher, id, progress, cancellationToken);

            await ReadStoredHashAsync(id, remote, algorithm, hash, cancellationToken);

            return new TransferResult(remote, length, algorithm, hash, modifiedUtc, mode);
        }, cancellationToken);
    }

    /// <summary>
    /// A put the server can resume: it keeps what it received of an interrupted upload under a key naming this
    /// source (path, size, time) and destination, and on the next try tells how much it holds and its hash; the
    /// client checks that hash against its own file and sends only the rest, or everything when they differ.
    /// </summary>
    private async Task<TransferResult> PutResumableAsync(InlineFileStream file, long length, string remotePath, DateTimeOffset modified, int? mode, Action<long>? progress, CancellationToken cancellationToken)
    {
        var remote = RemotePath.Normalize(remotePath);
        var algorithm = _options.HashAlgorithm;
        // A name, not a proof (the server binds it to the path with SHA-256 and checks held bytes by their hash):
        // XXH128 needs no OpenSSL, which a short put with a fast hash would otherwise load for this alone.
        var key = System.IO.Hashing.XxHash128.Hash(Encoding.UTF8.GetBytes(FormattableString.Invariant($"{remote}\n{length}\n{modified.UtcTicks}\n{algorithm}")));
        return await RunAsync(async id =>
        {
            await _writer.WriteAsync(Messages.Put(id, remote, length, algorithm, modified, mode, PutFlags.Resume, key), cancellationToken);
            var ready = await ReadResponseAsync(id, MessageType.Ready, cancellationToken);
            long held = ready.GetSizeOrNull(FieldTag.Offset) ?? 0;
            var hasher = HashAlgorithms.Create(algorithm);
            long start = 0;
            if (held > 0 && held <= length && ready.GetBytesOrNull(FieldTag.HashValue) is { } proof)
            {
                file.Position = 0;
                await BodyCopier.CopyExactlyAsync(file, Stream.Null, held, hasher, progress: null, cancellationToken);
                if (CryptographicOperations.FixedTimeEquals(hasher.GetCurrentHash(), proof))
                {
                    start = held;
                    progress?.Invoke(held);
                }
                else
                {
                    hasher.Dispose();
                    hasher = HashAlgorithms.Create(algorithm);
                    file.Position = 0;
                }
            }

            using var _ = hasher;
            await _writer.WriteAsync(Messages.ResumeFrom(id, start), cancellationToken);
            var hash = await SendUploadBodyAsync(file, length - start, hasher, id, progress, cancellationToken);
            await ReadStoredHashAsync(id, remote, algorithm, hash, cancellationToken);
            return new TransferResult(remote, length, algorithm, hash, modified, mode) { ResumedFrom = start };
        }, cancellationToken);
    }

    /// <summary>
    /// Sends an upload's fixed-length body and its BodyEnd. A source that shrinks, or a local read that fails,
    /// leaves the body unfinishable: the connection is given up, which makes the server drop what it received.
    /// </summary>
    private async Task<byte[]> SendUploadBodyAsync(Stream source, long length, ContentHasher hasher, uint id, Action<long>? progress, CancellationToken cancellationToken)
    {
        try
        {
            return await _writer.WriteBodyAsync(source, length, hasher, id, progress, cancellationToken);
        }
        catch (EndOfStreamException ex)
        {
            _broken = true;
            throw new SourceChangedException($"the source shrank while it was being sent ({ex.Message})", ex);
        }
        catch (ConnectionLostException ex)
        {
            throw await ExplainLostUploadAsync(ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _broken = true;
            throw;
        }
    }

    /// <summary>Reads the answer to an upload and checks the hash the server reports of what it stored.</summary>
    private async Task ReadStoredHashAsync(uint id, string remote, string algorithm, byte[] sent, CancellationToken cancellationToken)
    {
        var ok = await ReadResponseAsync(id, MessageType.Ok, cancellationToken);
        if (StoredHashMismatch(ok, remote, algorithm, sent) is { } mismatch)
        {
            throw mismatch;
        }
    }

    /// <summary>
    /// Null when an upload's Ok reports the hash the client sent, under the algorithm it asked for; otherwise the
    /// integrity error. The right bytes under another algorithm's name prove nothing about what was stored.
    /// </summary>
    private static FileXferException? StoredHashMismatch(Frame ok, string remote, string algorithm, byte[]? sent) =>
        ok.GetString(FieldTag.HashAlgorithm) == algorithm && CryptographicOperations.FixedTimeEquals(ok.GetBytes(FieldTag.HashValue), sent ?? [])
            ? null
            : new FileXferException(ErrorCode.IntegrityMismatch, $"the server reports a different hash of '{RemotePath.Escape(remote)}' than the client sent");

    /// <summary>
    /// The largest file <see cref="UploadFileAsync"/> sends without waiting for Ready (a NoWait Put) instead of as
    /// a resumable put: sending it again costs less than the round trip that resuming needs on every put.
    /// </summary>
    public const long UnresumedPutLimit = 64 * 1024;

    /// <summary>
    /// Uploads a local file; its size is taken from the open file, its time and mode are kept. A file of up to
    /// <see cref="UnresumedPutLimit"/> bytes follows its Put at once when the server pipelines; a larger one is
    /// resumable when the server can resume. A file whose size says 0 but that holds bytes (in <c>/proc</c>) and a FIFO
    /// are sent in chunks to their real end; a device or a socket is refused.
    /// </summary>
    /// <exception cref="FileXferException">With <see cref="ErrorCode.BadRequest"/>: the path is a device or a socket.</exception>
    public async Task<TransferResult> UploadFileAsync(string localPath, string remotePath, Action<long>? progress, CancellationToken cancellationToken)
    {
        if (SpecialFiles.Check(localPath, FileAccess.Read) == LocalFileKind.Fifo)
        {
            // A FIFO has no size until it is read to its end: streamed as standard input is.
            await using var fifo = await SpecialFiles.OpenAsync(localPath, LocalFileKind.Fifo, FileAccess.Read, cancellationToken);
            return await PutStreamAsync(fifo, $"'{localPath}'", remotePath, DateTimeOffset.UtcNow, mode: null, progress, cancellationToken);
        }

        await using var file = InlineFileStream.OpenRead(localPath);
        var info = new FileInfo(localPath);
        int? mode = OperatingSystem.IsWindows() ? null : (int)File.GetUnixFileMode(file.Handle);
        var modified = new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero);
        long length = file.Length;
        TransferResult result;
        if (length == 0 && HoldsBytes(file))
        {
            // A /proc file: its size says 0 and its bytes are made as it is read. A fixed-length body would store nothing.
            result = await PutStreamAsync(file, $"'{localPath}'", remotePath, modified, mode, progress, cancellationToken);
        }
        else
        {
            result = length <= UnresumedPutLimit && Capabilities.HasFlag(Capabilities.Pipelining)
                ? await PutAsync(file, length, remotePath, modified, mode, PutFlags.NoWait, progress, cancellationToken)
                : Capabilities.HasFlag(Capabilities.Resume)
                    ? await PutResumableAsync(file, length, remotePath, modified, mode, progress, cancellationToken)
                    : await PutAsync(file, length, remotePath, modified, mode, progress, cancellationToken);
        }

        // Against the size it had when opened (a /proc file's stays 0).
        info.Refresh();
        if (info.Length != length || info.LastWriteTimeUtc != modified.UtcDateTime)
        {
            throw new SourceChangedException($"'{localPath}' changed while it was being sent; the stored copy may not match it");
        }

        return result;
    }

    /// <summary>
    /// The length a file's chunked body is held to, from its size: none when the size says 0, for a <c>/proc</c> file has
    /// that size and bytes all the same (it is then read to its end); the size itself for any other file.
    /// </summary>
    private static long? ChunkedBodyLength(long size) => size == 0 ? null : size;

    /// <summary>True when a file whose size says 0 gives a byte when read; it is left at its start.</summary>
    private static bool HoldsBytes(InlineFileStream file)
    {
        Span<byte> first = stackalloc byte[1];
        bool holds = file.Read(first) > 0;
        file.Position = 0;
        return holds;
    }

    /// <summary>Downloads a file into <paramref name="destination"/>, verifying the sender's hash.</summary>
    /// <exception cref="FileXferException">With <see cref="ErrorCode.IntegrityMismatch"/> when the bytes do not match.</exception>
    /// <exception cref="IOException">Writing to <paramref name="destination"/> failed (after the body was read to its end).</exception>
    public Task<TransferResult> GetAsync(string remotePath, Stream destination, Action<long>? progress, CancellationToken cancellationToken) =>
        GetAsync(remotePath, destination, "standard output", progress, cancellationToken);

    /// <summary>
    /// Streams a remote file into <paramref name="destination"/>, called <paramref name="shownName"/> in messages. Bytes
    /// written there cannot be taken back: a hash mismatch is found after them, and its message says so.
    /// </summary>
    private async Task<TransferResult> GetAsync(string remotePath, Stream destination, string shownName, Action<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var remote = RemotePath.Normalize(remotePath);
        return await RunAsync(async id =>
        {
            await _writer.WriteAsync(Messages.Get(id, remote, _options.HashAlgorithm), cancellationToken);
            var sink = new LatchingWriteStream(destination);
            TransferResult result;
            try
            {
                result = await ReceiveBodyAsync(id, remote, sink, localPath: null, progress, cancellationToken);
            }
            catch (FileXferException ex) when (ex.Code == ErrorCode.IntegrityMismatch && sink.Failure is null)
            {
                throw new FileXferException(ErrorCode.IntegrityMismatch, $"{ex.Message}; they were already written to '{shownName}' and cannot be taken back", ex);
            }

            return sink.Failure is { } failure ? throw LocalWriteException.For(shownName, failure) : result;
        }, cancellationToken);
    }

    /// <summary>
    /// Downloads a file to <paramref name="localPath"/> through a temp file beside it, renamed over it only after
    /// the hash matched. A failure leaves an existing file untouched and no temp file behind. A FIFO or a character
    /// device at <paramref name="localPath"/> is written into instead, in place; a block device or a socket is refused.
    /// </summary>
    /// <exception cref="FileXferException">
    /// With <see cref="ErrorCode.InsufficientStorage"/>: the file is larger than the space left on the local disk (nothing
    /// is written, and the connection is given up); with <see cref="ErrorCode.BadRequest"/>: a block device or a socket.
    /// </exception>
    public async Task<TransferResult> DownloadFileAsync(string remotePath, string localPath, Action<long>? progress, CancellationToken cancellationToken)
    {
        var remote = RemotePath.Normalize(remotePath);
        if (SpecialFiles.Check(localPath, FileAccess.Write) is (LocalFileKind.Fifo or LocalFileKind.CharacterDevice) and var kind)
        {
            // Written into, as cp and curl -o do: a temp file renamed over /dev/null would replace the device with a file.
            await using var device = await SpecialFiles.OpenAsync(localPath, kind, FileAccess.Write, cancellationToken);
            return await GetAsync(remote, device, localPath, progress, cancellationToken);
        }

        if (Capabilities.HasFlag(Capabilities.Resume))
        {
            return await RunAsync(id => DownloadResumableAsync(id, remote, localPath, progress, cancellationToken), cancellationToken);
        }

        return await RunAsync(async id =>
        {
            await _writer.WriteAsync(Messages.Get(id, remote, _options.HashAlgorithm), cancellationToken);
            return await ReceiveFileAsync(id, remote, localPath, progress, cancellationToken);
        }, cancellationToken);
    }

    /// <summary>
    /// A get that keeps its partial download beside the destination under a fixed temp name when the connection
    /// breaks, and on the next try offers the bytes it holds (with their hash) so the server sends only the rest.
    /// The whole-file hash is still checked before the rename; a mismatch removes the partial.
    /// </summary>
    private async Task<TransferResult> DownloadResumableAsync(uint id, string remote, string localPath, Action<long>? progress, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(localPath);
        var directory = Path.GetDirectoryName(full) ?? throw new IOException($"'{localPath}' has no parent directory");
        var temp = Path.Combine(directory, TempFileName(Path.GetFileName(full), random: false));
        var algorithm = _options.HashAlgorithm;
        InlineFileStream file;
        try
        {
            file = InlineFileStream.OpenResumable(temp);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw LocalWriteException.For(localPath, ex);
        }

        bool keep = false;
        bool renamed = false;
        try
        {
            try
            {
                return await ReceiveResumableAsync();
            }
            catch (Exception ex) when (ex is ConnectionLostException or OperationCanceledException or TimeoutException)
            {
                // What arrived is kept for the next try, which proves it before using it.
                keep = true;
                throw;
            }
        }
        finally
        {
            await file.DisposeAsync();
            if (!keep && !renamed)
            {
                File.Delete(temp);
            }
        }

        async Task<TransferResult> ReceiveResumableAsync()
        {
            long held = file.Length;
            var hasher = HashAlgorithms.Create(algorithm);
            if (held > 0)
            {
                await BodyCopier.CopyExactlyAsync(file, Stream.Null, held, hasher, progress: null, cancellationToken);
                await _writer.WriteAsync(Messages.Get(id, remote, algorithm, held, hasher.GetCurrentHash()), cancellationToken);
            }
            else
            {
                await _writer.WriteAsync(Messages.Get(id, remote, algorithm), cancellationToken);
            }

            var sink = new LatchingWriteStream(file);
            var result = await ReceiveBodyAsync(id, remote, sink, localPath, progress, cancellationToken, new ResumePoint(held, hasher, () => file.SetLength(0)));

            if (sink.Failure is { } failure)
            {
                throw LocalWriteException.For(localPath, failure);
            }

            var received = new ReceivedFile(file, temp, full, result);
            GiveSenderTimeAndMode(file, temp, localPath, result, UnixFileMode.UserRead | UnixFileMode.UserWrite);

            renamed = true;
            return CommitReceived([received])[0] is { } commitFailure ? throw LocalWriteException.For(localPath, commitFailure) : result;
        }
    }

    /// <summary>
    /// Reads the answer to a Get into a temp file beside <paramref name="localPath"/> and renames it into place once
    /// verified and durable. Local failures are raised as <see cref="LocalWriteException"/> after the body was read,
    /// so the connection stays in step.
    /// </summary>
    private async Task<TransferResult> ReceiveFileAsync(uint id, string remote, string localPath, Action<long>? progress, CancellationToken cancellationToken)
    {
        var received = await ReceiveToTempAsync(id, remote, localPath, progress, cancellationToken);
        return CommitReceived([received])[0] is { } failure ? throw LocalWriteException.For(localPath, failure) : received.Result;
    }

    /// <summary>
    /// Reads the answer to a Get into a new temp file beside <paramref name="localPath"/>, checks its hash and gives
    /// it the sender's time and mode. The file is neither durable nor under its name yet: see
    /// <see cref="CommitReceived"/>. On failure no temp file is left.
    /// </summary>
    private async Task<ReceivedFile> ReceiveToTempAsync(uint id, string remote, string localPath, Action<long>? progress, CancellationToken cancellationToken, LocalDirectories? directories = null)
    {
        var full = Path.GetFullPath(localPath);
        var directory = Path.GetDirectoryName(full) ?? throw new LocalWriteException(new IOException($"'{localPath}' has no parent directory"));
        var tempName = TempFileName(Path.GetFileName(full));
        var temp = Path.Combine(directory, tempName);
        ulong device = 0;
        var directoryHandle = directories?.Get(directory, out device);
        InlineFileStream? file = null;
        Exception? openFailure = null;
        try
        {
            file = directoryHandle is null ? InlineFileStream.CreateNew(temp) : InlineFileStream.CreateNewAt(directoryHandle, tempName);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            openFailure = ex;
        }

        try
        {
            var sink = new LatchingWriteStream(file ?? Stream.Null);
            var result = await ReceiveBodyAsync(id, remote, sink, localPath, progress, cancellationToken);
            if ((openFailure ?? sink.Failure) is { } failure)
            {
                throw LocalWriteException.For(localPath, failure);
            }

            GiveSenderTimeAndMode(file!, temp, localPath, result, UnixFileMode.None);

            var received = new ReceivedFile(file!, temp, full, result) { Directory = directoryHandle, Device = device };
            if (directoryHandle is not null)
            {
                // Written whole: the group's syncfs goes through the directory's handle, so the file need not stay open.
                await file!.DisposeAsync();
            }

            file = null;
            return received;
        }
        finally
        {
            if (file is not null)
            {
                await file.DisposeAsync();
                File.Delete(temp);
            }
        }
    }

    /// <summary>
    /// Makes received files durable and visible, as a group: their data is flushed (one <c>syncfs</c> for
    /// several), each temp file is renamed over its destination, then each directory is synced once. Nothing is
    /// renamed before its data is on disk. Returns, per file, null or the local failure; no temp file is left.
    /// </summary>
    private static Exception?[] CommitReceived(IReadOnlyList<ReceivedFile> files)
    {
        var results = new Exception?[files.Count];
        try
        {
            // Files written through a directory handle are closed: one syncfs per file system, through such a handle,
            // flushes them. The others are still open and flushed as they are.
            // (A directory whose file system is unknown, device 0, is synced on its own.)
            foreach (var onDevice in files.Where(f => f.Directory is not null).GroupBy(f => f.Device == 0 ? (object)f : f.Device))
            {
                Durable.SyncFileSystem(onDevice.First().Directory!);
            }

            if (files.Where(f => f.Directory is null).Select(f => f.File).ToList() is { Count: > 0 } open)
            {
                Durable.FlushAll(open);
            }
        }
        catch (IOException ex)
        {
            Array.Fill(results, ex);
        }

        var directories = new Dictionary<string, SafeFileHandle?>(StringComparer.Ordinal);
        for (int i = 0; i < files.Count; i++)
        {
            var received = files[i];
            received.File.Dispose();
            if (results[i] is null)
            {
                try
                {
                    if (received.Directory is { } handle)
                    {
                        // Within the directory's handle, opened once for the batch: no walk of either path.
                        int failure = Posix.RenameAt(handle, Path.GetFileName(received.Temp), handle, Path.GetFileName(received.Destination));
                        if (failure != 0)
                        {
                            throw new IOException($"cannot rename '{received.Temp}' to '{received.Destination}': {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(failure)}", failure);
                        }
                    }
                    else if (OperatingSystem.IsLinux())
                    {
                        // rename(2) alone: File.Move would first look the temp file up again.
                        Posix.Rename(received.Temp, received.Destination);
                    }
                    else
                    {
                        File.Move(received.Temp, received.Destination, overwrite: true);
                    }

                    directories.TryAdd(Path.GetDirectoryName(received.Destination)!, received.Directory);
                    continue;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    results[i] = ex;
                }
            }

            TryDelete(received.Temp);
        }

        foreach (var (directory, handle) in directories)
        {
            try
            {
                if (handle is not null)
                {
                    Durable.FsyncDirectory(handle);
                }
                else
                {
                    Durable.FsyncDirectory(directory);
                }
            }
            catch (IOException)
            {
                // The files are in place; a directory that cannot be synced (some file systems refuse) is not a lost file.
            }
        }

        return results;
    }

    /// <summary>
    /// Gives a received temp file the sender's time and permission bits (plus <paramref name="ownerBits"/>), through its
    /// open handle where the system allows (futimens, fchmod).
    /// </summary>
    private static void GiveSenderTimeAndMode(InlineFileStream file, string temp, string localPath, TransferResult result, UnixFileMode ownerBits)
    {
        try
        {
            if (result.ModifiedUtc is { } modified)
            {
                if (OperatingSystem.IsLinux())
                {
                    Posix.SetModifiedTime(file.Handle, modified);
                }
                else
                {
                    File.SetLastWriteTimeUtc(temp, modified.UtcDateTime);
                }
            }

            if (result.Mode is { } mode && !OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(file.Handle, (UnixFileMode)(mode & 0x1FF) | ownerBits);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw LocalWriteException.For(localPath, ex);
        }
    }

    /// <summary>Closes a received file that will not be committed and deletes its temp file (best effort).</summary>
    private static async ValueTask DiscardAsync(ReceivedFile file)
    {
        await file.File.DisposeAsync();
        TryDelete(file.Temp);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left behind; nothing else to do about it here.
        }
    }

    /// <summary>A verified download in its temp file, waiting for <see cref="CommitReceived"/>.</summary>
    private sealed record ReceivedFile(InlineFileStream File, string Temp, string Destination, TransferResult Result)
    {
        /// <summary>The handle of the directory the temp file was created in (a batch's), when it has one; the file is then closed.</summary>
        public SafeFileHandle? Directory { get; init; }

        /// <summary>The file system of <see cref="Directory"/>.</summary>
        public ulong Device { get; init; }
    }

    /// <summary>
    /// Reads a Data answer, its body into <paramref name="destination"/> and the BodyEnd, and checks the hash. With
    /// <paramref name="localPath"/>, the file the body goes beside, a body larger than the space left on its disk is
    /// refused before a byte of it is written (see <see cref="RequireLocalRoom"/>).
    /// </summary>
    private async Task<TransferResult> ReceiveBodyAsync(uint id, string remote, Stream destination, string? localPath, Action<long>? progress, CancellationToken cancellationToken, ResumePoint? resume = null)
    {
        var algorithm = _options.HashAlgorithm;
        var data = await ReadResponseAsync(id, MessageType.Data, cancellationToken);
        long size = data.GetSize(FieldTag.Size);
        if (data.GetString(FieldTag.HashAlgorithm) != algorithm)
        {
            throw new ProtocolViolationException("server answered with another hash algorithm than asked for");
        }

        long start = data.GetSizeOrNull(FieldTag.Offset) ?? 0;
        ContentHasher hasher;
        if (start == 0)
        {
            // The server did not accept the held prefix (or none was offered): everything comes again.
            resume?.Restart();
            resume?.Hasher.Dispose();
            hasher = HashAlgorithms.Create(algorithm);
        }
        else if (resume is not null && start == resume.Held && start <= size)
        {
            hasher = resume.Hasher;
            progress?.Invoke(start);
        }
        else
        {
            throw new ProtocolViolationException($"server resumed at {start}, which this client did not offer");
        }

        using var _ = hasher;
        if (localPath is not null)
        {
            RequireLocalRoom(localPath, size - start);
        }

        await _reader.CopyBodyToAsync(destination, size - start, hasher, progress, cancellationToken);
        var end = await ReadResponseAsync(id, MessageType.BodyEnd, cancellationToken);
        var received = hasher.GetHashAndReset();
        if (end.GetString(FieldTag.HashAlgorithm) != algorithm || !CryptographicOperations.FixedTimeEquals(received, end.GetBytes(FieldTag.HashValue)))
        {
            throw new FileXferException(ErrorCode.IntegrityMismatch, $"the bytes received for '{RemotePath.Escape(remote)}' do not match the server's hash");
        }

        return new TransferResult(remote, size, algorithm, received, Messages.ReadModified(data), Messages.ReadMode(data)) { ResumedFrom = start };
    }

    /// <summary>A body up to this size is written without asking the file system for room: a full disk fails its write cleanly.</summary>
    private const long LocalRoomCheckLimit = 64 * 1024;

    /// <summary>
    /// Refuses a body that cannot fit in the space left on the disk that holds <paramref name="localPath"/>, before a byte of
    /// it is written: a hostile or mistaken server could otherwise declare 2^61 bytes and fill the disk. The body is then
    /// left unread, so the connection is given up.
    /// </summary>
    /// <exception cref="FileXferException">With <see cref="ErrorCode.InsufficientStorage"/>.</exception>
    private void RequireLocalRoom(string localPath, long needed)
    {
        if (needed <= LocalRoomCheckLimit)
        {
            return;
        }

        long available;
        try
        {
            // statvfs(2) of the directory the temp file goes in: the file system it is on, however deep.
            available = new DriveInfo(Path.GetDirectoryName(Path.GetFullPath(localPath)) ?? localPath).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // Cannot be told here (not a local drive on Windows, say): the write finds out.
            return;
        }

        if (needed > available)
        {
            _broken = true;
            throw new FileXferException(ErrorCode.InsufficientStorage, $"not enough space on the local disk for '{localPath}': {needed} bytes needed, {available} available; nothing was written");
        }
    }

    /// <summary>What a resuming get holds: its first bytes, hashed, and how to drop them if the server disagrees.</summary>
    private sealed record ResumePoint(long Held, ContentHasher Hasher, Action Restart);

    /// <summary>
    /// Uploads a stream of unknown length (standard input) as a chunked body, read to its end. The server commits it
    /// only when the hash of what it received equals the client's.
    /// </summary>
    public Task<TransferResult> PutStreamAsync(Stream source, string remotePath, Action<long>? progress, CancellationToken cancellationToken) =>
        PutStreamAsync(source, "standard input", remotePath, DateTimeOffset.UtcNow, mode: null, progress, cancellationToken);

    /// <summary>Uploads <paramref name="source"/> to its end as a chunked body; <paramref name="sourceName"/> names it in messages.</summary>
    private async Task<TransferResult> PutStreamAsync(Stream source, string sourceName, string remotePath, DateTimeOffset modified, int? mode, Action<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        var remote = RemotePath.Normalize(remotePath);
        var algorithm = _options.HashAlgorithm;
        RequireCapability(Capabilities.ChunkedBody);
        return await RunAsync(async id =>
        {
            await _writer.WriteAsync(Messages.Put(id, remote, null, algorithm, modified, mode, PutFlags.Chunked), cancellationToken);
            await ReadResponseAsync(id, MessageType.Ready, cancellationToken);
            using var hasher = HashAlgorithms.Create(algorithm);
            ChunkedBodyWriteResult body;
            try
            {
                body = await _writer.WriteChunkedBodyAsync(source, null, hasher, id, progress, cancellationToken);
            }
            catch (ConnectionLostException ex)
            {
                throw await ExplainLostUploadAsync(ex);
            }

            if (body.AbortReason is { } reason)
            {
                // The server answers the abandoned body with TransferAborted; read it to stay in step.
                await ReadAbortAnswerAsync(id, cancellationToken);
                throw new SourceChangedException($"{sourceName} could not be read to its end: {reason}; nothing was stored");
            }

            await ReadStoredHashAsync(id, remote, algorithm, body.Hash!, cancellationToken);
            return new TransferResult(remote, body.Length, algorithm, body.Hash!, null, null);
        }, cancellationToken);
    }

    /// <summary>Creates a remote directory with its parents, or sets the time and mode of an existing one.</summary>
    public Task<RemoteEntry> MakeDirectoryAsync(string remotePath, DateTimeOffset? modifiedUtc, int? mode, CancellationToken cancellationToken)
    {
        var remote = RemotePath.Normalize(remotePath);
        RequireCapability(Capabilities.Trees);
        return RunAsync(async id =>
        {
            await _writer.WriteAsync(Messages.MakeDirectory(id, remote, modifiedUtc, mode), cancellationToken);
            return Messages.ReadEntry(await ReadResponseAsync(id, MessageType.Ok, cancellationToken));
        }, cancellationToken);
    }

    /// <summary>
    /// The name of the temp file a download goes to: hidden, random, and named after its destination so a leftover
    /// can be recognized, but cut so that it stays within the 255 bytes a file name may have even when the
    /// destination's own name uses all of them.
    /// </summary>
    internal static string TempFileName(string destinationName, bool random = true)
    {
        const int MaxFileNameBytes = 255;
        const string Suffix = ".filexfer-part";
        // A resumable download's temp name is fixed, so the next try finds it: "resume" stands where the random part goes.
        var tag = random ? Convert.ToHexStringLower(SecureRandom.GetBytes(6)) : "resume";
        int budget = MaxFileNameBytes - ".".Length - ".".Length - tag.Length - Suffix.Length;
        var prefix = new StringBuilder();
        foreach (var rune in destinationName.EnumerateRunes())
        {
            budget -= rune.Utf8SequenceLength;
            if (budget < 0)
            {
                break;
            }

            prefix.Append(rune.ToString());
        }

        return $".{prefix}.{tag}{Suffix}";
    }

    /// <summary>Describes a remote path.</summary>
    public Task<RemoteEntry> StatAsync(string remotePath, CancellationToken cancellationToken)
    {
        var remote = RemotePath.Normalize(remotePath);
        return RunAsync(async id =>
        {
            await _writer.WriteAsync(Messages.PathRequest(MessageType.Stat, id, remote), cancellationToken);
            return Messages.ReadEntry(await ReadResponseAsync(id, MessageType.Ok, cancellationToken));
        }, cancellationToken);
    }

    /// <summary>Deletes a remote file or empty directory; returns what was deleted.</summary>
    public Task<RemoteEntry> DeleteAsync(string remotePath, CancellationToken cancellationToken)
    {
        var remote = RemotePath.Normalize(remotePath);
        return RunAsync(async id =>
        {
            await _writer.WriteAsync(Messages.PathRequest(MessageType.Delete, id, remote), cancellationToken);
            return Messages.ReadEntry(await ReadResponseAsync(id, MessageType.Ok, cancellationToken));
        }, cancellationToken);
    }

    /// <summary>Has the server hash a stored file without sending it.</summary>
    public Task<HashResult> HashAsync(string remotePath, string? algorithm, CancellationToken cancellationToken)
    {
        var remote = RemotePath.Normalize(remotePath);
        var name = algorithm ?? _options.HashAlgorithm;
        if (!HashAlgorithms.IsSupported(name))
        {
            throw new FileXferException(ErrorCode.UnsupportedHashAlgorithm, $"unsupported hash algorithm '{name}'; use one of {string.Join(", ", HashAlgorithms.Supported)}");
        }

        return RunAsync(async id =>
        {
            await _writer.WriteAsync(Messages.Hash(id, remote, name), cancellationToken);
            var ok = await ReadResponseAsync(id, MessageType.Ok, cancellationToken);
            var hash = ok.GetBytes(FieldTag.HashValue);
            if (ok.GetString(FieldTag.HashAlgorithm) != name)
            {
                throw new ProtocolViolationException("server hashed with another algorithm than asked for");
            }

            return new HashResult(remote, ok.GetSize(FieldTag.Size), name, hash);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _writer.Dispose();
        await _stream.DisposeAsync();
        _socket.Dispose();
        _gate.Dispose();
    }

    private static async ValueTask DisposeAsync(FileXferClient? client, Socket socket)
    {
        if (client is not null)
        {
            await client.DisposeAsync();
        }
        else
        {
            socket.Dispose();
        }
    }

    private async Task HandshakeAsync(CancellationToken cancellationToken)
    {
        await _writer.WriteMagicAsync(cancellationToken);
        var clientNonce = AuthProof.NewNonce();
        await _writer.WriteAsync(Messages.Hello(ProtocolLimits.Version, Messages.Implemented, _options.Agent, clientNonce), cancellationToken);
        await _reader.ReadMagicAsync(cancellationToken);
        var welcome = await _reader.ReadRequiredFrameAsync(cancellationToken);
        if (welcome.Type == MessageType.Error)
        {
            throw Messages.ToException(welcome);
        }

        if (welcome.Type != MessageType.Welcome)
        {
            throw new ProtocolViolationException($"expected Welcome, got {welcome.Type}");
        }

        long version = welcome.GetInt64OrNull(FieldTag.Version) ?? throw new ProtocolViolationException("Welcome lacks the version");
        if (version is < ProtocolLimits.MinVersion or > ProtocolLimits.Version)
        {
            throw new FileXferException(ErrorCode.UnsupportedVersion, $"server chose protocol version {version}, which this client does not speak");
        }

        ProtocolVersion = (int)version;
        Capabilities = (Capabilities)(welcome.GetUInt64OrNull(FieldTag.Capabilities) ?? 0) & Messages.Implemented;
        ServerAgent = RemotePath.Escape(welcome.GetStringOrNull(FieldTag.Agent) ?? "unknown");
        ServerMaxFileSize = welcome.GetSizeOrNull(FieldTag.MaxFileSize) ?? ProtocolLimits.MaxBodySize;
        if (Capabilities.HasFlag(Capabilities.Authentication))
        {
            await AuthenticateAsync(clientNonce, welcome.GetBytesOrNull(FieldTag.ServerNonce), cancellationToken);
        }
    }

    /// <summary>
    /// The challenge-response: proves the token's secret to the server without sending it, and checks the server's
    /// proof in return, so a server that does not know the secret is not trusted with any file.
    /// </summary>
    private async Task AuthenticateAsync(byte[] clientNonce, byte[]? serverNonce, CancellationToken cancellationToken)
    {
        var credential = _options.Credential
            ?? throw new FileXferException(ErrorCode.AuthenticationFailed, "the server requires a token (--token-file or FILEXFER_TOKEN)");
        if (serverNonce is not { Length: ProtocolLimits.AuthBytes })
        {
            throw new ProtocolViolationException("the server asks for authentication without a 32-byte nonce");
        }

        var proof = AuthProof.ForClient(credential.Secret, clientNonce, serverNonce, credential.Name);
        await _writer.WriteAsync(Messages.Authenticate(credential.Name, proof), cancellationToken);
        var answer = await _reader.ReadRequiredFrameAsync(cancellationToken);
        if (answer.Type == MessageType.Error)
        {
            var error = Messages.ToException(answer);
            throw error.Code == ErrorCode.AuthenticationFailed
                ? new FileXferException(ErrorCode.AuthenticationFailed, $"authentication failed as '{RemotePath.Escape(credential.Name)}': {error.Message}")
                : error;
        }

        if (answer.Type != MessageType.Ok)
        {
            throw new ProtocolViolationException($"expected Ok to Authenticate, got {answer.Type}");
        }

        var expected = AuthProof.ForServer(credential.Secret, clientNonce, serverNonce, credential.Name);
        if (answer.GetBytesOrNull(FieldTag.ServerProof) is not { } serverProof || !AuthProof.Matches(expected, serverProof))
        {
            throw new FileXferException(ErrorCode.AuthenticationFailed, "the server could not prove it knows the token");
        }

        IsAuthenticated = true;
        Access = (AccessFlags)(answer.GetUInt64OrNull(FieldTag.Flags) ?? 0) & AccessFlags.Write;
    }

    /// <summary>
    /// The connection broke while a body was being sent. The server may have said why before it closed (the file
    /// is too large, the disk is full): that error is more useful than "connection lost".
    /// </summary>
    private async Task<Exception> ExplainLostUploadAsync(ConnectionLostException lost)
    {
        _broken = true;
        try
        {
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            if (await _reader.ReadFrameAsync(wait.Token) is { Type: MessageType.Error } error)
            {
                return Messages.ToException(error);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or FileXferException)
        {
            // Nothing more to learn from a dead connection.
        }

        return lost;
    }

    private async Task ReadAbortAnswerAsync(uint id, CancellationToken cancellationToken)
    {
        try
        {
            await ReadResponseAsync(id, MessageType.Ok, cancellationToken);
        }
        catch (FileXferException ex) when (ex.Code == ErrorCode.TransferAborted)
        {
            // The expected answer to an abandoned body.
        }
    }

    /// <summary>
    /// Refuses at once, before anything is sent, an operation that writes when the token is read-only; a batch
    /// would otherwise fail item by item. The server enforces the same rule.
    /// </summary>
    /// <exception cref="FileXferException">With <see cref="ErrorCode.AccessDenied"/>.</exception>
    public void RequireWriteAccess(string operation)
    {
        if (!Access.HasFlag(AccessFlags.Write))
        {
            throw new FileXferException(ErrorCode.AccessDenied, $"permission denied: this token is read-only, {operation} is not allowed");
        }
    }

    private void RequireCapability(Capabilities capability)
    {
        if (!Capabilities.HasFlag(capability))
        {
            throw new FileXferException(ErrorCode.UnknownMessage, $"the server ({ServerAgent}) does not support {capability}");
        }
    }

    /// <summary>Runs one request exclusively, with a fresh request id.</summary>
    private async Task<T> RunAsync<T>(Func<uint, Task<T>> request, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_broken)
            {
                throw new ConnectionLostException("the connection was left unusable by an earlier failure");
            }

            uint id = ++_nextRequestId;
            try
            {
                return await request(id);
            }
            catch (Exception ex) when (ex is ProtocolViolationException or ConnectionLostException or OperationCanceledException)
            {
                _broken = true;
                throw;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Reads the answer to request <paramref name="id"/>; an error frame becomes its exception.</summary>
    private async Task<Frame> ReadResponseAsync(uint id, MessageType? expected, CancellationToken cancellationToken)
    {
        var frame = await _reader.ReadRequiredFrameAsync(cancellationToken);
        if (frame.RequestId != id && !(frame.Type == MessageType.Error && frame.RequestId == 0))
        {
            throw new ProtocolViolationException($"server answered request {frame.RequestId} while {id} was pending");
        }

        if (frame.Type == MessageType.Error)
        {
            var error = Messages.ToException(frame);
            if (error.Code is ErrorCode.ProtocolViolation or ErrorCode.UnknownMessage)
            {
                _broken = true;
            }

            throw error;
        }

        if (expected is { } type && frame.Type != type)
        {
            throw new ProtocolViolationException($"expected {type}, got {frame.Type}");
        }

        return frame;
    }
}
