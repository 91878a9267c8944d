namespace FileXfer.Protocol.Framing;

/// <summary>
/// Directory times (<see cref="Capabilities.DirectoryTimes"/>): the ParentMTime a request carries and the
/// ParentTimeNotSet its Ok may answer with.
/// </summary>
public static partial class Messages
{
    /// <summary>
    /// <paramref name="frame"/> (a Put, an Assemble or a MakeDirectory) with a <see cref="FieldTag.ParentMTime"/> field: the
    /// time its entry's parent directory is to end with (<see cref="Capabilities.DirectoryTimes"/>); the frame itself when
    /// <paramref name="parentModified"/> is null. Clamped to the representable range as <see cref="FieldTag.MTime"/> is.
    /// </summary>
    public static Frame WithParentTime(Frame frame, DateTimeOffset? parentModified)
    {
        ArgumentNullException.ThrowIfNull(frame);
        return parentModified is { } time
            ? new Frame(frame.Type, frame.RequestId, [.. frame.Fields, Field.Integer(FieldTag.ParentMTime, UnixTime.ToNanoseconds(time))])
            : frame;
    }

    /// <summary>The ParentMTime field of a frame, when present (clamped as <see cref="ReadModified"/> clamps MTime).</summary>
    public static DateTimeOffset? ReadParentModified(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        return frame.GetInt64OrNull(FieldTag.ParentMTime) is { } nanoseconds ? UnixTime.FromNanoseconds(nanoseconds) : null;
    }

    /// <summary>
    /// <paramref name="ok"/> (the Ok to a Put, an Assemble or a MakeDirectory that carried ParentMTime) with a
    /// <see cref="FieldTag.ParentTimeNotSet"/> field of value 1 when <paramref name="notSet"/>: the entry was made but its
    /// parent directory could not be given the time asked; the frame itself otherwise.
    /// </summary>
    public static Frame WithParentTimeNotSet(Frame ok, bool notSet)
    {
        ArgumentNullException.ThrowIfNull(ok);
        return notSet ? new Frame(ok.Type, ok.RequestId, [.. ok.Fields, Field.Integer(FieldTag.ParentTimeNotSet, 1)]) : ok;
    }

    /// <summary>
    /// True when an Ok says the parent time its request asked for was not set (<see cref="FieldTag.ParentTimeNotSet"/>
    /// present with any value but 0: a later version may give other values a meaning, each of them still "not set").
    /// </summary>
    public static bool ReadParentTimeNotSet(Frame ok)
    {
        ArgumentNullException.ThrowIfNull(ok);
        return ok.GetUInt64OrNull(FieldTag.ParentTimeNotSet) is { } value && value != 0;
    }
}
