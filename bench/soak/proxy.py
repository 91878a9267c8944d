#!/usr/bin/env python3
"""A fault proxy for the soak: TCP from LISTEN to TARGET, each connection given a fate at random.

Fates (decided when the connection is accepted):
  clean  - bytes pass as they are
  cut    - after a random number of bytes in one direction (client->server or server->client) both
           sides are aborted (RST); bytes read but not yet forwarded are dropped
  delay  - every chunk in both directions waits 1-30 ms
  stall  - after a random number of bytes in one direction that direction stops for 1-8 s, then goes on
  hang   - after 64 KiB-3 MiB from the client (inside a resumable put's body), the connection goes silent for 65-80 s (longer than the client's
           60 s --timeout), the server's side kept open even when the client gives up: a vanished client
           whose partial upload the server still holds when the client's retry comes to resume it

Counters go to --stats (JSON) every second and at SIGTERM. Usage:
  proxy.py --listen 127.0.0.1:PORT --target 127.0.0.1:PORT --stats FILE [--seed N]
"""
import argparse
import asyncio
import json
import os
import random
import signal

CHUNK = 64 * 1024


def pick_offset(rng):
    """Where in a direction's byte stream a fault strikes: in the handshake, in a small body, or deep in a large one."""
    band = rng.random()
    if band < 0.3:
        return rng.randint(0, 512)
    if band < 0.7:
        return rng.randint(512, 256 * 1024)
    if band < 0.9:
        return rng.randint(256 * 1024, 4 * 1024 * 1024)
    return rng.randint(4 * 1024 * 1024, 24 * 1024 * 1024)


class Proxy:
    def __init__(self, target, stats_path, seed, weights):
        self.target_host, self.target_port = target
        self.stats_path = stats_path
        self.rng = random.Random(seed)
        self.weights = weights
        self.live = set()
        self.fixed = None       # (offset, seconds) in reproduction mode
        self.fixed_left = 0
        self.stats = {
            "connections": 0, "refused_upstream": 0,
            "clean": 0, "cut": 0, "delay": 0, "stall": 0, "hang": 0,
            "cuts_done": 0, "cuts_c2s": 0, "cuts_s2c": 0, "stalls_done": 0, "hangs_done": 0,
            "bytes_c2s": 0, "bytes_s2c": 0,
        }

    def fate(self):
        if self.fixed is not None:
            # Reproduction mode: the first N connections stall at a fixed offset, the rest pass clean.
            self.fixed_left -= 1
            return self.fixed[2] if self.fixed_left >= 0 else "clean"
        names = list(self.weights)
        return self.rng.choices(names, weights=[self.weights[n] for n in names])[0]

    async def handle(self, c_reader, c_writer):
        # The loop holds tasks weakly: a connection whose sockets are all quiet would otherwise be collected.
        me = asyncio.current_task()
        self.live.add(me)
        try:
            await self.serve(c_reader, c_writer)
        finally:
            self.live.discard(me)

    async def serve(self, c_reader, c_writer):
        self.stats["connections"] += 1
        try:
            s_reader, s_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            self.stats["refused_upstream"] += 1
            c_writer.transport.abort()
            return
        fate = self.fate()
        self.stats[fate] += 1
        direction = self.rng.choice(("c2s", "s2c"))
        offset = pick_offset(self.rng)
        stall_for = self.rng.uniform(1.0, 8.0)
        if fate == "hang":
            direction, offset, stall_for = "c2s", self.rng.randint(64 << 10, 3 << 20), self.rng.uniform(65.0, 80.0)
        if fate in ("stall", "hang") and self.fixed is not None:
            direction, offset, stall_for = "c2s", self.fixed[0], self.fixed[1]
        done = asyncio.Event()
        hanging = [False]

        def abort_both(forced=False):
            c_writer.transport.abort()
            if hanging[0] and not forced:
                return  # the client left; the server's side stays silent until the hang ends
            s_writer.transport.abort()
            done.set()

        async def pump(reader, writer, name):
            passed = 0
            faulted = False
            try:
                while True:
                    data = await reader.read(CHUNK)
                    if not data:
                        # A clean end on one side: pass the half-close on, as TCP would.
                        if writer.can_write_eof():
                            writer.write_eof()
                        return
                    if fate == "delay":
                        await asyncio.sleep(self.rng.uniform(0.001, 0.03))
                    if fate in ("cut", "stall", "hang") and name == direction and not faulted and passed + len(data) > offset:
                        faulted = True
                        head = offset - passed
                        if fate == "cut":
                            if head > 0:
                                writer.write(data[:head])
                                self.stats["bytes_" + name] += head
                                try:
                                    await writer.drain()
                                except OSError:
                                    pass
                            self.stats["cuts_done"] += 1
                            self.stats["cuts_" + name] += 1
                            abort_both()
                            return
                        writer.write(data[:head])
                        await writer.drain()
                        if fate == "hang":
                            self.stats["hangs_done"] += 1
                            hanging[0] = True
                            await asyncio.sleep(stall_for)
                            abort_both(forced=True)
                            return
                        self.stats["stalls_done"] += 1
                        await asyncio.sleep(stall_for)
                        data = data[head:]
                    passed += len(data)
                    self.stats["bytes_" + name] += len(data)
                    writer.write(data)
                    await writer.drain()
            except (OSError, asyncio.CancelledError):
                abort_both()
            except Exception:
                abort_both()

        t1 = asyncio.ensure_future(pump(c_reader, s_writer, "c2s"))
        t2 = asyncio.ensure_future(pump(s_reader, c_writer, "s2c"))
        # Either side gone for good (error or abort) ends both; a half-close lets the other direction finish.
        waiter = asyncio.ensure_future(done.wait())
        pumps = asyncio.ensure_future(asyncio.wait({t1, t2}))
        await asyncio.wait({waiter, pumps}, return_when=asyncio.FIRST_COMPLETED)
        for t in (t1, t2, waiter, pumps):
            t.cancel()
        for w in (c_writer, s_writer):
            try:
                w.close()
            except Exception:
                pass

    def write_stats(self):
        tmp = self.stats_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.stats, f)
        os.replace(tmp, self.stats_path)

    async def stats_loop(self):
        while True:
            self.write_stats()
            await asyncio.sleep(1.0)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--stats", required=True)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--clean", type=float, default=50)
    ap.add_argument("--cut", type=float, default=25)
    ap.add_argument("--delay", type=float, default=15)
    ap.add_argument("--stall", type=float, default=9)
    ap.add_argument("--hang", type=float, default=1)
    ap.add_argument("--stall-first", type=int, default=None,
                    help="reproduction mode: only the first N connections are faulted, each stalled client->server "
                         "at --stall-at bytes for --stall-for seconds; the rest pass clean")
    ap.add_argument("--stall-at", type=int, default=0)
    ap.add_argument("--stall-for", type=float, default=10.0)
    ap.add_argument("--fixed-fate", choices=("stall", "hang"), default="stall",
                    help="reproduction mode: a stall, or a hang (the server's side held open, then reset, nothing more delivered)")
    a = ap.parse_args()
    lh, lp = a.listen.rsplit(":", 1)
    th, tp = a.target.rsplit(":", 1)
    weights = {"clean": a.clean, "cut": a.cut, "delay": a.delay, "stall": a.stall, "hang": a.hang}
    proxy = Proxy((th, int(tp)), a.stats, a.seed, weights)
    if a.stall_first is not None:
        proxy.fixed, proxy.fixed_left = (a.stall_at, a.stall_for, a.fixed_fate), a.stall_first
    server = await asyncio.start_server(proxy.handle, lh, int(lp), reuse_address=True, backlog=256)
    print(f"proxy listening on {lh}:{server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    stats_task = asyncio.ensure_future(proxy.stats_loop())
    await stop.wait()
    stats_task.cancel()
    server.close()
    proxy.write_stats()


if __name__ == "__main__":
    asyncio.run(main())
