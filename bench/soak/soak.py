#!/usr/bin/env python3
"""FileXfer's soak under faults (issue 15).

Publishes (or takes) the server and the client, starts the server on a root on the real disk, puts the
fault proxy (proxy.py) between them, and runs several client workers doing random operations on a shared
namespace of a few hundred paths while the server is killed (-9) and restarted at random. A checker keeps
the history of every operation and verifies what the gets saw during the run and the root's state at the
end (after a final clean restart) against it. One summary line a minute, a final report, exit 1 on any
violation.

    bench/soak/soak.py [--minutes 10] [--workers 5] [--out /var/tmp/filexfer-soak] [--no-build]

The model. An operation is acknowledged when the client reported it done: a put whose JSON line says
`transferred` (with the hash of what we sent), an `rm` that exited 0. Any other outcome (failed, cut,
retried out, killed) may or may not have happened; its effect may land until GRACE seconds after the client
exited (the server can still be committing a body it holds). Each operation has a window [start, end] (the
client's launch and exit; end + GRACE for the unacknowledged ones).
  - end state: a path's content (or its absence) must be the value of an operation W on it (or the initial
    absence) that no acknowledged operation B provably followed (B.start > W.end);
  - a get that returned value v (a content, or "not found") in [s, e] must be explained by an operation W of
    that value that could have taken effect before e (W.start < e) and that no acknowledged operation B
    provably replaced before the get began (W.end < B.start and B.end < s);
  - every file under a real name holds a content that was put to that path (no partial, empty or foreign
    file), and the staging area holds nothing but `.resume` partials whose bytes are a prefix of a content
    that was put.
"""
import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

GRACE = 30.0            # seconds an unacknowledged operation may still take effect after its client exited
CLIENT_TIMEOUT = 600    # a client command running longer than this is killed and reported as hung
NEG_INF = float("-inf")
POS_INF = float("inf")

FILES = [f"f/d{d}/n{n:02d}" for d in range(8) for n in range(30)]
TREE_ROOTS = [f"t/T{k}" for k in range(8)]
TREE_FILES = ["a", "b", "c", "s/d", "s/e", "s/u/g"]
TREE_PATHS = [f"{r}/{f}" for r in TREE_ROOTS for f in TREE_FILES]
ALL_PATHS = FILES + TREE_PATHS
ABSENT = "absent"


def content_for(opid, path, size):
    """The bytes of write `opid`: a header naming it, then bytes drawn from its own seed (regenerable)."""
    header = f"SOAK op={opid} path={path} size={size}\n".encode()
    if size <= len(header):
        return header[:size]
    return header + random.Random(opid).randbytes(size - len(header))


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def fmt_t(t):
    return f"{int(t // 60):02d}:{int(t % 60):02d}"


class Op:
    """One effect (a write of a content, or a delete) or one observation (a get's result) on one path."""
    __slots__ = ("id", "kind", "path", "value", "start", "end", "status", "cmd", "size")

    def __init__(self, id, kind, path, value, start, cmd, size=0):
        self.id, self.kind, self.path, self.value, self.start, self.cmd, self.size = id, kind, path, value, start, cmd, size
        self.end = None          # None while in flight
        self.status = "inflight"  # acked | maybe | (for reads) seen


class History:
    def __init__(self):
        self.lock = threading.Lock()
        self.effects = {p: [] for p in ALL_PATHS}   # writes and deletes per path
        self.reads = []                              # observations
        self.by_hash = {}                            # content hash -> [write ops]
        self.next_id = 1
        self.counts = {}                             # (command kind, outcome) -> n
        self.anomalies = []
        self.violations = []
        self.acked = 0
        self.large_ops = {}                          # opid -> (path, size) of writes >= 16 MiB

    def new_id(self):
        with self.lock:
            i = self.next_id
            self.next_id += 1
            return i

    def add_effect(self, op):
        with self.lock:
            self.effects[op.path].append(op)
            if op.kind == "put":
                self.by_hash.setdefault(op.value, []).append(op)

    def finish_effect(self, op, acked, end):
        with self.lock:
            op.status = "acked" if acked else "maybe"
            op.end = end if acked else end + GRACE
            if acked:
                self.acked += 1

    def add_read(self, path, value, start, end, cmd):
        op = Op(0, "get", path, value, start, cmd)
        op.end = end
        op.status = "seen"
        with self.lock:
            self.reads.append(op)

    def count(self, kind, outcome):
        with self.lock:
            self.counts[(kind, outcome)] = self.counts.get((kind, outcome), 0) + 1

    def anomaly(self, text):
        with self.lock:
            self.anomalies.append(text)

    def violation(self, text):
        with self.lock:
            self.violations.append(text)

    def acked_existing(self, rng):
        """A path whose latest finished effect is an acknowledged put (an overwrite target), else any."""
        with self.lock:
            cands = [p for p, ops in self.effects.items()
                     if ops and ops[-1].kind == "put" and ops[-1].status == "acked"]
        return rng.choice(cands) if cands else rng.choice(ALL_PATHS)

    # ---- checks -------------------------------------------------------------------------------------

    @staticmethod
    def _end(op):
        return POS_INF if op.end is None else op.end

    def _candidates(self, path):
        """Effects on `path` that may have happened, plus the initial absence."""
        init = Op(0, "rm", path, ABSENT, NEG_INF, "initial")
        init.end = NEG_INF
        init.status = "acked"
        return [init] + [o for o in self.effects[path] if o.status in ("acked", "maybe", "inflight")]

    def check_reads(self):
        """Every observation explained by the history; returns the list of unexplained ones (as text)."""
        out = []
        with self.lock:
            reads = list(self.reads)
            for r in reads:
                cands = self._candidates(r.path)
                acked = [b for b in cands if b.status == "acked"]
                ok = False
                for w in cands:
                    if w.value != r.value or not (w.start < r.end):
                        continue
                    w_end = self._end(w)
                    if any(b.start > w_end and self._end(b) < r.start for b in acked):
                        continue
                    ok = True
                    break
                if not ok:
                    out.append(self._explain_read(r, cands))
        return out

    def _explain_read(self, r, cands):
        known = self.by_hash.get(r.value, [])
        same = [o for o in known if o.path == r.path]
        what = ("not found" if r.value == ABSENT else
                f"content of op {same[0].id} ({same[0].status}, window {same[0].start:.2f}-{self._end(same[0]):.2f})" if same else
                f"content {r.value[:16]} never put to this path" + (f" (put to {known[0].path} by op {known[0].id})" if known else ""))
        near = [o for o in cands[1:] if self._end(o) >= r.start - 30 and o.start <= r.end]
        hist = "; ".join(f"op{o.id} {o.kind} {o.status} {o.start:.2f}-{self._end(o):.2f}" for o in near[-8:])
        return f"get {r.path} in {r.start:.2f}-{r.end:.2f} ({r.cmd}) saw {what}; history around it: {hist}"

    def allowed_final(self, path):
        cands = self._candidates(path)
        acked = [b for b in cands if b.status == "acked"]
        latest_acked_start = max(b.start for b in acked)
        return [w for w in cands if self._end(w) >= latest_acked_start], cands


class Server:
    """The server process: started, killed (-9), restarted on the same root and port; its RSS sampled."""

    def __init__(self, binary, root, port, logdir, hist):
        self.binary, self.root, self.port, self.logdir, self.hist = binary, root, port, logdir, hist
        self.proc = None
        self.instance = 0
        self.expected_exit = False
        self.lock = threading.Lock()
        self.rss = []          # (t, instance, kB)
        self.instances = []    # dicts: instance, pid, started, ended, how
        self.unexpected_exits = 0

    def start(self, t0):
        with self.lock:
            for attempt in range(60):
                self.instance += 1
                out = os.path.join(self.logdir, f"server-{self.instance}.out")
                err = os.path.join(self.logdir, f"server-{self.instance}.log")
                with open(out, "wb") as o, open(err, "wb") as e:
                    proc = subprocess.Popen([self.binary, "--root", self.root, "--listen", f"127.0.0.1:{self.port}"],
                                            stdout=o, stderr=e, stdin=subprocess.DEVNULL)
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    with open(out, "rb") as o:
                        if b"listening on" in o.read():
                            break
                    if proc.poll() is not None:
                        break
                    time.sleep(0.05)
                if proc.poll() is None:
                    self.proc = proc
                    self.expected_exit = False
                    self.instances.append({"instance": self.instance, "pid": proc.pid,
                                           "started": time.monotonic() - t0, "ended": None, "how": None})
                    return
                code = proc.poll()
                self.hist.anomaly(f"server instance {self.instance} did not start (exit {code}); see {err}")
                time.sleep(0.5)
            raise RuntimeError("the server does not start")

    def kill9(self, t0):
        with self.lock:
            if self.proc is None:
                return
            self.expected_exit = True
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.instances[-1].update(ended=time.monotonic() - t0, how="kill -9")
            self.proc = None

    def stop(self, t0):
        """SIGTERM: the server drains and must exit 0."""
        with self.lock:
            if self.proc is None:
                return None
            self.expected_exit = True
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                code = "hung at SIGTERM"
            self.instances[-1].update(ended=time.monotonic() - t0, how=f"SIGTERM, exit {code}")
            self.proc = None
            return code

    def poll(self, t0):
        """Samples RSS; notices a server that died on its own (a crash): a violation, and it is restarted."""
        crashed = None
        with self.lock:
            p = self.proc
            if p is not None and p.poll() is not None and not self.expected_exit:
                crashed = p.returncode
                self.instances[-1].update(ended=time.monotonic() - t0, how=f"crashed, exit {crashed}")
                self.proc = None
                self.unexpected_exits += 1
            elif p is not None:
                try:
                    with open(f"/proc/{p.pid}/status") as f:
                        for line in f:
                            if line.startswith("VmRSS:"):
                                self.rss.append((time.monotonic() - t0, self.instance, int(line.split()[1])))
                                break
                except OSError:
                    pass
        if crashed is not None:
            self.hist.violation(f"server instance {self.instance} exited on its own with {crashed} at {fmt_t(time.monotonic() - t0)} "
                                f"(log: {self.logdir}/server-{self.instance}.log)")
            self.start(t0)

    def current_rss(self):
        with self.lock:
            return self.rss[-1][2] if self.rss else 0


class Soak:
    def __init__(self, a, client, server_bin):
        self.a = a
        self.client = client
        self.rng = random.Random(a.seed)
        self.hist = History()
        self.stop = threading.Event()
        self.out = a.out
        self.root = os.path.join(self.out, "root")
        self.work = os.path.join(self.out, "work")
        self.logs = os.path.join(self.out, "logs")
        for d in (self.root, self.work, self.logs):
            os.makedirs(d, exist_ok=True)
        os.chmod(self.root, 0o700)
        self.server_port = free_port()
        self.proxy_port = free_port()
        self.server = Server(server_bin, self.root, self.server_port, self.logs, self.hist)
        self.kills = 0
        self.t0 = time.monotonic()
        self.ops_started = 0
        self.in_flight = 0
        self.flight_lock = threading.Lock()
        self.env = dict(os.environ, FILEXFER_DEBUG="1")  # an unexpected error comes with its stack trace
        self.oplog = open(os.path.join(self.logs, "ops.jsonl"), "w")
        self.oplog_lock = threading.Lock()

    def now(self):
        return time.monotonic() - self.t0

    # ---- client runs ------------------------------------------------------------------------------------

    def run_client(self, args):
        cmd = [self.client, "--server", f"127.0.0.1:{self.proxy_port}"] + args
        start = self.now()
        try:
            p = subprocess.run(cmd, capture_output=True, timeout=CLIENT_TIMEOUT, stdin=subprocess.DEVNULL, env=self.env)
            code, out, err = p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
        except subprocess.TimeoutExpired as e:
            code, out, err = "hung", (e.stdout or b"").decode(errors="replace"), (e.stderr or b"").decode(errors="replace")
            self.hist.anomaly(f"client hung for {CLIENT_TIMEOUT}s and was killed: {' '.join(args)}")
        end = self.now()
        with self.oplog_lock:
            self.oplog.write(json.dumps({"args": args, "code": code, "start": round(start, 3), "end": round(end, 3),
                                         "stdout": out[-8000:], "stderr": err[-20000:]}) + "\n")
        lines = []
        for line in out.splitlines():
            try:
                lines.append(json.loads(line))
            except ValueError:
                pass
        return code, lines, err, start, end

    @staticmethod
    def outcome(code):
        return "ok" if code == 0 else f"exit {code}"

    def pick_size(self, rng, tree=False):
        r = rng.random()
        if tree:
            return 0 if r < 0.1 else rng.randint(1, 4096) if r < 0.6 else rng.randint(4096, 256 * 1024) if r < 0.95 else rng.randint(256 * 1024, 1 << 20)
        if r < 0.08:
            return 0
        if r < 0.35:
            return rng.randint(1, 4096)
        if r < 0.65:
            return rng.randint(4096, 64 * 1024)
        if r < 0.85:
            return rng.randint(64 * 1024, 1 << 20)
        if r < 1 - self.a.large_share:
            return rng.randint(1 << 20, 4 << 20)
        return rng.randint(16 << 20, 20 << 20)

    def op_put(self, rng, wdir, overwrite):
        path = self.hist.acked_existing(rng) if overwrite else rng.choice(ALL_PATHS)
        size = self.pick_size(rng)
        opid = self.hist.new_id()
        data = content_for(opid, path, size)
        digest = hashlib.sha256(data).hexdigest()
        local = os.path.join(wdir, f"put-{opid}")
        with open(local, "wb") as f:
            f.write(data)
        del data
        op = Op(opid, "put", path, digest, self.now(), f"put {path} ({size} B)", size)
        if size >= 16 << 20:
            self.hist.large_ops[opid] = (path, size)
        self.hist.add_effect(op)
        code, lines, err, start, end = self.run_client(["put", "--json", local, path])
        os.unlink(local)
        stored = [l for l in lines if l.get("op") == "put" and l.get("status") == "transferred" and l.get("remote") == path]
        if stored and stored[0].get("sha256") != digest:
            self.hist.violation(f"put {path} (op {opid}) reported sha256 {stored[0].get('sha256')} for content {digest}")
        if stored and code != 0:
            self.hist.anomaly(f"put {path} reported transferred but exited {code}")
        self.hist.finish_effect(op, bool(stored), end)
        self.hist.count("overwrite" if overwrite else "put", self.outcome(code))
        if size >= 16 << 20:
            self.hist.count("put >=16MiB", self.outcome(code))

    def op_rm(self, rng, wdir):
        path = self.hist.acked_existing(rng) if rng.random() < 0.7 else rng.choice(ALL_PATHS)
        opid = self.hist.new_id()
        op = Op(opid, "rm", path, ABSENT, self.now(), f"rm {path}")
        self.hist.add_effect(op)
        code, lines, err, start, end = self.run_client(["rm", path])
        self.hist.finish_effect(op, code == 0, end)
        self.hist.count("rm", self.outcome(code))

    def op_get(self, rng, wdir):
        path = self.hist.acked_existing(rng) if rng.random() < 0.7 else rng.choice(ALL_PATHS)
        opid = self.hist.new_id()
        dest = os.path.join(wdir, f"get-{opid}")
        code, lines, err, start, end = self.run_client(["get", "--json", path, dest])
        if code == 0:
            got = sha256_file(dest)
            said = [l.get("sha256") for l in lines if l.get("op") == "get" and l.get("status") == "transferred"]
            if said and said[0] != got:
                self.hist.violation(f"get {path}: the file saved hashes {got}, the client reported {said[0]}")
            self.hist.add_read(path, got, start, end, f"get {path}")
        elif code == 5:
            self.hist.add_read(path, ABSENT, start, end, f"get {path} (not found)")
        elif code == 4:
            self.hist.anomaly(f"get {path} failed its integrity check (exit 4): {err.strip()[-300:]}")
        self.hist.count("get", self.outcome(code))

    def op_put_tree(self, rng, wdir):
        root = rng.choice(TREE_ROOTS)
        tid = self.hist.new_id()
        local_root = os.path.join(wdir, f"tree-{tid}")
        chosen = [f for f in TREE_FILES if rng.random() < 0.6] or [rng.choice(TREE_FILES)]
        ops = {}
        start = self.now()
        for rel in chosen:
            path = f"{root}/{rel}"
            opid = self.hist.new_id()
            data = content_for(opid, path, self.pick_size(rng, tree=True))
            local = os.path.join(local_root, rel)
            os.makedirs(os.path.dirname(local), exist_ok=True)
            with open(local, "wb") as f:
                f.write(data)
            op = Op(opid, "put", path, hashlib.sha256(data).hexdigest(), start, f"put -r {root} ({rel})", len(data))
            self.hist.add_effect(op)
            ops[path] = op
        code, lines, err, _, end = self.run_client(["put", "-r", "--json", local_root, root])
        shutil.rmtree(local_root, ignore_errors=True)
        reported = {l.get("remote"): l for l in lines if l.get("op") == "put"}
        for path, op in ops.items():
            l = reported.get(path)
            acked = l is not None and l.get("status") == "transferred"
            if acked and l.get("sha256") != op.value:
                self.hist.violation(f"put -r {path} (op {op.id}) reported sha256 {l.get('sha256')} for content {op.value}")
            self.hist.finish_effect(op, acked, end)
        for l in lines:
            if l.get("op") == "put" and l.get("remote") not in ops:
                self.hist.anomaly(f"put -r {root} reported a file it was not given: {l}")
        self.hist.count("put -r", self.outcome(code))

    def op_get_tree(self, rng, wdir):
        root = rng.choice(TREE_ROOTS)
        gid = self.hist.new_id()
        dest = os.path.join(wdir, f"gettree-{gid}")
        code, lines, err, start, end = self.run_client(["get", "-r", "--json", root, dest])
        seen = set()
        last = {}
        for l in lines:
            if l.get("op") != "get" or l.get("remote") is None:
                continue
            path = l["remote"]
            seen.add(path)
            if path not in self.hist.effects:
                self.hist.violation(f"get -r {root} returned a path outside the namespace: {path}")
                continue
            if l.get("status") == "transferred":
                # A retry may fetch a file again (a newer version): each line is what the client verified then.
                self.hist.add_read(path, l.get("sha256"), start, end, f"get -r {root}")
                last[path] = l
        for path, l in last.items():
            local = l.get("local")
            got = sha256_file(local) if local and os.path.isfile(local) else None
            if got is None:
                self.hist.violation(f"get -r {root}: {path} reported transferred but {local} is missing")
            elif got != l.get("sha256"):
                self.hist.violation(f"get -r {path}: saved file hashes {got}, last reported {l.get('sha256')}")
        if code == 0:
            # A complete walk: what it did not list was absent when it listed.
            for rel in TREE_FILES:
                path = f"{root}/{rel}"
                if path not in seen:
                    self.hist.add_read(path, ABSENT, start, end, f"get -r {root} (not listed)")
        elif code == 4:
            self.hist.anomaly(f"get -r {root} failed an integrity check (exit 4): {err.strip()[-300:]}")
        shutil.rmtree(dest, ignore_errors=True)
        self.hist.count("get -r", self.outcome(code))

    def worker(self, i):
        rng = random.Random(self.rng.random())
        wdir = os.path.join(self.work, f"w{i}")
        os.makedirs(wdir, exist_ok=True)
        kinds = ["put", "overwrite", "get", "rm", "put -r", "get -r"]
        weights = [18, 22, 25, 10, 12, 13]
        while not self.stop.is_set():
            kind = rng.choices(kinds, weights)[0]
            with self.flight_lock:
                self.ops_started += 1
                self.in_flight += 1
            try:
                if kind == "put":
                    self.op_put(rng, wdir, overwrite=False)
                elif kind == "overwrite":
                    self.op_put(rng, wdir, overwrite=True)
                elif kind == "get":
                    self.op_get(rng, wdir)
                elif kind == "rm":
                    self.op_rm(rng, wdir)
                elif kind == "put -r":
                    self.op_put_tree(rng, wdir)
                else:
                    self.op_get_tree(rng, wdir)
            except Exception as e:  # a bug of the soak itself: say so, go on
                self.hist.anomaly(f"worker {i} {kind}: {type(e).__name__}: {e}")
            finally:
                with self.flight_lock:
                    self.in_flight -= 1
            # Leftovers of interrupted gets (resume partials, temp files): not ours to keep.
            for name in os.listdir(wdir):
                p = os.path.join(wdir, name)
                shutil.rmtree(p, ignore_errors=True) if os.path.isdir(p) else os.unlink(p)

    # ---- the killer and the sampler ---------------------------------------------------------------------

    def killer(self):
        calm_from = self.a.minutes * 60 - self.a.calm_minutes * 60
        while not self.stop.wait(self.rng.uniform(self.a.kill_min, self.a.kill_max)):
            if self.now() >= calm_from:
                return
            self.server.kill9(self.t0)
            self.kills += 1
            if self.stop.wait(self.rng.uniform(0.0, 1.5)):
                self.server.start(self.t0)
                return
            self.server.start(self.t0)

    def sampler(self):
        while not self.stop.wait(3.0):
            self.server.poll(self.t0)

    def proxy_stats(self):
        try:
            with open(os.path.join(self.out, "proxy-stats.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def summary_line(self, t):
        h = self.hist
        with h.lock:
            total = sum(h.counts.values())
            ok = sum(n for (k, o), n in h.counts.items() if o == "ok")
            acked = h.acked
        bad = len(h.check_reads()) + len(h.violations)
        ps = self.proxy_stats()
        return (f"[{fmt_t(t)}] ops {total} ({ok} exit 0, {total - ok} other), acked writes/deletes {acked}, "
                f"kills {self.kills}, proxy conns {ps.get('connections', 0)} cuts {ps.get('cuts_done', 0)} "
                f"stalls {ps.get('stalls_done', 0)} hangs {ps.get('hangs_done', 0)}, server RSS {self.server.current_rss() / 1024:.0f} MiB, violations {bad}")

    # ---- the end ----------------------------------------------------------------------------------------

    def check_end_state(self):
        h = self.hist
        out = []
        present = {}
        for dirpath, dirnames, filenames in os.walk(self.root):
            rel_dir = os.path.relpath(dirpath, self.root)
            if rel_dir == ".":
                dirnames[:] = [d for d in dirnames if d != ".filexfer"]
                rel_dir = ""
            for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
                full = os.path.join(dirpath, name)
                rel = f"{rel_dir}/{name}" if rel_dir else name
                if os.path.islink(full) or not os.path.isfile(full):
                    out.append(f"end state: {rel} is not a regular file")
                    continue
                if rel not in h.effects:
                    out.append(f"end state: foreign file {rel} ({os.path.getsize(full)} B) under a real name")
                    continue
                present[rel] = sha256_file(full)
        with h.lock:
            for path in ALL_PATHS:
                value = present.get(path, ABSENT)
                allowed, cands = h.allowed_final(path)
                if any(w.value == value for w in allowed):
                    continue
                ever = [w for w in cands if w.value == value]
                if value == ABSENT:
                    what = "absent"
                elif ever:
                    what = f"holds op {ever[-1].id}'s content ({ever[-1].status}), since replaced"
                else:
                    what = f"holds content {value[:16]} never put to it (partial or foreign; {os.path.getsize(os.path.join(self.root, path))} B)"
                exp = "; ".join(f"op{w.id} {w.kind} {w.status} {w.start:.2f}-{h._end(w):.2f}" for w in allowed[-4:])
                out.append(f"end state: {path} {what}; allowed: {exp}")
        return out, len(present)

    def inject_faults(self):
        """--self-test: plant one fault of each kind the checker must catch (4 violations expected at least)."""
        h = self.hist
        with h.lock:
            present = [p for p in ALL_PATHS if os.path.isfile(os.path.join(self.root, p))]
            stale = None
            for path, ops in h.effects.items():
                puts = [o for o in ops if o.kind == "put" and o.status == "acked"]
                for w, b in zip(puts, puts[1:]):
                    if b.start > w.end and w.value != b.value:
                        stale = (path, w, b)
        victim = present[0]
        with open(os.path.join(self.root, victim), "r+b") as f:          # a partial file under a real name
            f.truncate(max(0, os.path.getsize(os.path.join(self.root, victim)) // 2))
        with open(os.path.join(self.root, "f", "planted"), "wb") as f:  # a foreign file
            f.write(b"x")
        os.makedirs(os.path.join(self.root, ".filexfer", "staging"), exist_ok=True)
        with open(os.path.join(self.root, ".filexfer", "staging", "deadbeef.part"), "wb") as f:  # a leftover temp
            f.write(b"y")
        if stale:                                                       # a get that saw a replaced version
            path, w, b = stale
            h.add_read(path, w.value, b.end + 1, b.end + 2, "self-test: stale read")
        print(f"self-test: truncated {victim}, planted f/planted and staging/deadbeef.part"
              + (f", a stale read of {stale[0]}" if stale else ""), flush=True)

    def check_staging(self):
        out, partials = [], 0
        fx = os.path.join(self.root, ".filexfer")
        for name in sorted(os.listdir(fx)) if os.path.isdir(fx) else []:
            if name != "staging":
                out.append(f"staging: unexpected entry .filexfer/{name}")
        staging = os.path.join(fx, "staging")
        for name in sorted(os.listdir(staging)) if os.path.isdir(staging) else []:
            full = os.path.join(staging, name)
            if not name.endswith(".resume") or not os.path.isfile(full):
                out.append(f"staging: {name} is left in .filexfer/staging ({os.path.getsize(full)} B), not a resumable partial")
                continue
            partials += 1
            with open(full, "rb") as f:
                data = f.read()
            head = data[:80].split(b"\n", 1)[0].decode(errors="replace")
            try:
                fields = dict(kv.split("=", 1) for kv in head.split()[1:])
                opid, size = int(fields["op"]), int(fields["size"])
                expected = content_for(opid, fields["path"], size)
                # A partial may hold every byte of its content: the body arrived whole but its end (BodyEnd) or its
                # commit did not, and a retry resumes it with nothing left to send.
                if len(data) > size or expected[:len(data)] != data:
                    out.append(f"staging: partial {name} ({len(data)} B) is not a prefix of op {opid}'s content")
            except (KeyError, ValueError):
                if data:
                    out.append(f"staging: partial {name} ({len(data)} B) does not start with a soak content")
        return out, partials

    def report(self, end_violations, n_files, staging_violations, partials, final_stop_code):
        h = self.hist
        read_violations = h.check_reads()
        violations = h.violations + read_violations + end_violations + staging_violations
        ps = self.proxy_stats()
        rss = self.server.rss
        lines = []
        lines.append("FileXfer soak report")
        lines.append(f"duration {self.a.minutes} min, {self.a.workers} client workers, namespace {len(ALL_PATHS)} paths "
                     f"({len(FILES)} single, {len(TREE_ROOTS)} trees of {len(TREE_FILES)}), seed {self.a.seed}")
        lines.append("operations (kind: outcome count):")
        kinds = sorted({k for k, _ in h.counts})
        for k in kinds:
            outs = sorted(((o, n) for (kk, o), n in h.counts.items() if kk == k), key=lambda x: (x[0] != "ok", x[0]))
            lines.append(f"  {k:12s} " + ", ".join(f"{o}: {n}" for o, n in outs))
        n_eff = sum(len(v) for v in h.effects.values())
        n_acked = sum(1 for v in h.effects.values() for o in v if o.status == "acked")
        n_acked_puts = sum(1 for v in h.effects.values() for o in v if o.status == "acked" and o.kind == "put")
        lines.append(f"effects recorded {n_eff} (file writes and deletes), acknowledged {n_acked} "
                     f"({n_acked_puts} writes, {n_acked - n_acked_puts} deletes), unacknowledged (may or may not have happened) {n_eff - n_acked}")
        lines.append(f"observations checked {len(h.reads)} (gets and get -r files, contents and not-found)")
        lines.append(f"server: kill -9 {self.kills}, crashes {self.server.unexpected_exits}, instances {len(self.server.instances)}, "
                     f"final SIGTERM exit {final_stop_code}")
        lines.append(f"proxy: connections {ps.get('connections', 0)} (clean {ps.get('clean', 0)}, cut {ps.get('cut', 0)}, "
                     f"delay {ps.get('delay', 0)}, stall {ps.get('stall', 0)}, hang {ps.get('hang', 0)}); cuts done {ps.get('cuts_done', 0)} "
                     f"(client->server {ps.get('cuts_c2s', 0)}, server->client {ps.get('cuts_s2c', 0)}), stalls done {ps.get('stalls_done', 0)}, "
                     f"hangs done (65-80 s of silence after 64 KiB-3 MiB up, the server's side held open) {ps.get('hangs_done', 0)}, "
                     f"refused while the server was down {ps.get('refused_upstream', 0)}, "
                     f"bytes {ps.get('bytes_c2s', 0) / 2**20:.0f} MiB up, {ps.get('bytes_s2c', 0) / 2**20:.0f} MiB down")
        if rss:
            mx = max(rss, key=lambda r: r[2])
            lines.append(f"server RSS (VmRSS, every 3 s): first {rss[0][2] / 1024:.1f} MiB, max {mx[2] / 1024:.1f} MiB "
                         f"(instance {mx[1]} at {fmt_t(mx[0])}), last {rss[-1][2] / 1024:.1f} MiB")
            by_inst = {}
            for t, i, kb in rss:
                by_inst.setdefault(i, []).append((t, kb))
            longest = max(by_inst.items(), key=lambda kv: kv[1][-1][0] - kv[1][0][0])
            samples = longest[1]
            lines.append(f"  longest-lived instance {longest[0]} ({samples[-1][0] - samples[0][0]:.0f} s): "
                         f"start {samples[0][1] / 1024:.1f} MiB, max {max(s[1] for s in samples) / 1024:.1f} MiB, "
                         f"end {samples[-1][1] / 1024:.1f} MiB")
            last_inst = [r for r in rss if r[0] <= self.run_seconds]
            if last_inst:
                inst = last_inst[-1][1]
                samples = [(t, kb) for t, i, kb in rss if i == inst and t <= self.run_seconds]
                per_min = {}
                for t, kb in samples:
                    per_min.setdefault(int(t // 60), kb)
                lines.append(f"  instance {inst} serving at the end of the run ({samples[-1][0] - samples[0][0]:.0f} s, no kills): "
                             f"start {samples[0][1] / 1024:.1f} MiB, max {max(kb for _, kb in samples) / 1024:.1f} MiB, "
                             f"end {samples[-1][1] / 1024:.1f} MiB; first sample of each minute: "
                             + ", ".join(f"{fmt_t(m * 60)} {kb / 1024:.0f}" for m, kb in sorted(per_min.items())) + " MiB")
        lines.append(f"end state: {n_files} files under real names checked, {len(ALL_PATHS)} paths; "
                     f"staging: {partials} resumable partials" + (", each a prefix of a large put, nothing else" if not staging_violations else
                                                               f", {len(staging_violations)} problems (below)"))
        log_issues = self.server_log_issues()
        lines.append(f"server logs: {log_issues['fail']} fail, {log_issues['crit']} crit lines")
        for s in log_issues["samples"][:5]:
            lines.append(f"  {s}")
        lines.append(f"anomalies (not violations): {len(h.anomalies)}")
        for s in h.anomalies[:10]:
            lines.append(f"  {s}")
        lines.append(f"VIOLATIONS: {len(violations)}")
        for s in violations[:50]:
            lines.append(f"  {s}")
        return lines, violations

    def server_log_issues(self):
        res = {"fail": 0, "crit": 0, "samples": []}
        for name in sorted(os.listdir(self.logs)):
            if not name.endswith(".log"):
                continue
            with open(os.path.join(self.logs, name), errors="replace") as f:
                for line in f:
                    for lvl in ("fail", "crit"):
                        if f" {lvl}: " in line:
                            res[lvl] += 1
                            if len(res["samples"]) < 20:
                                res["samples"].append(f"{name}: {line.strip()[:300]}")
        return res

    def run(self):
        a = self.a
        self.server.start(self.t0)
        proxy = subprocess.Popen([sys.executable, os.path.join(HERE, "proxy.py"), "--listen", f"127.0.0.1:{self.proxy_port}",
                                  "--target", f"127.0.0.1:{self.server_port}", "--stats", os.path.join(self.out, "proxy-stats.json"),
                                  "--seed", str(self.rng.randrange(1 << 30))],
                                 stdout=subprocess.PIPE, stderr=open(os.path.join(self.logs, "proxy.log"), "wb"))
        proxy.stdout.readline()
        print(f"soak: server 127.0.0.1:{self.server_port}, proxy 127.0.0.1:{self.proxy_port}, root {self.root}, "
              f"{a.workers} workers, {a.minutes} min", flush=True)
        threads = [threading.Thread(target=self.worker, args=(i,), daemon=True) for i in range(a.workers)]
        killer = threading.Thread(target=self.killer, daemon=True)
        sampler = threading.Thread(target=self.sampler, daemon=True)
        for t in threads + [killer, sampler]:
            t.start()
        deadline = a.minutes * 60
        next_line = 60
        while self.now() < deadline:
            time.sleep(min(1.0, max(0.0, deadline - self.now())))
            if self.now() >= next_line:
                print(self.summary_line(self.now()), flush=True)
                next_line += 60
        self.stop.set()
        self.run_seconds = self.now()
        print(f"[{fmt_t(self.now())}] stopping: waiting for {self.in_flight} operations in flight", flush=True)
        for t in threads:
            t.join(timeout=CLIENT_TIMEOUT + 30)
        killer.join()
        sampler.join()
        # The final clean restart: stop (must exit 0), start (sweeps temp files), stop again, then look.
        code1 = self.server.stop(self.t0)
        self.server.start(self.t0)
        time.sleep(2.0)
        self.server.poll(self.t0)
        code2 = self.server.stop(self.t0)
        proxy.send_signal(signal.SIGTERM)
        proxy.wait(timeout=10)
        for code in (code1, code2):
            if code != 0:
                self.hist.violation(f"the server did not stop cleanly at SIGTERM: {code}")
        if a.self_test:
            self.inject_faults()
        end_violations, n_files = self.check_end_state()
        staging_violations, partials = self.check_staging()
        lines, violations = self.report(end_violations, n_files, staging_violations, partials, f"{code1}, {code2}")
        with open(os.path.join(self.out, "rss.csv"), "w") as f:
            f.write("seconds,instance,vmrss_kb\n")
            for t, i, kb in self.server.rss:
                f.write(f"{t:.1f},{i},{kb}\n")
        text = "\n".join(lines)
        print(text, flush=True)
        with open(os.path.join(self.out, "report.txt"), "w") as f:
            f.write(text + "\n")
        return 1 if violations else 0


def publish(out):
    """Release builds from this tree: the server framework-dependent, the client native (AOT) when it builds."""
    srv, cli = os.path.join(out, "server"), os.path.join(out, "client")
    subprocess.run(["dotnet", "publish", os.path.join(REPO, "src/Server"), "-c", "Release", "-o", srv], check=True,
                   stdout=subprocess.DEVNULL)
    r = subprocess.run(["dotnet", "publish", os.path.join(REPO, "src/Client"), "-c", "Release", "-r", "linux-x64",
                        "-p:PublishAot=true", "-o", cli], stdout=subprocess.DEVNULL)
    if r.returncode != 0:
        print("soak: AOT publish of the client failed; publishing it framework-dependent", file=sys.stderr)
        subprocess.run(["dotnet", "publish", os.path.join(REPO, "src/Client"), "-c", "Release", "-o", cli], check=True,
                       stdout=subprocess.DEVNULL)
    return os.path.join(cli, "filexfer"), os.path.join(srv, "filexfer-server")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--workers", type=int, default=5)
    ap.add_argument("--out", default="/var/tmp/filexfer-soak", help="root, logs and work files go here (real disk)")
    ap.add_argument("--bin", default=None, help="where published server/ and client/ are (default OUT/bin)")
    ap.add_argument("--no-build", action="store_true", help="use the binaries already in --bin")
    ap.add_argument("--kill-min", type=float, default=15)
    ap.add_argument("--kill-max", type=float, default=60)
    ap.add_argument("--calm-minutes", type=float, default=3,
                    help="no kills in the last N minutes, so one server lives that long under load (its memory is reported)")
    ap.add_argument("--large-share", type=float, default=0.02, help="share of single puts of 16-20 MiB (resumable)")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--self-test", action="store_true",
                    help="plant a partial file, a foreign file, a staging leftover and a stale read before the end checks: "
                         "the run must then report them as violations")
    a = ap.parse_args()
    if a.seed is None:
        a.seed = random.randrange(1 << 30)
    bindir = a.bin or os.path.join(a.out, "bin")
    for sub in ("root", "work", "logs"):
        shutil.rmtree(os.path.join(a.out, sub), ignore_errors=True)
    os.makedirs(bindir, exist_ok=True)
    if a.no_build:
        client, server = os.path.join(bindir, "client", "filexfer"), os.path.join(bindir, "server", "filexfer-server")
    else:
        print("soak: publishing server and client (Release)", flush=True)
        client, server = publish(bindir)
    sys.exit(Soak(a, client, server).run())


if __name__ == "__main__":
    main()
