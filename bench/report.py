#!/usr/bin/env python3
"""Prints the benchmark table: medians of each measurement and ratios against the peers of the same run."""
import argparse
import json
import os
import statistics

parser = argparse.ArgumentParser()
parser.add_argument("results")
parser.add_argument("--files", type=int, default=5000)
parser.add_argument("--size-mib", type=int, default=1024)
args = parser.parse_args()

medians = {}
for name in sorted(os.listdir(args.results)):
    if name.endswith(".json"):
        with open(os.path.join(args.results, name)) as f:
            times = json.load(f)["results"][0]["times"]
        medians[name[:-5]] = (statistics.median(times), len(times))

def row(label, key, unit_count, unit, peers):
    if key not in medians:
        return None
    seconds, n = medians[key]
    rate = unit_count / seconds
    shown = f"{rate:,.2f} {unit}" if rate < 100 else f"{rate:,.0f} {unit}"
    cells = [label, f"{seconds:.3f} s", shown, str(n)]
    for peer in peers:
        cells.append(f"{medians[peer][0] / seconds:.2f}x" if peer in medians else "-")
    return "| " + " | ".join(cells) + " |"

lines = []
for storage in ("tmpfs", "disk"):
    small = [
        row(f"put -r {args.files} x 4 KiB, filexfer", f"small-put-filexfer-{storage}", args.files, "files/s", [f"small-put-rsync-{storage}"]),
        row(f"put -r {args.files} x 4 KiB, rsync daemon", f"small-put-rsync-{storage}", args.files, "files/s", [f"small-put-rsync-{storage}"]),
        row(f"get -r {args.files} x 4 KiB, filexfer", f"small-get-filexfer-{storage}", args.files, "files/s", [f"small-get-rsync-{storage}"]),
        row(f"get -r {args.files} x 4 KiB, rsync daemon", f"small-get-rsync-{storage}", args.files, "files/s", [f"small-get-rsync-{storage}"]),
    ]
    size = args.size_mib * 1024 * 1024 / 1e9
    large = [
        row(f"put {args.size_mib} MiB, filexfer", f"large-put-filexfer-{storage}", size, "GB/s", [f"large-put-rsync-{storage}", f"large-put-socat-{storage}"]),
        row(f"put {args.size_mib} MiB, rsync daemon", f"large-put-rsync-{storage}", size, "GB/s", [f"large-put-rsync-{storage}", f"large-put-socat-{storage}"]),
        row(f"put {args.size_mib} MiB, raw socat pipe", f"large-put-socat-{storage}", size, "GB/s", [f"large-put-rsync-{storage}", f"large-put-socat-{storage}"]),
        row(f"get {args.size_mib} MiB, filexfer", f"large-get-filexfer-{storage}", size, "GB/s", [f"large-get-rsync-{storage}", f"large-put-socat-{storage}"]),
        row(f"get {args.size_mib} MiB, rsync daemon", f"large-get-rsync-{storage}", size, "GB/s", [f"large-get-rsync-{storage}", f"large-put-socat-{storage}"]),
    ]
    if any(small):
        lines += [f"### {args.files} small files on {storage}", "",
                  "| measurement | median | rate | runs | speed vs rsync |", "| --- | --- | --- | --- | --- |"]
        lines += [r for r in small if r] + [""]
    if any(large):
        lines += [f"### One {args.size_mib} MiB file on {storage}", "",
                  "| measurement | median | rate | runs | speed vs rsync | speed vs socat |", "| --- | --- | --- | --- | --- | --- |"]
        lines += [r for r in large if r] + [""]

print("\n".join(lines))
