#!/usr/bin/env bash
# Starts a one-node Ceph cluster with radosgw on 127.0.0.1 for tests and benchmarks: one monitor, one OSD on
# memstore (RAM, nothing on disk but logs), authentication off, an S3 user with fixed keys.
#
#   tests/ceph/ceph-up.sh DIR PORT     # radosgw on 127.0.0.1:PORT, the monitor on PORT+1; state under DIR
#
# On success prints, one a line: endpoint=http://127.0.0.1:PORT, access_key=..., secret_key=...
# Exit 3 when the Ceph programs are missing (tests/ceph/ceph-install.sh installs them), 1 when the cluster did not
# come up (the reason on stderr, the logs under DIR/log). tests/ceph/ceph-down.sh DIR stops it.
# Environment: CEPH_MEMSTORE_BYTES (the OSD's RAM, default 6 GiB), CEPH_UP_TIMEOUT (seconds, default 90).
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 DIR PORT" >&2
  exit 2
fi
dir=$1
port=$2
mon_port=$((port + 1))
timeout=${CEPH_UP_TIMEOUT:-90}
memstore=${CEPH_MEMSTORE_BYTES:-6442450944}
access_key=filexfer-test-access
secret_key=filexfer-test-secret

for tool in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool ceph-authtool; do
  if ! command -v "$tool" > /dev/null 2>&1; then
    echo "ceph-up: $tool is not installed (tests/ceph/ceph-install.sh installs the Ceph packages)" >&2
    exit 3
  fi
done

if [ -e "$dir/ceph.conf" ]; then
  echo "ceph-up: $dir already holds a cluster; stop it first with tests/ceph/ceph-down.sh $dir" >&2
  exit 1
fi

mkdir -p "$dir"/{mon,osd,rgw,run,log}
dir=$(cd "$dir" && pwd)
fsid=$(cat /proc/sys/kernel/random/uuid)
conf=$dir/ceph.conf

cat > "$conf" <<CONF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
mon initial members = a
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
# Without it radosgw loops on "get_initial_auth_request returned -13".
ms mon client mode = crc
osd objectstore = memstore
memstore device bytes = $memstore
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon allow pool delete = true
osd crush chooseleaf type = 0
mon warn on pool no redundancy = false
run dir = $dir/run
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
log file = $dir/log/\$name.log
keyring = $dir/keyring
[mon.a]
mon data = $dir/mon
[osd.0]
osd data = $dir/osd
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$port
rgw data = $dir/rgw
rgw dns name = 127.0.0.1
# Deleted objects' data is freed by RGW's garbage collector, by default 2 hours later: memstore would fill up.
rgw gc obj min wait = 0
rgw gc processor period = 5
CONF

fail() {
  echo "ceph-up: $1 (logs in $dir/log)" >&2
  exit 1
}

ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' > /dev/null
monmaptool --create --addv a "[v2:127.0.0.1:$mon_port]" --fsid "$fsid" "$dir/monmap" > /dev/null
ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring" > "$dir/log/mon-mkfs.out" 2>&1 || fail "ceph-mon --mkfs failed"
ceph-mon -c "$conf" -i a > "$dir/log/mon-start.out" 2>&1 || fail "ceph-mon did not start"

osd_uuid=$(cat /proc/sys/kernel/random/uuid)
osd_id=$(ceph -c "$conf" --connect-timeout 30 osd new "$osd_uuid") || fail "the monitor did not answer 'osd new'"
# Without --osd-uuid the OSD never boots.
ceph-osd -c "$conf" -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" > "$dir/log/osd-mkfs.out" 2>&1 || fail "ceph-osd --mkfs failed"
ceph-osd -c "$conf" -i "$osd_id" > "$dir/log/osd-start.out" 2>&1 || fail "ceph-osd did not start"

radosgw -c "$conf" -n client.rgw > "$dir/log/rgw-start.out" 2>&1 || fail "radosgw did not start"

deadline=$((SECONDS + timeout))
until curl -sf -o /dev/null "http://127.0.0.1:$port/"; do
  [ $SECONDS -lt $deadline ] || fail "radosgw did not answer on 127.0.0.1:$port within ${timeout}s"
  sleep 0.2
done

until radosgw-admin -c "$conf" -n client.rgw user create --uid filexfer --display-name filexfer \
    --access-key "$access_key" --secret-key "$secret_key" > "$dir/log/user-create.out" 2>&1; do
  [ $SECONDS -lt $deadline ] || fail "radosgw-admin user create failed"
  sleep 0.5
done

echo "endpoint=http://127.0.0.1:$port"
echo "access_key=$access_key"
echo "secret_key=$secret_key"
