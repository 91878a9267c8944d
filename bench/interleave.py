#!/usr/bin/env python3
"""Interleaved timing for bench/run.sh: every tool once per round, so that a burst of load on a shared
machine lands on all tools of a round instead of on the runs of one tool.

    interleave.py --runs N [--warmup W] --out DIR --failures FILE SPEC

SPEC has one row per line, six tab-separated fields (trailing empty fields may be left out; blank lines
and lines starting with # are ignored):

    group  name  prepare  command  check  cleanup

The rows of a group run one after the other, in the order given (a put, then the get that reads what the
put stored). Each round runs every group once; the order of the groups is the spec's order in even rounds
(the first is round 0) and the reverse in odd ones. W warm-up rounds (default 1, spec order, not recorded)
come first. For each row: `prepare` (untimed), `command` (timed as a whole process, from just before it is
spawned to its exit, like `hyperfine -N`: no shell in between, the words split like a shell would), then
`check` (untimed; a non-zero exit means a wrong copy: reported, timing goes on), then `cleanup` (untimed,
e.g. removing the copies the group made). Every command runs with stdin and stdout on /dev/null, stderr
appended to DIR/NAME.stderr, in a process group of its own (killed on SIGINT/SIGTERM).

A non-zero exit of `prepare` or `command` (or a command that cannot be started) takes that row's group out
of the following rounds: the failing row and the other rows of its group get no figure (their cleanups
still run). Each failure is one line appended to FILES (for the harness's `failed`).

For each row with a figure, DIR/NAME.json is written in the format of `hyperfine --export-json` (results[0]:
command, mean, stddev, median, user, system, min, max, times, exit_codes), which bench/report.py reads.
Exits 0 when the block ran (failed rows included), 2 on a bad spec or bad arguments."""
import argparse
import json
import os
import shlex
import signal
import statistics
import sys
import time

current_pgid = None


def on_signal(signum, frame):
    """Stops the running command's process group, then dies of the same signal: a shell that waits for this
    process (bash/run.sh) acts on a SIGINT only when its child died of it."""
    if current_pgid is not None:
        try:
            os.killpg(current_pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def log(text):
    print(f"bench: {text}", file=sys.stderr, flush=True)


def run(command, stderr_path):
    """Runs one command line; returns (exit code or None when it could not start, wall seconds, rusage)."""
    global current_pgid
    args = shlex.split(command)
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, stderr_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644),
    ]
    start = time.perf_counter()
    try:
        pid = os.posix_spawnp(args[0], args, os.environ, file_actions=actions, setpgroup=0)
    except OSError as e:
        with open(stderr_path, "a") as f:
            print(f"interleave.py: cannot start {args[0]}: {e}", file=f)
        return None, 0.0, None
    current_pgid = pid
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - start
    current_pgid = None
    return os.waitstatus_to_exitcode(status), seconds, usage


def exited(code):
    if code is None:
        return "could not be started"
    return f"was killed by signal {-code}" if code < 0 else f"exited {code}"


class Row:
    def __init__(self, group, name, prepare, command, check, cleanup):
        self.group, self.name = group, name
        self.prepare, self.command, self.check, self.cleanup = prepare, command, check, cleanup
        self.times, self.user, self.system, self.codes = [], [], [], []
        self.check_failed = False


def read_spec(path):
    groups = {}  # name -> [Row], in the spec's order (dicts keep insertion order)
    names = set()
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            fields = (line.split("\t") + [""] * 6)[:6]
            if len(line.split("\t")) > 6 or not fields[0] or not fields[1] or not fields[3]:
                raise ValueError(f"{path}:{number}: expected group, name, prepare, command, check, cleanup (tab-separated)")
            if fields[1] in names:
                raise ValueError(f"{path}:{number}: row {fields[1]} appears twice")
            names.add(fields[1])
            for field in (fields[2], fields[3], fields[4], fields[5]):
                if field and not shlex.split(field):
                    raise ValueError(f"{path}:{number}: an empty command")
            groups.setdefault(fields[0], []).append(Row(*fields))
    if not groups:
        raise ValueError(f"{path}: no rows")
    return groups


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, required=True)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--out", required=True)
    parser.add_argument("--failures", required=True)
    parser.add_argument("spec")
    options = parser.parse_args()
    if options.runs < 1 or options.warmup < 0:
        parser.error("--runs must be at least 1, --warmup at least 0")
    try:
        groups = read_spec(options.spec)
    except (OSError, ValueError) as e:
        print(f"interleave.py: {e}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    dead = set()  # groups out of the run

    def fail(text):  # the harness reports these lines (its `failed`) once the block is over
        with open(options.failures, "a") as f:
            print(text, file=f)

    def run_group(group, rows, round_label, record):
        stopped = None
        for row in rows:
            stderr = os.path.join(options.out, row.name + ".stderr")
            if stopped is None:
                if row.prepare:
                    code, _, _ = run(row.prepare, stderr)
                    if code != 0:
                        stopped = row
                        fail(f"{row.name}: its prepare step `{row.prepare}` {exited(code)} ({round_label}); no figure (see {row.name}.stderr)")
                if stopped is None:
                    code, seconds, usage = run(row.command, stderr)
                    if code != 0:
                        stopped = row
                        fail(f"{row.name}: {exited(code)} ({round_label}); no figure (see {row.name}.stderr)")
                    else:
                        if record:
                            row.times.append(seconds)
                            row.user.append(usage.ru_utime)
                            row.system.append(usage.ru_stime)
                            row.codes.append(code)
                        if row.check:
                            check, _, _ = run(row.check, stderr)
                            if check != 0 and not row.check_failed:
                                row.check_failed = True
                                fail(f"{row.name}: the received copy is missing or differs from the source "
                                     f"(`{row.check}` {exited(check)}, {round_label})")
            if row.cleanup:
                code, _, _ = run(row.cleanup, stderr)
                if code != 0:
                    log(f"{row.name}: cleanup `{row.cleanup}` {exited(code)}")
        if stopped is not None:
            dead.add(group)
            for row in rows:
                if row is not stopped:
                    fail(f"{row.name}: no figure: {stopped.name}, in the same interleaved group, failed")

    order = list(groups)
    names = ", ".join(order)
    for w in range(options.warmup):
        label = f"warm-up {w + 1} of {options.warmup}"
        log(f"interleaved: {label} ({names})")
        for group in order:
            if group not in dead:
                run_group(group, groups[group], label, False)
    for r in range(options.runs):
        forward = r % 2 == 0
        label = f"round {r + 1} of {options.runs}"
        started = time.perf_counter()
        for group in (order if forward else order[::-1]):
            if group not in dead:
                run_group(group, groups[group], label, True)
        log(f"interleaved: {label} ({'forward' if forward else 'reversed'} order) took {time.perf_counter() - started:.1f} s")

    for group, rows in groups.items():
        for row in rows:
            path = os.path.join(options.out, row.name + ".json")
            if group in dead or not row.times:
                if os.path.exists(path):
                    os.remove(path)
                continue
            t = row.times
            result = {
                "command": row.command,
                "mean": statistics.mean(t),
                "stddev": statistics.stdev(t) if len(t) > 1 else None,
                "median": statistics.median(t),
                "user": statistics.mean(row.user),
                "system": statistics.mean(row.system),
                "min": min(t),
                "max": max(t),
                "times": t,
                "exit_codes": row.codes,
            }
            with open(path, "w") as f:
                json.dump({"results": [result]}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
