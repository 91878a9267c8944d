#!/usr/bin/env bash
# FileXfer benchmark harness: measures FileXfer and its peers (rsync daemon, scp to a private sshd, curl
# against nginx WebDAV, a raw socat pipe) side by side, in one run, on loopback, and writes a Markdown
# report of medians and ratios. Figures on a shared VM drift between runs; compare only the ratios within
# one run. See bench/README.md.
#
#   bench/run.sh [--runs N] [--scenarios small,large,concurrent,startup,memory,trees] [--storage tmpfs,disk]
#                [--files N] [--size-mib N] [--algorithms xxh128] [--clients N] [--client-mib N]
#                [--startup-runs N] [--memory-mib 1024,10240] [--tree-files 1000000,100000]
#                [--flat-files 200000] [--big-tree-runs N] [--no-build]
#
# Scenarios (each against the peers, in the same run):
#   small       FILES files of 4 KiB (default 5000): put -r / get -r vs rsync push / pull
#   large       one file of SIZE MiB (default 1024): put / get, also with each --algorithms entry, vs rsync,
#               scp, curl PUT/GET to nginx, a raw socat pipe (file -> TCP -> file) and the floor (bench/floor/
#               floor.c: recv/send, SHA-256 on a second thread, pwrite, fsync; skipped when it cannot be built)
#   small and large are interleaved (bench/interleave.py): each round runs every tool once, the order of the
#   tools reversed every other round, after one warm-up round
#   concurrent  CLIENTS clients at once (default 32), each putting its own CLIENT_MIB MiB file (default 32):
#               aggregate MiB/s, failures, the server's peak memory; vs 32 rsync and 32 curl PUTs at once
#   startup     one 4 KiB put, whole process, STARTUP_RUNS runs (default 30): the published client, the
#               plain (JIT) client, curl PUT to nginx, rsync, scp
#   memory      peak RSS of client (/usr/bin/time) and server (VmHWM, a fresh server per step) for put and
#               get of each --memory-mib size (default 1024,10240), on the real disk; skipped with a note
#               when the disk has less than twice the size plus 5 GiB free
#   trees       (not in the default list: hours at the default sizes) trees of small files (0-4 KiB) on the real
#               disk, generated once into /var/tmp/fxbench-trees: --tree-files N files in N/1000 folders of 1,000
#               (default 1000000,100000) and --flat-files N in one folder (default 200000); put -r, the no-op
#               re-run, get -r, verify -r, hash -r, put -r --delete vs rsync -a push / pull / --checksum
#               --dry-run / --delete against the run's rsync daemon config: wall time, peak RSS of client and
#               server, every copy checked (bench/trees.py); --runs rounds, at most --big-tree-runs (default 2)
#               for trees of 500,000 files or more
# Storage (small, large, concurrent, startup): tmpfs (/dev/shm) and/or the real disk (/var/tmp).
# Needs root for apt-get when a tool is missing (rsync, socat, hyperfine, openssh-server, nginx, curl, time;
# gcc and libssl-dev for the floor, which is skipped when they are missing and cannot be installed).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
command_line="bench/run.sh${*:+ $*}"

runs=5
scenarios=small,large,concurrent,startup,memory
storages=tmpfs,disk
files=5000
size_mib=1024
algorithms=xxh128
clients=32
client_mib=32
startup_runs=30
memory_mib=1024,10240
tree_files=1000000,100000
flat_files=200000
big_tree_runs=2
build=1
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --scenarios) scenarios=$2; shift 2 ;;
    --storage) storages=$2; shift 2 ;;
    --files) files=$2; shift 2 ;;
    --size-mib) size_mib=$2; shift 2 ;;
    --algorithms) algorithms=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --client-mib) client_mib=$2; shift 2 ;;
    --startup-runs) startup_runs=$2; shift 2 ;;
    --memory-mib) memory_mib=$2; shift 2 ;;
    --tree-files) tree_files=$2; shift 2 ;;
    --flat-files) flat_files=$2; shift 2 ;;
    --big-tree-runs) big_tree_runs=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,35p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown option $1 (see bench/run.sh --help)" >&2; exit 2 ;;
  esac
done
for s in ${scenarios//,/ }; do
  case $s in small|large|concurrent|startup|memory|trees) ;; *) echo "bench: unknown scenario $s" >&2; exit 2 ;; esac
done
for s in ${storages//,/ }; do
  case $s in tmpfs|disk) ;; *) echo "bench: unknown storage $s" >&2; exit 2 ;; esac
done
want() { [[ ,$scenarios, == *,$1,* ]]; }
log() { echo "bench: $*" >&2; }
die() { echo "bench: $*" >&2; exit 1; }
# A failed measurement or a wrong copy does not end a long run: it is listed at the top of the report.
failed() { echo "bench: FAILED: $*" >&2; echo "$*" >> "$results/failed.txt"; }

# Peers and tools, from Debian when missing. No service may start during the install: the harness starts
# its own sshd and nginx on free loopback ports (Docker images usually carry this policy-rc.d already).
declare -A package_of=([rsync]=rsync [socat]=socat [hyperfine]=hyperfine [python3]=python3 [curl]=curl
  [ssh]=openssh-client [scp]=openssh-client [ssh-keygen]=openssh-client [/usr/sbin/sshd]=openssh-server
  [/usr/sbin/nginx]=nginx [/usr/bin/time]=time)
need=()
for tool in "${!package_of[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || need+=("${package_of[$tool]}")
done
if [ ${#need[@]} -gt 0 ]; then
  mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
  [ "$(id -u)" = 0 ] || die "missing ${need[*]}; run as root (for apt-get) or install them first"
  log "installing ${need[*]}"
  policy=/usr/sbin/policy-rc.d
  made_policy=0
  if [ ! -e $policy ]; then printf '#!/bin/sh\nexit 101\n' > $policy; chmod 755 $policy; made_policy=1; fi
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  [ $made_policy = 0 ] || rm -f $policy
fi

out=$repo/bench/out
results=$repo/bench/results/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out" "$results"

if [ $build = 1 ]; then
  log "building (Release; server ReadyToRun, client Native AOT when it can be built, else ReadyToRun; a plain JIT client for reference)"
  bench/publish.sh . "$out"
  dotnet publish src/Client -c Release -r linux-x64 --self-contained false -p:PublishAot=false -o "$out/client-jit" >/dev/null
fi
fx=$out/client/filexfer
fx_jit=$out/client-jit/filexfer
fxd=$out/server/filexfer-server
for f in "$fx" "$fx_jit" "$fxd"; do [ -x "$f" ] || die "$f is missing (run without --no-build)"; done
client_kind=$(cat "$out/client/.build-kind" 2>/dev/null || echo aot)

# The run's header: machine, date, commit and the exact command line, for report.py.
python3 - "$results/meta.json" "$command_line" "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo ' (src modified)')" \
  "$runs" "$files" "$size_mib" "$algorithms" "$clients" "$client_mib" "$startup_runs" "$memory_mib" "$client_kind" \
  "$scenarios" "$storages" small,large "$tree_files" "$flat_files" "$big_tree_runs" <<'PY'
import datetime, json, os, platform, sys
keys = ["command", "commit", "runs", "files", "size_mib", "algorithms", "clients", "client_mib", "startup_runs",
        "memory_mib", "client_build", "scenarios", "storages", "interleaved", "tree_files", "flat_files", "big_tree_runs"]
meta = dict(zip(keys, sys.argv[2:]))
model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next((int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
meta.update(date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            nproc=os.cpu_count(), cpu=model, memory_gib=round(mem / 1024 / 1024, 1), kernel=platform.release())
json.dump(meta, open(sys.argv[1], "w"), indent=1)
PY

# Everything this run creates has a name of its own (other runs and other users share /tmp, /dev/shm and
# /var/tmp): configs, keys and scripts in the results directory, the data in mktemp directories.
work=$results/work
mkdir -p "$work"
declare -A base
pids=()
fx_pid=
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for dir in "${base[@]}"; do rm -rf "$dir"; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The floor of the large scenario (bench/floor/floor.c). A missing compiler or OpenSSL header is installed
# when the harness runs as root; when it still cannot be built, its rows are skipped with a note.
floor=
if want large; then
  if ! command -v cc >/dev/null 2>&1 || [ ! -e /usr/include/openssl/evp.h ]; then
    if [ "$(id -u)" = 0 ]; then
      log "installing gcc libssl-dev (for the floor)"
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev libssl-dev; } \
        >/dev/null 2>&1 || log "installing gcc libssl-dev failed"
    fi
  fi
  if cc -O2 -o "$work/floor" bench/floor/floor.c -lcrypto -lpthread 2> "$results/floor-build.log"; then
    floor=$work/floor
    rm -f "$results/floor-build.log"
  else
    log "the floor (bench/floor/floor.c) cannot be built: its rows are skipped (see $results/floor-build.log)"
    echo "The floor rows are skipped: bench/floor/floor.c could not be built (cc and OpenSSL's libssl-dev are needed; see floor-build.log)." >> "$results/notes.txt"
  fi
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() { # port: until something accepts on 127.0.0.1:port (5 s)
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  die "nothing listens on 127.0.0.1:$1"
}

# A fresh filexfer-server per scenario, so its peak memory (VmHWM) is that scenario's own.
start_fx() { # root, name of the log
  # The background child opens its own redirections, maybe after the loop below has first looked: the file
  # must exist before it starts.
  : > "$work/$2.out"
  "$fxd" --root "$1" --listen 127.0.0.1:0 >> "$work/$2.out" 2> "$results/server-$2.log" &
  fx_pid=$!
  pids+=("$fx_pid")
  for _ in $(seq 200); do
    fx_addr=$(sed -n 's/^listening on //p' "$work/$2.out")
    [ -n "$fx_addr" ] && return 0
    kill -0 "$fx_pid" 2>/dev/null || break
    sleep 0.05
  done
  die "filexfer-server did not start (see $results/server-$2.log)"
}
stop_fx() { # name: records the server's peak memory in KiB, then stops it
  awk '/^VmHWM:/ { print $2 }' "/proc/$fx_pid/status" > "$results/server-peak-$1.kib"
  kill "$fx_pid"
  wait "$fx_pid" 2>/dev/null || true
  local kept=() pid
  for pid in "${pids[@]}"; do [ "$pid" = "$fx_pid" ] || kept+=("$pid"); done
  pids=("${kept[@]}")
}

measure() { # name, prepare, command
  local name=$1 prepare=$2 command=$3
  log "$name"
  hyperfine -N --style none --runs "$runs" --warmup 1 --prepare "$prepare" --export-json "$results/$name.json" "$command" >/dev/null ||
    failed "$name: a run exited non-zero (hyperfine stops at the first); no figure"
}

# Interleaved measurements (small and large): rows are collected into a spec with `row`, then `interleave`
# runs them all in rounds (bench/interleave.py) and passes its failures on to `failed`.
spec=$work/spec.tsv
: > "$spec"
row() { # group, name, prepare, command, [check], [cleanup]: one row of the next interleaved block
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "${5:-}" "${6:-}" >> "$spec"
}
interleave() { # label: runs the rows collected since the last block, then starts a new spec
  log "$1: $(cut -f 2 "$spec" | paste -sd ' ' -), interleaved, $runs rounds after a warm-up"
  : > "$work/interleave.failed"
  local code=0
  python3 "$repo/bench/interleave.py" --runs "$runs" --warmup 1 --out "$results" --failures "$work/interleave.failed" "$spec" || code=$?
  local line
  while IFS= read -r line; do failed "$line"; done < "$work/interleave.failed"
  [ $code = 0 ] || failed "$1: bench/interleave.py exited $code; rows without a figure have none"
  : > "$spec"
}

declare -A rsync_port nginx_port
storage_dir() { case $1 in tmpfs) mktemp -d /dev/shm/fxbench.XXXXXX ;; disk) mktemp -d /var/tmp/fxbench.XXXXXX ;; esac; }
peer_storages=$storages
{ want memory || want trees; } && [[ ,$peer_storages, != *,disk,* ]] && peer_storages+=,disk
user=$(id -un)

# Per storage: a root for each tool, an rsync daemon and an nginx with WebDAV PUT.
for storage in ${peer_storages//,/ }; do
  dir=$(storage_dir "$storage")
  base[$storage]=$dir
  mkdir -p "$dir"/{src,fx-root,rsync-root,scp-root,nginx-root,nginx-tmp,floor-root,got,raw}
  chmod go-w "$dir/fx-root"   # the server refuses a root that other users can write (umask 002)

  port=$(free_port)
  cat > "$work/rsyncd-$storage.conf" <<CONF
pid file = $work/rsyncd-$storage.pid
use chroot = no
log file = $results/rsyncd-$storage.log
[bench]
path = $dir/rsync-root
read only = no
uid = $(id -u)
gid = $(id -g)
CONF
  rsync --daemon --no-detach --config="$work/rsyncd-$storage.conf" --port="$port" --address=127.0.0.1 &
  pids+=($!)
  rsync_port[$storage]=$port

  # nginx's WebDAV PUT writes the body to a temp file (client_body_temp_path, on the same storage) and
  # renames it into place: the same shape as FileXfer's upload, without the fsync and the hash.
  port=$(free_port)
  mkdir -p "$work/nginx-$storage"
  cat > "$work/nginx-$storage/nginx.conf" <<CONF
$([ "$(id -u)" = 0 ] && echo "user root;")
daemon off;
worker_processes auto;
pid $work/nginx-$storage/nginx.pid;
error_log $results/nginx-$storage-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  client_max_body_size 0;
  client_body_temp_path $dir/nginx-tmp;
  proxy_temp_path $work/nginx-$storage/proxy;
  fastcgi_temp_path $work/nginx-$storage/fastcgi;
  uwsgi_temp_path $work/nginx-$storage/uwsgi;
  scgi_temp_path $work/nginx-$storage/scgi;
  server {
    listen 127.0.0.1:$port;
    root $dir/nginx-root;
    location / {
      dav_methods PUT DELETE;
      create_full_put_path on;
      dav_access user:rw;
    }
  }
}
CONF
  /usr/sbin/nginx -p "$work/nginx-$storage" -c "$work/nginx-$storage/nginx.conf" -e "$results/nginx-$storage-error.log" &
  pids+=($!)
  nginx_port[$storage]=$port
done

# A private sshd for scp: its own host key, config and client key, not a daemon, on a free loopback port.
ssh-keygen -q -t ed25519 -N '' -f "$work/ssh_host_ed25519_key"
ssh-keygen -q -t ed25519 -N '' -f "$work/client_key"
cp "$work/client_key.pub" "$work/authorized_keys"
ssh_port=$(free_port)
cat > "$work/sshd_config" <<CONF
Port $ssh_port
ListenAddress 127.0.0.1
HostKey $work/ssh_host_ed25519_key
PidFile $work/sshd.pid
AuthorizedKeysFile $work/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin prohibit-password
StrictModes no
AllowUsers $user
Subsystem sftp internal-sftp
CONF
[ "$(id -u)" != 0 ] || mkdir -p /run/sshd   # privilege separation directory, required when root
/usr/sbin/sshd -D -e -f "$work/sshd_config" 2> "$results/sshd.log" &
pids+=($!)
ssh_opts="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes -i $work/client_key"
scp_cmd="scp -q $ssh_opts -P $ssh_port"
scp_to="$user@127.0.0.1"

for storage in ${peer_storages//,/ }; do wait_port "${rsync_port[$storage]}"; wait_port "${nginx_port[$storage]}"; done
wait_port "$ssh_port"
# shellcheck disable=SC2086
ssh $ssh_opts -p "$ssh_port" "$scp_to" true || die "cannot log in to the private sshd as $user (see $results/sshd.log)"

# N transfers at once: every {i} in the command becomes 1..N; the number of non-zero exits is appended to
# the failures file (the script itself exits 0 so that hyperfine keeps timing).
cat > "$work/concurrent.sh" <<'SH'
#!/usr/bin/env bash
failures=$1 n=$2; shift 2
pids=()
for i in $(seq 1 "$n"); do
  "${@//\{i\}/$i}" > /dev/null 2>> "$failures.stderr" &
  pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
echo "$failed" >> "$failures"
SH
chmod +x "$work/concurrent.sh"

make_small() { # FILES files of 4 KiB in 50 folders
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
check_conc() { # folder, tool: the copies of the last run (a failed transfer is counted, not fatal)
  local bad=0 i
  for i in $(seq 1 "$clients"); do cmp -s "$dir/src/conc/c$i.bin" "$1/c$i.bin" || bad=$((bad + 1)); done
  [ $bad = 0 ] || failed "concurrent, $2: $bad of $clients copies of the last run are missing or differ"
}
same() { cmp -s "$1" "$2" || failed "$3: the received copy is missing or differs from the source"; }

for storage in ${storages//,/ }; do
  dir=${base[$storage]}
  rsyncd="rsync://127.0.0.1:${rsync_port[$storage]}/bench"
  http="http://127.0.0.1:${nginx_port[$storage]}"

  if want small; then
    # Interleaved: each round puts and gets the tree with each tool (its copies deleted once checked).
    rm -rf "$dir/src/small"; make_small "$dir/src/small"
    start_fx "$dir/fx-root" "small-$storage"
    row filexfer "small-put-filexfer-$storage" "rm -rf $dir/fx-root/small" "$fx -q -s $fx_addr put -r $dir/src/small small"
    row filexfer "small-get-filexfer-$storage" "rm -rf $dir/got/small" "$fx -q -s $fx_addr get -r small $dir/got/small" \
      "diff -r -q $dir/src/small $dir/got/small" "rm -rf $dir/got/small $dir/fx-root/small"
    row rsync "small-put-rsync-$storage" "rm -rf $dir/rsync-root/small" "rsync -a $dir/src/small/ $rsyncd/small/"
    row rsync "small-get-rsync-$storage" "rm -rf $dir/got/small" "rsync -a $rsyncd/small/ $dir/got/small/" \
      "diff -r -q $dir/src/small $dir/got/small" "rm -rf $dir/got/small $dir/rsync-root/small"
    interleave "small, $storage"
    stop_fx "small-$storage"
    rm -rf "$dir/src/small" "$dir/fx-root/small" "$dir/rsync-root/small" "$dir/got/small"
  fi

  if want large; then
    # Interleaved: each round runs every tool once, put then get, and deletes the tool's stored and received
    # copies once the received one has been checked: at most three copies of the file exist at once (the
    # source, the stored one, the received one). Every server is up during the whole block.
    src=$dir/src/large.bin
    got=$dir/got/large.bin
    head -c "$((size_mib * 1024 * 1024))" /dev/urandom > "$src"
    start_fx "$dir/fx-root" "large-$storage"
    row filexfer "large-put-filexfer-$storage" "rm -f $dir/fx-root/large.bin" "$fx -q -s $fx_addr put $src large.bin"
    row filexfer "large-get-filexfer-$storage" "rm -f $got" "$fx -q -s $fx_addr get large.bin $got" \
      "cmp -s $src $got" "rm -f $dir/fx-root/large.bin $got"
    for algorithm in ${algorithms//,/ }; do
      row "filexfer_$algorithm" "large-put-filexfer_$algorithm-$storage" "rm -f $dir/fx-root/large.bin" \
        "$fx -q -s $fx_addr put --algorithm $algorithm $src large.bin"
      row "filexfer_$algorithm" "large-get-filexfer_$algorithm-$storage" "rm -f $got" \
        "$fx -q -s $fx_addr get --algorithm $algorithm large.bin $got" "cmp -s $src $got" "rm -f $dir/fx-root/large.bin $got"
    done
    row rsync "large-put-rsync-$storage" "rm -f $dir/rsync-root/large.bin" "rsync -a --whole-file $src $rsyncd/large.bin"
    row rsync "large-get-rsync-$storage" "rm -f $got" "rsync -a --whole-file $rsyncd/large.bin $got" \
      "cmp -s $src $got" "rm -f $dir/rsync-root/large.bin $got"
    row scp "large-put-scp-$storage" "rm -f $dir/scp-root/large.bin" "$scp_cmd $src $scp_to:$dir/scp-root/large.bin"
    row scp "large-get-scp-$storage" "rm -f $got" "$scp_cmd $scp_to:$dir/scp-root/large.bin $got" \
      "cmp -s $src $got" "rm -f $dir/scp-root/large.bin $got"
    row nginx "large-put-nginx-$storage" "rm -f $dir/nginx-root/large.bin" "curl -sS -f -T $src $http/large.bin"
    row nginx "large-get-nginx-$storage" "rm -f $got" "curl -sS -f -o $got $http/large.bin" \
      "cmp -s $src $got" "rm -f $dir/nginx-root/large.bin $got"
    raw_port=$(free_port)
    row socat "large-put-socat-$storage" "rm -f $dir/raw/large.bin" \
      "bash -c 'socat -u TCP-LISTEN:$raw_port,bind=127.0.0.1,reuseaddr CREATE:$dir/raw/large.bin & socat -u OPEN:$src TCP:127.0.0.1:$raw_port,retry=1000,interval=0.002; wait'" \
      "cmp -s $src $dir/raw/large.bin" "rm -f $dir/raw/large.bin"
    if [ -n "$floor" ]; then
      # The receiver prints "ready" once it listens; the sender starts on that line. pipefail: either's
      # failure fails the row.
      floor_port=$(free_port)
      row floor "large-put-floor-$storage" "rm -f $dir/floor-root/large.bin" \
        "bash -c 'set -o pipefail; $floor recv $floor_port $dir/floor-root/large.bin | { read -r ready && $floor send $floor_port $src; }'"
      row floor "large-get-floor-$storage" "rm -f $got" \
        "bash -c 'set -o pipefail; $floor recv $floor_port $got | { read -r ready && $floor send $floor_port $dir/floor-root/large.bin --sendfile; }'" \
        "cmp -s $src $got" "rm -f $dir/floor-root/large.bin $got"
    fi
    interleave "large, $storage"
    stop_fx "large-$storage"
    rm -f "$src" "$got" "$dir"/{fx,rsync,scp,nginx,floor}-root/large.bin "$dir/raw/large.bin"
  fi

  if want concurrent; then
    mkdir -p "$dir/src/conc"
    for i in $(seq 1 "$clients"); do head -c "$((client_mib * 1024 * 1024))" /dev/urandom > "$dir/src/conc/c$i.bin"; done
    start_fx "$dir/fx-root" "concurrent-$storage"
    fails=$results/concurrent-filexfer-$storage.failures
    measure "concurrent-put-filexfer-$storage" "rm -rf $dir/fx-root/conc" \
      "$work/concurrent.sh $fails $clients $fx -q -s $fx_addr put $dir/src/conc/c{i}.bin conc/c{i}.bin"
    stop_fx "concurrent-$storage"
    check_conc "$dir/fx-root/conc" filexfer
    fails=$results/concurrent-rsync-$storage.failures
    rm -rf "$dir/fx-root/conc"
    measure "concurrent-put-rsync-$storage" "bash -c 'rm -rf $dir/rsync-root/conc && mkdir $dir/rsync-root/conc'" \
      "$work/concurrent.sh $fails $clients rsync -a --whole-file $dir/src/conc/c{i}.bin $rsyncd/conc/c{i}.bin"
    check_conc "$dir/rsync-root/conc" rsync
    rm -rf "$dir/rsync-root/conc"
    fails=$results/concurrent-nginx-$storage.failures
    measure "concurrent-put-nginx-$storage" "rm -rf $dir/nginx-root/conc" \
      "$work/concurrent.sh $fails $clients curl -sS -f -T $dir/src/conc/c{i}.bin $http/conc/c{i}.bin"
    check_conc "$dir/nginx-root/conc" nginx
    rm -rf "$dir/src/conc" "$dir/nginx-root/conc"
  fi

  if want startup; then
    src=$dir/src/startup.bin
    head -c 4096 /dev/urandom > "$src"
    start_fx "$dir/fx-root" "startup-$storage"
    startup() { # name, prepare, command
      log "$1"
      hyperfine -N --style none --runs "$startup_runs" --warmup 3 --prepare "$2" --export-json "$results/$1.json" "$3" >/dev/null ||
        failed "$1: a run exited non-zero (hyperfine stops at the first); no figure"
    }
    startup "startup-put-filexfer-$storage" "rm -f $dir/fx-root/startup.bin" "$fx -q -s $fx_addr put $src startup.bin"
    startup "startup-put-filexfer_jit-$storage" "rm -f $dir/fx-root/startup.bin" "$fx_jit -q -s $fx_addr put $src startup.bin"
    startup "startup-put-nginx-$storage" "rm -f $dir/nginx-root/startup.bin" "curl -sS -f -T $src $http/startup.bin"
    startup "startup-put-rsync-$storage" "rm -f $dir/rsync-root/startup.bin" "rsync -a $src $rsyncd/startup.bin"
    startup "startup-put-scp-$storage" "rm -f $dir/scp-root/startup.bin" "$scp_cmd $src $scp_to:$dir/scp-root/startup.bin"
    stop_fx "startup-$storage"
    same "$src" "$dir/fx-root/startup.bin" "startup put"
    rm -f "$src" "$dir"/{fx,nginx,rsync,scp}-root/startup.bin
  fi
done

if want memory; then
  dir=${base[disk]}
  table=$results/memory.tsv
  printf 'size_mib\top\tseconds\tclient_kib\tserver_kib\texit\tnote\n' > "$table"
  for mib in ${memory_mib//,/ }; do
    avail=$(df -P -m "$dir" | awk 'NR == 2 { print $4 }')
    need_mib=$((2 * mib + 5 * 1024))
    if [ "$avail" -lt "$need_mib" ]; then
      log "memory $mib MiB: skipped, $avail MiB free on $dir and it needs $need_mib"
      printf '%s\t-\t-\t-\t-\t-\tskipped: %s MiB free on the disk, needs %s\n' "$mib" "$avail" "$need_mib" >> "$table"
      continue
    fi
    src=$dir/src/memory.bin
    got=$dir/got/memory.bin
    log "memory $mib MiB: writing the source from /dev/urandom"
    head -c "$((mib * 1024 * 1024))" /dev/urandom > "$src"
    for op in put get; do
      log "memory $mib MiB: $op"
      start_fx "$dir/fx-root" "memory-$op-$mib"
      if [ $op = put ]; then args=(put "$src" memory.bin); else args=(get memory.bin "$got"); fi
      start=$(date +%s.%N)
      code=0
      /usr/bin/time -f %M -o "$work/time.out" "$fx" -q -s "$fx_addr" "${args[@]}" || code=$?
      seconds=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$start" "$(date +%s.%N)")
      stop_fx "memory-$op-$mib"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t\n' "$mib" "$op" "$seconds" "$(tail -n 1 "$work/time.out")" \
        "$(cat "$results/server-peak-memory-$op-$mib.kib")" "$code" >> "$table"
      # The source goes as soon as the server holds the copy (FileXfer verified it by hash end to end):
      # at most two copies are on the disk at once.
      rm -f "$src"
    done
    rm -f "$got" "$dir/fx-root/memory.bin"
  done
fi

if want trees; then
  # bench/trees.py: generates (or reuses) the trees in /var/tmp/fxbench-trees, starts a fresh filexfer-server per
  # FileXfer command and an rsync daemon with this run's disk config per rsync connection, writes trees.tsv,
  # trees.json and trees-*.json into the results; its failures are listed like the others'.
  dir=${base[disk]}
  : > "$work/trees.failed"
  code=0
  python3 "$repo/bench/trees.py" --client "$fx" --server "$fxd" --rsync-config "$work/rsyncd-disk.conf" \
    --rsync-root "$dir/rsync-root" --fx-root "$dir/fx-root" --work "$dir" --cache /var/tmp/fxbench-trees \
    --tree-files "$tree_files" --flat-files "$flat_files" --runs "$runs" --big-tree-runs "$big_tree_runs" \
    --out "$results" --failures "$work/trees.failed" || code=$?
  while IFS= read -r line; do failed "$line"; done < "$work/trees.failed"
  [ $code = 0 ] || failed "trees: bench/trees.py exited $code"
fi

find "$results" -name '*.stderr' -empty -delete
python3 "$repo/bench/report.py" "$results" > "$results/report.md"
cat "$results/report.md"
log "results in $results"
if [ -s "$results/failed.txt" ]; then
  log "some measurements failed; they are listed at the top of the report"
  exit 1
fi
