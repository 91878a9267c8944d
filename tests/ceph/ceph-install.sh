#!/usr/bin/env bash
# Installs the Debian packages the object-store tests need (Ceph for tests/ceph/ceph-up.sh, about 200 MiB and 35 s;
# HAProxy), when they are missing. Needs root.
set -euo pipefail
if command -v radosgw > /dev/null && command -v ceph-mon > /dev/null && command -v ceph-osd > /dev/null && command -v ceph > /dev/null \
    && { command -v haproxy > /dev/null || [ -x /usr/sbin/haproxy ]; }; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends radosgw ceph-mon ceph-osd ceph-common haproxy curl > /dev/null ||
  { apt-get update > /dev/null && apt-get install -y --no-install-recommends radosgw ceph-mon ceph-osd ceph-common haproxy curl > /dev/null; }
