using FileXfer.Protocol.Framing;
using Snapshooter.Xunit3;

namespace FileXfer.Protocol.Tests;

/// <summary>
/// The hex of every golden frame as the codec writes it, kept in __snapshots__ so that any change to the wire
/// format shows up as a reviewable diff.
/// </summary>
public class GoldenFrameSnapshotTests
{
    [Fact]
    public void Golden_frames_encode_to_the_snapshot()
    {
        var frames = GoldenFrames.Build()
            .Select(pair => new
            {
                pair.Key,
                Type = pair.Value.Frame.Type.ToString(),
                pair.Value.Frame.RequestId,
                Hex = Convert.ToHexString(FrameCodec.ToArray(pair.Value.Frame)),
            })
            .ToList();

        Snapshot.Match(frames);
    }
}
