#!/usr/bin/env python3
"""The fallback's cost (issue 15): `put -r` of 5,000 files of 4 KiB with the server's root on file systems where the
server trusts syncfs and where it fsyncs each file instead. Run by run.sh with FALLBACK_COST=1, or alone:

    fallback-cost.py --lazyfs BIN --server DIR --client BIN --work DIR [--files 5000] [--size 4096] [--runs 3]

The server chooses its policy by the root's file-system type; there is no switch, so the file system is varied:

  disk     the root on the real disk (--work's file system; ext4 here): one syncfs per group (trusted)
  overlay  the root on an overlayfs whose upper layer is on that same disk: overlayfs is not trusted, so each file is
           fsynced (the fsyncs reach the same ext4): the fallback's own cost, without FUSE
  lazyfs   the root on LazyFS over that disk: each file fsynced, plus FUSE and LazyFS's cache (every write and read
           goes through its daemon, every fsync copies the file's pages to the disk): an upper bound
  lazyfs-old   (with --old-server, when asked for in --systems) LazyFS served by that old server, whose syncfs
           never reaches LazyFS: nothing is flushed at all, so this is LazyFS's own cost, the floor of `lazyfs`
  overlay-old  (with --old-server) the same overlayfs, served by the server from before the sync policy, which
           flushes a group with one syncfs (overlayfs passes it to the disk when not mounted volatile): the two
           policies on one file system, so the difference is the policy's alone

Each run puts the tree into a new remote folder of a server already running, after an untimed sync(2); runs are
interleaved (disk, overlay, lazyfs, disk, ...). Prints each run's seconds, the medians, files per second, and each
fallback's speed as a share of the disk's (the issue's goal: at least 0.5)."""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from powerloss import LazyFS, Server  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lazyfs", required=True)
    p.add_argument("--server", required=True)
    p.add_argument("--client", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--files", type=int, default=5000)
    p.add_argument("--size", type=int, default=4096)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--systems", default="disk,overlay,lazyfs")
    p.add_argument("--old-server", help="a server from before the sync policy (2755fc3): adds overlay-old, the same "
                                        "overlayfs flushed by one syncfs per group, which that server trusted everywhere")
    a = p.parse_args()
    work = os.path.abspath(a.work)
    ovl_mnt = os.path.join(work, "ovl-mnt")
    for mnt in (ovl_mnt, os.path.join(work, "lazy", "mnt")):
        subprocess.run(["umount", "-l", mnt], stderr=subprocess.DEVNULL)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)

    tree = os.path.join(work, "tree")
    rnd = os.urandom(a.size * 16)
    for i in range(a.files):
        d = os.path.join(tree, f"d{i // 100:02d}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{i:05d}"), "wb") as f:
            f.write(rnd[(i % 16) * a.size:(i % 16 + 1) * a.size])

    systems = a.systems.split(",")
    if a.old_server and "overlay-old" not in systems:
        systems.insert(systems.index("overlay") + 1 if "overlay" in systems else len(systems), "overlay-old")
    servers, fs = {}, None
    try:
        for name in systems:
            if name == "disk":
                root = os.path.join(work, "disk-root")
            elif name in ("overlay", "overlay-old"):
                if not os.path.ismount(ovl_mnt):
                    for d in ("ovl-lower", "ovl-upper", "ovl-work", "ovl-mnt"):
                        os.makedirs(os.path.join(work, d))
                    subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                                    f"lowerdir={work}/ovl-lower,upperdir={work}/ovl-upper,workdir={work}/ovl-work",
                                    ovl_mnt], check=True)
                root = os.path.join(ovl_mnt, "root" if name == "overlay" else "root-old")
            elif name in ("lazyfs", "lazyfs-old"):
                if fs is None:
                    fs = LazyFS(a.lazyfs, os.path.join(work, "lazy"), "2gb")
                    fs.mount()
                root = os.path.join(fs.mnt, "root" if name == "lazyfs" else "root-old")
            else:
                raise SystemExit(f"unknown file system {name}")
            server = a.old_server if name.endswith("-old") else a.server
            servers[name] = Server(server, root, os.path.join(work, f"server-{name}.log"))
            servers[name].start()
            kind = subprocess.run(["stat", "-f", "-c", "%T", root], capture_output=True, text=True).stdout.strip()
            print(f"{name:8} root {root} ({kind})", flush=True)

        times = {name: [] for name in systems}
        crashes = 0
        for run in range(a.runs):
            for name in systems:
                for attempt in range(4):
                    os.sync()
                    start = time.monotonic()
                    r = subprocess.run([a.client, "put", "-r", tree, f"t{run}-{attempt}", "-s", servers[name].address,
                                        "--quiet", "--retries", "0"], capture_output=True, text=True)
                    took = time.monotonic() - start
                    if r.returncode == 0:
                        break
                    if name.startswith("lazyfs") and not fs.alive() and attempt < 3:
                        # LazyFS segfaults now and then under many parallel fsyncs: mount it again, run again.
                        crashes += 1
                        print(f"run {run} {name:8} LazyFS crashed after {took:.2f} s; mounted again", flush=True)
                        on_lazyfs = [n for n in servers if n.startswith("lazyfs")]
                        for n in on_lazyfs:
                            servers[n].kill()
                        fs.unmount()
                        fs.mount()
                        for n in on_lazyfs:
                            servers[n].start()
                        continue
                    first = "\n".join(r.stderr.strip().splitlines()[:3])
                    raise SystemExit(f"{name}: put -r exited {r.returncode}: {first}")
                times[name].append(took)
                print(f"run {run} {name:8} {took:7.2f} s", flush=True)

        base = statistics.median(times[systems[0]])
        print(f"{a.files} files of {a.size} B, put -r, median of {a.runs}:")
        for name in systems:
            med = statistics.median(times[name])
            print(f"  {name:8} {med:7.2f} s  {a.files / med:7.0f} files/s  {base / med:5.2f} of {systems[0]}'s speed"
                  f"   (runs: {', '.join(f'{t:.2f}' for t in times[name])})", flush=True)
        if crashes:
            print(f"  (LazyFS crashed {crashes}x; those runs were repeated)", flush=True)
    finally:
        for s in servers.values():
            s.terminate()
        if fs is not None:
            fs.unmount()
        subprocess.run(["umount", ovl_mnt], stderr=subprocess.DEVNULL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
