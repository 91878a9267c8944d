#!/usr/bin/env bash
# The CPU seconds (user + system, from /proc) that a long-running server PID and its descendants spend on one
# transfer, which the client's own resource usage does not show. In two steps, so that neither is timed with the
# transfer (this script's own start, pgrep and awk cost about 70 ms, as much as a 200 MiB put takes on the plain
# veth pair to differ from the floor):
#   bench/wan/server-cpu.sh start PID STATE        before the command (the row's untimed prepare): records PID's CPU
#   bench/wan/server-cpu.sh stop PID STATE OUT     after it (the row's untimed check): appends the difference to OUT
# A server that forks per connection (the rsync daemon, sshd) is counted whole: a child still running or not yet
# reaped by its own stat, a reaped one in its parent's cutime/cstime.
set -u
step=${1:?usage: server-cpu.sh start PID STATE | stop PID STATE OUT} pid=${2:?} state=${3:?}
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
case $step in
  start)
    cpu > "$state" || { echo "server-cpu: no process $pid" >&2; exit 1; } ;;
  stop)
    out=${4:?usage: server-cpu.sh stop PID STATE OUT}
    after=$(cpu) || { echo "server-cpu: process $pid is gone" >&2; exit 1; }
    awk -v a="$after" -v b="$(< "$state")" 'BEGIN { printf "%.3f\n", a - b }' >> "$out" ;;
  *)
    echo "server-cpu: unknown step $step" >&2; exit 2 ;;
esac
