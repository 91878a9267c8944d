#!/usr/bin/env bash
# A/B of two commits of FileXfer against each other, in one run: both are published (server ReadyToRun, client
# Native AOT, as bench/run.sh builds them), each gets its own server on its own tmpfs root, and every round runs
# the same transfers with each build (interleaved by bench/interleave.py, the order reversed every other round,
# after a warm-up round), so a burst of load on a shared machine lands on both. Prints the medians and new/old.
# This is how a refactoring shows "no regression beyond the run-to-run noise"; ratios against peers are
# bench/run.sh's job.
#
#   bench/ab.sh OLD_REV NEW_REV [--runs N] [--size-mib N] [--files N]
#
# Transfers (tmpfs, default settings, SHA-256): put and get of one SIZE MiB file (default 1024), put -r and get -r
# of FILES files of 4 KiB in folders of 100 (default 5000), the no-op put -r re-run of them.
set -euo pipefail

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }
[[ $# -ge 2 ]] || { usage >&2; exit 2; }
old_rev=$1
new_rev=$2
shift 2
runs=5
size_mib=1024
files=5000
while [[ $# -gt 0 ]]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --size-mib) size_mib=$2; shift 2 ;;
    --files) files=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "ab: unknown option $1" >&2; exit 2 ;;
  esac
done

repo=$(git rev-parse --show-toplevel)
cd "$repo"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
results=$repo/bench/results/ab-$stamp
work=/dev/shm/fxab-$stamp
mkdir -p "$results" "$work"
cleanup() {
  # The servers were started inside $(serve …), a subshell: their pids are in files, not in a variable here.
  for pidfile in "$work"/pid-*; do [[ -e $pidfile ]] && kill "$(cat "$pidfile")" 2>/dev/null; done
  for side in old new; do git worktree remove --force "$work/src-$side" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

build() { # side rev
  local side=$1 rev=$2
  local tree=$work/src-$side out=$work/$side
  git worktree add --detach "$tree" "$rev" >/dev/null 2>&1
  echo "ab: building $side = $(git -C "$tree" log --oneline -1)"
  "$repo/bench/publish.sh" "$tree" "$out"
  echo "$side: $(git -C "$tree" log --oneline -1)" >> "$results/builds.txt"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

serve() { # side -> prints the port
  local side=$1 port
  port=$(free_port)
  mkdir -p "$work/root-$side" "$work/got-$side"
  chmod 755 "$work/root-$side"
  "$work/$side/server/filexfer-server" --root "$work/root-$side" --listen "127.0.0.1:$port" > "$results/server-$side.log" 2>&1 &
  echo $! > "$work/pid-$side"
  for _ in $(seq 100); do
    "$work/$side/client/filexfer" --retries 0 -s "127.0.0.1:$port" stat / >/dev/null 2>&1 && { echo "$port"; return; }
    sleep 0.1
  done
  echo "ab: the $side server did not start (see $results/server-$side.log)" >&2
  exit 1
}

build old "$old_rev"
build new "$new_rev"

echo "ab: data: one $size_mib MiB file, $files files of 4 KiB"
mkdir -p "$work/data/tree"
head -c "$((size_mib * 1024 * 1024))" /dev/urandom > "$work/data/big.bin"
python3 - "$work/data/tree" "$files" <<'PY'
import os, sys
top, count = sys.argv[1], int(sys.argv[2])
for i in range(count):
    folder = os.path.join(top, f"d{i // 100:04d}")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"f{i:06d}.bin"), "wb") as f:
        f.write(os.urandom(4096))
PY

declare -A port
port[old]=$(serve old)
port[new]=$(serve new)

spec=$results/spec.tsv
: > "$spec"
for side in old new; do
  fx="$work/$side/client/filexfer -q -s 127.0.0.1:${port[$side]}"
  root=$work/root-$side
  got=$work/got-$side
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$side" "put-large-$side" "rm -f $root/big.bin" "$fx put $work/data/big.bin big.bin" "cmp -s $work/data/big.bin $root/big.bin" "" \
    "$side" "get-large-$side" "rm -f $got/big.bin" "$fx get big.bin $got/big.bin" "cmp -s $work/data/big.bin $got/big.bin" "rm -f $got/big.bin $root/big.bin" \
    "$side" "put-tree-$side" "rm -rf $root/tree" "$fx put -r $work/data/tree tree" "diff -rq $work/data/tree $root/tree" "" \
    "$side" "noop-tree-$side" "" "$fx put -r $work/data/tree tree" "" "" \
    "$side" "get-tree-$side" "rm -rf $got/tree" "$fx get -r tree $got/tree" "diff -rq $work/data/tree $got/tree" "rm -rf $got/tree $root/tree" \
    >> "$spec"
done

python3 bench/interleave.py --runs "$runs" --out "$results" --failures "$results/failed.txt" "$spec"

python3 - "$results" <<'PY'
import json, os, sys
results = sys.argv[1]
def median(name):
    path = os.path.join(results, name + ".json")
    if not os.path.exists(path):
        return None
    return json.load(open(path))["results"][0]["median"]
lines = ["| transfer | old median | new median | new/old time |", "| --- | --- | --- | --- |"]
for step in ["put-large", "get-large", "put-tree", "noop-tree", "get-tree"]:
    old, new = median(step + "-old"), median(step + "-new")
    ratio = f"{new / old:.2f}" if old and new else "-"
    fmt = lambda v: f"{v:.3f} s" if v else "failed"
    lines.append(f"| {step} | {fmt(old)} | {fmt(new)} | {ratio} |")
report = "\n".join(lines)
open(os.path.join(results, "report.md"), "w").write(open(os.path.join(results, "builds.txt")).read() + "\n" + report + "\n")
print(report)
PY
if [[ -s $results/failed.txt ]]; then
  echo "ab: failures:" >&2
  cat "$results/failed.txt" >&2
  exit 1
fi
echo "ab: results in $results"
