namespace FileXfer.Client;

/// <summary>Listings: one directory at a time, checked as a client that trusts nothing the server sends.</summary>
public sealed partial class FileXferClient
{
    /// <summary>
    /// Lists a remote directory: its entries sorted by name (ordinal), and the entries the server has but cannot
    /// send (<see cref="DirectoryListing.Omitted"/>). Every name is checked: one plain name, never empty, <c>.</c>,
    /// <c>..</c>, or holding a separator; a name listed twice is a protocol violation.
    /// </summary>
    public Task<DirectoryListing> ListAsync(string remotePath, CancellationToken cancellationToken)
    {
        var remote = RemotePath.Normalize(remotePath);
        return RunAsync(async id =>
        {
            await _writer.WriteAsync(Messages.List(id, remote, ListFlags.None), cancellationToken);
            return await ReadListingAsync(id, remote, cancellationToken);
        }, cancellationToken);
    }

    /// <summary>Reads the answer to a one-level List: Entry and Omitted frames, then EndOfList.</summary>
    private async Task<DirectoryListing> ReadListingAsync(uint id, string remote, CancellationToken cancellationToken)
    {
        if (_pendingOk is not null)
        {
            await ReadPendingOkAsync(cancellationToken);
        }

        var entries = new List<RemoteEntry>();
        List<OmittedEntry>? omitted = null;
        while (true)
        {
            // Entries are read straight from the connection's buffer, with no frame built for each.
            var next = await _reader.ReadFrameOrEntryAsync(cancellationToken);
            if (next.Entry is { } entry)
            {
                if (next.RequestId != id)
                {
                    throw new ProtocolViolationException($"server answered request {next.RequestId} while {id} was pending");
                }

                string? error = null;
                if (!next.NamedByName || !RemotePath.IsValidName(entry.Name, out error))
                {
                    throw new ProtocolViolationException($"server sent an unsafe name '{RemotePath.Escape(entry.Name)}': {error ?? "not a plain name"}");
                }

                CheckListingSize(entries.Count + (omitted?.Count ?? 0));
                entries.Add(entry);
                continue;
            }

            var frame = next.Frame!;
            CheckResponse(frame, id, null);
            switch (frame.Type)
            {
                case MessageType.EndOfList:
                    long count = frame.GetSize(FieldTag.Count);
                    if (count != entries.Count)
                    {
                        throw new ProtocolViolationException($"server ended a listing of {entries.Count} entries with a count of {count}");
                    }

                    return new DirectoryListing(remote, Sorted(entries), omitted ?? []);
                case MessageType.Omitted:
                    CheckListingSize(entries.Count + (omitted?.Count ?? 0));
                    (omitted ??= []).Add(new OmittedEntry(
                        RemotePath.EscapeMessage(frame.GetString(FieldTag.Path)),
                        Messages.ReadKind(frame),
                        RemotePath.EscapeMessage(frame.GetStringOrNull(FieldTag.Message) ?? "its name cannot be sent")));
                    break;
                default:
                    throw new ProtocolViolationException($"expected a listing entry, got {frame.Type}");
            }
        }
    }

    private void CheckListingSize(int received)
    {
        if (received >= _options.MaxListEntries)
        {
            throw new ProtocolViolationException($"server sent more than {_options.MaxListEntries} entries for one directory");
        }
    }

    /// <summary>
    /// The entries in ordinal order, whatever order the server sent them in (the walk compares both sides in this
    /// order), with a name listed twice refused: two entries for one name would leave the comparison undefined.
    /// </summary>
    private static List<RemoteEntry> Sorted(List<RemoteEntry> entries)
    {
        entries.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        for (int i = 1; i < entries.Count; i++)
        {
            if (string.Equals(entries[i - 1].Name, entries[i].Name, StringComparison.Ordinal))
            {
                throw new ProtocolViolationException($"server listed '{RemotePath.Escape(entries[i].Name)}' twice in one directory");
            }
        }

        return entries;
    }
}
