#!/usr/bin/env bash
# The CPU cost of --compress on loopback (docs/performance/issue-17-wan-bed.md): a 200 MiB SQL dump-like file (bench/wan/dumpgen.py)
# put and got with and without --compress, 3 interleaved rounds; wall time and CPU of the client and of the server.
#   bench/compress-cpu.sh          after bench/publish.sh . bench/out
set -euo pipefail
cd "$(dirname "$0")/.."; P=$(pwd)/bench/out; W=$(mktemp -d /dev/shm/fxcompress.XXXXXX); rm -rf $W; mkdir -p $W/root; chmod 755 $W/root
python3 bench/wan/dumpgen.py $W/dump.sql 200
$P/server/filexfer-server --root $W/root --listen 127.0.0.1:7392 > $W/server.log 2>&1 &
spid=$!
trap 'kill $spid; rm -rf "$W"' EXIT
sleep 2
ticks() { awk '{print $14+$15}' /proc/$spid/stat; }
hz=$(getconf CLK_TCK)
for round in 1 2 3; do
  for flag in "" --compress; do
    for op in put get; do
      rm -f $W/back.sql
      s0=$(ticks)
      if [[ $op == put ]]; then args=(put $W/dump.sql dump.sql); else args=(get dump.sql $W/back.sql); fi
      /usr/bin/time -f "%e %U %S" -o $W/t $P/client/filexfer -q -s 127.0.0.1:7392 $flag "${args[@]}"
      s1=$(ticks)
      read e u s < $W/t
      printf '%s\t%s\t%s\twall %s s\tclient cpu %.2f s\tserver cpu %.2f s\n' "$round" "$op" "${flag:-plain}" "$e" "$(echo "$u + $s" | bc)" "$(echo "($s1 - $s0) / $hz" | bc -l)"
    done
  done
done
cmp $W/dump.sql $W/root/dump.sql && cmp $W/dump.sql $W/back.sql && echo identical
cat /proc/loadavg
