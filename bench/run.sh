#!/usr/bin/env bash
# FileXfer benchmark harness: measures FileXfer and its peers side by side, in one run, on loopback,
# and prints a table of medians and ratios. Figures on a shared VM drift between runs; compare only
# the ratios within one run.
#
#   bench/run.sh [--runs N] [--scenarios small,large] [--storage tmpfs,disk] [--files N] [--size-mib N]
#
# Scenarios:
#   small  FILES files of 4 KiB (default 5000): put -r / get -r against rsync push / pull to an rsync daemon
#   large  one file of SIZE MiB (default 1024): put / get against rsync and a raw socat pipe (file -> TCP -> file)
# Storage: tmpfs (/dev/shm) and/or the real disk (/var/tmp).
# Needs root for apt-get when rsync, socat or hyperfine are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

runs=5
scenarios=small,large
storages=tmpfs,disk
files=5000
size_mib=1024
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --scenarios) scenarios=$2; shift 2 ;;
    --storage) storages=$2; shift 2 ;;
    --files) files=$2; shift 2 ;;
    --size-mib) size_mib=$2; shift 2 ;;
    *) echo "bench: unknown option $1" >&2; exit 2 ;;
  esac
done

need=()
for tool in rsync socat hyperfine python3; do
  command -v "$tool" >/dev/null 2>&1 || need+=("$tool")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "bench: installing ${need[*]}" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

out=$repo/bench/out
results=$repo/bench/results/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out" "$results"

echo "bench: building (Release; client with Native AOT when it can be built, else ReadyToRun)" >&2
dotnet publish src/Server -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$out/server" >/dev/null
if ! dotnet publish src/Client -c Release -r linux-x64 -p:PublishAot=true -o "$out/client" >/dev/null 2>&1; then
  echo "bench: Native AOT build failed; using ReadyToRun" >&2
  dotnet publish src/Client -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$out/client" >/dev/null
fi
fx=$out/client/filexfer
fxd=$out/server/filexfer-server

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf /dev/shm/fxbench /var/tmp/fxbench
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# One filexfer-server and one rsync daemon per storage, each with its own root.
declare -A fx_port rsync_port base
for storage in ${storages//,/ }; do
  case $storage in
    tmpfs) dir=/dev/shm/fxbench ;;
    disk) dir=/var/tmp/fxbench ;;
    *) echo "bench: unknown storage $storage" >&2; exit 2 ;;
  esac
  rm -rf "$dir"; mkdir -p "$dir"/{src,fx-root,rsync-root,got,raw}
  chmod go-w "$dir/fx-root"   # the server refuses a root that other users can write (umask 002)
  base[$storage]=$dir

  port=$(free_port)
  "$fxd" --root "$dir/fx-root" --listen "127.0.0.1:$port" > "$dir/fx-server.out" 2> "$dir/fx-server.log" &
  pids+=($!)
  fx_port[$storage]=$port

  port=$(free_port)
  cat > "$dir/rsyncd.conf" <<CONF
pid file = $dir/rsyncd.pid
use chroot = no
log file = $dir/rsyncd.log
[bench]
path = $dir/rsync-root
read only = no
uid = root
gid = root
CONF
  rsync --daemon --no-detach --config="$dir/rsyncd.conf" --port="$port" --address=127.0.0.1 &
  pids+=($!)
  rsync_port[$storage]=$port
done
sleep 1

# Small files: FILES files of 4 KiB in 50 folders.
make_small() {
  python3 - "$1" "$files" <<'PY'
import os, sys
root, count = sys.argv[1], int(sys.argv[2])
for i in range(count):
    d = os.path.join(root, "d%02d" % (i % 50))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%05d" % i), "wb") as f:
        f.write(os.urandom(4096))
PY
}

measure() { # name, prepare, command
  local name=$1 prepare=$2 command=$3
  echo "bench: $name" >&2
  hyperfine -N --style none --runs "$runs" --warmup 1 --prepare "$prepare" --export-json "$results/$name.json" "$command" >/dev/null
}

for storage in ${storages//,/ }; do
  dir=${base[$storage]}
  server="127.0.0.1:${fx_port[$storage]}"
  rsyncd="rsync://127.0.0.1:${rsync_port[$storage]}/bench"
  if [[ ,$scenarios, == *,small,* ]]; then
    rm -rf "$dir/src/small"; make_small "$dir/src/small"
    measure "small-put-filexfer-$storage" "rm -rf $dir/fx-root/small" "$fx -q -s $server put -r $dir/src/small small"
    measure "small-put-rsync-$storage" "rm -rf $dir/rsync-root/small" "rsync -a $dir/src/small/ $rsyncd/small/"
    measure "small-get-filexfer-$storage" "rm -rf $dir/got/small" "$fx -q -s $server get -r small $dir/got/small"
    measure "small-get-rsync-$storage" "rm -rf $dir/got/small" "rsync -a $rsyncd/small/ $dir/got/small/"
    diff -r "$dir/src/small" "$dir/got/small" >/dev/null || { echo "bench: small get -r result differs" >&2; exit 1; }
  fi
  if [[ ,$scenarios, == *,large,* ]]; then
    head -c "$((size_mib * 1024 * 1024))" /dev/urandom > "$dir/src/large.bin"
    measure "large-put-filexfer-$storage" "rm -f $dir/fx-root/large.bin" "$fx -q -s $server put $dir/src/large.bin large.bin"
    measure "large-put-rsync-$storage" "rm -f $dir/rsync-root/large.bin" "rsync -a --whole-file $dir/src/large.bin $rsyncd/large.bin"
    raw_port=$(free_port)
    measure "large-put-socat-$storage" "rm -f $dir/raw/large.bin" \
      "bash -c 'socat -u TCP-LISTEN:$raw_port,bind=127.0.0.1,reuseaddr CREATE:$dir/raw/large.bin & sleep 0.05; socat -u OPEN:$dir/src/large.bin TCP:127.0.0.1:$raw_port; wait'"
    measure "large-get-filexfer-$storage" "rm -f $dir/got/large.bin" "$fx -q -s $server get large.bin $dir/got/large.bin"
    measure "large-get-rsync-$storage" "rm -f $dir/got/large.bin" "rsync -a --whole-file $rsyncd/large.bin $dir/got/large.bin"
    cmp "$dir/src/large.bin" "$dir/got/large.bin" || { echo "bench: large get result differs" >&2; exit 1; }
    rm -f "$dir/src/large.bin" "$dir/fx-root/large.bin" "$dir/rsync-root/large.bin" "$dir/raw/large.bin" "$dir/got/large.bin"
  fi
done

python3 "$repo/bench/report.py" "$results" --files "$files" --size-mib "$size_mib" | tee "$results/report.md"
echo "bench: results in $results" >&2
