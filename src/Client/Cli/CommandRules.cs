using System.CommandLine;
using System.CommandLine.Parsing;
using System.Runtime.CompilerServices;

namespace FileXfer.Client.Cli;

/// <summary>
/// The rules a command's values must follow together (<c>--checksum</c> only with <c>-r</c>, <c>put -</c> only to a file
/// name), checked by the parser as the command's validators, so an action never sees a line that breaks one. A broken
/// rule is a usage error of one line, as it reads in the rule: it needs no pointer to <c>--help</c>, which a line the
/// parser cannot read gets.
/// </summary>
internal static class CommandRules
{
    // The error each rule raised, by the command result it was raised on: how a rule's error is told from the parser's.
    private static readonly ConditionalWeakTable<SymbolResult, string> Raised = [];

    /// <summary>Adds <paramref name="rule"/> to <paramref name="command"/>: the message it returns, if any, is the line's error.</summary>
    public static void Add(Command command, Func<CommandResult, string?> rule)
    {
        command.Validators.Add(result =>
        {
            if (rule(result) is { } message)
            {
                result.AddError(message);
                Raised.AddOrUpdate(result, message);
            }
        });
    }

    /// <summary>True when <paramref name="error"/> is a broken rule's, not the parser's own.</summary>
    public static bool IsRule(ParseError error) =>
        error.SymbolResult is { } symbol && Raised.TryGetValue(symbol, out var message) && message == error.Message;

    /// <summary>The error for the first of <paramref name="options"/> given without <c>-r</c>; null when -r is given or none is.</summary>
    public static string? NeedsRecursive(CommandResult result, Option<bool> recursive, params Option[] options) =>
        result.GetValue(recursive) ? null
            : options.FirstOrDefault(option => result.GetResult(option) is { Implicit: false }) is { } given ? $"{given.Name} needs -r"
            : null;
}
