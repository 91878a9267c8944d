namespace FileXfer.Server.Storage.Local;

/// <summary>A file in ranges over several connections (ParallelStreams): one range started or resumed, and the Assemble that hands the whole file over to be committed.</summary>
public sealed partial class FileStore
{
    /// <summary>
    /// Starts or resumes one range of a ranged upload (<see cref="IRangedUploads.BeginRangeAsync"/>): the path, size and
    /// space are checked when the upload is new, the range always.
    /// </summary>
    internal async Task<RangeUpload> BeginRangeAsync(RangeStart start, TimeSpan wait, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var normalized = NormalizeUploadPath(start.Path);
        if (start.TransferId.Length == 0)
        {
            throw new FileXferException(ErrorCode.BadRequest, "a ranged put needs a TransferId");
        }

        if (start.Size > Options.MaxFileSize)
        {
            throw new FileXferException(ErrorCode.TooLarge, $"file of {start.Size} bytes exceeds the server's limit of {Options.MaxFileSize}");
        }

        if (!start.Range.FitsIn(start.Size))
        {
            throw new FileXferException(ErrorCode.BadRequest, $"range {start.Range} is not a nonempty range within the file's {start.Size} bytes");
        }

        var name = RangedUploads.Name(start.TransferId, RemotePath.Combine(_subtree, normalized), start.Size, start.Algorithm);
        if (_ranged.Find(name) is not { } file)
        {
            _root.PrepareFileDestination(normalized);
            _freeSpace.Ensure(start.Size);
            file = _ranged.GetOrCreate(name, normalized, start.Size, start.Algorithm);
        }

        var slot = file.Slot(start.Range);
        var claim = new ResumeClaim();
        if (file.TryHold(slot, claim) is { } holder)
        {
            // A retry whose earlier connection the server has not seen die yet: that connection lets go of the range.
            await holder.RevokeAsync();
            try
            {
                await holder.Released.WaitAsync(wait, timeProvider, cancellationToken);
            }
            catch (TimeoutException)
            {
                // Reported below: the range is still held.
            }

            if (file.TryHold(slot, claim) is not null)
            {
                throw new FileXferException(ErrorCode.Unavailable, $"range {start.Range} of '{RemotePath.Escape(normalized)}' is still being received on another connection; try again later");
            }
        }

        return new RangeUpload(file, slot, claim);
    }

    /// <summary>
    /// Ends a ranged upload (<see cref="IRangedUploads.AssembleAsync"/>): its ranges must cover the file. Returns the
    /// assembled file as an upload to seal and commit, and the whole-file hash.
    /// </summary>
    internal async Task<(PendingUpload Upload, byte[] Hash)> AssembleAsync(RangeStart start, CancellationToken cancellationToken)
    {
        var normalized = RemotePath.Normalize(start.Path);
        var name = RangedUploads.Name(start.TransferId, RemotePath.Combine(_subtree, normalized), start.Size, start.Algorithm);
        var file = _ranged.Find(name)
            ?? throw new FileXferException(ErrorCode.BadRequest, $"no ranges of this transfer of '{RemotePath.Escape(normalized)}' are held (the server restarted, or they were never sent)");
        byte[] hash;
        string destination;
        try
        {
            hash = await file.FinishAsync(cancellationToken);
            destination = _root.PrepareFileDestination(normalized);
        }
        catch (FileXferException) when (!file.Assembling)
        {
            // Missing ranges: the upload stays open for them.
            throw;
        }
        catch
        {
            _ranged.Remove(file);
            await file.DisposeAsync();
            throw;
        }

        _ranged.Remove(file);
        var (stream, release) = file.HandOver();
        await file.DisposeAsync();
        return (new PendingUpload(_publisher, normalized, destination, file.TempPath, stream, start.Size, release, directories: null, _staging.Device), hash);
    }
}
