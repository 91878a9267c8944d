namespace FileXfer.Server.Handlers;

/// <summary>The requests that change the tree besides put: mkdir and delete.</summary>
public sealed partial class FileXferRequestHandler
{
    private async Task<long> MakeDirectoryAsync(Frame request, CancellationToken cancellationToken)
    {
        RequireWrite("mkdir");
        var modified = Messages.ReadModified(request);
        var mode = Messages.ReadMode(request);
        var entry = await Store.MakeDirectoryAsync(request.GetString(FieldTag.Path), modified, mode, Messages.ReadParentModified(request), cancellationToken);
        await Writer.WriteAsync(Messages.Describe(MessageType.Ok, request.RequestId, entry), cancellationToken);
        return 0;
    }

    private async Task<long> DeleteAsync(Frame request, CancellationToken cancellationToken)
    {
        RequireWrite("rm");
        var entry = await Store.DeleteAsync(request.GetString(FieldTag.Path), cancellationToken);
        await Writer.WriteAsync(Messages.Describe(MessageType.Ok, request.RequestId, entry), cancellationToken);
        return 0;
    }
}
