using System.Collections;
using System.CommandLine;
using System.CommandLine.Help;
using FileXfer.Server.Configuration;

namespace FileXfer.Server.Tests.Configuration;

/// <summary>
/// Settings from a file (--config), the environment (FILEXFER_SERVER_*) and the command line: every option has a
/// key, the command line overrides the environment which overrides the file, and each bad key or value is one line
/// naming where it was read, with exit code 2.
/// </summary>
public sealed class ServerConfigurationTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Every_option_has_a_key_and_each_key_of_the_file_reaches_its_option()
    {
        var command = ServerCommand.Create(TextWriter.Null, TextWriter.Null);
        var options = Settable(command).ToList();
        Assert.True(options.Count >= 17, "the server's options were not found");
        var values = options.ToDictionary(o => o.Name, SampleValue);
        var file = WriteConfig(string.Join('\n', values.Select(v => $"{v.Key.TrimStart('-')} = {v.Value}")));

        var parsed = Parse(command, ["--config", file], new Hashtable());

        foreach (var option in options)
        {
            var value = parsed.GetResult(option)?.GetValueOrDefault<object?>();
            Assert.True(value is not null, $"{option.Name} was not set from the file");
            Assert.Equal(values[option.Name], Shown(value));
        }
    }

    [Fact]
    public void The_environment_overrides_the_file_and_the_command_line_overrides_both()
    {
        var command = ServerCommand.Create(TextWriter.Null, TextWriter.Null);
        var file = WriteConfig("""
            # every source names its own address
            root = data
            listen = 127.0.0.2:0
            max-connections = 10
            tls = true
            idle-timeout = 100
            """);
        var environment = new Hashtable
        {
            ["FILEXFER_SERVER_LISTEN"] = "127.0.0.3:0",
            ["FILEXFER_SERVER_TLS"] = "no",
            ["FILEXFER_SERVER_MAX_CONNECTIONS"] = "20",
            ["FILEXFER_SERVERLESS"] = "not ours",
            ["FILEXFER_SERVER"] = "the client's variable, not ours",
        };

        var parsed = Parse(command, ["--config", file, "--max-connections", "30"], environment);

        Assert.Equal(Path.Combine(_directory.Path, "data"), parsed.GetValue<DirectoryInfo>("--root")!.FullName);
        Assert.Equal("127.0.0.3:0", parsed.GetValue<string>("--listen"));
        Assert.False(parsed.GetValue<bool>("--tls"));
        Assert.Equal(30, parsed.GetValue<int>("--max-connections"));
        Assert.Equal(100, parsed.GetValue<double>("--idle-timeout"));
    }

    [Fact]
    public void The_file_can_be_named_by_the_environment()
    {
        var command = ServerCommand.Create(TextWriter.Null, TextWriter.Null);
        var file = WriteConfig("max-list-entries = 42");

        var parsed = Parse(command, ["--root", "/srv"], new Hashtable { ["FILEXFER_SERVER_CONFIG"] = file });

        Assert.Equal(42, parsed.GetValue<int>("--max-list-entries"));
    }

    [Fact(Timeout = 60000)]
    public async Task Each_bad_key_or_value_is_one_line_naming_its_place_and_the_exit_code_is_2()
    {
        var file = WriteConfig("""
            root = /srv/files
            max-connections = many
            tls = perhaps
            log-level = loud
            log-format = 1
            colour = blue
            listen 127.0.0.1:0
            root = /srv/other
            shutdown-timeout = ""
            """);
        var environment = new Hashtable { ["FILEXFER_SERVER_KEEPALIVE"] = "often", ["FILEXFER_SERVER_PORT"] = "7070" };

        var (exitCode, stdout, stderr) = await InvokeAsync(["--config", file], environment, TestContext.Current.CancellationToken);

        // The file's form first, then unknown keys (the file's, the environment's), then values by key.
        Assert.Equal(2, exitCode);
        Assert.Empty(stdout);
        Assert.Equal(
            [
                $"filexfer-server: {file} line 7: expected 'key = value', not 'listen 127.0.0.1:0'",
                $"filexfer-server: {file} line 8: 'root' is already set on line 1",
                $"filexfer-server: {file} line 6: unknown setting 'colour' (the settings are the options of filexfer-server --help, without their dashes)",
                "filexfer-server: $FILEXFER_SERVER_PORT: unknown setting 'port' (the settings are the options of filexfer-server --help, without their dashes)",
                "filexfer-server: $FILEXFER_SERVER_KEEPALIVE: keepalive: 'often' is not a number",
                $"filexfer-server: {file} line 5: log-format: '1' is not one of auto, text, journal, json",
                $"filexfer-server: {file} line 4: log-level: 'loud' is not one of trace, debug, information, warning, error, critical, none",
                $"filexfer-server: {file} line 2: max-connections: 'many' is not a whole number (up to 2147483647)",
                $"filexfer-server: {file} line 9: shutdown-timeout: '' is not a number",
                $"filexfer-server: {file} line 3: tls: 'perhaps' is not true or false",
            ],
            stderr);
    }

    [Fact(Timeout = 60000)]
    public async Task A_value_out_of_range_names_where_it_was_set()
    {
        var root = _directory.CreateDirectory("root");
        File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var file = WriteConfig($"root = {root}\nmax-connections = 0\nidle-timeout = -1");

        var (exitCode, _, stderr) = await InvokeAsync(["--config", file, "--max-list-entries", "0"], new Hashtable { ["FILEXFER_SERVER_LISTEN"] = "nonsense" }, TestContext.Current.CancellationToken);

        Assert.Equal(2, exitCode);
        Assert.Equal(4, stderr.Count);
        Assert.StartsWith("filexfer-server: listen ($FILEXFER_SERVER_LISTEN): ", stderr[0], StringComparison.Ordinal);
        Assert.Equal($"filexfer-server: idle-timeout ({file} line 3) must be positive, not -1", stderr[1]);
        Assert.Equal($"filexfer-server: max-connections ({file} line 2) must be positive, not 0", stderr[2]);
        Assert.Equal("filexfer-server: --max-list-entries must be positive, not 0", stderr[3]);
    }

    [Fact]
    public void The_handshake_timeout_and_the_eviction_age_come_from_the_file_the_environment_and_the_command_line()
    {
        var command = ServerCommand.Create(TextWriter.Null, TextWriter.Null);
        var file = WriteConfig("root = /srv\nhandshake-timeout = 30\neviction-age = 2\n");

        var fromFile = Parse(command, ["--config", file], new Hashtable());
        var fromEnvironment = Parse(command, ["--config", file], new Hashtable { ["FILEXFER_SERVER_HANDSHAKE_TIMEOUT"] = "45.5", ["FILEXFER_SERVER_EVICTION_AGE"] = "0.25" });
        var fromCommandLine = Parse(command, ["--config", file, "--handshake-timeout", "60", "--eviction-age", "12"], new Hashtable { ["FILEXFER_SERVER_EVICTION_AGE"] = "0.25" });
        var unset = Parse(command, ["--root", "/srv"], new Hashtable());

        Assert.Equal((30, 2), (fromFile.GetValue<double>("--handshake-timeout"), fromFile.GetValue<double>("--eviction-age")));
        Assert.Equal((45.5, 0.25), (fromEnvironment.GetValue<double>("--handshake-timeout"), fromEnvironment.GetValue<double>("--eviction-age")));
        Assert.Equal((60, 12), (fromCommandLine.GetValue<double>("--handshake-timeout"), fromCommandLine.GetValue<double>("--eviction-age")));
        Assert.Equal(10, unset.GetValue<double>("--handshake-timeout"));
        // Not given anywhere, the eviction age has no value of its own: the server's follows the handshake timeout.
        Assert.Null(unset.GetResult(command.Options.Single(o => o.Name == "--eviction-age")));
    }

    [Theory(Timeout = 60000)]
    [InlineData("handshake-timeout = 0", null, "handshake-timeout ({file} line 1) must be positive, not 0")]
    [InlineData("handshake-timeout = 0.5", null, "handshake-timeout ({file} line 1) must be at least 1, not 0.5")]
    [InlineData("handshake-timeout = 601", null, "handshake-timeout ({file} line 1) must be at most 600, not 601")]
    [InlineData("eviction-age = -1", null, "eviction-age ({file} line 1) must be positive, not -1")]
    [InlineData("eviction-age = 0.0001", null, "eviction-age ({file} line 1) must be at least 0.001, not 0.0001")]
    [InlineData("eviction-age = 10", null, "eviction-age ({file} line 1) must be less than --handshake-timeout (10 s: a connection is closed at that deadline, so none would ever be evicted), not 10")]
    [InlineData("handshake-timeout = 20", "FILEXFER_SERVER_EVICTION_AGE=25", "eviction-age ($FILEXFER_SERVER_EVICTION_AGE) must be less than handshake-timeout ({file} line 1) (20 s: a connection is closed at that deadline, so none would ever be evicted), not 25")]
    [InlineData("eviction-age = 5", "FILEXFER_SERVER_HANDSHAKE_TIMEOUT=5", "eviction-age ({file} line 1) must be less than handshake-timeout ($FILEXFER_SERVER_HANDSHAKE_TIMEOUT) (5 s: a connection is closed at that deadline, so none would ever be evicted), not 5")]
    [InlineData("eviction-age = 0", "FILEXFER_SERVER_HANDSHAKE_TIMEOUT=-3", "eviction-age ({file} line 1) must be positive, not 0|handshake-timeout ($FILEXFER_SERVER_HANDSHAKE_TIMEOUT) must be positive, not -3")]
    public async Task A_handshake_timeout_or_eviction_age_out_of_range_is_one_line_naming_where_it_was_set(string line, string? variable, string expected)
    {
        var root = _directory.CreateDirectory("root");
        File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var file = WriteConfig($"{line}\nroot = {root}\nlisten = 127.0.0.1:0\n");
        var environment = new Hashtable();
        if (variable?.Split('=') is [var name, var value])
        {
            environment[name] = value;
        }

        var (exitCode, stdout, stderr) = await InvokeAsync(["--config", file], environment, TestContext.Current.CancellationToken);

        Assert.Equal(2, exitCode);
        Assert.Empty(stdout);
        Assert.Equal(expected.Replace("{file}", file, StringComparison.Ordinal).Split('|').Select(l => "filexfer-server: " + l).Order(StringComparer.Ordinal), stderr.Order(StringComparer.Ordinal));
    }

    [Theory(Timeout = 60000)]
    [InlineData("--handshake-timeout", "NaN", "--handshake-timeout must be positive, not NaN")]
    [InlineData("--handshake-timeout", "Infinity", "--handshake-timeout must be at most 600, not Infinity")]
    [InlineData("--eviction-age", "1e9", "--eviction-age must be at most 600, not 1000000000")]
    public async Task A_handshake_timeout_or_eviction_age_that_is_not_a_finite_number_of_seconds_is_refused(string option, string value, string expected)
    {
        var (exitCode, stdout, stderr) = await InvokeAsync(["--root", _directory.Path, "--listen", "127.0.0.1:0", option, value], new Hashtable(), TestContext.Current.CancellationToken);

        Assert.Equal(2, exitCode);
        Assert.Empty(stdout);
        Assert.Equal(["filexfer-server: " + expected], stderr);
    }

    [Theory(Timeout = 60000)]
    [InlineData("--idle-timeout", "1e300", "--idle-timeout must be at most 604800, not 1E+300")]
    [InlineData("--idle-timeout", "NaN", "--idle-timeout must be positive, not NaN")]
    [InlineData("--idle-timeout", "0", "--idle-timeout must be positive, not 0")]
    [InlineData("--shutdown-timeout", "1e300", "--shutdown-timeout must be at most 86400, not 1E+300")]
    [InlineData("--shutdown-timeout", "NaN", "--shutdown-timeout must be a number of seconds, not NaN")]
    [InlineData("--shutdown-timeout", "-1", "--shutdown-timeout cannot be negative, not -1")]
    [InlineData("--keepalive", "40000", "--keepalive must be at most 32767 (the kernel's limit), not 40000")]
    [InlineData("--keepalive", "Infinity", "--keepalive must be at most 32767 (the kernel's limit), not Infinity")]
    [InlineData("--keepalive", "NaN", "--keepalive must be a number of seconds, not NaN")]
    [InlineData("--partial-max-age", "1e300", "--partial-max-age must be at most 87600, not 1E+300")]
    [InlineData("--partial-max-age", "-Infinity", "--partial-max-age must be positive, not -Infinity")]
    public async Task A_duration_that_no_timer_could_hold_is_one_line_not_a_crash(string option, string value, string expected)
    {
        // These used to reach TimeSpan.FromSeconds (an unhandled OverflowException or ArgumentException, exit 1) or, for
        // the keepalive, a setsockopt the kernel refuses (no keepalive at all, silently).
        var root = _directory.CreateDirectory("root");
        File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var (exitCode, stdout, stderr) = await InvokeAsync(["--root", root, "--listen", "127.0.0.1:0", option, value], new Hashtable(), TestContext.Current.CancellationToken);

        Assert.Equal(2, exitCode);
        Assert.Empty(stdout);
        Assert.Equal(["filexfer-server: " + expected], stderr);
        Assert.Empty(Directory.EnumerateFileSystemEntries(root));
    }

    [Theory(Timeout = 60000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_key_without_its_certificate_is_a_usage_line_that_leaves_the_root_untouched(bool fromFile)
    {
        var root = _directory.CreateDirectory("root");
        File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var key = Path.Combine(_directory.Path, "server.key");
        string[] args = fromFile
            ? ["--config", WriteConfig($"root = {root}\nlisten = 127.0.0.1:0\ntls-key = {key}\n")]
            : ["--root", root, "--listen", "127.0.0.1:0", "--tls-key", key];

        var (exitCode, stdout, stderr) = await InvokeAsync(args, new Hashtable(), TestContext.Current.CancellationToken);

        Assert.Equal(2, exitCode);
        Assert.Empty(stdout);
        Assert.Equal([fromFile ? $"filexfer-server: tls-key ({args[1]} line 3) needs --tls-cert" : "filexfer-server: --tls-key needs --tls-cert"], stderr);
        // Checked before the store is opened, which would have made ROOT/.filexfer.
        Assert.Empty(Directory.EnumerateFileSystemEntries(root));
    }

    [Theory(Timeout = 60000)]
    [InlineData("handshake-timeout = 30", null, "Handshake deadline 30 s from the accept; when the server is full, the oldest connection in its handshake for 3 s or more makes room")]
    [InlineData("handshake-timeout = 30", "FILEXFER_SERVER_EVICTION_AGE=0.5", "Handshake deadline 30 s from the accept; when the server is full, the oldest connection in its handshake for 0.5 s or more makes room")]
    [InlineData("eviction-age = 2.5", null, "Handshake deadline 10 s from the accept; when the server is full, the oldest connection in its handshake for 2.5 s or more makes room")]
    public async Task The_server_runs_with_the_handshake_timeout_and_eviction_age_it_was_given_and_says_so(string line, string? variable, string expected)
    {
        var token = TestContext.Current.CancellationToken;
        var root = _directory.CreateDirectory("root");
        File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var file = WriteConfig($"root = root\nlisten = 127.0.0.1:0\n{line}\n");
        var environment = new Dictionary<string, string?>();
        if (variable?.Split('=') is [var name, var value])
        {
            environment[name] = value;
        }

        using var server = ServerProcess.StartWithEnvironment(environment, "--config", file);
        var said = await server.WaitForLineAsync(l => l.Contains("Handshake deadline", StringComparison.Ordinal), TimeSpan.FromSeconds(20), token);
        await server.WaitUntilListeningAsync(token);
        server.SendSigTerm();

        Assert.Contains(expected, said, StringComparison.Ordinal);
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20), token));
    }

    [Fact(Timeout = 60000)]
    public async Task A_missing_config_file_is_one_line_and_exit_2()
    {
        var missing = _directory.Combine("nowhere.conf");

        var (exitCode, _, stderr) = await InvokeAsync(["--config", missing, "--root", _directory.Path], new Hashtable(), TestContext.Current.CancellationToken);

        Assert.Equal(2, exitCode);
        var line = Assert.Single(stderr);
        Assert.StartsWith($"filexfer-server: cannot read config file '{missing}': ", line, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task The_server_runs_from_its_config_file_with_the_environment_overriding_it()
    {
        var token = TestContext.Current.CancellationToken;
        var root = _directory.CreateDirectory("root");
        var file = WriteConfig($"# the server of the test\nroot = root\nlisten = 127.0.0.2:0\nshutdown-timeout = 5\n");
        using var server = ServerProcess.StartWithEnvironment(
            new Dictionary<string, string?> { ["FILEXFER_SERVER_LISTEN"] = "127.0.0.3:0" },
            "--config", file);

        var line = await server.WaitForLineAsync(l => l.StartsWith("listening on ", StringComparison.Ordinal), TimeSpan.FromSeconds(20), token);
        await File.WriteAllTextAsync(Path.Combine(root, "probe"), "x", token);
        server.SendSigTerm();

        Assert.StartsWith("listening on 127.0.0.3:", line, StringComparison.Ordinal);
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20), token));
    }

    [Fact]
    public void The_example_config_file_sets_only_known_keys_to_good_values()
    {
        var command = ServerCommand.Create(TextWriter.Null, TextWriter.Null);
        var example = ExampleFile("server.conf");

        var parsed = Parse(command, ["--config", example], new Hashtable());

        Assert.Equal("/srv/filexfer", parsed.GetValue<DirectoryInfo>("--root")!.FullName);
        Assert.True(parsed.GetValue<bool>("--tls"));
    }

    /// <summary>A file of packaging/examples in this checkout, found by walking up from the test assembly.</summary>
    internal static string ExampleFile(string name)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "packaging", "examples", name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        Assert.Fail($"packaging/examples/{name} not found above {AppContext.BaseDirectory}");
        return string.Empty;
    }

    private static IEnumerable<Option> Settable(RootCommand command) =>
        command.Options.Where(o => o is not HelpOption and not VersionOption && o.Name != "--config");

    /// <summary>A value of the option's type unlike its default, as the file writes it.</summary>
    private string SampleValue(Option option)
    {
        var type = Nullable.GetUnderlyingType(option.ValueType) ?? option.ValueType;
        if (type == typeof(bool))
        {
            return "true";
        }

        if (type == typeof(int) || type == typeof(long))
        {
            return "7";
        }

        if (type == typeof(double))
        {
            return "2.5";
        }

        if (type.IsEnum)
        {
            return Enum.GetNames(type)[1];
        }

        if (type == typeof(FileInfo) || type == typeof(DirectoryInfo))
        {
            return _directory.Combine(option.Name.TrimStart('-'));
        }

        return "sample-" + option.Name.TrimStart('-');
    }

    private static string Shown(object value) => value switch
    {
        bool flag => flag ? "true" : "false",
        double number => number.ToString(System.Globalization.CultureInfo.InvariantCulture),
        FileSystemInfo path => path.FullName,
        _ => value.ToString()!,
    };

    private string WriteConfig(string text)
    {
        var path = _directory.Combine("server.conf");
        File.WriteAllText(path, text);
        return path;
    }

    private static ParseResult Parse(RootCommand command, string[] args, IDictionary environment)
    {
        var first = command.Parse(args);
        var configOption = command.Options.OfType<Option<FileInfo?>>().Single(o => o.Name == "--config");
        var configuration = ServerConfiguration.Build(command, configOption, first, args, environment);
        Assert.Empty(configuration.Problems);
        var parsed = command.Parse([.. configuration.Arguments]);
        Assert.Empty(parsed.Errors);
        return parsed;
    }

    private static async Task<(int ExitCode, string[] Stdout, List<string> Stderr)> InvokeAsync(string[] args, IDictionary environment, CancellationToken cancellationToken)
    {
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter { NewLine = "\n" };
        int exitCode = await ServerCommand.InvokeAsync(
            args, stdout, stderr, new InvocationConfiguration { Output = stdout, Error = stderr }, environment: environment, cancellationToken: cancellationToken);
        return (exitCode, stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries), [.. stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)]);
    }
}
