#!/usr/bin/env python3
"""The Markdown report of a bench/wan/wan.sh run: python3 bench/wan/report.py bench/results/wan-<time>

Reads meta.json, checks.tsv (the link checks), the interleaved rows' wan-RTT-TOOL-KIND.json (hyperfine's format,
written by bench/interleave.py), failed.txt and block-seconds.txt; prints the header, the link checks, the medians
with their spread, and FileXfer's speed against each peer."""
import glob
import json
import os
import re
import statistics
import sys

TOOLS = [("filexfer", "FileXfer"), ("rsync", "rsync"), ("scp", "scp"), ("rclone", "rclone (sftp)"), ("floor", "C floor")]
KINDS = [("big", "big"), ("tree", "tree")]


def load(results, name):
    path = os.path.join(results, name + ".json")
    if not os.path.exists(path):
        return None
    return json.load(open(path))["results"][0]


def seconds(value):
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s" if value < 100 else f"{value:.0f} s"


def main():
    results = sys.argv[1]
    meta = json.load(open(os.path.join(results, "meta.json")))
    # FileXfer's extra columns (wan.sh --tools filexfer+streamsN): put --streams N, after its default one.
    extra = sorted({m.group(1) for f in glob.glob(os.path.join(results, "wan-*-filexfer+streams*-big.json"))
                    if (m := re.search(r"-(filexfer\+streams\d+)-big\.json$", f))}, key=lambda t: int(t[16:]))
    TOOLS[1:1] = [(t, f"FileXfer --streams {t[16:]}") for t in extra]
    FX = [t for t, _ in TOOLS if t.startswith("filexfer")]
    PEERS = [(t, n) for t, n in TOOLS if not t.startswith("filexfer")]
    rtts = meta["rtts"].split(",")
    lines = [f"{meta['date']}, commit {meta['commit']}, {meta['nproc']} cores ({meta['cpu']}), Linux {meta['kernel']}, "
             f"load average {meta['load']} at the start; client build: {meta['client_build']}.",
             "", f"`{meta['command']}`", "",
             f"Link: {meta['rate_mbit']} Mbit/s, {meta['loss_pct']}% loss each way, jitter {meta['jitter_ms']} ms, "
             f"reordering {meta['reorder_pct']}%; queue = bandwidth-delay product; TCP in both namespaces: {meta['tcp']}. "
             f"Data on tmpfs: one {meta['size_mib']} MiB file, {meta['files']} files of 4 KiB in folders of 100, put; "
             f"medians of {meta['runs']} interleaved rounds ({meta['slow_runs']} for scp's and rclone's trees on the "
             f"shaped link, in a block after the others, on the first {meta.get('slow_files', meta['files'])} files "
             f"of the tree). rclone: --transfers {meta['streams']} "
             f"--multi-thread-streams {meta['streams']}.", ""]
    failed = os.path.join(results, "failed.txt")
    if os.path.exists(failed) and os.path.getsize(failed):
        lines += ["**Failures:**", ""] + [f"- {l.rstrip()}" for l in open(failed)] + [""]

    lines += ["Link checks (from fxwan-b to fxwan-a; ping: 1,000 pings 4 ms apart, a round trip crosses the link "
              "twice so it loses 1-(1-p)^2 of them; iperf3: 8 s, received rate):", "",
              "| link | asked round trip | ping min/avg/max/mdev | asked loss each way | ping loss | link's own count "
              "(loss per direction; queue drops) | asked rate | iperf3, 1 stream | iperf3, 4 streams |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for line in open(os.path.join(results, "checks.tsv")):
        label, rtt, ping, loss, ping_loss, link, rate, p1, p4 = line.rstrip("\n").split("\t")
        asked_loss = f"{loss}% (ping: {100 * (1 - (1 - float(loss) / 100) ** 2):.2f}%)" if loss not in ("0", "-") else "0"
        rate = f"{rate} Mbit/s" if rate != "-" else "none"
        lines.append(f"| {label} | {rtt} ms | {ping} ms | {asked_loss} | {ping_loss}% | {link} | {rate} | "
                     f"{p1} Mbit/s | {p4} Mbit/s |")
    lines.append("")

    header = "| round trip | " + " | ".join(f"{t} {k}" for k, _ in KINDS for _, t in TOOLS) + " |"
    lines += ["Medians (min–max) of whole commands, start to exit:", "", header,
              "|" + " --- |" * (1 + len(TOOLS) * len(KINDS))]
    medians = {}
    for rtt in rtts:
        cells = []
        for kind, _ in KINDS:
            for tool, _ in TOOLS:
                r = load(results, f"wan-{rtt}-{tool}-{kind}")
                if r is None:
                    cells.append("-")
                    continue
                scale = 1.0
                files, slow = int(meta["files"]), int(meta.get("slow_files", meta["files"]))
                if kind == "tree" and tool in ("scp", "rclone") and rtt != "0" and slow < files:
                    scale = files / slow  # measured on the first `slow` files: the cost is per file
                medians[(rtt, tool, kind)] = r["median"] * scale
                spread = f"{seconds(r['min'])}–{seconds(r['max'])}" if len(r["times"]) > 1 else "1 run"
                if scale != 1.0:
                    spread = f"{seconds(r['median'])} for {slow} files, ×{scale:g}; {spread}"
                cells.append(f"{'≈ ' if scale != 1.0 else ''}{seconds(r['median'] * scale)} ({spread})")
        label = "0 ms (veth, no shaping)" if rtt == "0" else f"{rtt} ms"
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("")

    link_seconds = int(meta["size_mib"]) * 1048576 * 8 / (float(meta["rate_mbit"]) * 1e6)
    lines += [f"The link alone moves the {meta['size_mib']} MiB file in {link_seconds:.1f} s (its IP bytes at "
              f"{meta['rate_mbit']} Mbit/s, headers not counted).", "",
              "FileXfer's speed against each peer (the peer's median time divided by FileXfer's: above 1, FileXfer "
              "is faster), and the link's time divided by FileXfer's for the file:", "",
              "| round trip | FileXfer column | " + " | ".join(f"vs {t} {k}" for k, _ in KINDS for _, t in PEERS)
              + " | link time / FileXfer big |",
              "|" + " --- |" * (3 + len(PEERS) * len(KINDS))]
    for rtt in rtts:
        for fx_tool in FX:
            cells = []
            for kind, _ in KINDS:
                fx = medians.get((rtt, fx_tool, kind))
                for tool, _ in PEERS:
                    peer = medians.get((rtt, tool, kind))
                    cells.append(f"{peer / fx:.2f}" if fx and peer else "-")
            fx_big = medians.get((rtt, fx_tool, "big"))
            cells.append(f"{link_seconds / fx_big:.2f}" if fx_big and rtt != "0" else "-")
            label = "0 ms" if rtt == "0" else f"{rtt} ms"
            lines.append(f"| {label} | {dict(TOOLS)[fx_tool]} | " + " | ".join(cells) + " |")
    extra = [("filexfer-env-big", f"FileXfer big with `{meta.get('client_env', '')}`"),
             ("filexfer-base-big", f"FileXfer big, client `{meta.get('base_client', '')}`"),
             ("filexfer-dump", "FileXfer dump"), ("filexfer-z-dump", "FileXfer --compress dump"), ("rsync-z-dump", "rsync -z dump")]
    found = {(rtt, row): load(results, f"wan-{rtt}-{row}") for rtt in rtts for row, _ in extra}
    shown = [(row, title) for row, title in extra if any(found[(rtt, row)] for rtt in rtts)]
    if shown:
        lines += ["", "Further rows (--client-env, --base-client, --compressible: a SQL dump-like text file of the same size, "
                  "bench/wan/dumpgen.py), medians (min–max):", "",
                  "| round trip | FileXfer big | " + " | ".join(title for _, title in shown) + " |",
                  "|" + " --- |" * (2 + len(shown))]
        for rtt in rtts:
            big = medians.get((rtt, "filexfer", "big"))
            cells = [seconds(big) if big else "-"]
            for row, _ in shown:
                r = found[(rtt, row)]
                cells.append(f"{seconds(r['median'])} ({seconds(r['min'])}–{seconds(r['max'])})" if r else "-")
            label = "0 ms" if rtt == "0" else f"{rtt} ms"
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        plain, packed = "filexfer-dump", "filexfer-z-dump"
        for rtt in rtts:
            if found[(rtt, plain)] and found[(rtt, packed)]:
                lines.append(f"\n{rtt} ms: --compress is {found[(rtt, plain)]['median'] / found[(rtt, packed)]['median']:.2f}x "
                             "as fast as without on the dump.")
    lines += cpu_table(results, meta, rtts)
    blocks = os.path.join(results, "block-seconds.txt")
    if os.path.exists(blocks):
        spent = ", ".join(f"{r} ms: {s} s" for r, s in (l.split() for l in open(blocks)))
        lines += ["", f"Time of each block (all rounds): {spent}."]
    print("\n".join(lines))


def cpu_table(results, meta, rtts):
    """CPU seconds per GiB of the file's put at each end: the command's own (the client's; both ends for the floor,
    whose command runs its receiver too) as bench/interleave.py measured it (user + system, mean of the recorded
    rounds), and the server's from bench/wan/server-cpu.sh (median of the recorded rounds: the last --runs
    lines, after the warm-up's)."""
    gib = int(meta["size_mib"]) / 1024
    if gib == 0:
        return []  # --size-mib 0: an empty file, no CPU per GiB to tell
    runs = int(meta["runs"])
    rows = []
    for rtt in rtts:
        for tool, title in TOOLS:
            r = load(results, f"wan-{rtt}-{tool}-big")
            if r is None or "user" not in r:
                continue
            own = (r["user"] + r["system"]) / gib
            server = None
            path = os.path.join(results, f"wan-{rtt}-{tool}-big.server-cpu")
            if os.path.exists(path):
                samples = [float(l) for l in open(path) if l.strip()][-runs:]
                if samples:
                    server = statistics.median(samples) / gib
            label = "0 ms" if rtt == "0" else f"{rtt} ms"
            ends = "both ends" if tool == "floor" else "client"
            rows.append(f"| {label} | {title} | {own:.2f} ({ends}) | {f'{server:.2f}' if server is not None else '-'} | "
                        f"{own + (server or 0):.2f} |")
    if not rows:
        return []
    return ["", f"CPU seconds per GiB of the file's put (user + system; the client's from its resource usage, "
            f"the server's from /proc around each put; {os.cpu_count()} cores on this machine):", "",
            "| round trip | tool | command's own | server | total |", "| --- | --- | --- | --- | --- |"] + rows


if __name__ == "__main__":
    main()
