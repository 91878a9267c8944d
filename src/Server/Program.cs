using FileXfer.Server;

var command = ServerCommand.Create(Console.Out, Console.Error);
return await command.Parse(args).InvokeAsync();
