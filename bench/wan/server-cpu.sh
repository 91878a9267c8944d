#!/usr/bin/env bash
# bench/wan/server-cpu.sh PID OUT COMMAND...: runs COMMAND and appends to OUT the CPU seconds (user + system, from
# /proc) that the long-running process PID and its descendants spent meanwhile: a server's share of one transfer,
# which the client's own resource usage does not show. A server that forks per connection (the rsync daemon, sshd)
# is counted whole: a child still running or not yet reaped by its own stat, a reaped one in its parent's
# cutime/cstime. Exits with COMMAND's status.
set -u
pid=$1 out=$2
shift 2
tree() { # PID and its descendants
  local child
  echo "$1"
  for child in $(pgrep -P "$1"); do tree "$child"; done
}
cpu() { # utime stime cutime cstime of each, after the command name (which may hold spaces), in seconds
  local p stat
  [[ -r /proc/$pid/stat ]] || return 1
  for p in $(tree "$pid"); do
    stat=$(< "/proc/$p/stat") 2> /dev/null || continue
    echo "${stat##*) }"
  done | awk -v ticks="$(getconf CLK_TCK)" '{ sum += $12 + $13 + $14 + $15 } END { print sum / ticks }'
}
before=$(cpu) || { echo "server-cpu: no process $pid" >&2; exit 1; }
"$@"
status=$?
after=$(cpu) || { echo "server-cpu: process $pid is gone" >&2; exit 1; }
awk -v a="$after" -v b="$before" 'BEGIN { printf "%.3f\n", a - b }' >> "$out"
exit "$status"
