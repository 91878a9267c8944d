#!/usr/bin/env bash
# The measured rate of --bwlimit against its limit, over loopback: puts and gets one file with the client's limit
# and one with the server's per-connection cap, and prints each rate and its distance from the limit. The issue's
# bar is 10%; the exit code is 1 when a rate misses it.
#
# Usage: bench/bwlimit.sh [RATE] [SIZE_MIB]      defaults: 4M and 32 (about 8 s a transfer)
# Uses the installed programs when filexfer and filexfer-server are on PATH, else builds Release ones.
set -euo pipefail
cd "$(dirname "$0")/.."

rate="${1:-4M}"
size_mib="${2:-32}"
work="$(mktemp -d)"
trap 'kill "$server_pid" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

if command -v filexfer >/dev/null && command -v filexfer-server >/dev/null; then
  client=filexfer server=filexfer-server
else
  dotnet build -c Release src/Client src/Server >/dev/null
  client="dotnet src/Client/bin/Release/net10.0/filexfer.dll"
  server="dotnet src/Server/bin/Release/net10.0/filexfer-server.dll"
fi

limit_bytes=$(python3 - "$rate" <<'PY'
import re, sys
m = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]*)\s*", sys.argv[1])
unit = {"": 1024, "B": 1, "K": 1024, "KB": 1024, "KIB": 1024, "M": 1 << 20, "MB": 1 << 20, "MIB": 1 << 20, "G": 1 << 30, "GB": 1 << 30, "GIB": 1 << 30}[m.group(2).upper()]
print(int(float(m.group(1)) * unit))
PY
)

mkdir -p "$work/root" && chmod 700 "$work/root"
head -c "$((size_mib * 1024 * 1024))" /dev/urandom > "$work/data.bin"

start_server() {
  $server --root "$work/root" --listen 127.0.0.1:0 "$@" > "$work/server.out" 2> "$work/server.log" &
  server_pid=$!
  until grep -q '^listening on ' "$work/server.out" 2>/dev/null; do kill -0 "$server_pid"; sleep 0.05; done
  address=$(sed -n 's/^listening on //p' "$work/server.out")
}

measure() { # label, then the client command's arguments
  local label="$1"; shift
  local started ended
  started=$(date +%s.%N)
  $client --quiet --server "$address" "$@"
  ended=$(date +%s.%N)
  python3 - "$label" "$started" "$ended" "$((size_mib * 1024 * 1024))" "$limit_bytes" <<'PY'
import sys
label, started, ended, size, limit = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rate = size / (ended - started)
off = (rate - limit) / limit * 100
print(f"{label:<28} {rate / 1048576:8.2f} MiB/s  limit {limit / 1048576:.2f} MiB/s  {off:+6.1f}%")
sys.exit(0 if abs(off) <= 10 else 1)
PY
}

status=0
start_server
measure "client --bwlimit, put" --bwlimit "$rate" put "$work/data.bin" a.bin || status=1
measure "client --bwlimit, get" --bwlimit "$rate" get a.bin "$work/copy-a.bin" || status=1
kill "$server_pid"; wait "$server_pid" || true

start_server --bwlimit "$rate"
measure "server --bwlimit, put" put "$work/data.bin" b.bin || status=1
measure "server --bwlimit, get" get b.bin "$work/copy-b.bin" || status=1
exit "$status"
