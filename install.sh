#!/usr/bin/env bash
# Builds and installs FileXfer:
#   PREFIX/bin/filexfer            the client, Native AOT (one file, no .NET runtime needed to run it)
#   PREFIX/lib/filexfer/           the server, ReadyToRun, with PREFIX/bin/filexfer-server linking to it
#   PREFIX/share/doc/filexfer/     README, example configuration files, the systemd unit and its sysusers/tmpfiles
#   PREFIX/share/bash-completion/completions/filexfer (and filexfer-server): bash completion
#
# Usage: ./install.sh [PREFIX]      PREFIX defaults to /usr/local; ~/.local installs for one user without root.
# Needs the .NET 10 SDK; Native AOT also needs a C toolchain (clang or gcc, and zlib's headers). When the AOT build
# cannot be made, the client is installed ReadyToRun instead, and the script says so.
# Exit codes: 0 installed, 1 a build failed, 2 usage error or PREFIX not writable.
set -euo pipefail

if [ $# -gt 1 ] || [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
  [ $# -gt 1 ] && exit 2 || exit 0
fi

prefix="${1:-/usr/local}"
case "$prefix" in
  /*) ;;
  *) prefix="$(pwd)/$prefix" ;;
esac
cd "$(dirname "$0")"

say() { printf 'install.sh: %s\n' "$*" >&2; }

if ! command -v dotnet >/dev/null 2>&1; then
  say "the .NET SDK is not installed (dotnet is not on PATH): https://dot.net"
  exit 1
fi

mkdir -p "$prefix" 2>/dev/null || true
if [ ! -w "$prefix" ] || { [ -e "$prefix/bin" ] && [ ! -w "$prefix/bin" ]; }; then
  say "cannot write to '$prefix': run it as root (sudo ./install.sh) or give a PREFIX you own (./install.sh ~/.local)"
  exit 2
fi

case "$(uname -m)" in
  x86_64) rid=linux-x64 ;;
  aarch64) rid=linux-arm64 ;;
  *) say "unsupported machine $(uname -m): FileXfer runs on Linux x86_64 and arm64"; exit 2 ;;
esac

# A framework-dependent server finds the runtime only in a default place (or through DOTNET_ROOT, which a systemd
# service does not have); elsewhere it is published with its own copy of the runtime.
dotnet_root="$(dirname "$(readlink -f "$(command -v dotnet)")")"
case "$dotnet_root" in
  /usr/share/dotnet | /usr/lib/dotnet | /usr/lib64/dotnet) self_contained=false ;;
  *) self_contained=true ;;
esac

out="$(pwd)/artifacts/install"
rm -rf "$out"
mkdir -p "$out"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

say "building the server (Release, ReadyToRun, self-contained=$self_contained)"
dotnet publish src/Server -c Release -r "$rid" --self-contained "$self_contained" -p:PublishReadyToRun=true \
  -p:DebugType=none -o "$out/server" > "$out/server.log" 2>&1 ||
  { cat "$out/server.log" >&2; say "the server did not build"; exit 1; }

say "building the client (Release, Native AOT)"
if ! dotnet publish src/Client -c Release -r "$rid" -p:PublishAot=true -p:StripSymbols=true \
  -o "$out/client" > "$out/client.log" 2>&1; then
  say "Native AOT build failed (see $out/client.log; it needs clang or gcc and zlib1g-dev); installing the client ReadyToRun"
  rm -rf "$out/client"
  dotnet publish src/Client -c Release -r "$rid" --self-contained "$self_contained" -p:PublishReadyToRun=true \
    -p:DebugType=none -o "$out/client" > "$out/client.log" 2>&1 ||
    { cat "$out/client.log" >&2; say "the client did not build"; exit 1; }
  client_dir=true
else
  client_dir=false
fi

# XML documentation of the libraries is for IDEs, not for an installation.
find "$out/server" "$out/client" -maxdepth 1 -name '*.xml' -delete

install -d -m 0755 "$prefix/bin" "$prefix/lib/filexfer" "$prefix/share/doc/filexfer"

# The server: its files replace the previous version's in one directory, linked from bin.
rm -rf "$prefix/lib/filexfer/server"
cp -R "$out/server" "$prefix/lib/filexfer/server"
ln -sfn "../lib/filexfer/server/filexfer-server" "$prefix/bin/filexfer-server"

if [ "$client_dir" = true ]; then
  rm -rf "$prefix/lib/filexfer/client"
  cp -R "$out/client" "$prefix/lib/filexfer/client"
  ln -sfn "../lib/filexfer/client/filexfer" "$prefix/bin/filexfer"
else
  rm -f "$prefix/bin/filexfer"
  install -m 0755 "$out/client/filexfer" "$prefix/bin/filexfer"
fi

install -m 0644 README.md packaging/systemd/* "$prefix/share/doc/filexfer/"
install -d -m 0755 "$prefix/share/bash-completion/completions"
install -m 0644 packaging/completions/filexfer.bash "$prefix/share/bash-completion/completions/filexfer"
ln -sf filexfer "$prefix/share/bash-completion/completions/filexfer-server"
if [ -d packaging/examples ]; then
  install -m 0644 packaging/examples/* "$prefix/share/doc/filexfer/"
fi

say "installed $("$prefix/bin/filexfer" --version) into $prefix/bin: filexfer, filexfer-server"
case ":$PATH:" in
  *":$prefix/bin:"*) ;;
  *) say "note: $prefix/bin is not on PATH; add it: export PATH=\"$prefix/bin:\$PATH\"" ;;
esac
