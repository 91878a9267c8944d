#!/usr/bin/env python3
"""Simulated power losses against FileXfer on LazyFS (issue 15). Run by bench/durability/run.sh, which installs the
packages, builds LazyFS and publishes the server and client; it can also be run alone:

    powerloss.py --lazyfs BIN --server DIR --client BIN --work DIR [--scenarios a,b,...] [--seed N]
                 [--cache-size 1gb] [--tree-files 300] [--big-mib 200] [--rounds-scale 1.0]

LazyFS (dsrhaslab/lazyfs) is a FUSE file system that keeps every write not yet fsync'ed in its own cache and drops
the cache on `lazyfs::clear-cache` written to its FIFO: what is left in its backing directory is what a disk holds
after a power cut. One LazyFS mount holds the server's root (`srv/`) and the client's destination of `get -r`
(`dl/`). A power loss here is:

  1. SIGSTOP the processes that write to the mount (the server; for get -r the client), so that none of them does
     anything, and above all answers, after the moment of the loss;
  2. `lazyfs::clear-cache`, and wait for LazyFS to log that the cache is cleared;
  3. SIGKILL those processes (the process's side of a power cut), wait for the client to end and read all it printed;
  4. unmount LazyFS (it writes nothing back: unsynced data lives only in its cache), check the backing directory,
     mount LazyFS again (a fresh, empty cache) and start the server again on the same root.

What the client printed with `--json` tells which files were acknowledged: every `"status":"transferred"` line it
printed, even after step 1, was sent by the server before the loss (the server was stopped first), and for get -r
was printed by the stopped client before the loss. The check after each loss, over every file the run has
written so far (all scenarios, all earlier losses):

  - an acknowledged file is there with exactly its content, or with a version that was in flight later;
  - a file not acknowledged is absent, or holds exactly one of its versions (old or new), never anything else;
  - no file under a real name is empty, truncated or foreign (every regular file outside ROOT/.filexfer and the
    client's hidden `.filexfer-part` temp files must be a tracked path holding an allowed version);
  - what a check found is what the next check must find (a survivor stays), unless a later version replaced it.

Scenarios (power losses with the default --rounds-scale 1):
  after-answer  (10) single puts (new files and overwrites of one file, 1 B to 2 MiB): the loss right after exit 0
  put-r-mid     (12) put -r of a fresh tree of --tree-files small files (1 B to 8 KiB, 6 folders): the loss after
                     a random number of acknowledged files
  overwrite-mid (10) put -r over 100 stored files, each round a new version of every file (other sizes): the loss
                     after a random number of acknowledged files; each file must be its old or its new version
  resume-large  (9)  three rounds over one path, each a new --big-mib MiB version: the put is interrupted (client
                     killed) then a loss; the put resumed and a loss in its middle; the put completed and a loss
  get-r-client  (10) get -r of a --tree-files tree from a server on the real disk into the LazyFS mount: the client
                     stopped, the loss, the client killed, after a random number of acknowledged files

Prints one line per scenario and a summary; exit 0 when there was no violation, 1 when there was one (each is
printed), 2 on a harness error."""
import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import uuid
import time

INTERNAL = ".filexfer"          # the server's own folder under its root (staging, partials)
CLIENT_TEMP = ".filexfer-part"  # suffix of the client's temp files beside a get's destination


def sha(data):
    return hashlib.sha256(data).hexdigest()


def file_sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


class HarnessError(Exception):
    pass


class LazyFS:
    """One LazyFS mount: MNT shows BACK through LazyFS's cache."""

    def __init__(self, binary, work, cache_size):
        self.binary = binary
        self.back = os.path.join(work, "back")
        self.mnt = os.path.join(work, "mnt")
        self.fifo = os.path.join(work, "lazyfs.fifo")
        self.config = os.path.join(work, "lazyfs.toml")
        self.log = os.path.join(work, "lazyfs.log")
        self.proc = None
        self.mounts = 0
        for d in (self.back, self.mnt):
            os.makedirs(d, exist_ok=True)
        with open(self.config, "w") as f:
            f.write(f'[faults]\nfifo_path="{self.fifo}"\n[cache]\napply_eviction=false\n'
                    f'[cache.simple]\ncustom_size="{cache_size}"\nblocks_per_page=1\n'
                    f'[filesystem]\nlog_all_operations=false\nlogfile=""\n')

    def _mounted(self):
        with open("/proc/mounts") as f:
            return any(line.split()[1] == self.mnt for line in f)

    def _log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def mount(self):
        if self._mounted():
            raise HarnessError(f"{self.mnt} is already mounted")
        open(self.log, "w").close()
        logf = open(self.log, "a")
        self.proc = subprocess.Popen([self.binary, self.mnt, "--config-path", self.config, "-o", "modules=subdir",
                                      "-o", f"subdir={self.back}", "-f"], stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HarnessError(f"lazyfs exited {self.proc.returncode}; see {self.log}")
            if self._mounted() and "waiting for fault commands" in self._log_text():
                self.mounts += 1
                return
            time.sleep(0.1)
        raise HarnessError(f"lazyfs did not mount in 180 s; see {self.log}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def clear_cache(self):
        """Drops every write not fsynced. False when LazyFS is no longer running (it crashed: its cache is gone too)."""
        before = self._log_text().count("cache is cleared.")
        try:
            fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            return False   # ENXIO: nobody reads the FIFO, LazyFS is gone
        try:
            os.write(fd, b"lazyfs::clear-cache\n")
        finally:
            os.close(fd)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._log_text().count("cache is cleared.") > before:
                return True
            if not self.alive():
                return False
            time.sleep(0.02)
        raise HarnessError("lazyfs did not clear its cache in 60 s")

    def unmount(self):
        for _ in range(50):
            if subprocess.run(["fusermount3", "-u", self.mnt], stderr=subprocess.DEVNULL).returncode == 0:
                break
            time.sleep(0.1)
        else:
            subprocess.run(["fusermount3", "-u", "-z", self.mnt], stderr=subprocess.DEVNULL)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


class Server:
    def __init__(self, server_dir, root, log):
        self.exe = os.path.join(server_dir, "filexfer-server")
        self.root = root
        self.log = log
        self.proc = None
        self.address = None

    def start(self):
        os.makedirs(self.root, exist_ok=True)
        os.chmod(self.root, 0o755)
        logf = open(self.log, "a")
        # Every start follows a simulated power loss, which a real machine would come back from with a new boot id: the
        # server then offers a resumed put only the part of its partial that was flushed (DurablePrefix).
        env = dict(os.environ, FILEXFER_BOOT_ID=str(uuid.uuid4()))
        self.proc = subprocess.Popen([self.exe, "--root", self.root, "--listen", "127.0.0.1:0"],
                                     stdout=subprocess.PIPE, stderr=logf, text=True, env=env)
        logf.close()
        line = self.proc.stdout.readline()
        if not line.startswith("listening on "):
            self.proc.kill()
            raise HarnessError(f"server did not start ({line.strip()!r}); see {self.log}")
        self.address = line.split()[-1]
        # Keep draining stdout so the server never blocks on it.
        threading.Thread(target=lambda p=self.proc: [None for _ in p.stdout], daemon=True).start()

    def stop_now(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGSTOP)

    def kill(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def terminate(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


class ClientRun:
    """One client command with --json, its stdout read as it comes."""

    TEXT = re.compile(r"^(stored|saved) (.*) \((.*?), (sha256) ([0-9a-f]{64})(?:, resumed after (.*))?\)$")

    def __init__(self, client, args, log, json_lines=True):
        """`json_lines` False: the plain output (a single file's `stored NAME (SIZE, sha256 HEX, resumed after N)`
        line, which --json does not carry the resume offset of), read into the same objects."""
        self.lines = []
        self.cond = threading.Condition()
        self.done = False
        logf = open(log, "a")
        logf.write("$ filexfer " + " ".join(args) + "\n")
        logf.flush()
        self.proc = subprocess.Popen([client, *args, *(["--json", "--quiet"] if json_lines else []), "--retries", "0"],
                                     stdout=subprocess.PIPE, stderr=logf, text=True)
        logf.close()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            if m := self.TEXT.match(line.rstrip("\n")):
                obj = {"status": "transferred", "remote": m[2], "local": m[2], "sha256": m[5], "resumed": m[6] or "0 B"}
            else:
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
            with self.cond:
                self.lines.append(obj)
                self.cond.notify_all()
        with self.cond:
            self.done = True
            self.cond.notify_all()

    def transferred(self):
        with self.cond:
            return [o for o in self.lines if o.get("status") == "transferred"]

    def wait_transferred(self, count, timeout=600):
        """Until `count` files were acknowledged or the command ended; True when the count was reached."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                n = sum(1 for o in self.lines if o.get("status") == "transferred")
                if n >= count:
                    return True
                if self.done:
                    return False
                left = deadline - time.monotonic()
                if left <= 0:
                    raise HarnessError("client made no progress")
                self.cond.wait(min(left, 1))

    def stop_now(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGSTOP)

    def kill(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)

    def finish(self, timeout=600):
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join()
        return self.proc.returncode


class Tracked:
    """What a path under the mount may hold: `durable` must be there (acknowledged, or seen after a loss), any of
    `allowed` may be (durable, and versions in flight since the last check)."""
    __slots__ = ("durable", "allowed")

    def __init__(self):
        self.durable = None
        self.allowed = {}   # sha -> size


class Harness:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.work = os.path.abspath(args.work)
        if os.path.exists(self.work):
            subprocess.run(["fusermount3", "-u", "-z", os.path.join(self.work, "mnt")], stderr=subprocess.DEVNULL)
            shutil.rmtree(self.work)
        os.makedirs(self.work)
        self.src = os.path.join(self.work, "src")
        os.makedirs(self.src)
        self.client = args.client
        self.client_log = os.path.join(self.work, "client.log")
        self.fs = LazyFS(args.lazyfs, self.work, args.cache_size)
        self.server = Server(args.server, os.path.join(self.fs.mnt, "srv"), os.path.join(self.work, "server.log"))
        self.disk_server = None   # the get -r scenario's server, on the real disk
        self.tracked = {}         # path relative to BACK -> Tracked
        self.losses = 0
        self.crashes = []         # LazyFS died on its own: an unplanned power loss, checked the same way
        self.acked_checks = 0
        self.acked_files = set()
        self.violations = []
        self.notes = []

    # --- the model -------------------------------------------------------------------------------------------

    def expect(self, rel, data):
        """A version of `rel` (relative to BACK) is about to be sent: it may appear from now on."""
        t = self.tracked.setdefault(rel, Tracked())
        t.allowed[sha(data)] = len(data)

    def acknowledged(self, rel, digest):
        t = self.tracked.get(rel)
        if t is None or digest not in t.allowed:
            self.violations.append(f"{rel}: acknowledged with a hash the harness never sent ({digest[:12]})")
            return
        t.durable = digest
        self.acked_files.add(rel)

    def check(self, label):
        """After a loss, LazyFS unmounted: BACK is the disk."""
        found = 0
        before = len(self.violations)
        seen = set()
        for dirpath, dirnames, filenames in os.walk(self.fs.back):
            rel_dir = os.path.relpath(dirpath, self.fs.back)
            if rel_dir == "srv" and INTERNAL in dirnames:
                dirnames.remove(INTERNAL)
            for name in filenames:
                if name.endswith(CLIENT_TEMP) and name.startswith("."):
                    continue
                rel = os.path.normpath(os.path.join(rel_dir, name))
                seen.add(rel)
                path = os.path.join(dirpath, name)
                t = self.tracked.get(rel)
                size = os.lstat(path).st_size
                if t is None:
                    self.violations.append(f"{label}: {rel}: foreign file under a real name ({size} B)")
                    t = self.tracked[rel] = Tracked()
                    t.allowed = {file_sha(path): size}
                    continue
                digest = file_sha(path)
                if digest not in t.allowed:
                    sizes = sorted(set(t.allowed.values()))
                    kind = "empty" if size == 0 else "truncated" if any(size < s for s in sizes) else "wrong content"
                    what = "acknowledged" if t.durable else "not acknowledged"
                    self.violations.append(f"{label}: {rel}: {kind} ({size} B; versions {sizes} B; {what})")
                    # Reported once: what is there now is the baseline of the next check.
                    t.durable = None
                    t.allowed = {digest: size}
                    continue
                if t.durable is not None:
                    self.acked_checks += 1
                found += 1
                # What survived this loss must survive the next.
                t.durable = digest
                t.allowed = {digest: size}
        for rel, t in self.tracked.items():
            # Absent and never acknowledged: allowed; its versions stay allowed (a resumed put may still bring one).
            if rel not in seen and t.durable is not None:
                self.violations.append(f"{label}: {rel}: acknowledged file missing")
                t.durable = None
        return found, len(self.violations) - before

    # --- power losses ----------------------------------------------------------------------------------------

    def power_loss(self, label, stop=()):
        """`stop` are SIGSTOPped before the loss and SIGKILLed after; the server always is."""
        self.server.stop_now()
        for p in stop:
            p.stop_now()
        if self.fs.clear_cache():
            self.losses += 1
        else:
            self.crashes.append(label)
            shutil.copy(self.fs.log, os.path.join(self.work, f"lazyfs-crash-{len(self.crashes)}.log"))
        for p in stop:
            p.kill()
        self.server.kill()

    def reboot(self, label):
        self.fs.unmount()
        found, bad = self.check(label)
        self.fs.mount()
        self.server.start()
        return found, bad

    def run_client(self, *args, json_lines=True):
        return ClientRun(self.client, list(args), self.client_log, json_lines)

    def record(self, run, to_back):
        """Every file `run` printed as transferred is acknowledged; `to_back` maps its remote/local path to BACK."""
        for o in run.transferred():
            self.acknowledged(to_back(o), o["sha256"])

    # --- local trees -----------------------------------------------------------------------------------------

    def write_local(self, path, data, mtime):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        os.utime(path, (mtime, mtime))

    def make_tree(self, top, files, max_size, folders=6):
        """{relative path: content}, written under `top`."""
        tree = {}
        for i in range(files):
            rel = f"d{i % folders}/f{i:04d}.bin"
            data = self.rng.randbytes(self.rng.randint(1, max_size))
            self.write_local(os.path.join(top, rel), data, 1_700_000_000 + i)
            tree[rel] = data
        return tree

    # --- scenarios -------------------------------------------------------------------------------------------

    def rounds(self, n):
        return max(1, round(n * self.args.rounds_scale))

    def after_answer(self):
        base = len(self.violations)
        losses = self.losses
        for r in range(self.rounds(10)):
            name = "single/f00.bin" if r % 2 else f"single/f{r:02d}.bin"
            data = self.rng.randbytes(self.rng.randint(1, 2 << 20))
            local = os.path.join(self.src, "single", f"r{r}.bin")
            self.write_local(local, data, 1_700_000_000 + r)
            self.expect("srv/" + name, data)
            run = self.run_client("-s", self.server.address, "put", local, name)
            code = run.finish()
            if code != 0 and self.fs.alive():
                raise HarnessError(f"put exited {code}; see {self.client_log}")
            self.record(run, lambda o: "srv/" + o["remote"])
            self.power_loss(f"after-answer {r}")
            self.reboot(f"after-answer {r}")
        return self.losses - losses, len(self.violations) - base, ""

    def put_r_mid(self):
        base = len(self.violations)
        losses = self.losses
        acked = []
        for r in range(self.rounds(12)):
            top = os.path.join(self.src, f"tree{r:02d}")
            tree = self.make_tree(top, self.args.tree_files, 8192)
            remote = f"tree/r{r:02d}"
            for rel, data in tree.items():
                self.expect(f"srv/{remote}/{rel}", data)
            run = self.run_client("-s", self.server.address, "put", "-r", top, remote)
            target = self.rng.randint(1, self.args.tree_files - 1)
            reached = run.wait_transferred(target)
            self.power_loss(f"put-r-mid {r}")
            run.finish()
            self.record(run, lambda o: "srv/" + o["remote"])
            acked.append(f"{len(run.transferred())}{'' if reached else '(all)'}")
            self.reboot(f"put-r-mid {r}")
        return self.losses - losses, len(self.violations) - base, "acknowledged before each loss: " + " ".join(acked)

    def overwrite_mid(self):
        base = len(self.violations)
        losses = self.losses
        top = os.path.join(self.src, "ow")
        n = 100
        rels = [f"d{i % 4}/f{i:03d}.bin" for i in range(n)]
        for rel in rels:
            data = self.rng.randbytes(self.rng.randint(1, 16384))
            self.write_local(os.path.join(top, rel), data, 1_600_000_000)
            self.expect("srv/ow/" + rel, data)
        run = self.run_client("-s", self.server.address, "put", "-r", top, "ow")
        if run.finish() != 0 and self.fs.alive():
            raise HarnessError(f"the first put -r of ow exited {run.proc.returncode}; see {self.client_log}")
        self.record(run, lambda o: "srv/" + o["remote"])
        acked = []
        for r in range(self.rounds(10)):
            for rel in rels:
                data = self.rng.randbytes(self.rng.randint(1, 16384))
                self.write_local(os.path.join(top, rel), data, 1_600_000_001 + r)
                self.expect("srv/ow/" + rel, data)
            run = self.run_client("-s", self.server.address, "put", "-r", top, "ow")
            reached = run.wait_transferred(self.rng.randint(1, n - 1))
            self.power_loss(f"overwrite-mid {r}")
            run.finish()
            self.record(run, lambda o: "srv/" + o["remote"])
            acked.append(f"{len(run.transferred())}{'' if reached else '(all)'}")
            self.reboot(f"overwrite-mid {r}")
        return self.losses - losses, len(self.violations) - base, "overwrites acknowledged before each loss: " + " ".join(acked)

    def resume_large(self):
        base = len(self.violations)
        losses = self.losses
        size = self.args.big_mib << 20
        local = os.path.join(self.src, "big.bin")
        notes = []
        for r in range(self.rounds(3)):
            data = self.rng.randbytes(size)
            self.write_local(local, data, 1_650_000_000 + r)
            # 1. interrupted: the client killed mid-body, then the loss.
            self.expect("srv/big.bin", data)
            run = self.run_client("-s", self.server.address, "put", local, "big.bin")
            time.sleep(self.rng.uniform(0.5, 3.0))
            run.kill()
            run.finish()
            time.sleep(0.5)
            self.power_loss(f"resume-large {r} interrupted")
            self.record(run, lambda o: "srv/" + o["remote"])
            first = "done" if run.transferred() else "cut"
            self.reboot(f"resume-large {r} interrupted")
            # 2. resumed, and a loss in its middle.
            self.expect("srv/big.bin", data)
            run = self.run_client("-s", self.server.address, "put", local, "big.bin")
            time.sleep(self.rng.uniform(0.5, 3.0))
            self.power_loss(f"resume-large {r} resumed")
            run.finish()
            self.record(run, lambda o: "srv/" + o["remote"])
            second = "done" if run.transferred() else "cut"
            self.reboot(f"resume-large {r} resumed")
            # 3. resumed to the end, and a loss right after the answer.
            self.expect("srv/big.bin", data)
            run = self.run_client("-s", self.server.address, "put", local, "big.bin", json_lines=False)
            code = run.finish()
            sent = [o["resumed"] for o in run.transferred()]
            if (code != 0 or not sent) and self.fs.alive():
                self.violations.append(f"resume-large {r}: the last put exited {code}; see {self.client_log}")
            self.record(run, lambda o: "srv/" + o["remote"])
            self.power_loss(f"resume-large {r} completed")
            self.reboot(f"resume-large {r} completed")
            notes.append(f"{first}/{second}/resumed after {sent[0]}" if sent else f"{first}/{second}/failed")
        return self.losses - losses, len(self.violations) - base, "rounds (first put, second put, the last): " + ", ".join(notes)

    def get_r_client(self):
        base = len(self.violations)
        losses = self.losses
        disk_root = os.path.join(self.work, "disk-root")
        self.disk_server = Server(self.args.server, disk_root, os.path.join(self.work, "disk-server.log"))
        self.disk_server.start()
        try:
            top = os.path.join(self.src, "gt")
            tree = self.make_tree(top, self.args.tree_files, 8192)
            run = self.run_client("-s", self.disk_server.address, "put", "-r", top, "gt")
            if run.finish() != 0:
                raise HarnessError(f"put -r to the disk server exited {run.proc.returncode}; see {self.client_log}")
            acked = []
            for r in range(self.rounds(10)):
                dest = f"dl/r{r:02d}"
                os.makedirs(os.path.join(self.fs.mnt, "dl"), exist_ok=True)
                for rel, data in tree.items():
                    self.expect(f"{dest}/{rel}", data)
                run = self.run_client("-s", self.disk_server.address, "get", "-r", "gt", os.path.join(self.fs.mnt, dest))
                reached = run.wait_transferred(self.rng.randint(1, self.args.tree_files - 1))
                self.power_loss(f"get-r-client {r}", stop=[run])
                run.finish()
                self.record(run, lambda o: os.path.relpath(os.path.abspath(o["local"]), self.fs.mnt))
                acked.append(f"{len(run.transferred())}{'' if reached else '(all)'}")
                self.reboot(f"get-r-client {r}")
        finally:
            self.disk_server.terminate()
        return self.losses - losses, len(self.violations) - base, "acknowledged before each loss: " + " ".join(acked)

    # --- the run ---------------------------------------------------------------------------------------------

    def run(self, scenarios):
        table = {"after-answer": self.after_answer, "put-r-mid": self.put_r_mid, "overwrite-mid": self.overwrite_mid,
                 "resume-large": self.resume_large, "get-r-client": self.get_r_client}
        self.fs.mount()
        os.makedirs(os.path.join(self.fs.mnt, "srv"), exist_ok=True)
        self.server.start()
        try:
            for name in scenarios:
                start = time.monotonic()
                checks = self.acked_checks
                shown = len(self.violations)
                crashes = len(self.crashes)
                losses, bad, note = table[name]()
                if len(self.crashes) > crashes:
                    note += f"; LazyFS crashed {len(self.crashes) - crashes}x (at {', '.join(self.crashes[crashes:])}), checked as unplanned losses"
                print(f"{name:14} {losses:3} power losses, {self.acked_checks - checks:6} acknowledged-file checks, "
                      f"{bad:4} violations, {time.monotonic() - start:6.1f} s  {note}", flush=True)
                for v in self.violations[shown:shown + 20]:
                    print(f"  VIOLATION {v}", flush=True)
                if len(self.violations) - shown > 20:
                    print(f"  ... and {len(self.violations) - shown - 20} more", flush=True)
        finally:
            self.server.kill()
            self.fs.unmount()
        kinds = {}
        for v in self.violations:
            kind = v.split(": ")[-1].split(" (")[0]
            if "versions" in v:
                kind += ", " + ("not acknowledged" if v.endswith("not acknowledged)") else "acknowledged")
            kinds[kind] = kinds.get(kind, 0) + 1
        detail = "" if not kinds else " (" + "; ".join(f"{k}: {n}" for k, n in sorted(kinds.items())) + ")"
        print(f"summary: {len(scenarios)} scenarios, {self.losses} power losses (+{len(self.crashes)} LazyFS crashes), {len(self.acked_files)} acknowledged "
              f"files, {self.acked_checks} acknowledged-file checks, {len(self.violations)} violations{detail}", flush=True)
        return 1 if self.violations else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lazyfs", required=True, help="the lazyfs binary (built with the statfs patch)")
    p.add_argument("--server", required=True, help="folder of a published filexfer-server")
    p.add_argument("--client", required=True, help="the filexfer binary")
    p.add_argument("--work", required=True, help="scratch folder on the real disk (emptied)")
    p.add_argument("--scenarios", default="after-answer,put-r-mid,overwrite-mid,resume-large,get-r-client")
    p.add_argument("--seed", type=int, default=15)
    p.add_argument("--cache-size", default="1gb")
    p.add_argument("--tree-files", type=int, default=300)
    p.add_argument("--big-mib", type=int, default=200)
    p.add_argument("--rounds-scale", type=float, default=1.0)
    a = p.parse_args()
    scenarios = [s for s in a.scenarios.split(",") if s]
    try:
        return Harness(a).run(scenarios)
    except HarnessError as e:
        print(f"powerloss.py: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
