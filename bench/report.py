#!/usr/bin/env python3
"""Writes the benchmark report (Markdown) for one results directory of bench/run.sh: a header with the
machine, date, commit and command line, one table per scenario with medians, rates and ratios against
the peers measured in the same run, memory in MiB, and the issue's goals checked against those ratios.

A ratio "vs P" is P's median time divided by the row's median time: above 1 the row is faster than P.
The JSON files are hyperfine's (--export-json) or bench/interleave.py's, which writes the same format; only
results[0].times is read."""
import json
import os
import statistics
import sys

MIB = 1024 * 1024
results = sys.argv[1] if len(sys.argv) > 1 else "."
meta = {}
if os.path.exists(os.path.join(results, "meta.json")):
    with open(os.path.join(results, "meta.json")) as f:
        meta = json.load(f)

medians = {}
fastest = {}
for name in sorted(os.listdir(results)):
    if name.endswith(".json") and name != "meta.json":
        try:
            with open(os.path.join(results, name)) as f:
                times = json.load(f)["results"][0]["times"]
        except (ValueError, KeyError, IndexError):
            continue  # hyperfine stopped at a failed run: run.sh lists it in failed.txt
        if not times:
            continue
        medians[name[:-5]] = (statistics.median(times), len(times))
        fastest[name[:-5]] = min(times)


def number(name, default):
    try:
        return int(meta.get(name, default))
    except ValueError:
        return default


files = number("files", 5000)
size_mib = number("size_mib", 1024)
clients = number("clients", 32)
client_mib = number("client_mib", 32)
algorithms = [a for a in meta.get("algorithms", "").split(",") if a]
client_build = {"aot": "Native AOT", "readytorun": "ReadyToRun"}.get(meta.get("client_build", "aot"), "?")


def read(name):
    path = os.path.join(results, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return f.read().strip()


def server_peak(key):
    kib = read(f"server-peak-{key}.kib")
    return f"{int(kib) / 1024:,.0f} MiB" if kib else "-"


def ratio(peer, seconds):
    return f"{medians[peer][0] / seconds:.2f}x" if peer in medians else "-"


def rate(value, unit):
    return f"{value:,.2f} {unit}" if value < 100 else f"{value:,.0f} {unit}"


def table(title, header, rows, notes=()):
    rows = [r for r in rows if r]
    if not rows:
        return []
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines + [""] + [line for n in notes for line in (n, "")]


def timed_row(label, key, amount, unit, peers):
    if key not in medians:
        return None
    seconds, n = medians[key]
    return [label, f"{seconds:.3f} s", rate(amount / seconds, unit), str(n)] + [ratio(p, seconds) for p in peers]


goals = []


def goal(text, value, target, higher_is_better=True, fmt="{:.2f}x"):
    if value is None:
        return
    met = value >= target if higher_is_better else value <= target
    goals.append([text, fmt.format(value), "met" if met else "not met"])


def speed(row, peer):
    return medians[peer][0] / medians[row][0] if row in medians and peer in medians else None


lines = ["# FileXfer benchmark", ""]
failures = read("failed.txt")
if failures:
    lines += ["**Failed in this run** (no figure, or a wrong copy):", ""] + [f"- {l}" for l in failures.splitlines()] + [""]
if meta:
    lines += [
        f"- date: {meta.get('date')}; commit {meta.get('commit')}",
        f"- machine: {meta.get('nproc')} cores ({meta.get('cpu')}), {meta.get('memory_gib')} GiB, Linux {meta.get('kernel')}",
        f"- command: `{meta.get('command')}`",
        f"- client: {client_build} (`bench/out/client`), server: ReadyToRun (`bench/out/server`); default settings "
        "(SHA-256 verified end to end) unless the row names `--algorithm`",
        "- each figure is the median of whole commands (process start to exit) after a warm-up; "
        "\"vs P\" is P's median time / the row's median time (above 1: faster than P)",
    ]
    interleaved = [s for s in meta.get("interleaved", "").split(",") if s]
    if interleaved:
        lines.append(f"- rows of the {' and '.join(f'`{s}`' for s in interleaved)} scenarios are interleaved "
                     "(`bench/interleave.py`): after one warm-up round, each round runs every tool's command once "
                     "(put, then get, then that tool's copies are checked and deleted), the order of the tools "
                     "reversed every other round; so \"runs\" is the number of rounds, and a burst of load on "
                     "the machine lands on every tool of a round, not on one tool's runs. Other scenarios run "
                     "one measurement (hyperfine) after the other")
    lines.append("")
notes = read("notes.txt")
if notes:
    lines += [f"Note: {n}" for n in notes.splitlines()] + [""]

for storage in ("tmpfs", "disk"):
    k = lambda scenario, op, tool: f"{scenario}-{op}-{tool}-{storage}"

    size = size_mib * MIB / 1e9
    socat = k("large", "put", "socat")
    for op in ("put", "get"):
        peers = [k("large", op, p) for p in ("rsync", "scp", "nginx")] + [socat]
        floor = k("large", op, "floor")
        tools = [("filexfer", "filexfer")] + [(f"filexfer_{a}", f"filexfer --algorithm {a}") for a in algorithms] + [
            ("rsync", "rsync daemon"), ("scp", "scp (private sshd)"), ("nginx", "curl, nginx WebDAV" if op == "put" else "curl, nginx")]
        if op == "put":
            tools.append(("socat", "raw socat pipe"))
        tools.append(("floor", "floor (C, SHA-256 both ends)" if op == "put" else "floor (C, sender sendfile)"))
        rows = []
        for tool, label in tools:
            row = timed_row(f"{op} {label}", k("large", op, tool), size, "GB/s", peers)
            if row:
                # Only FileXfer's default (SHA-256) rows do the floor's work: the others skip or change it.
                rows.append(row + [ratio(floor, medians[k("large", op, tool)][0]) if tool == "filexfer" else "-"])
        notes = []
        if floor in medians:
            notes.append("The floor: a C program doing only recv/send, SHA-256 on a second thread, pwrite, fsync: the "
                         "most a verified transfer can do here (`bench/floor/floor.c`: 1 MiB buffers in a ring of 4, "
                         "the file's size first, the receiver's digest back, writeback started every 8 MiB as FileXfer does, "
                         "rename and directory fsync; "
                         + ("both ends hash" if op == "put" else "the sender sends the stored file with sendfile(2) and "
                            "does not hash: it sends the digest recorded when the file was received, as FileXfer's server "
                            "sends a stored hash on a get (FileXfer sends to a loopback peer through a buffer instead)") +
                         "). \"vs floor\" (FileXfer's default row only) is the floor's median / FileXfer's, like the "
                         "other ratios: 1 is as fast as the floor, below 1 is the distance to it.")
        if op == "get":
            notes.append(f"The socat pipe runs one way (file → TCP → file); get rows are compared with the same pipe. "
                         f"FileXfer server peak memory in this scenario: {server_peak('large-' + storage)}.")
        lines += table(
            f"1{'ab'[op == 'get']}. one {size_mib:,} MiB file, {op}, {storage}",
            ["measurement", "median", "rate", "runs", "vs rsync", "vs scp", "vs nginx", "vs socat pipe", "vs floor"],
            rows, notes)
        row = k("large", op, "filexfer")
        goal(f"{size_mib:,} MiB {op} vs rsync ({storage}) >= 1.5x", speed(row, peers[0]), 1.5)
        goal(f"{size_mib:,} MiB {op} vs scp ({storage}) >= 2.5x", speed(row, peers[1]), 2.5)
        goal(f"{size_mib:,} MiB {op} vs socat pipe ({storage}) >= 0.6x", speed(row, socat), 0.6)
        for a in algorithms:
            goal(f"{size_mib:,} MiB {op} --algorithm {a} vs socat pipe ({storage}) >= 0.9x", speed(k("large", op, f"filexfer_{a}"), socat), 0.9)

    peers = [k("small", "put", "rsync")]
    get_peers = [k("small", "get", "rsync")]
    lines += table(
        f"2. {files:,} files of 4 KiB, {storage}",
        ["measurement", "median", "rate", "runs", "vs rsync"],
        [timed_row("put -r, filexfer", k("small", "put", "filexfer"), files, "files/s", peers),
         timed_row("put -r, rsync daemon", k("small", "put", "rsync"), files, "files/s", peers),
         timed_row("get -r, filexfer", k("small", "get", "filexfer"), files, "files/s", get_peers),
         timed_row("get -r, rsync daemon", k("small", "get", "rsync"), files, "files/s", get_peers)],
        [f"FileXfer server peak memory in this scenario: {server_peak('small-' + storage)}."])
    goal(f"small put -r vs rsync ({storage}) >= 1x", speed(k("small", "put", "filexfer"), peers[0]), 1.0)
    goal(f"small get -r vs rsync ({storage}) >= 1x", speed(k("small", "get", "filexfer"), get_peers[0]), 1.0)

    rows = []
    peers = [k("concurrent", "put", p) for p in ("rsync", "nginx")]
    for tool, label in (("filexfer", "filexfer"), ("rsync", "rsync daemon"), ("nginx", "curl, nginx WebDAV")):
        key = k("concurrent", "put", tool)
        if key not in medians:
            continue
        seconds, n = medians[key]
        counts = [int(x) for x in (read(f"concurrent-{tool}-{storage}.failures") or "").split()]
        failures = f"{sum(counts)} of {len(counts) * clients}" if counts else "?"
        peak = server_peak("concurrent-" + storage) if tool == "filexfer" else "-"
        rows.append([label, f"{seconds:.3f} s", rate(clients * client_mib / seconds, "MiB/s"), str(n), failures, peak]
                    + [ratio(p, seconds) for p in peers])
        if tool == "filexfer":
            goal(f"{clients} clients: no failure ({storage})", sum(counts) if counts else None, 0, False, "{} failures")
            kib = read(f"server-peak-concurrent-{storage}.kib")
            goal(f"{clients} clients: server peak < 300 MiB ({storage})", int(kib) / 1024 if kib else None, 300, False, "{:,.0f} MiB")
    lines += table(
        f"3. {clients} clients at once, each putting its own {client_mib} MiB file, {storage}",
        ["measurement", "median wall", "aggregate", "runs", "failures (transfers, warm-up included)", "server peak", "vs rsync", "vs nginx"],
        rows, ["Aggregate = clients x size / median wall time. rsync's daemon forks per connection and nginx is "
               "shared by the whole run: only FileXfer's server peak (VmHWM of a server started for this scenario) is shown."])

    peers = [k("startup", "put", p) for p in ("nginx", "rsync", "scp")]
    rows = []
    for tool, label in (("filexfer", f"filexfer ({client_build})"), ("filexfer_jit", "filexfer (JIT, dotnet apphost)"),
                        ("nginx", "curl PUT, nginx"), ("rsync", "rsync daemon"), ("scp", "scp (private sshd)")):
        key = k("startup", "put", tool)
        if key in medians:
            seconds, n = medians[key]
            rows.append([label, f"{seconds * 1000:.1f} ms", f"{fastest[key] * 1000:.1f} ms", str(n)] + [ratio(p, seconds) for p in peers])
    lines += table(f"4. one 4 KiB put, whole process, {storage}", ["measurement", "median", "fastest", "runs", "vs curl", "vs rsync", "vs scp"], rows,
                   ["FileXfer's server makes the file durable (fsync) before it answers; nginx, the rsync daemon and scp do not."] if rows else [])
    key = k("startup", "put", "filexfer")
    if key in medians:
        goal(f"one small put < 10 ms ({storage})", medians[key][0] * 1000, 10, False, "{:.1f} ms")
        curl = speed(key, peers[0])
        goal(f"one small put within 1.5x of curl PUT ({storage})", 1 / curl if curl else None, 1.5, False, "{:.2f}x curl's time")

memory = read("memory.tsv")
if memory:
    rows = []
    peaks = {}
    for line in memory.splitlines()[1:]:
        mib, op, seconds, client_kib, server_kib, code, note = (line.split("\t") + [""] * 7)[:7]
        if note:
            rows.append([f"{int(mib):,} MiB", "-", "-", "-", "-", "-", note])
            continue
        client, server = int(client_kib) / 1024, int(server_kib) / 1024
        peaks.setdefault(int(mib), []).append(max(client, server))
        rows.append([f"{int(mib):,} MiB", op, f"{float(seconds):.2f} s", f"{client:,.0f} MiB", f"{server:,.0f} MiB", code, ""])
    lines += table("5. peak memory while moving one file (real disk, a fresh server per step, single runs)",
                   ["size", "op", "wall", "client peak (max RSS)", "server peak (VmHWM)", "exit", "note"], rows)
    for mib, values in sorted(peaks.items()):
        goal(f"{mib:,} MiB: every process under 100 MiB", max(values), 100, False, "{:,.0f} MiB")
    if len(peaks) > 1:
        small, large = min(peaks), max(peaks)
        goal(f"peak at {large:,} MiB / peak at {small:,} MiB (flat: <= 1.1)", max(peaks[large]) / max(peaks[small]), 1.1, False)

if goals:
    memory_mib = str(meta.get("memory_mib", "1024,10240"))
    issue_sizes = (files, size_mib, clients, client_mib) == (5000, 1024, 32, 32) and memory_mib == "1024,10240"
    lines += table("Goals of issue 6 (ratios in this run)", ["goal", "measured", "verdict"], goals,
                   [] if issue_sizes else
                   ["This run used other sizes than issue 6's (1,024 MiB; 5,000 files; 32 clients of 32 MiB; "
                    "memory at 1,024 and 10,240 MiB): its verdicts say nothing about the goals at those sizes."])

print("\n".join(lines).rstrip())
