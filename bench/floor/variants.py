#!/usr/bin/env python3
"""Times the floor's variants (variants.c) for one 1 GiB file on tmpfs, interleaved with rsync.

    python3 bench/floor/variants.py [put|get] [--runs N] [--size-mib M]

Builds variants.c into bench/out/ (installing libxxhash-dev and libssl-dev when their headers are missing),
starts an rsync daemon on a loopback port, and runs every variant and rsync once per round, in an order reversed
every other round, after one warm-up round. Prints each variant's median wall time, its ratio to rsync's median
in the same run, and the CPU time of both ends (user + system of the two processes; rsync's daemon side is not
counted). The measurements behind docs/PERFORMANCE.md "Ideas not yet built" came from this script.
"""
import argparse
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# name, receiver's flags, sender's flags
PUT = [
    ('floor (read+send, recv+pwrite, SHA-256 both ends)', [], []),
    ('receiver splices, hashes a mapping', ['--splice-mmap'], []),
    ('receiver splices, hashes by pread', ['--splice-pread'], []),
    ('sender maps its file', [], ['--mmap']),
    ('both of the above (splice-mmap, mmap)', ['--splice-mmap'], ['--mmap']),
    ('XXH128 in transit, sender also SHA-256', ['--hash', 'xxh128'], ['--hash', 'both']),
    ('  the same, sender maps its file', ['--hash', 'xxh128'], ['--hash', 'both', '--mmap']),
    ('XXH128 only', ['--hash', 'xxh128'], ['--hash', 'xxh128']),
]
GET = [
    ('floor (sender sendfile, no hash)', [], ['--sendfile']),
    ('sender buffered, no hash', [], ['--no-hash']),
    ('sender maps its file, no hash', [], ['--no-hash', '--mmap']),
    ('receiver splices; sender sendfile', ['--splice-mmap'], ['--sendfile']),
    ('receiver splices; sender buffered', ['--splice-mmap'], ['--no-hash']),
    ('receiver checks XXH128 (against a stored XXH128 record); sender sendfile', ['--hash', 'xxh128'], ['--sendfile']),
]


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def build():
    if not os.path.exists('/usr/include/xxhash.h') or not os.path.exists('/usr/include/openssl/evp.h'):
        subprocess.run(['apt-get', 'install', '-y', '-q', 'libxxhash-dev', 'libssl-dev'], check=True, stdout=subprocess.DEVNULL)
    out_dir = os.path.join(HERE, '..', 'out')  # git-ignored, beside the harness's builds
    os.makedirs(out_dir, exist_ok=True)
    exe = os.path.join(out_dir, 'variants')
    subprocess.run(['cc', '-O2', '-Wall', '-Wextra', '-o', exe, os.path.join(HERE, 'variants.c'), '-lcrypto', '-lpthread'], check=True)
    return exe


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('op', choices=['put', 'get'])
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--size-mib', type=int, default=1024)
    args = ap.parse_args()
    exe = build()
    work = tempfile.mkdtemp(prefix='fx-variants-', dir='/dev/shm')
    rsync = None
    try:
        os.makedirs(f'{work}/r')
        src = f'{work}/r/src'
        with open(src, 'wb') as f:
            for _ in range(args.size_mib):
                f.write(os.urandom(1 << 20))
        rport = free_port()
        with open(f'{work}/rsyncd.conf', 'w') as f:
            f.write(f'use chroot = no\nuid = 0\ngid = 0\n[m]\npath = {work}/r\nread only = no\n')
        rsync = subprocess.Popen(['rsync', '--daemon', '--no-detach', f'--config={work}/rsyncd.conf', f'--port={rport}',
                                  '--address=127.0.0.1'])
        time.sleep(0.5)
        out = f'{work}/out'
        variants = [('rsync', None, None)] + (PUT if args.op == 'put' else GET)
        results = {name: [] for name, _, _ in variants}

        def one(name, recv_flags, send_flags):
            for path in (out, f'{work}/r/big'):
                if os.path.exists(path):
                    os.unlink(path)
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            if name == 'rsync':
                cmd = (['rsync', '-a', '--whole-file', src, f'rsync://127.0.0.1:{rport}/m/big'] if args.op == 'put'
                       else ['rsync', '-a', '--whole-file', f'rsync://127.0.0.1:{rport}/m/src', out])
                subprocess.run(cmd, check=True)
            else:
                port = free_port()
                receiver = subprocess.Popen([exe, 'recv', str(port), out] + recv_flags, stdout=subprocess.PIPE)
                if receiver.stdout.readline() != b'ready\n':
                    sys.exit(f'{name}: the receiver did not start')
                t0 = time.perf_counter()
                subprocess.run([exe, 'send', str(port), src] + send_flags, check=True)
                if receiver.wait() != 0:
                    sys.exit(f'{name}: the receiver failed')
            t1 = time.perf_counter()
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            if os.path.getsize(out if args.op == 'get' or name != 'rsync' else f'{work}/r/big') != os.path.getsize(src):
                sys.exit(f'{name}: the copy has the wrong size')
            return t1 - t0, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)

        for v in variants:
            one(*v)
        for i in range(args.runs):
            for v in (variants if i % 2 == 0 else variants[::-1]):
                results[v[0]].append(one(*v))
    finally:
        if rsync:
            rsync.terminate()
            rsync.wait()
        shutil.rmtree(work, ignore_errors=True)

    base = statistics.median(t for t, _ in results['rsync'])
    print(f'{args.op}, {args.size_mib} MiB on tmpfs, {args.runs} interleaved rounds')
    print('| variant | median | vs rsync | CPU (both ends) | runs |')
    print('| --- | --- | --- | --- | --- |')
    for name, _, _ in variants:
        wall = statistics.median(t for t, _ in results[name])
        cpu = statistics.median(c for _, c in results[name])
        cpu_text = '(rsync client only)' if name == 'rsync' else f'{cpu:.2f} s'
        runs = ' '.join(f'{t:.2f}' for t, _ in results[name])
        print(f'| {name} | {wall:.3f} s | {base / wall:.2f}x | {cpu_text} | {runs} |')


if __name__ == '__main__':
    main()
