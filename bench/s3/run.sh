#!/usr/bin/env bash
# FileXfer over Ceph against `aws s3 cp` and rclone's S3 backend straight to the same Ceph (issue 16's goals):
#   1 GiB put and get, the server's peak memory, 5,000 files of 4 KiB put -r against `rclone copy`, and a put
#   cut at 50% and resumed through a second server on the same bucket.
#
#   bench/s3/run.sh [--rounds N] [--small-rounds N] [--no-build] [--skip-small | --only-small]
#
# Starts its own one-node Ceph (tests/ceph/ceph-up.sh; tests/ceph/ceph-install.sh installs it) and stops it at the end.
# Needs Debian's awscli and rclone (apt-get install awscli rclone). Files live on tmpfs (/dev/shm) so the disk is not
# what is measured. Prints one line per measurement and a median table; each figure is a whole command, start to exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=3; small_rounds=1; build=1; small=1; large=1
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --small-rounds) small_rounds=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --skip-small) small=0; shift ;;
    --only-small) large=0; shift ;;
    *) echo "usage: $0 [--rounds N] [--small-rounds N] [--no-build] [--skip-small | --only-small]" >&2; exit 2 ;;
  esac
done

for tool in aws rclone; do
  command -v $tool > /dev/null || { echo "bench/s3: $tool is missing (apt-get install awscli rclone)" >&2; exit 2; }
done

out=${BENCH_OUT:-/tmp/filexfer-bench-s3}
work=/dev/shm/filexfer-bench-s3
mkdir -p "$out"
rm -rf "$work"; mkdir -p "$work/root1" "$work/root2"
chmod go-w "$work/root1" "$work/root2"
if [ $build -eq 1 ]; then
  dotnet publish src/Server -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$out/server" > /dev/null
  dotnet publish src/Client -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$out/client" > /dev/null
fi
# Say which build is measured: with --no-build, $out may hold what an older checkout published there.
head_commit=$(git rev-parse HEAD)
for program in "$out/client/filexfer" "$out/server/filexfer-server"; do
  version=$("$program" --version) || { echo "bench/s3: $program cannot run (run without --no-build)" >&2; exit 2; }
  echo "bench/s3: measuring $program $version" >&2
  [[ $version == *"+$head_commit"* ]] || echo "bench/s3: WARNING: $program is not this checkout's build ($head_commit); run without --no-build, or set BENCH_OUT" >&2
done

port=$((17700 + RANDOM % 200))
cluster="$work/ceph"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
  tests/ceph/ceph-down.sh "$cluster"
  rm -rf "$work"
}
trap cleanup EXIT
CEPH_MEMSTORE_BYTES=${CEPH_MEMSTORE_BYTES:-8589934592} tests/ceph/ceph-up.sh "$cluster" "$port" > "$work/ceph.env"
endpoint=$(sed -n 's/^endpoint=//p' "$work/ceph.env")
export AWS_ACCESS_KEY_ID=$(sed -n 's/^access_key=//p' "$work/ceph.env")
export AWS_SECRET_ACCESS_KEY=$(sed -n 's/^secret_key=//p' "$work/ceph.env")
export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export RCLONE_CONFIG_CEPH_TYPE=s3 RCLONE_CONFIG_CEPH_PROVIDER=Ceph RCLONE_CONFIG_CEPH_ENDPOINT=$endpoint
export RCLONE_CONFIG_CEPH_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID RCLONE_CONFIG_CEPH_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
aws --endpoint-url "$endpoint" s3 mb s3://bench > /dev/null

start_server() { # ROOT PORT -> pid
  "$out/server/filexfer-server" --root "$1" --listen "127.0.0.1:$2" --store s3://bench/fx --s3-endpoint "$endpoint" \
    > /dev/null 2> "$work/server-$2.log" &
  echo $!
}
fxport1=$((port + 10)); fxport2=$((port + 11))
server1=$(start_server "$work/root1" $fxport1); pids+=("$server1")
server2=$(start_server "$work/root2" $fxport2); pids+=("$server2")
fx="$out/client/filexfer"
until "$fx" --retries 0 --server 127.0.0.1:$fxport1 stat / > /dev/null 2>&1; do sleep 0.1; done
until "$fx" --retries 0 --server 127.0.0.1:$fxport2 stat / > /dev/null 2>&1; do sleep 0.1; done

results="$out/results.tsv"
: > "$results"
measure() { # NAME COMMAND...
  local name=$1; shift
  local start end
  start=$(date +%s.%N)
  "$@" > "$work/last.out" 2>> "$work/errors.log" || { echo "bench/s3: $name failed (see $work/errors.log)" >&2; cat "$work/errors.log" >&2; exit 1; }
  end=$(date +%s.%N)
  local seconds; seconds=$(echo "$end - $start" | bc)
  printf '%s\t%s\n' "$name" "$seconds" | tee -a "$results"
}

if [ $large -eq 1 ]; then
head -c 1073741824 /dev/urandom > "$work/big"

put_filexfer() { measure "put 1 GiB filexfer" "$fx" --quiet --server 127.0.0.1:$fxport1 put "$work/big" big; }
put_aws() { measure "put 1 GiB aws s3 cp" aws --endpoint-url "$endpoint" s3 cp --only-show-errors "$work/big" s3://bench/aws/big; }
put_rclone() { measure "put 1 GiB rclone" env -u AWS_CA_BUNDLE rclone copyto --s3-upload-concurrency 4 "$work/big" ceph:bench/rclone/big; }
get_filexfer() { measure "get 1 GiB filexfer" "$fx" --quiet --server 127.0.0.1:$fxport1 get big "$work/big.fx"; }
get_aws() { measure "get 1 GiB aws s3 cp" aws --endpoint-url "$endpoint" s3 cp --only-show-errors s3://bench/aws/big "$work/big.aws"; }
get_rclone() { measure "get 1 GiB rclone" env -u AWS_CA_BUNDLE rclone copyto ceph:bench/rclone/big "$work/big.rclone"; }
for round in $(seq "$rounds"); do
  # The order reversed every other round, as for the small files: no tool always goes first.
  if [ $((round % 2)) -eq 1 ]; then order="filexfer aws rclone"; else order="rclone aws filexfer"; fi
  printf 'load average before round %s\t%s\n' "$round" "$(cut -d' ' -f1-3 /proc/loadavg)" >&2
  for tool in $order; do put_$tool; done
  for tool in $order; do get_$tool; done
  cmp "$work/big" "$work/big.fx"
  rm -f "$work/big.fx" "$work/big.aws" "$work/big.rclone"
  "$fx" --quiet --server 127.0.0.1:$fxport1 rm big
  aws --endpoint-url "$endpoint" s3 rm --only-show-errors s3://bench/aws/big
  env -u AWS_CA_BUNDLE rclone deletefile ceph:bench/rclone/big
done
printf 'server peak RSS (MiB)\t%s\n' "$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' /proc/$server1/status)" | tee -a "$results"

# A put cut at 50%: the client is killed once half the file went, then the same put goes through the other server.
# Held to 32 MiB/s so that the watcher (an aws command per poll, slow on a loaded machine) sees half of it go by: at
# 64 MiB/s, under a load average of 20-29, the put once ended before a poll saw 64 parts.
"$fx" --quiet --retries 0 --bwlimit 32M --server 127.0.0.1:$fxport1 put "$work/big" cut &
client=$!
held_parts() { # the parts the partial's multipart upload holds
  local key id
  read -r key id < <(aws --endpoint-url "$endpoint" s3api list-multipart-uploads --bucket bench --prefix fx/.filexfer/partials/ \
    --query 'Uploads[0].[Key,UploadId]' --output text 2> /dev/null || echo "None None")
  if [ "$key" = None ] || [ -z "$key" ]; then echo 0; return; fi
  aws --endpoint-url "$endpoint" s3api list-parts --bucket bench --key "$key" --upload-id "$id" --query 'length(Parts)' --output text 2> /dev/null || echo 0
}
until [ "$(held_parts)" -ge 64 ]; do
  kill -0 $client 2> /dev/null || { echo "bench/s3: the put to be cut ended before half of it was held" >&2; exit 1; }
  sleep 0.2
done
kill -9 $client; wait $client 2> /dev/null || true
measure "put 1 GiB resumed through the other server" "$fx" --server 127.0.0.1:$fxport2 put "$work/big" cut
resumed=$("$fx" --server 127.0.0.1:$fxport2 stat cut > /dev/null && grep -o 'resumed after [^,)]*' "$work/last.out" || echo "not resumed")
printf 'put cut at 50%% then resumed through the other server\t%s\n' "$resumed" | tee -a "$results"
"$fx" --quiet --server 127.0.0.1:$fxport1 rm cut
fi

if [ $small -eq 1 ]; then
  mkdir -p "$work/small"
  for d in $(seq 0 49); do
    mkdir -p "$work/small/d$d"
    for f in $(seq 0 99); do head -c 4096 /dev/urandom > "$work/small/d$d/f$f"; done
  done
  small_filexfer() { measure "put -r 5000 x 4 KiB filexfer" "$fx" --quiet --server 127.0.0.1:$fxport1 put -r "$work/small" "small$round"; }
  small_rclone() { measure "put -r 5000 x 4 KiB rclone" env -u AWS_CA_BUNDLE rclone copy --transfers 4 "$work/small" "ceph:bench/rclone-small$round"; }
  # Not measured: each tool once on one folder first, since the first writes after the cluster starts are slow
  # whoever makes them (about 10 s more on this machine).
  "$fx" --quiet --server 127.0.0.1:$fxport1 put -r "$work/small/d0" warmup > /dev/null
  env -u AWS_CA_BUNDLE rclone copy --transfers 4 "$work/small/d0" ceph:bench/rclone-warmup 2> /dev/null
  for round in $(seq "$small_rounds"); do
    printf 'load average before small round %s\t%s\n' "$round" "$(cut -d' ' -f1-3 /proc/loadavg)" >&2
    # The order reversed every other round: the first command after the cluster starts is the slower.
    if [ $((round % 2)) -eq 1 ]; then small_filexfer; small_rclone; else small_rclone; small_filexfer; fi
  done
fi

python3 - "$results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, value = line.rstrip('\n').split('\t')
    rows.setdefault(name, []).append(value)
def median(name):
    return statistics.median(float(v) for v in rows[name])
print()
print('| measurement | median s | FileXfer vs it |')
print('| --- | --- | --- |')
for name in rows:
    if 'RSS' in name or 'resumed' in name:
        print(f'| {name} | {rows[name][0]} | |')
        continue
    kind = name.rsplit(' ', 1)[0] if 'filexfer' in name else None
    base = name.replace(' aws s3 cp', ' filexfer').replace(' rclone', ' filexfer')
    ratio = '' if 'filexfer' in name else f'{median(name) / median(base):.2f}x'
    print(f'| {name} | {median(name):.2f} | {ratio} |')
PY
