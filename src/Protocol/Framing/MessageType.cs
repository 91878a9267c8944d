namespace FileXfer.Protocol.Framing;

/// <summary>The message type byte at offset 4 of every frame. Values are stable: see docs/PROTOCOL.md.</summary>
public enum MessageType : byte
{
    /// <summary>Client → server, first frame of a connection: version and capabilities.</summary>
    Hello = 0x01,

    /// <summary>Server → client answer to <see cref="Hello"/>: the chosen version and capabilities.</summary>
    Welcome = 0x02,

    /// <summary>
    /// Client → server, right after a Welcome that announced <see cref="Capabilities.Authentication"/>: the token
    /// name and the client's proof. The server answers <see cref="Ok"/> with its own proof, or <see cref="Error"/>.
    /// </summary>
    Authenticate = 0x03,

    /// <summary>Store a file. The server answers <see cref="Ready"/> (then the body follows) or <see cref="Error"/>.</summary>
    Put = 0x10,

    /// <summary>Fetch a file. The server answers <see cref="Data"/>, the body and <see cref="BodyEnd"/>, or <see cref="Error"/>.</summary>
    Get = 0x11,

    /// <summary>Describe one path.</summary>
    Stat = 0x12,

    /// <summary>List a directory: <see cref="Entry"/> frames then <see cref="EndOfList"/>.</summary>
    List = 0x13,

    /// <summary>Delete a file or an empty directory.</summary>
    Delete = 0x14,

    /// <summary>Hash a stored file on the server without sending it.</summary>
    Hash = 0x15,

    /// <summary>Create a directory (and its parents) or set the time and mode of an existing one.</summary>
    MakeDirectory = 0x16,

    /// <summary>
    /// Client → server after Ready of a resumable put: where the body starts (0, or the Offset the server proved).
    /// </summary>
    ResumeFrom = 0x17,

    /// <summary>
    /// Client → server, once every range of a file sent as ranges was answered Ok (<see cref="Capabilities.ParallelStreams"/>):
    /// gives the assembled file its name when its whole-file hash matches. Answered like a Put: Ok after the commit, or Error.
    /// </summary>
    Assemble = 0x18,

    /// <summary>
    /// Server → client: the put is accepted; send the body now, or for a resumable put first
    /// <see cref="ResumeFrom"/>.
    /// </summary>
    Ready = 0x20,

    /// <summary>Server → client: the request succeeded; its fields depend on the request.</summary>
    Ok = 0x21,

    /// <summary>Server → client answer to <see cref="Get"/>: describes the body that follows.</summary>
    Data = 0x22,

    /// <summary>Server → client: one directory entry of a listing.</summary>
    Entry = 0x23,

    /// <summary>Server → client: the end of a listing.</summary>
    EndOfList = 0x24,

    /// <summary>
    /// Server → client, inside a listing (only with <see cref="Capabilities.ListOmissions"/>): an entry the server
    /// has but cannot send, its name escaped in a message.
    /// </summary>
    Omitted = 0x25,

    /// <summary>
    /// Server → client, only with <see cref="Capabilities.WorkingBeats"/>: the request is still being worked on (a Hash
    /// reading its file); <see cref="FieldTag.Offset"/> says how many bytes of it are done. Any number may come before
    /// the request's answer; they are not an answer.
    /// </summary>
    Working = 0x26,

    /// <summary>Either direction, right after a body: the sender's hash of the bytes it sent.</summary>
    BodyEnd = 0x30,

    /// <summary>Server → client: the request failed, with a stable code and a message.</summary>
    Error = 0x3F,
}
