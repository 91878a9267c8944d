using System.Runtime.Versioning;

// The server under test relies on POSIX behavior (realpath, symbolic links, Unix permission bits, signals).
[assembly: UnsupportedOSPlatform("windows")]
