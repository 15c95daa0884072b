#!/usr/bin/python3
"""bench/nft, parts (c) and (d): spamd itself, inside the network
namespace bench/nft made (run with `ip netns exec').

(c) time from the passing retry's RCPT leaving the client until the
    client's address is in the kernel set (nftset-tool wait polls the
    set and prints CLOCK_MONOTONIC, the clock of time.monotonic());
(d) spamd's start-up reconcile of ELEMS WHITE records, as spamd logs it.

usage: spamd-nft.py retry N | reconcile ELEMS
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SPAMD = os.path.join(ROOT, 'spamd', 'spamd')
SPAMDB = os.path.join(ROOT, 'spamdb', 'spamdb')
TOOL = os.path.join(ROOT, 'regress', 'tools', 'nftset-tool')


def start(tmp, *args):
    log = open(os.path.join(tmp, 'log'), 'w')
    p = subprocess.Popen([SPAMD, '-d', '-v', '-l', '127.0.0.1', '-p', '8025',
                          '-f', os.path.join(tmp, 'db'), '-S', '0',
                          '-U', os.path.join(tmp, 'cfg.sock'),
                          '-s', '0'] + list(args), stdout=log, stderr=log)
    for _ in range(200):
        if 'greylisting: passtime' in open(os.path.join(tmp, 'log')).read():
            return p
        time.sleep(0.05)
    raise SystemExit('spamd did not start:\n' +
                     open(os.path.join(tmp, 'log')).read())


def stop(p):
    p.terminate()
    p.wait(10)


def dialogue(src, to, before_rcpt=None):
    s = socket.create_connection(('127.0.0.1', 8025), 10, (src, 0))
    f = s.makefile('rb')

    def reply():
        while True:
            ln = f.readline()
            if len(ln) < 4 or ln[3:4] != b'-':
                return ln
    reply()
    for c in (b'HELO bench.example', b'MAIL FROM:<b@example.net>'):
        s.sendall(c + b'\r\n')
        reply()
    t = before_rcpt() if before_rcpt else None
    s.sendall(b'RCPT TO:' + to.encode() + b'\r\n')
    sent = time.monotonic()
    reply()
    s.close()
    return sent, t


def retry(n):
    tmp = tempfile.mkdtemp(prefix='bench-nft.')
    os.chmod(tmp, 0o755)
    p = start(tmp, '-G', '1s:1h:1h')
    lat = []
    try:
        srcs = ['127.0.%d.%d' % (1 + i // 200, 1 + i % 200) for i in range(n)]
        for a in srcs:
            dialogue(a, '<u@example.org>')
        time.sleep(2.1)     # first + passtime < now, in whole seconds
        for a in srcs:
            w = subprocess.Popen([TOOL, 'wait', a, '10'],
                                 stdout=subprocess.PIPE, text=True)
            w.stdout.readline()              # "waiting"
            sent, _ = dialogue(a, '<u@example.org>')
            out = w.stdout.read()
            w.wait()
            m = re.search(r'found ([0-9.]+)', out)
            if not m:
                raise SystemExit('%s never reached the set' % a)
            lat.append((float(m.group(1)) - sent) * 1000)
    finally:
        stop(p)
        shutil.rmtree(tmp, ignore_errors=True)
    worst = max(range(len(lat)), key=lambda i: lat[i])
    lat.sort()
    print('retry n=%d p50_ms=%.3f p99_ms=%.3f max_ms=%.3f worst_at=%d' % (
        n, lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * .99))],
        lat[-1], worst))


def reconcile(n):
    tmp = tempfile.mkdtemp(prefix='bench-nft.')
    os.chmod(tmp, 0o755)
    try:
        # Create the database, then import n WHITE records with spamdb.
        stop(start(tmp, '-G', '1s:1h:1h'))
        now = int(time.time())
        lst = os.path.join(tmp, 'white.txt')
        with open(lst, 'w') as fp:
            for i in range(n):
                fp.write('WHITE|198.%d.%d.%d|||%d|%d|%d|1|0\n' % (
                    18 + (i >> 16), (i >> 8) & 255, i & 255, now, now,
                    now + 86400))
        t = time.monotonic()
        r = subprocess.run([SPAMDB, '-f', os.path.join(tmp, 'db'), '-i',
                            lst], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        imp = time.monotonic() - t
        if r.returncode != 0:
            raise SystemExit('spamdb -i: %s' % r.stderr.decode())
        subprocess.run(['nft', 'flush', 'set', 'inet', 'spamd',
                        'spamd-white'], check=True)
        p = start(tmp, '-G', '1s:1h:1h')
        stop(p)
        log = open(os.path.join(tmp, 'log')).read()
        m = re.findall(r'hold the (\d+) WHITE entries of the database '
                       r'\(reconciled in (\d+) ms\)', log)
        if not m or int(m[-1][0]) != n:
            raise SystemExit('no reconcile figure in the log:\n' + log)
        cnt = subprocess.run([TOOL, 'list', '4'], stdout=subprocess.PIPE,
                             text=True).stdout.count('\n')
        print('reconcile n=%d ms=%s in_set=%d import_s=%.2f' % (
            n, m[-1][1], cnt, imp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if sys.argv[1:2] == ['retry']:
    retry(int(sys.argv[2]))
elif sys.argv[1:2] == ['reconcile']:
    reconcile(int(sys.argv[2]))
else:
    raise SystemExit(__doc__)
