#!/usr/bin/env bash
# Stops the cluster tests/ceph/ceph-up.sh started in DIR (its daemons by their pid files) and removes DIR.
set -uo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
dir=$1
[ -d "$dir" ] || exit 0
pids=()
for pidfile in "$dir"/run/*.pid; do
  [ -e "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if [ -n "$pid" ] && kill "$pid" 2> /dev/null; then
    pids+=("$pid")
  fi
done
# Wait for them to exit (memstore holds the data in RAM: nothing to flush); kill what is left after 10 s.
for _ in $(seq 100); do
  alive=0
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2> /dev/null && alive=1
  done
  [ $alive -eq 0 ] && break
  sleep 0.1
done
for pid in "${pids[@]}"; do
  kill -9 "$pid" 2> /dev/null
done
rm -rf "$dir"
