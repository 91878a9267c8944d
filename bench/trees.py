#!/usr/bin/env python3
"""The `trees` scenario of bench/run.sh (issue 13): whole trees of small files, FileXfer against an rsync daemon,
on the real disk. Run by bench/run.sh, which builds the clients, writes the rsync daemon's config and reports.

    trees.py --client FX --server FXD --rsync-config CONF --rsync-root DIR --fx-root DIR --work DIR
             --cache DIR --tree-files 1000000,100000 --flat-files 200000 --runs N --big-tree-runs M
             --out RESULTS --failures FILE

Trees (generated once into --cache, reused while a marker file records the same parameters; see generate()):
`wide-N` holds N files in N/1000 folders of 1,000 (folders gGG/dDDDD, 100 folders per group), `flat-N` holds N
files in its top folder. Files are 0 to 4,096 bytes (uniform, fixed seed), mode 0644, each with its own whole
second as modification time.

Each tree gets N rounds (--runs; at most --big-tree-runs for trees of 500,000 files or more); each round runs
these steps, and each step runs FileXfer's command, then rsync's (the reverse order in odd rounds):

    put      first put -r into an empty destination   rsync -a SRC/ rsync://.../bench/T/
    noop     the same command again (nothing to do)    the same command again
    get      get -r into an empty folder               rsync -a rsync://.../bench/T/ GOT/
    verify   verify -r SRC T                           rsync -a --checksum --dry-run SRC/ rsync://.../bench/T/
    hash     hash -r T (stdout to a file)              (none)
    delete   put -r --delete --max-delete 2000 after 1,000 files are moved out of SRC
                                                       rsync -a --delete SRC/ rsync://.../bench/T/

Every timed command starts after an untimed sync(2), so that no tool pays for the writeback of the one before
(caches are not dropped). Wall time: from spawning to exit. Peaks, in KiB:
- client: GNU time's %M (`/usr/bin/time -f %M`), the largest process of the command's tree (rsync's pull forks
  a second process; the larger one counts);
- FileXfer's server: VmHWM of a fresh filexfer-server (default settings, root --fx-root) started before each
  FileXfer command and stopped after it, so the peak is that command's alone;
- rsync's daemon: for each rsync command, this script accepts the one connection on its own loopback port and
  starts `rsync --daemon --config=CONF` on it, as inetd would (rsync serves one connection on a socket given as
  stdin, with the same config and module as the run's listening daemon; the socket is the daemon's own, no
  proxy), under `/usr/bin/time -f %M`: the largest of its processes (a push's daemon side forks a generator and
  a receiver; the larger one counts).

After each transferring step the copy is compared with the source: names, types, sizes, modification times and
modes of every entry, and the contents of every file up to 20,000 files, else of every (files/5,000)th file.
`verify` is checked by its exit code, `hash -r`'s output by its line count and a sample of digests.

Writes to --out: trees-STEP-TOOL-TREE.json (hyperfine's --export-json format, times of the runs that exited 0),
trees.tsv (every command: round, seconds, exit, peaks, check), trees.json (each tree: files, folders, rounds,
generation and measuring time, the commands), and notes.txt lines; failures are appended to --failures, one
line each. Exit 0 when the scenario ran (failures included), 2 on bad arguments."""
import argparse
import concurrent.futures
import fcntl
import hashlib
import json
import os
import random
import selectors
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

GENERATOR = 1  # bump when generate() changes what it writes: cached trees are then generated again
SEED = 13
FILE_MTIME = 1_500_000_000  # file i gets FILE_MTIME + i
DIR_MTIME = 1_600_000_000
PER_FOLDER = 1000
FOLDERS_PER_GROUP = 100
DELETED = 1000
BIG = 500_000
FULL_COMPARE = 20_000
SAMPLED = 5_000
STEPS = ["put", "noop", "get", "verify", "hash", "delete"]


def log(text):
    print(f"bench: trees: {text}", file=sys.stderr, flush=True)


class Interrupted(Exception):
    pass


def on_signal(signum, frame):
    raise Interrupted(f"signal {signum}")


# ---- the trees ----

def layout(kind, files):
    """(relative folder, name) of every file, in the sorted order of a listing."""
    for i in range(files):
        if kind == "wide":
            folder = i // PER_FOLDER
            yield i, f"g{folder // FOLDERS_PER_GROUP:02d}/d{folder:04d}", f"f{i:07d}"
        else:
            yield i, "", f"f{i:07d}"


def folders_of(kind, files):
    if kind == "flat":
        return [""]
    count = (files + PER_FOLDER - 1) // PER_FOLDER
    groups = sorted({f"g{k // FOLDERS_PER_GROUP:02d}" for k in range(count)})
    return groups + [f"g{k // FOLDERS_PER_GROUP:02d}/d{k:04d}" for k in range(count)]


def generate(path, kind, files):
    """Writes the tree into PATH (which must not exist): the same bytes, names and times for the same
    parameters. A file's content is a slice of a 1 MiB random buffer at a random offset."""
    rng = random.Random(SEED)
    buffer = memoryview(rng.randbytes(1 << 20))
    old = os.umask(0o022)
    try:
        os.mkdir(path)
        for folder in folders_of(kind, files):
            if folder:
                os.mkdir(os.path.join(path, folder))
        for i, folder, name in layout(kind, files):
            size = rng.randrange(4097)
            offset = rng.randrange(len(buffer) - 4096)
            fd = os.open(os.path.join(path, folder, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
            try:
                if size and os.write(fd, buffer[offset:offset + size]) != size:
                    raise OSError(f"short write to {name}")
                os.utime(fd, ns=((FILE_MTIME + i) * 10**9,) * 2)
            finally:
                os.close(fd)
        set_folder_times(path, folders_of(kind, files))
    finally:
        os.umask(old)


def set_folder_times(path, folders):
    """Every folder's time, the top's included: deepest first (a change inside a folder sets its time)."""
    for folder in sorted(set(folders) | {""}, key=len, reverse=True):
        os.utime(os.path.join(path, folder) if folder else path, ns=(DIR_MTIME * 10**9,) * 2)


def deleted_files(kind, files):
    """The files moved out of the source before the delete step: DELETED of them, evenly spread (at most half
    the tree)."""
    count = min(DELETED, files // 2)
    stride = files // count if count else 1
    return [(folder, name) for i, folder, name in layout(kind, files) if i % stride == 0][:count]


def prepared_tree(cache, kind, files):
    """The cached tree (generated when missing or made with other parameters) and the seconds generation
    took (None when reused). The caller holds the tree's lock."""
    name = f"{kind}-{files}"
    path = os.path.join(cache, name)
    marker = path + ".params"
    params = {"kind": kind, "files": files, "per_folder": PER_FOLDER if kind == "wide" else files,
              "seed": SEED, "generator": GENERATOR}
    try:
        with open(marker) as f:
            if json.load(f) == params and os.path.isdir(path):
                return path, None
    except (OSError, ValueError):
        pass
    for stale in (marker, path, path + ".tmp", path + ".moved"):
        if os.path.isdir(stale):
            shutil.rmtree(stale)
        elif os.path.exists(stale):
            os.remove(stale)
    log(f"generating {name} ({files:,} files) in {cache}")
    started = time.perf_counter()
    generate(path + ".tmp", kind, files)
    os.rename(path + ".tmp", path)
    seconds = time.perf_counter() - started
    write_marker(marker, params)
    log(f"generated {name} in {seconds:.1f} s")
    return path, seconds


def write_marker(marker, params):
    with open(marker + ".new", "w") as f:
        json.dump(params, f)
    os.rename(marker + ".new", marker)


def read_all(path):
    """Reads every file once (untimed), so that the first command of the first round does not read the source
    colder than the second."""
    for root, dirs, names in os.walk(path):
        for name in names:
            with open(os.path.join(root, name), "rb") as f:
                while f.read(1 << 20):
                    pass


# ---- checks ----

def sorted_entries(path):
    with os.scandir(path) as it:
        return sorted(it, key=lambda e: e.name)


def compare(source, copy, files):
    """None when COPY has the entries of SOURCE (names, types, sizes, modification times, modes; contents of
    all files up to FULL_COMPARE files, else a sample), else what differs first."""
    try:
        return compare_trees(source, copy, files)
    except OSError as e:  # a folder or file that vanished or cannot be read: a wrong copy, not the end of the run
        return f"cannot compare: {e}"


def compare_trees(source, copy, files):
    stride = 1 if files <= FULL_COMPARE else files // SAMPLED
    counter = 0
    if not os.path.isdir(copy):
        return f"{copy} is missing"
    stack = [""]
    while stack:
        rel = stack.pop()
        a, b = sorted_entries(os.path.join(source, rel)), sorted_entries(os.path.join(copy, rel))
        names_a, names_b = [e.name for e in a], [e.name for e in b]
        if names_a != names_b:
            missing = sorted(set(names_a) - set(names_b))
            extra = sorted(set(names_b) - set(names_a))
            return (f"in {rel or '.'}: {len(missing)} missing ({', '.join(missing[:3])}), "
                    f"{len(extra)} extra ({', '.join(extra[:3])})")
        subfolders = []
        for x, y in zip(a, b):
            path = os.path.join(rel, x.name)
            sx, sy = x.stat(follow_symlinks=False), y.stat(follow_symlinks=False)
            if x.is_dir(follow_symlinks=False) != y.is_dir(follow_symlinks=False):
                return f"{path}: a folder on one side only"
            if x.is_dir(follow_symlinks=False):
                subfolders.append(path)
                continue
            if not y.is_file(follow_symlinks=False):
                return f"{path}: not a regular file in the copy"
            if (sx.st_size, sx.st_mtime_ns, sx.st_mode & 0o7777) != (sy.st_size, sy.st_mtime_ns, sy.st_mode & 0o7777):
                return (f"{path}: size, mtime (ns), mode {sx.st_size}, {sx.st_mtime_ns}, {sx.st_mode & 0o7777:o} "
                        f"in the source, {sy.st_size}, {sy.st_mtime_ns}, {sy.st_mode & 0o7777:o} in the copy")
            if counter % stride == 0:
                with open(x.path, "rb") as f, open(y.path, "rb") as g:
                    if f.read() != g.read():
                        return f"{path}: contents differ"
            counter += 1
        stack.extend(reversed(subfolders))
    return None


def check_manifest(source, manifest, files):
    """None when MANIFEST (hash -r's output) has one line per file of SOURCE and a sample of its digests are
    the files' SHA-256."""
    stride = 1 if files <= FULL_COMPARE else files // SAMPLED
    count = 0
    try:
        with open(manifest, encoding="utf-8") as f:
            for line in f:
                digest, sep, path = line.rstrip("\n").partition("  ")
                if not sep:
                    return f"line {count + 1} is not '<hex>  <path>'"
                if count % stride == 0:
                    with open(os.path.join(source, path), "rb") as g:
                        if hashlib.sha256(g.read()).hexdigest() != digest:
                            return f"{path}: the digest differs from the source's SHA-256"
                count += 1
    except OSError as e:
        return f"cannot read the output: {e}"
    return None if count == files else f"{count:,} lines for {files:,} files"


# ---- processes ----

def peak_kib(path):
    """The last line of GNU time's -o file (%M), or None."""
    try:
        with open(path) as f:
            lines = [l.strip() for l in f if l.strip()]
        return int(lines[-1]) if lines and lines[-1].isdigit() else None
    except OSError:
        return None


def timed(argv, stdout, stderr, timeout, rss_file):
    """Runs ARGV under GNU time, in a session of its own; returns (exit code or 'timeout', wall seconds, peak
    KiB or None)."""
    if os.path.exists(rss_file):
        os.remove(rss_file)  # not a previous command's figure when this one leaves none
    with open(stdout, "wb") if stdout else open(os.devnull, "wb") as out, open(stderr, "ab") as err:
        started = time.perf_counter()
        process = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", rss_file, *argv], stdin=subprocess.DEVNULL,
                                   stdout=out, stderr=err, start_new_session=True)
        try:
            code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            code = "timeout"
        except BaseException:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
        seconds = time.perf_counter() - started
    return code, seconds, peak_kib(rss_file)


class Server:
    """A fresh filexfer-server with default settings: started before a FileXfer command, stopped after it."""

    def __init__(self, binary, root, out_dir):
        self.binary, self.root, self.out_dir = binary, root, out_dir
        self.process = None

    def start(self, name):
        out = os.path.join(self.out_dir, "work", "trees-server.out")
        with open(out, "wb") as o, open(os.path.join(self.out_dir, f"server-trees-{name}.log"), "ab") as e:
            self.process = subprocess.Popen([self.binary, "--root", self.root, "--listen", "127.0.0.1:0"],
                                            stdin=subprocess.DEVNULL, stdout=o, stderr=e, start_new_session=True)
        for _ in range(400):
            with open(out) as f:
                for line in f:
                    if line.startswith("listening on "):
                        return line.split(" ", 2)[2].strip()
            if self.process.poll() is not None:
                break
            time.sleep(0.025)
        self.stop()
        raise RuntimeError(f"filexfer-server did not start (see server-trees-{name}.log)")

    def stop(self):
        """Returns (VmHWM in KiB or None, exit code of the server after SIGTERM)."""
        if self.process is None:
            return None, None
        peak = None
        try:
            with open(f"/proc/{self.process.pid}/status") as f:
                peak = next((int(l.split()[1]) for l in f if l.startswith("VmHWM:")), None)
        except OSError:
            pass
        self.process.terminate()
        try:
            code = self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self.process = None
        return peak, code


class RsyncDaemon:
    """Serves one rsync connection at a time, as inetd would: accepts it on its own port and starts
    `rsync --daemon` on the socket under GNU time, to get that connection's peak memory."""

    def __init__(self, config, out_dir):
        self.config, self.out_dir = config, out_dir
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.thread = None
        self.process = None

    def serve_one(self, rss_file):
        self.stopped = threading.Event()
        self.result = {"code": None, "kib": None, "accepted": False}
        self.rss_file = rss_file
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        selector = selectors.DefaultSelector()
        selector.register(self.listener, selectors.EVENT_READ)
        # Readiness first: a client that connected and then exited still leaves its connection to serve.
        while not selector.select(0.1):
            if self.stopped.is_set():
                selector.close()
                return
        selector.close()
        if os.path.exists(self.rss_file):
            os.remove(self.rss_file)
        connection, _ = self.listener.accept()
        self.result["accepted"] = True
        with connection, open(os.path.join(self.out_dir, "rsyncd-trees.stderr"), "ab") as err:
            self.process = subprocess.Popen(
                ["/usr/bin/time", "-f", "%M", "-o", self.rss_file, "rsync", "--daemon", f"--config={self.config}"],
                stdin=connection.fileno(), stdout=connection.fileno(), stderr=err, start_new_session=True)
        code = self.process.wait()
        self.result.update(code=code, kib=peak_kib(self.rss_file))

    def finish(self, timeout=120):
        """After the client exited: waits for the daemon's side of the connection; returns (peak KiB, exit)."""
        self.stopped.set()
        self.thread.join(timeout)
        if self.thread.is_alive() and self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.thread.join()
        self.process = None
        return self.result["kib"], self.result["code"]

    def kill(self):
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)


# ---- the scenario ----

def remove(path, workers=8, chunk=500):
    """Deletes a file or a tree. A tree's files are unlinked by WORKERS threads at once: on the project's VM one
    unlink after the other deleted 100,000 files in 140 s (a million in 17 minutes), eight at once in 16 s."""
    if not os.path.isdir(path) or os.path.islink(path):
        if os.path.lexists(path):
            os.remove(path)
        return
    def unlink_all(names):
        for name in names:
            os.unlink(name)
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        pending, batch = [], []
        for root, dirs, files in os.walk(path):
            batch.extend(os.path.join(root, f) for f in files)
            while len(batch) >= chunk:
                pending.append(pool.submit(unlink_all, batch[:chunk]))
                del batch[:chunk]
                if len(pending) >= 4 * workers:  # a bounded queue: the paths of a million files are not all held
                    pending.pop(0).result()
        pending.append(pool.submit(unlink_all, batch))
        for future in pending:
            future.result()
    shutil.rmtree(path)  # the folders, and anything left


class Scenario:
    """The state of one run of the scenario: the options, the peers, and the files moved out of a tree."""

    def __init__(self, o):
        self.o = o
        self.server = Server(o.server, o.fx_root, o.out)
        self.daemon = RsyncDaemon(o.rsync_config, o.out)
        self.fx = [o.client, "-q"]
        self.rsyncd = f"rsync://127.0.0.1:{self.daemon.port}/bench"
        self.moved = None  # (source, stash, files) while files are moved out of a cached tree
        self.table = os.path.join(o.out, "trees.tsv")
        self.summary = {"trees": []}
        with open(self.table, "w") as f:
            f.write("tree\tfiles\tstep\ttool\tround\tseconds\texit\tclient_kib\tserver_kib\tcheck\n")

    def fail(self, text):
        log(f"FAILED: {text}")
        with open(self.o.failures, "a") as f:
            print(text, file=f)

    def note(self, text):
        with open(os.path.join(self.o.out, "notes.txt"), "a") as f:
            print(text, file=f)

    def close(self):
        self.server.stop()
        self.daemon.kill()
        if self.moved is not None:
            restore(self.moved, None, None)  # the marker stays away: the next run generates the tree again
            self.moved = None

    def tree(self, kind, files):
        o = self.o
        name = f"{kind}-{files}"
        # Space: the source, FileXfer's and rsync's stored copies and one received copy at once, a 4 KiB block per
        # file (ext4), plus 5 GiB to spare; inodes likewise.
        need_mib = 4 * files * 4 // 1024 + 5 * 1024
        need_inodes = 4 * (files + len(folders_of(kind, files))) + 100_000
        disk = os.statvfs(o.work)
        free_mib = disk.f_bavail * disk.f_frsize // (1 << 20)
        if free_mib < need_mib or disk.f_favail < need_inodes:
            text = (f"trees {name}: skipped, {free_mib:,} MiB and {disk.f_favail:,} inodes free on {o.work}; "
                    f"it needs {need_mib:,} MiB and {need_inodes:,} inodes")
            log(text)
            self.note(text)
            return
        rounds = o.runs if files < BIG else min(o.runs, o.big_tree_runs)
        timeout = 300 + files * 0.005
        with open(os.path.join(o.cache, name + ".lock"), "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log(f"{name}: another run uses the cached tree; waiting for it")
                fcntl.flock(lock, fcntl.LOCK_EX)
            started = time.perf_counter()
            source, generated = prepared_tree(o.cache, kind, files)
            log(f"{name}: reading the source once (untimed)")
            read_all(source)
            ready = time.perf_counter()
            remote = f"trees-{name}"
            got = os.path.join(o.work, "got", remote)
            commands = self.commands(source, remote, got)
            records = self.rounds(name, kind, files, rounds, timeout, source, remote, got, commands)
            done = time.perf_counter()

        for (step, tool), rows in records.items():
            times = [seconds for seconds, code in rows if code == 0]
            if not times:
                continue
            result = {"command": shlex.join(commands[(step, tool)]), "mean": statistics.mean(times),
                      "stddev": statistics.stdev(times) if len(times) > 1 else None,
                      "median": statistics.median(times), "min": min(times), "max": max(times),
                      "times": times, "exit_codes": [0] * len(times)}
            with open(os.path.join(o.out, f"trees-{step}-{tool}-{name}.json"), "w") as f:
                json.dump({"results": [result]}, f, indent=2)
        self.summary["trees"].append({
            "name": name, "kind": kind, "files": files,
            "folders": (files + PER_FOLDER - 1) // PER_FOLDER if kind == "wide" else 1,
            "rounds": rounds, "deleted": len(deleted_files(kind, files)), "generated_seconds": generated,
            "prepare_seconds": ready - started, "measure_seconds": done - ready, "timeout_seconds": timeout,
            "source": source, "received": got,
            # The commands, with the paths that change between runs and trees as placeholders.
            "commands": {f"{step} {tool}": shlex.join(template(argv, o.client, source, got, remote, self.daemon.port))
                         for (step, tool), argv in sorted(commands.items(), key=lambda c: STEPS.index(c[0][0]))},
        })
        with open(os.path.join(o.out, "trees.json"), "w") as f:
            json.dump(self.summary, f, indent=1)

    def commands(self, source, remote, got):
        fx, url = self.fx, f"{self.rsyncd}/{remote}/"
        commands = {
            ("put", "filexfer"): fx + ["-s", "ADDR", "put", "-r", source, remote],
            ("put", "rsync"): ["rsync", "-a", source + "/", url],
            ("get", "filexfer"): fx + ["-s", "ADDR", "get", "-r", remote, got],
            ("get", "rsync"): ["rsync", "-a", url, got + "/"],
            ("verify", "filexfer"): fx + ["-s", "ADDR", "verify", "-r", source, remote],
            ("verify", "rsync"): ["rsync", "-a", "--checksum", "--dry-run", source + "/", url],
            ("hash", "filexfer"): fx + ["-s", "ADDR", "hash", "-r", remote],
            ("delete", "filexfer"): fx + ["-s", "ADDR", "put", "-r", "--delete", "--max-delete", "2000", source, remote],
            ("delete", "rsync"): ["rsync", "-a", "--delete", source + "/", url],
        }
        commands[("noop", "filexfer")] = commands[("put", "filexfer")]
        commands[("noop", "rsync")] = commands[("put", "rsync")]
        return commands

    def rounds(self, name, kind, files, rounds, timeout, source, remote, got, commands):
        """Runs the rounds; returns {(step, tool): [(seconds, exit code)]}."""
        o = self.o
        fx_copy, rsync_copy = os.path.join(o.fx_root, remote), os.path.join(o.rsync_root, remote)
        manifest = os.path.join(o.work, f"trees-{name}.sha256")
        marker = source + ".params"
        with open(marker) as f:
            params = json.load(f)
        gone = deleted_files(kind, files)
        records = {}
        for path in (fx_copy, rsync_copy, got):
            remove(path)
        os.makedirs(os.path.dirname(got), exist_ok=True)
        for r in range(rounds):
            order = ["filexfer", "rsync"] if r % 2 == 0 else ["rsync", "filexfer"]
            round_started = time.perf_counter()
            for step in STEPS:
                expect = files
                if step == "delete":
                    # 1,000 files leave the source (renamed into a stash beside it, on the same file system); the
                    # marker goes first, so that an interrupted run leaves a tree that is generated again.
                    os.remove(marker)
                    self.moved = (source, source + ".moved", gone)
                    for folder, file in gone:
                        os.makedirs(os.path.join(source + ".moved", folder), exist_ok=True)
                        os.rename(os.path.join(source, folder, file), os.path.join(source + ".moved", folder, file))
                    expect = files - len(gone)
                for tool in order:
                    if (step, tool) not in commands:
                        continue
                    label = f"{name} {step} {tool} (round {r + 1} of {rounds})"
                    if step == "get":
                        remove(got)
                        os.mkdir(got)
                    code, seconds, client_kib, server_kib = self.run(name, step, tool, label, commands[(step, tool)],
                                                                     manifest if step == "hash" else None, timeout)
                    # The copy this step leaves, compared with the source.
                    problem = None
                    if step in ("put", "noop", "delete"):
                        problem = compare(source, fx_copy if tool == "filexfer" else rsync_copy, expect)
                    elif step == "get":
                        problem = compare(source, got, expect)
                        remove(got)
                    elif step == "hash":
                        problem = check_manifest(source, manifest, files)
                        remove(manifest)
                    check = "-" if step == "verify" else "ok" if problem is None else "differs"
                    if problem:
                        self.fail(f"trees {label}: the copy differs from the source: {problem}")
                    records.setdefault((step, tool), []).append((seconds, code))
                    with open(self.table, "a") as f:
                        f.write(f"{name}\t{files}\t{step}\t{tool}\t{r + 1}\t{seconds:.3f}\t{code}\t"
                                f"{client_kib if client_kib is not None else '-'}\t"
                                f"{server_kib if server_kib is not None else '-'}\t{check}\n")
                if step == "delete":
                    restore(self.moved, kind, files)
                    self.moved = None
                    write_marker(marker, params)
            for path in (fx_copy, rsync_copy, got):
                remove(path)
            log(f"{name}: round {r + 1} of {rounds} took {time.perf_counter() - round_started:.1f} s")
        return records

    def run(self, name, step, tool, label, argv, stdout, timeout):
        """One timed command with its fresh server or daemon; returns (exit code, seconds, client KiB, server
        KiB). A command that could not run gets a non-numeric exit code, and a failure line."""
        o = self.o
        if tool == "filexfer":
            try:
                address = self.server.start(f"{name}-{step}")
            except (OSError, RuntimeError) as e:
                self.fail(f"trees {label}: no figure: {e}")
                return "no-server", 0.0, None, None
            argv = [address if a == "ADDR" else a for a in argv]
        else:
            self.daemon.serve_one(os.path.join(o.out, "work", "trees-daemon.time"))
        os.sync()
        log(label)
        stderr = f"trees-{step}-{tool}-{name}.stderr"
        try:
            code, seconds, client_kib = timed(argv, stdout, os.path.join(o.out, stderr), timeout,
                                              os.path.join(o.out, "work", "trees-client.time"))
        finally:
            if tool == "filexfer":
                server_kib, server_code = self.server.stop()
            else:
                server_kib, server_code = self.daemon.finish()
        if code != 0:
            self.fail(f"trees {label}: " + (f"killed after {timeout:.0f} s" if code == "timeout" else f"exited {code}")
                      + f"; no figure (see {stderr})")
        if server_code not in (0, None):
            self.fail(f"trees {label}: " + (f"the server's exit code was {server_code}, 0 expected when it is stopped "
                      f"after the command (see server-trees-{name}-{step}.log)"
                      if tool == "filexfer" else f"rsync's daemon side exited {server_code} (see rsyncd-trees.stderr and rsyncd-disk.log)"))
        return code, seconds, client_kib, server_kib


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for option in ("client", "server", "rsync-config", "rsync-root", "fx-root", "work", "cache", "out", "failures"):
        parser.add_argument("--" + option, required=True)
    parser.add_argument("--tree-files", default="1000000,100000")
    parser.add_argument("--flat-files", default="200000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--big-tree-runs", type=int, default=2)
    o = parser.parse_args()
    try:
        wide = [int(x) for x in o.tree_files.split(",") if x.strip()]
        flat = [int(x) for x in o.flat_files.split(",") if x.strip()]
    except ValueError:
        parser.error("--tree-files and --flat-files take numbers separated by commas")
    if any(n < 2 or n > 9_999_999 for n in wide + flat) or o.runs < 1 or o.big_tree_runs < 1:
        parser.error("tree sizes must be 2 to 9,999,999 files, --runs and --big-tree-runs at least 1")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    os.makedirs(o.cache, exist_ok=True)
    os.makedirs(os.path.join(o.out, "work"), exist_ok=True)

    scenario = Scenario(o)
    try:
        for kind, files in [("wide", n) for n in wide] + [("flat", n) for n in flat]:
            try:
                scenario.tree(kind, files)
            except (OSError, RuntimeError, ValueError) as e:
                # A tree that cannot be generated, moved or compared: reported, and the next tree goes on.
                scenario.fail(f"trees {kind}-{files}: stopped: {e!r}")
                scenario.close()
    except Interrupted as e:
        log(f"interrupted ({e})")
        return 130
    finally:
        scenario.close()
    return 0


def template(argv, client, source, got, remote, port):
    """ARGV with the client's path as `filexfer`, the tree's paths and name and the daemon's port as SRC, GOT, TREE
    and PORT."""
    words = []
    for word in argv:
        if word == client:
            word = "filexfer"
        for value, placeholder in ((source, "SRC"), (got, "GOT"), (f":{port}/", ":PORT/"), (remote, "TREE")):
            word = word.replace(value, placeholder)
        words.append(word)
    return words


def restore(moved, kind, files):
    source, stash, gone = moved
    for folder, file in gone:
        if os.path.exists(os.path.join(stash, folder, file)):
            os.rename(os.path.join(stash, folder, file), os.path.join(source, folder, file))
    shutil.rmtree(stash, ignore_errors=True)
    if kind is not None:
        set_folder_times(source, folders_of(kind, files))


if __name__ == "__main__":
    sys.exit(main())
