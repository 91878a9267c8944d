#!/usr/bin/env python3
"""Times the floor's variants (floor.c's switches) for one 1 GiB file on tmpfs, interleaved with rsync.

    python3 bench/floor/variants.py put|get [--runs N] [--size-mib M]      (as root, like bench/run.sh)

Builds floor.c with XXH128 into bench/out/floor-variants (installing gcc, libc6-dev, libssl-dev, libxxhash-dev
and rsync when they are missing), starts an rsync daemon on a loopback port, writes a random source file in
/dev/shm, and runs every variant and rsync once per round, in an order reversed every other round, after one
warm-up round, through bench/interleave.py as bench/run.sh does: each command is timed whole (for the floor:
from starting its receiver to both ends' exit) and every copy is compared with the source. Prints a Markdown
table: each variant's median wall time, its ratio to rsync's median in the same run, and the mean CPU time of
both ends (user + system of the two processes; rsync's daemon side is not counted). A get sends a file the
floor received (so it carries the recorded digest the sender vouches for, as FileXfer's server sends a stored
hash). docs/performance/issue-6-loopback.md ("Variants of the floor") has what it measured.
"""
import argparse
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# name, receiver's flags, sender's flags (for get: which recorded source the sender sends, 'sha256' or 'xxh128')
PUT = [
    ('floor (read + send, recv + pwrite, SHA-256 on both ends)', [], []),
    ('receiver splices, hashes a mapping of the file', ['--splice-mmap'], []),
    ('receiver splices, hashes by pread', ['--splice-pread'], []),
    ('receiver receives into a mapping of the file', ['--recv-mmap'], []),
    ('sender sends from and hashes a mapping of its file', [], ['--mmap']),
    ('receiver splices (mapping) and sender maps its file', ['--splice-mmap'], ['--mmap']),
    ('XXH128 in transit, sender also computing SHA-256', ['--hash', 'xxh128'], ['--hash', 'both']),
    ('XXH128 in transit, sender also computing SHA-256 from a mapping', ['--hash', 'xxh128'], ['--hash', 'both', '--mmap']),
    ('XXH128 on both ends, no SHA-256', ['--hash', 'xxh128'], ['--hash', 'xxh128']),
]
GET = [
    ('floor (sender sendfile, receiver recv + SHA-256 + pwrite)', [], ['--sendfile'], 'sha256'),
    ('sender buffered instead of sendfile', [], ['--no-hash'], 'sha256'),
    ('receiver splices (mapping), sender sendfile', ['--splice-mmap'], ['--sendfile'], 'sha256'),
    ('receiver splices (mapping), sender buffered', ['--splice-mmap'], ['--no-hash'], 'sha256'),
    ('receiver receives into a mapping, sender sendfile', ['--recv-mmap'], ['--sendfile'], 'sha256'),
    ('receiver checks XXH128 against a recorded XXH128, sender sendfile', ['--hash', 'xxh128'], ['--sendfile', '--hash', 'xxh128'], 'xxh128'),
]


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_for_port(port, process, what):
    for _ in range(200):
        if process.poll() is not None:
            sys.exit(f'{what} exited before listening (exit {process.returncode})')
        try:
            socket.create_connection(('127.0.0.1', port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.025)
    sys.exit(f'{what} is not listening on 127.0.0.1:{port} after 5 s')


def build():
    missing = [pkg for pkg, path in [('gcc', '/usr/bin/cc'), ('libc6-dev', '/usr/include/stdio.h'),
                                     ('libssl-dev', '/usr/include/openssl/evp.h'), ('libxxhash-dev', '/usr/include/xxhash.h'),
                                     ('rsync', '/usr/bin/rsync')] if not os.path.exists(path)]
    if missing:
        subprocess.run(['apt-get', 'update', '-q'], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(['apt-get', 'install', '-y', '-q'] + missing, check=True, stdout=subprocess.DEVNULL)
    out_dir = os.path.join(HERE, '..', 'out')  # git-ignored, beside the harness's builds
    os.makedirs(out_dir, exist_ok=True)
    exe = os.path.join(out_dir, 'floor-variants')
    subprocess.run(['cc', '-O2', '-Wall', '-Wextra', '-o', exe, os.path.join(HERE, 'floor.c'), '-lcrypto', '-lpthread'], check=True)
    return exe


def floor_command(exe, port, src, out, recv_flags, send_flags):
    """One transfer with the floor, as bench/run.sh times it: the sender starts on the receiver's "ready" line."""
    recv = ' '.join([exe, 'recv', str(port), out] + recv_flags)
    send = ' '.join([exe, 'send', str(port), src] + send_flags)
    return f"bash -c 'set -o pipefail; {recv} | {{ read -r ready && {send}; }}'"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('op', choices=['put', 'get'])
    ap.add_argument('--runs', type=int, default=5, help='measured rounds, after one warm-up round (default 5)')
    ap.add_argument('--size-mib', type=int, default=1024, help='file size in MiB (default 1024)')
    args = ap.parse_args()
    exe = build()
    work = tempfile.mkdtemp(prefix='fx-variants-', dir='/dev/shm')
    rsync = None
    try:
        os.makedirs(f'{work}/r')
        os.makedirs(f'{work}/results')
        src = f'{work}/r/src'
        with open(src, 'wb') as f:
            for _ in range(args.size_mib):
                f.write(os.urandom(1 << 20))
        port = free_port()
        # A get sends a file the floor received: it carries the digest record its sender vouches for.
        recorded = {'sha256': f'{work}/src-sha256', 'xxh128': f'{work}/src-xxh128'}
        if args.op == 'get':
            for algorithm, path in recorded.items():
                flags = ['--hash', algorithm]
                subprocess.run(shlex.split(floor_command(exe, port, src, path, flags, flags)), check=True)
        rport = free_port()
        with open(f'{work}/rsyncd.conf', 'w') as f:
            f.write(f'use chroot = no\nuid = 0\ngid = 0\n[m]\npath = {work}/r\nread only = no\n')
        rsync = subprocess.Popen(['rsync', '--daemon', '--no-detach', f'--config={work}/rsyncd.conf', f'--port={rport}',
                                  '--address=127.0.0.1'])
        wait_for_port(rport, rsync, 'the rsync daemon')

        # One interleaved group per variant (bench/interleave.py): each round runs every variant once, the order
        # reversed every other round, each copy compared with the source and deleted.
        out = f'{work}/out'
        variants = [('rsync', None, None, None)] + ([v + (None,) for v in PUT] if args.op == 'put' else GET)
        spec = []
        for number, (name, recv_flags, send_flags, record) in enumerate(variants):
            if name == 'rsync':
                copy = f'{work}/r/big' if args.op == 'put' else out
                command = (f'rsync -a --whole-file {src} rsync://127.0.0.1:{rport}/m/big' if args.op == 'put'
                           else f'rsync -a --whole-file rsync://127.0.0.1:{rport}/m/src {out}')
            else:
                copy = out
                command = floor_command(exe, port, src if args.op == 'put' else recorded[record], out, recv_flags, send_flags)
            spec.append('\t'.join([f'v{number}', f'v{number}', f'rm -f {copy}', command, f'cmp -s {src} {copy}', f'rm -f {copy}']))
        with open(f'{work}/spec.tsv', 'w') as f:
            f.write('\n'.join(spec) + '\n')
        failures = f'{work}/failures.txt'
        subprocess.run([sys.executable, os.path.join(HERE, '..', 'interleave.py'), '--runs', str(args.runs), '--out', f'{work}/results',
                        '--failures', failures, f'{work}/spec.tsv'], check=True)
        if os.path.exists(failures) and os.path.getsize(failures) > 0:
            sys.exit('variants.py: failures:\n' + open(failures).read())
        results = {}
        for number, (name, *_rest) in enumerate(variants):
            with open(f'{work}/results/v{number}.json') as f:
                results[name] = json.load(f)['results'][0]
    finally:
        if rsync:
            rsync.terminate()
            rsync.wait()
        shutil.rmtree(work, ignore_errors=True)

    base = results['rsync']['median']
    rounds = f'{args.runs} interleaved round' + ('' if args.runs == 1 else 's')
    print(f'{args.op}, {args.size_mib} MiB on tmpfs, {rounds} after a warm-up')
    print('| variant | median | vs rsync | CPU, mean (both ends) | each round |')
    print('| --- | --- | --- | --- | --- |')
    for name, *_rest in variants:
        r = results[name]
        cpu_text = '(rsync client only)' if name == 'rsync' else f"{r['user'] + r['system']:.2f} s"
        runs = ' '.join(f'{t:.2f}' for t in r['times'])
        print(f"| {name} | {r['median']:.3f} s | {base / r['median']:.2f}x | {cpu_text} | {runs} |")


if __name__ == '__main__':
    main()
