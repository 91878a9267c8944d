#!/usr/bin/env bash
# Power-loss harness of issue 15: builds LazyFS from its source, publishes FileXfer's server and client, and runs
# powerloss.py (simulated power losses, see its header). Linux, as root (FUSE mounts, apt-get).
#
#   bench/durability/run.sh [LAZYFS_SRC]
#
# LAZYFS_SRC (argument or environment): a checkout of dsrhaslab/lazyfs (this script does not download it). Tested
# with a47a5ba. lazyfs-filexfer.patch is applied to a copy: toml11 and spdlog from the distribution instead of
# CMake's FetchContent (no network at build time), and a statfs pass-through (without it FUSE reports a disk of 0
# blocks, 0 free, and the server refuses every upload for want of space).
#
# Environment:
#   WORK=DIR            scratch folder on the real disk (default /var/tmp/filexfer-durability), emptied
#   SCENARIOS=a,b       powerloss.py --scenarios (default: all five)
#   POWERLOSS_ARGS=...  more powerloss.py options (--rounds-scale 0.2 for a quick run, --seed N, --big-mib N)
#   OLD_SERVER=DIR      also run the negative control: put-r-mid against this published filexfer-server (for
#                       example the commit before the sync policy, 2755fc3); it is expected to lose files, and the
#                       script fails if it does not
#   FALLBACK_COST=1     also run fallback-cost.py (5,000 files of 4 KiB, put -r, three file systems)
#   SKIP_APT=1          do not run apt-get
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
src="${1:-${LAZYFS_SRC:-}}"
work="${WORK:-/var/tmp/filexfer-durability}"

if [[ -z "$src" || ! -f "$src/lazyfs/src/lazyfs.cpp" ]]; then
    echo "usage: $0 LAZYFS_SRC (a checkout of https://github.com/dsrhaslab/lazyfs; or set LAZYFS_SRC)" >&2
    exit 2
fi
if [[ $(id -u) != 0 ]]; then
    echo "$0: run as root (FUSE mounts, apt-get)" >&2
    exit 2
fi

if [[ -z "${SKIP_APT:-}" ]]; then
    echo "== packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cmake g++ make pkg-config libfuse3-dev fuse3 \
        libtoml11-dev libspdlog-dev python3 > /dev/null
fi

mkdir -p "$work"
build="$work/lazyfs-src"
echo "== LazyFS from $src"
rm -rf "$build"
mkdir -p "$build"
cp -a "$src/lazyfs" "$src/libs" "$build/"
patch -d "$build" -p1 --quiet < "$here/lazyfs-filexfer.patch"
(cd "$build/libs/libpcache" && mkdir -p build && cd build && cmake -DCMAKE_BUILD_TYPE=Release .. > cmake.log \
    && make -j"$(nproc)" > make.log)
(cd "$build/lazyfs" && mkdir -p build && cd build && cmake -DCMAKE_BUILD_TYPE=Release -DLAZYFS_BUILD_TESTS=OFF .. > cmake.log \
    && make -j"$(nproc)" > make.log 2>&1)
lazyfs="$build/lazyfs/build/lazyfs"

echo "== FileXfer (Release)"
dotnet publish "$repo/src/Server" -c Release -o "$work/server" > "$work/publish-server.log"
dotnet publish "$repo/src/Client" -c Release -o "$work/client" > "$work/publish-client.log"

echo "== power losses"
status=0
# shellcheck disable=SC2086
python3 "$here/powerloss.py" --lazyfs "$lazyfs" --server "$work/server" --client "$work/client/filexfer" \
    --work "$work/run" ${SCENARIOS:+--scenarios "$SCENARIOS"} ${POWERLOSS_ARGS:-} || status=$?

if [[ -n "${OLD_SERVER:-}" ]]; then
    echo "== negative control: put-r-mid against $OLD_SERVER"
    control=0
    # shellcheck disable=SC2086
    python3 "$here/powerloss.py" --lazyfs "$lazyfs" --server "$OLD_SERVER" --client "$work/client/filexfer" \
        --work "$work/control" --scenarios put-r-mid --rounds-scale 0.25 ${POWERLOSS_ARGS:-} || control=$?
    if [[ $control == 1 ]]; then
        echo "negative control: the harness caught the old server's losses (as expected)"
    else
        echo "negative control: FAILED, the old server lost nothing the harness could see (exit $control)"
        status=1
    fi
fi

if [[ -n "${FALLBACK_COST:-}" ]]; then
    echo "== the fallback's cost"
    python3 "$here/fallback-cost.py" --lazyfs "$lazyfs" --server "$work/server" --client "$work/client/filexfer" \
        ${OLD_SERVER:+--old-server "$OLD_SERVER"} \
        --work "$work/cost" || status=$?
fi
exit $status
