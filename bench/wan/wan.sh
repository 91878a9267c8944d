#!/usr/bin/env bash
# FileXfer and its peers over an emulated long, lossy link (issue 17): servers in the network namespace fxwan-a,
# clients in fxwan-b, the link between them bench/wan/link.c (see bench/wan/testbed.sh for the layout). For each
# round trip the link is checked (ping, iperf3), then one file and a tree of small files are put by each tool
# (filexfer+streamsN: FileXfer's put --streams N of the file, an extra column; --files 0: no tree),
# interleaved round by round (bench/interleave.py), and a Markdown report is written (bench/wan/report.py).
#
#   bench/wan/wan.sh [--rtts 0,20,80] [--loss-pct 0.5] [--rate-mbit 200] [--runs 3] [--size-mib 200]
#                    [--files 1000] [--streams 4] [--tools filexfer,filexfer+streams4,rsync,scp,rclone,floor] [--jitter-ms 0]
#                    [--reorder-pct 0] [--queue-bytes B] [--slow-runs 1] [--slow-files 200] [--no-build]
#                    [--compressible] [--client-env 'VAR=VALUE ...']
#
# A round trip of 0 is the plain veth pair (no link program, no shaping: the CPU decides); any other goes
# through the link with that round trip, --loss-pct loss each way and a --rate-mbit bottleneck whose queue
# holds the bandwidth-delay product (--queue-bytes to change it). Peers: an rsync daemon (rsync -a, --whole-file
# for the file), scp (SFTP) to a private sshd on port 2222, rclone copy (--transfers and --multi-thread-streams
# set to --streams) to `rclone serve sftp`. FileXfer: the server (ReadyToRun) with a token, the client (Native
# AOT) with its defaults. All on tmpfs (/dev/shm); every copy compared with its source after each round.
# scp's and rclone's trees cost round trips per file (6.5 and 3 minutes for 1,000 files at 80 ms): on a shaped
# link they run in a block of their own after the others, --slow-runs rounds (default 1), on the first
# --slow-files files of the tree (default 200; the report scales their times to the whole tree and says so),
# so that a whole run stays near 12 minutes. --slow-files 1000 --slow-runs 1: about 25 minutes.
# --compressible: also a SQL dump-like text file of --size-mib MiB (bench/wan/dumpgen.py; zstd -1 makes it about
# 3.3x smaller), put by FileXfer without and with --compress (rows filexfer-dump, filexfer-z-dump) and, when rsync
# is in --tools, by rsync -z --whole-file (rsync-z-dump). --client-env 'VAR=VALUE ...': also the big file put by a
# FileXfer client run with that environment (row filexfer-env-big), e.g. FILEXFER_TCP_NOTSENT_LOWAT=131072
# (src/Protocol/Net/TcpTuning.cs), so that a TCP setting is compared with the defaults in the same run.
# --base-client FILE: also the big file put by another build of the client (row filexfer-base-big, against this build's
# server), e.g. main's published with bench/publish.sh into another directory, so that a change is compared in one run.
# --tools ...,floor: also the C floor of a verified transfer (bench/floor/floor.c: SHA-256 on both ends, fsync,
# rename) for the file, its receiver in fxwan-a, its sender in fxwan-b (needs libssl-dev, installed if missing).
# CPU per transfer: the client's from its resource usage; each server's (the sshd and the rsync daemon with the
# children they reaped) from its /proc/PID/stat in the untimed steps before and after each put
# (bench/wan/server-cpu.sh); the floor's command holds both of its ends.
# Needs root (namespaces, TUN) and installs what it lacks from Debian (iperf3, rsync, openssh, rclone, gcc, ping).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
command_line="bench/wan/wan.sh${*:+ $*}"

rtts=0,20,80 loss=0.5 rate=200 runs=3 size_mib=200 files=1000 streams=4 tools=filexfer,rsync,scp,rclone
jitter=0 reorder=0 queue_bytes='' slow_runs=1 slow_files=200 build=1 compressible=0 client_env='' base_client=''
while [[ $# -gt 0 ]]; do
  case $1 in
    --rtts) rtts=$2; shift 2 ;;
    --loss-pct) loss=$2; shift 2 ;;
    --rate-mbit) rate=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --size-mib) size_mib=$2; shift 2 ;;
    --files) files=$2; shift 2 ;;
    --streams) streams=$2; shift 2 ;;
    --tools) tools=$2; shift 2 ;;
    --jitter-ms) jitter=$2; shift 2 ;;
    --reorder-pct) reorder=$2; shift 2 ;;
    --queue-bytes) queue_bytes=$2; shift 2 ;;
    --slow-runs) slow_runs=$2; shift 2 ;;
    --slow-files) slow_files=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --compressible) compressible=1; shift ;;
    --client-env) client_env=$2; shift 2 ;;
    --base-client) base_client=$(realpath "$2"); shift 2 ;;
    -h|--help) sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "wan: unknown option $1 (see bench/wan/wan.sh --help)" >&2; exit 2 ;;
  esac
done
for t in ${tools//,/ }; do
  case $t in filexfer|filexfer+streams[1-9]|filexfer+streams1[0-6]|rsync|scp|rclone|floor) ;; *) echo "wan: unknown tool $t" >&2; exit 2 ;; esac
done
[[ $(id -u) == 0 ]] || { echo "wan: run as root (network namespaces, TUN devices)" >&2; exit 2; }
# FileXfer is wanted for any of its columns: filexfer (its defaults) and filexfer+streamsN (put --streams N).
want() { if [[ $1 == filexfer ]]; then [[ ,$tools, == *,filexfer* ]]; else [[ ,$tools, == *,$1,* ]]; fi; }

# shellcheck source=bench/wan/testbed.sh
source "$repo/bench/wan/testbed.sh"
die() { wan_log "$*"; exit 1; }

# ---- tools, from Debian when missing (no service may start during the install) ----
declare -A package_of=([iperf3]=iperf3 [rsync]=rsync [ssh]=openssh-client [scp]=openssh-client
  [ssh-keygen]=openssh-client [/usr/sbin/sshd]=openssh-server [rclone]=rclone [gcc]=gcc [ping]=iputils-ping
  [nsenter]=util-linux [ip]=iproute2 [python3]=python3 [getconf]=libc-bin)
[[ ,$tools, != *,floor,* || -e /usr/include/openssl/evp.h ]] || package_of[/usr/include/openssl/evp.h]=libssl-dev
need=()
for tool in "${!package_of[@]}"; do command -v "$tool" > /dev/null 2>&1 || [[ -e $tool ]] || need+=("${package_of[$tool]}"); done
if [[ ${#need[@]} -gt 0 ]]; then
  mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
  wan_log "installing ${need[*]}"
  made_policy=0
  [[ -e /usr/sbin/policy-rc.d ]] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; made_policy=1; }
  apt-get update -qq > /dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" > /dev/null
  [[ $made_policy == 0 ]] || rm -f /usr/sbin/policy-rc.d
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
results=$repo/bench/results/wan-$stamp
work=$results/work
data=$(mktemp -d /dev/shm/fxwan.XXXXXX)
mkdir -p "$work"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
  wan_down
  rm -rf "$data" "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- builds: the link program; FileXfer as bench/run.sh publishes it ----
WAN_LINK=$work/link
WAN_LINK_LOG=$results/link.log
gcc -O2 -Wall -o "$WAN_LINK" bench/wan/link.c
floor=$work/floor
if want floor; then gcc -O2 -o "$floor" bench/floor/floor.c -lcrypto -lpthread; fi
out=$repo/bench/out
if [[ $build == 1 ]] && want filexfer; then
  wan_log "building FileXfer (server ReadyToRun, client Native AOT, else ReadyToRun)"
  bench/publish.sh . "$out"
fi
fx=$out/client/filexfer
fxd=$out/server/filexfer-server
if want filexfer; then for f in "$fx" "$fxd"; do [[ -x $f ]] || die "$f is missing (run without --no-build)"; done; fi

# ---- the test bed ----
wan_log "namespaces $WAN_NS_A (servers) and $WAN_NS_B (clients)"
wan_up
tcp_settings=$(wan_tcp_settings)

python3 - "$results/meta.json" "$command_line" "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo ' (src modified)')" \
  "$rtts" "$loss" "$rate" "$runs" "$size_mib" "$files" "$streams" "$jitter" "$reorder" "$tcp_settings" "$slow_runs" "$slow_files" \
  "$(cat "$out/client/.build-kind" 2> /dev/null || echo -)" "$client_env" "$base_client" <<'PY'
import datetime, json, os, platform, sys
keys = ["command", "commit", "rtts", "loss_pct", "rate_mbit", "runs", "size_mib", "files", "streams", "jitter_ms",
        "reorder_pct", "tcp", "slow_runs", "slow_files", "client_build", "client_env", "base_client"]
meta = dict(zip(keys, sys.argv[2:]))
model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
meta.update(date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), nproc=os.cpu_count(),
            cpu=model, kernel=platform.release(), load=open("/proc/loadavg").read().split()[0])
json.dump(meta, open(sys.argv[1], "w"), indent=1)
PY

# ---- data: one file from /dev/urandom, a tree of small files in folders of 100 ----
mkdir -p "$data"/{src,filexfer-root,rsync-root,scp-root,rclone-root,floor-root}
chmod 755 "$data/filexfer-root" # the server refuses a root that others can write
head -c "$((size_mib * 1024 * 1024))" /dev/urandom > "$data/src/big.bin"
[[ $compressible == 0 ]] || python3 bench/wan/dumpgen.py "$data/src/dump.sql" "$size_mib"
# tree-slow: the first --slow-files of them (hard links), for scp's and rclone's trees on a shaped link.
python3 - "$data/src" "$files" "$slow_files" <<'PY'
import os, sys
src, count, slow = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(count):
    name = os.path.join(f"d{i // 100:03d}", f"f{i:05d}.bin")
    os.makedirs(os.path.dirname(os.path.join(src, "tree", name)), exist_ok=True)
    with open(os.path.join(src, "tree", name), "wb") as f:
        f.write(os.urandom(4096))
    if i < slow:
        os.makedirs(os.path.dirname(os.path.join(src, "tree-slow", name)), exist_ok=True)
        os.link(os.path.join(src, "tree", name), os.path.join(src, "tree-slow", name))
PY

# ---- the servers, in fxwan-a, on every address of that namespace (fixed ports: the namespace is ours) ----
declare -A server_pid=() # the long-running servers whose CPU per transfer is counted (bench/wan/server-cpu.sh)
process_of() { # the process a `serve` started: below the background shell and nsenter, its first descendant with no child
  local pid=$1 child
  while child=$(pgrep -P "$pid" | head -n 1) && [[ -n $child ]]; do pid=$child; done
  echo "$pid"
}
serve() { # log name, command...
  local name=$1; shift
  wan_in "$WAN_NS_A" "$@" > "$results/$name.out" 2> "$results/$name.log" &
  pids+=($!)
}
wait_port() { # port
  for _ in $(seq 200); do
    wan_in "$WAN_NS_B" bash -c "exec 3<>/dev/tcp/$WAN_VETH_A/$1" 2> /dev/null && return 0
    sleep 0.05
  done
  die "nothing listens on $WAN_VETH_A:$1 in $WAN_NS_A (see the logs in $results)"
}
if want filexfer; then
  "$fxd" token new wan-bench --access rw > "$work/token.txt"
  grep -A1 "server's tokens file" "$work/token.txt" | tail -n 1 > "$work/tokens"
  grep -A1 "for the client" "$work/token.txt" | tail -n 1 > "$work/client-token"
  chmod 600 "$work/tokens" "$work/client-token"
  serve filexfer-server "$fxd" --root "$data/filexfer-root" --listen 0.0.0.0:7070 --tokens "$work/tokens"
  wait_port 7070
  server_pid[filexfer]=$(process_of "${pids[-1]}")
fi
if want rsync; then
  cat > "$work/rsyncd.conf" << CONF
pid file = $work/rsyncd.pid
use chroot = no
[bench]
path = $data/rsync-root
read only = no
uid = 0
gid = 0
CONF
  serve rsyncd rsync --daemon --no-detach --config="$work/rsyncd.conf" --port=873 --log-file="$results/rsyncd.log"
  wait_port 873
  server_pid[rsync]=$(process_of "${pids[-1]}")
fi
if want scp || want rclone; then
  ssh-keygen -q -t ed25519 -N '' -f "$work/host_key"
  ssh-keygen -q -t ed25519 -N '' -f "$work/client_key"
fi
ssh_opts="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes -i $work/client_key"
if want scp; then
  cp "$work/client_key.pub" "$work/authorized_keys"
  cat > "$work/sshd_config" << CONF
Port 2222
ListenAddress 0.0.0.0
HostKey $work/host_key
PidFile $work/sshd.pid
AuthorizedKeysFile $work/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin prohibit-password
StrictModes no
Subsystem sftp internal-sftp
CONF
  mkdir -p /run/sshd # privilege separation directory, required when root
  serve sshd /usr/sbin/sshd -D -e -f "$work/sshd_config"
  wait_port 2222
  server_pid[scp]=$(process_of "${pids[-1]}")
fi
: > "$work/rclone.conf"
rclone_pass=wan-bench rclone_obscured=""
if want rclone; then
  serve rclone-serve rclone serve sftp "$data/rclone-root" --addr :2022 --user fx --pass "$rclone_pass" \
    --key "$work/host_key" --config "$work/rclone.conf" --dir-cache-time 0s # else it would not see the deletes between rounds
  wait_port 2022
  server_pid[rclone]=$(process_of "${pids[-1]}")
  rclone_obscured=$(rclone obscure "$rclone_pass")
fi

# ---- one block per round trip: check the link, then every tool, interleaved ----
b="nsenter --net=/run/netns/$WAN_NS_B"
src=$data/src
checks=$results/checks.tsv
: > "$checks"
first=1
for rtt in ${rtts//,/ }; do
  if [[ $rtt == 0 ]]; then
    wan_link_stop
    host=$WAN_VETH_A
    label="0 ms (veth, no shaping)"
    wan_check "$label" "$host" 0 0 - "$checks"
  else
    extra=(--jitter-ms "$jitter" --reorder-pct "$reorder")
    [[ -z $queue_bytes ]] || extra+=(--queue-bytes "$queue_bytes")
    echo "link for $rtt ms:" >> "$WAN_LINK_LOG"
    wan_link_start "$rtt" "$loss" "$rate" "${extra[@]}" || die "the link did not start"
    host=$WAN_TUN_A
    label="$rtt ms"
    wan_check "$label" "$host" "$rtt" "$loss" "$rate" "$checks"
  fi

  spec=$work/spec-$rtt.tsv slow_spec=$work/spec-$rtt-slow.tsv
  : > "$spec"
  : > "$slow_spec"
  row() { # group, name, prepare, command, check, cleanup
    local to=$spec
    [[ $rtt != 0 && ( $1 == scp-tree || $1 == rclone-tree ) ]] && to=$slow_spec
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$to"
  }
  rclone_remote=":sftp,host=$host,port=2022,user=fx,pass=$rclone_obscured:"
  rclone_cmd="$b rclone copy --config $work/rclone.conf -q --transfers $streams --multi-thread-streams $streams"
  scp_cmd="$b scp -q $ssh_opts -P 2222"
  kinds=big
  ((files == 0)) || kinds='big tree' # --files 0: the file alone
  for kind in $kinds; do
    for tool in ${tools//,/ }; do
      root=$data/${tool%%+*}-root
      # --streams is for one file; a tree of --files 0 is not measured.
      [[ $kind == tree && ( $tool == filexfer+streams* || $tool == floor || $files == 0 ) ]] && continue
      if [[ $kind == big ]]; then
        prepare="rm -f $root/big.bin" check="cmp -s $src/big.bin $root/big.bin" clean="rm -f $root/big.bin"
        case $tool in
          filexfer) command="$b $fx -q -s $host:7070 --token-file $work/client-token put $src/big.bin big.bin" ;;
          filexfer+streams*) command="$b $fx -q -s $host:7070 --token-file $work/client-token put --streams ${tool#filexfer+streams} $src/big.bin big.bin" ;;
          rsync) command="$b rsync -a --whole-file $src/big.bin rsync://$host/bench/big.bin" ;;
          scp) command="$scp_cmd $src/big.bin root@$host:$root/big.bin" ;;
          rclone) command="$rclone_cmd $src/big.bin $rclone_remote" ;;
          floor) command="bash -c 'set -o pipefail; nsenter --net=/run/netns/$WAN_NS_A $floor recv 0.0.0.0:7171 $root/big.bin | { read -r ready && $b $floor send $host:7171 $src/big.bin; }'" ;;
        esac
        # The server's CPU for this transfer, beside the client's (the command's own resource usage; the floor's
        # command holds both of its ends).
        server=${tool%%+*}
        if [[ -n ${server_pid[$server]:-} ]]; then
          cpu_state=$work/$tool.server-cpu-state
          # (bench/interleave.py runs each step without a shell: the two commands of a step go through bash -c.)
          prepare="bash -c '$prepare && bench/wan/server-cpu.sh start ${server_pid[$server]} $cpu_state'"
          check="bash -c 'bench/wan/server-cpu.sh stop ${server_pid[$server]} $cpu_state $results/wan-$rtt-$tool-big.server-cpu && $check'"
        fi
      else
        tree=tree
        if [[ $rtt != 0 && ( $tool == scp || $tool == rclone ) ]] && ((slow_files < files)); then tree='tree-slow'; fi
        prepare="rm -rf $root/$tree" check="diff -r -q $src/$tree $root/$tree" clean="rm -rf $root/$tree"
        case $tool in
          filexfer) command="$b $fx -q -s $host:7070 --token-file $work/client-token put -r $src/$tree $tree" ;;
          rsync) command="$b rsync -a $src/$tree/ rsync://$host/bench/$tree/" ;;
          scp) command="$scp_cmd -r $src/$tree root@$host:$root/" ;;
          rclone) command="$rclone_cmd $src/$tree ${rclone_remote}$tree" ;;
        esac
      fi
      row "$tool-$kind" "wan-$rtt-$tool-$kind" "$prepare" "$command" "$check" "$clean"
    done
  done
  fx_put="$fx -q -s $host:7070 --token-file $work/client-token"
  if [[ -n $client_env ]] && want filexfer; then
    root=$data/filexfer-root
    row filexfer-env-big "wan-$rtt-filexfer-env-big" "rm -f $root/big.bin" "$b env $client_env $fx_put put $src/big.bin big.bin" \
      "cmp -s $src/big.bin $root/big.bin" "rm -f $root/big.bin"
  fi
  if [[ -n $base_client ]] && want filexfer; then
    root=$data/filexfer-root
    row filexfer-base-big "wan-$rtt-filexfer-base-big" "rm -f $root/big.bin" \
      "$b $base_client -q -s $host:7070 --token-file $work/client-token put $src/big.bin big.bin" \
      "cmp -s $src/big.bin $root/big.bin" "rm -f $root/big.bin"
  fi
  if [[ $compressible == 1 ]]; then
    if want filexfer; then
      root=$data/filexfer-root
      for variant in filexfer filexfer-z; do
        flag=''; [[ $variant == filexfer ]] || flag=--compress
        row "$variant-dump" "wan-$rtt-$variant-dump" "rm -f $root/dump.sql" "$b $fx_put $flag put $src/dump.sql dump.sql" \
          "cmp -s $src/dump.sql $root/dump.sql" "rm -f $root/dump.sql"
      done
    fi
    if want rsync; then
      root=$data/rsync-root
      row rsync-z-dump "wan-$rtt-rsync-z-dump" "rm -f $root/dump.sql" "$b rsync -a -z --whole-file $src/dump.sql rsync://$host/bench/dump.sql" \
        "cmp -s $src/dump.sql $root/dump.sql" "rm -f $root/dump.sql"
    fi
  fi
  wan_log "$label: $(cut -f 2 "$spec" | paste -sd ' ' -), interleaved, $runs rounds"
  started=$SECONDS
  python3 bench/interleave.py --runs "$runs" --warmup "$first" --out "$results" --failures "$results/failed.txt" "$spec" ||
    echo "$label: bench/interleave.py failed" >> "$results/failed.txt"
  if [[ -s $slow_spec ]]; then
    wan_log "$label: $(cut -f 2 "$slow_spec" | paste -sd ' ' -), interleaved, $slow_runs rounds"
    python3 bench/interleave.py --runs "$slow_runs" --warmup 0 --out "$results" --failures "$results/failed.txt" "$slow_spec" ||
      echo "$label: bench/interleave.py failed (slow rows)" >> "$results/failed.txt"
  fi
  echo "$rtt $((SECONDS - started))" >> "$results/block-seconds.txt"
  first=0
done
wan_link_stop

find "$results" -name '*.stderr' -empty -delete
python3 bench/wan/report.py "$results" > "$results/report.md"
cat "$results/report.md"
wan_log "results in $results"
[[ ! -s $results/failed.txt ]] || { wan_log "some measurements failed (listed at the top of the report)"; exit 1; }
