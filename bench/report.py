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


def goal(text, value, target, higher_is_better=True, fmt="{:.2f}x", into=goals):
    if value is None:
        return
    met = value >= target if higher_is_better else value <= target
    into.append([text, fmt.format(value), "met" if met else "not met"])


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
        "- each figure is the median of whole commands (process start to exit) after a warm-up"
        + (" (in `trees`, after one untimed read of the source instead: see its section)" if "trees" in meta.get("scenarios", "") else "")
        + "; \"vs P\" is P's median time / the row's median time (above 1: faster than P)",
    ]
    ran = meta.get("scenarios", "small,large").split(",")
    interleaved = [s for s in meta.get("interleaved", "").split(",") if s and s in ran]
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

# 6. Trees of small files (bench/trees.py): every command of each step, FileXfer against the rsync daemon.
trees_meta = json.loads(read("trees.json") or "{}")
tree_runs = {}  # (tree, step, tool) -> [(round, seconds, exit, client kib, server kib, check)]
for line in (read("trees.tsv") or "").splitlines()[1:]:
    tree, _, step, tool, rnd, seconds, code, client_kib, server_kib, check = line.split("\t")
    kib = lambda v: int(v) if v.isdigit() else None
    tree_runs.setdefault((tree, step, tool), []).append((int(rnd), float(seconds), code, kib(client_kib), kib(server_kib), check))
TREE_STEPS = [
    ("put", "put -r into an empty destination", "rsync -a push into an empty folder"),
    ("noop", "put -r again: the no-op re-run", "rsync -a push again"),
    ("get", "get -r into an empty folder", "rsync -a pull into an empty folder"),
    ("verify", "verify -r (hashes on both sides)", "rsync -a --checksum --dry-run push (nearest peer)"),
    ("hash", "hash -r (the server hashes)", None),
    ("delete", "put -r --delete --max-delete 2000", "rsync -a --delete push"),
]


def tree_peak(tree, steps, tool, column):
    values = [r[column] for s in steps for r in tree_runs.get((tree, s, tool), []) if r[column] is not None]
    return max(values) / 1024 if values else None


def in_mib(value):
    return f"{value:,.0f} MiB" if value is not None else "-"


goals13 = []
trees_done = trees_meta.get("trees", [])
fx_exits = [r[2] for (tree, step, tool), rs in tree_runs.items() if tool == "filexfer" for r in rs]
for t in trees_done:
    name, n = t["name"], t["files"]
    shape = (f"{n:,} files in {t['folders']:,} folder{'s' if t['folders'] > 1 else ''} of up to 1,000" if t["kind"] == "wide"
             else f"{n:,} files in one folder")
    rows = []
    for step, fx_label, rsync_label in TREE_STEPS:
        for tool, label in (("filexfer", fx_label), ("rsync", rsync_label)):
            runs = tree_runs.get((name, step, tool))
            if not label or not runs:
                continue
            key = f"trees-{step}-{tool}-{name}"
            peer = f"trees-{step}-rsync-{name}"
            exits = [r[2] for r in runs]
            exits_text = f"0 x{len(exits)}" if set(exits) == {"0"} else ", ".join(exits)
            checks = [r[5] for r in runs]
            bad = [str(r[0]) for r in runs if r[5] == "differs"]
            copy = "-" if set(checks) == {"-"} else (f"differs (round {', '.join(bad)})" if bad else "ok")
            client = max((r[3] for r in runs if r[3] is not None), default=None)
            server = max((r[4] for r in runs if r[4] is not None), default=None)
            if key in medians:
                seconds, count = medians[key]
                timing = [f"{seconds:.2f} s", rate(n / seconds, "files/s"), str(count), ratio(peer, seconds)]
            else:
                timing = ["-", "-", "0", "-"]
            rows.append([f"filexfer {label}" if tool == "filexfer" else label] + timing +
                        [in_mib(client / 1024 if client else None), in_mib(server / 1024 if server else None), exits_text, copy])
    lines += table(f"6. trees: {shape} ({name}), real disk, {t['rounds']} round{'s' if t['rounds'] > 1 else ''}",
                   ["measurement", "median", "rate", "runs", "vs rsync", "client peak", "server peak", "exits", "copy"], rows)
    goal(f"{name}: no-op re-run vs rsync >= 2x", speed(f"trees-noop-filexfer-{name}", f"trees-noop-rsync-{name}"), 2.0, into=goals13)
    goal(f"{name}: get -r into an empty folder vs rsync >= 1.5x", speed(f"trees-get-filexfer-{name}", f"trees-get-rsync-{name}"), 1.5, into=goals13)
    goal(f"{name}: first put -r vs rsync >= 1.0x", speed(f"trees-put-filexfer-{name}", f"trees-put-rsync-{name}"), 1.0, into=goals13)

if trees_done:
    rows = []
    for t in trees_done:
        generated = t.get("generated_seconds")
        rows.append([t["name"], f"{t['files']:,}", str(t["rounds"]),
                     f"{generated:.1f} s" if generated is not None else "cached",
                     f"{t['prepare_seconds']:.1f} s", f"{t['measure_seconds']:.0f} s",
                     f"{t['measure_seconds'] / t['rounds']:.0f} s"])
    first = trees_done[0]
    lines += table("6. trees: time on this machine", ["tree", "files", "rounds", "generation", "preparing (generation included, one read of the source)", "measuring", "per round"], rows, [
        "Measuring includes the checks of every copy and the deletions between steps. Each step runs FileXfer's "
        "command and rsync's one after the other, in the reverse order every other round, each after an untimed "
        "`sync` so that no tool pays for the writeback of the one before (caches are not dropped); medians of the "
        "runs that exited 0. \"vs rsync\" is rsync's median for the same step / the row's; verify -r is compared "
        "with `rsync -a --checksum --dry-run`, which also hashes both sides, and hash -r has no peer. Peaks are the "
        "largest over the rounds: client = GNU time's max RSS (`/usr/bin/time -f %M`); server = VmHWM of a fresh "
        "filexfer-server (default settings) started for each command, or GNU time's max RSS of the rsync daemon "
        "serving that one connection (`rsync --daemon` started on the accepted socket as inetd would, with the run's "
        "rsyncd config; the largest of its processes). \"copy\": the copy the step leaves compared with the source "
        "(names, sizes, modification times, modes, and contents of every file up to 20,000 files, else of 5,000 "
        "spread over the tree); for hash -r its lines against the files' SHA-256. Before the delete step "
        f"{first['deleted']:,} files (evenly spread) are moved out of the source, and back after it.",
        "Commands (SRC: the generated tree, GOT: an empty folder on the same disk, TREE: `trees-` and the tree's "
        "name, ADDR: the fresh server's address, PORT: the rsync daemon's):",
        "\n".join(f"- {k}: `{v}`" for k, v in first["commands"].items())])
    steps = [s for s, _, _ in TREE_STEPS]
    if fx_exits:
        goals13.insert(0, ["every FileXfer tree command exits 0", f"{sum(c != '0' for c in fx_exits)} of {len(fx_exits)} did not",
                           "met" if all(c == "0" for c in fx_exits) else "not met"])
    wide = sorted((t for t in trees_done if t["kind"] == "wide"), key=lambda t: t["files"])
    flat = [t for t in trees_done if t["kind"] == "flat"]
    for t in (wide[-1:] + flat):
        for column, who in ((3, "client"), (4, "server")):
            goal(f"{t['name']}: {who} peak < 100 MiB", tree_peak(t["name"], steps, "filexfer", column), 100, False,
                 "{:,.0f} MiB", into=goals13)
    if len(wide) > 1:
        big = wide[-1]
        ref = min(wide[:-1], key=lambda t: abs(t["files"] - 100_000))
        for column, who in ((3, "client"), (4, "server")):
            a, b = tree_peak(big["name"], steps, "filexfer", column), tree_peak(ref["name"], steps, "filexfer", column)
            goal(f"{who} peak at {big['files']:,} files / at {ref['files']:,} (flat: <= 1.25)",
                 a / b if a and b else None, 1.25, False, into=goals13)
    issue = sorted(t["files"] for t in wide) == [100_000, 1_000_000] and [t["files"] for t in flat] == [200_000]
    lines += table("Goals of issue 13 (trees; ratios in this run)", ["goal", "measured", "verdict"], goals13,
                   [] if issue else
                   ["This run used other tree sizes than issue 13's (1,000,000 and 100,000 files in folders of 1,000; "
                    "200,000 in one folder): its verdicts say nothing about the goals at those sizes."])

print("\n".join(lines).rstrip())
