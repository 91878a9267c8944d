#!/bin/bash
# Reproduces what the soak found: a put whose attempt the client abandoned (it timed out, and retried with success)
# is still committed by the server when its delayed bytes arrive, after the command exited 0 and after a later
# acknowledged put of the same path by another client, which is lost.
#   bench/soak/repro-stale-put.sh DIR_WITH_server_AND_client [WORK_DIR]
# Exit 0 when the later acknowledged content survives, 1 when the stale put replaced it.
set -eu
BIN=${1:?published binaries: DIR/server/filexfer-server, DIR/client/filexfer}
W=${2:-/var/tmp/filexfer-repro-stale}
S=$BIN/server/filexfer-server; C=$BIN/client/filexfer
HERE=$(cd "$(dirname "$0")" && pwd)
rm -rf "$W"; mkdir -p "$W/root"; chmod 700 "$W/root"; cd "$W"
SPORT=47201; PPORT=47202
$S --root "$W/root" --listen 127.0.0.1:$SPORT > server.out 2> server.log & SP=$!
# The first connection through the proxy stalls 8 s after HANDSHAKE+40 bytes from the client: its Put and body are
# already read by the proxy (the network), and reach the server only after the stall; every later connection is clean.
printf 'A%.0s' $(seq 1 700) > a.txt; printf 'B%.0s' $(seq 1 700) > b.txt
# Bytes the client sends before its Put (the handshake), measured with a clean connection.
python3 "$HERE/proxy.py" --listen 127.0.0.1:$PPORT --target 127.0.0.1:$SPORT --stats probe.json --stall-first 0 > /dev/null & PP=$!
sleep 1.5
$C --server 127.0.0.1:$PPORT stat / > /dev/null 2>&1 || true
sleep 1.2; kill $PP; wait $PP 2>/dev/null || true
HANDSHAKE=$(python3 -c "import json; print(json.load(open('probe.json'))['bytes_c2s'])")
python3 "$HERE/proxy.py" --listen 127.0.0.1:$PPORT --target 127.0.0.1:$SPORT --stats stats.json \
    --stall-first 1 --stall-at $((HANDSHAKE + 40)) --stall-for 8 > /dev/null & PP=$!
sleep 1.5
trap 'kill $PP $SP 2>/dev/null || true' EXIT
echo "1. client A: put a.txt x through the proxy, --timeout 2 (attempt 1 stalls, attempt 2 stores it)"
$C --server 127.0.0.1:$PPORT --timeout 2 put a.txt x; echo "   exit $?"
echo "2. client B: put b.txt x directly, after A exited"
$C --server 127.0.0.1:$SPORT put b.txt x; echo "   exit $?"
$C --server 127.0.0.1:$SPORT get x x.now > /dev/null; echo "   x now holds: $(head -c 5 x.now)... (B's content)"
echo "3. wait for the stalled bytes of A's abandoned attempt to reach the server"
sleep 8
$C --server 127.0.0.1:$SPORT get x x.after > /dev/null
echo "   x now holds: $(head -c 5 x.after)..."
grep "Put x" server.log | sed 's/^/   server: /'
if cmp -s x.after b.txt; then echo "OK: B's acknowledged put survived"; exit 0; fi
echo "LOST: B's acknowledged put was replaced by A's abandoned attempt, which landed after both commands exited 0"; exit 1
