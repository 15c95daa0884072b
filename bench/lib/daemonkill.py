#!/usr/bin/python3
"""bench/faults (d): kill -9 of the real daemons in a loop under load.

One database; a load process keeps sending tuples to a real spamd over
SMTP all along; round after round one of spamd's greylister (spamd's
main process, restarted), its SMTP engine (spamd exits and is
restarted), a spamlogd reading its own NFLOG group (restarted) or a
`spamdb -a` whitelisting 20 hosts (run again) is killed with SIGKILL at
a random moment.  The WHITE entries of every spamdb that exited 0 are
committed; at the end every one of them must still be in the database.
Prints the rounds survived, the committed entries and how many were
lost (target 0), and the longest time from a kill until spamd took
tuples again.

usage: daemonkill.py [ROUNDS]
"""

import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', '..', 'regress', 'lib'))
import spamdtest as T  # noqa: E402

SPAMLOGD = os.path.join(T.ROOT, 'spamlogd', 'spamlogd')


def load(port, stop):
    """Tuples, one connection each, until stop is set."""
    n = 0
    while not stop.is_set():
        try:
            s = socket.create_connection(('127.0.0.1', port), 2)
            f = s.makefile('rb')
            f.readline()
            for c in (b'HELO load.example', b'MAIL FROM:<l%d@x.example>' % n,
                      b'RCPT TO:<r@y.example>', b'QUIT'):
                s.sendall(c + b'\r\n')
                f.readline()
            s.close()
            n += 1
        except OSError:
            time.sleep(0.05)


def took_tuple(sd, port, tag):
    """One tuple through spamd; True once the database has it."""
    try:
        s = socket.create_connection(('127.0.0.1', port), 2)
        f = s.makefile('rb')
        f.readline()
        for c in (b'HELO probe.example', b'MAIL FROM:<%s@p.example>' %
                  tag.encode(), b'RCPT TO:<r@y.example>', b'QUIT'):
            s.sendall(c + b'\r\n')
            f.readline()
        s.close()
    except OSError:
        return False
    return sd.poll(lambda: sd.grey('127.0.0.1', mfrom='<%s@p.example>' %
                                   tag), 10)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    if not T.is_root():
        print('daemonkill: needs root (privilege separation, NFLOG)')
        return 2
    rnd = random.Random(1)
    sd = T.Spamd(['-G', '1h:4h:864h', '-s', '0', '-S', '0'],
                 verbose=False)
    sd.start()
    port = sd.port
    group = 20000 + os.getpid() % 10000
    logf = open(os.path.join(sd.tmp, 'spamlogd.log'), 'ab')

    def spamlogd():
        return subprocess.Popen([SPAMLOGD, '-d', '-f', sd.dbdir, '-l',
                                 'nflog:%d' % group], stdout=logf,
                                stderr=logf, stdin=subprocess.DEVNULL)

    sl = spamlogd()
    stop = threading.Event()
    th = threading.Thread(target=load, args=(port, stop), daemon=True)
    th.start()
    committed, lost, survived, worst = set(), 0, 0, 0.0
    hostn = 0
    try:
        for r in range(rounds):
            victim = ('greylister', 'engine', 'spamlogd', 'spamdb')[r % 4]
            if victim == 'spamdb':
                ips = []
                for _ in range(20):
                    hostn += 1
                    ips.append('198.18.%d.%d' % (hostn // 250,
                                                 hostn % 250 + 1))
                p = subprocess.Popen([T.SPAMDB, '-f', sd.dbdir, '-a'] + ips,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
                time.sleep(rnd.uniform(0, 0.05))
                p.send_signal(signal.SIGKILL)
                p.wait()
                # Again, to the end: these are committed.
                q = subprocess.run([T.SPAMDB, '-f', sd.dbdir, '-a'] + ips,
                                   stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, timeout=60)
                if q.returncode == 0:
                    committed.update(ips)
                else:
                    print('round %d: spamdb -a failed: %s' % (
                        r, q.stderr.decode(errors='replace')[-200:]))
            elif victim == 'spamlogd':
                time.sleep(rnd.uniform(0, 0.2))
                sl.send_signal(signal.SIGKILL)
                sl.wait()
                sl = spamlogd()
            else:
                time.sleep(rnd.uniform(0, 0.2))
                pid = sd.proc.pid if victim == 'greylister' else \
                    sd.engine_pid()
                t0 = time.monotonic()
                if pid is not None:
                    os.kill(pid, signal.SIGKILL)
                # The other process follows; start spamd again.
                sd.stop_proc()
                for e in [x for x in [sd.engine_pid()] if x]:
                    os.kill(e, signal.SIGKILL)
                sd.start()
                if not took_tuple(sd, sd.port, 'probe%d' % r):
                    print('round %d: spamd takes no tuple after the '
                          'kill of its %s' % (r, victim))
                    continue
                worst = max(worst, time.monotonic() - t0)
                port = sd.port
            survived += 1
        stop.set()
        th.join(10)
        have = {e['ip'] for e in sd.db() if e['type'] == 'WHITE'}
        lost = len(committed - have)
    finally:
        stop.set()
        sl.send_signal(signal.SIGKILL)
        sl.wait()
        sd.stop()
    print('real daemons: %d of %d rounds of kill -9 survived (greylister, '
          'engine, spamlogd, spamdb in turn); %d committed WHITE, %d lost; '
          'longest from a kill of spamd to a tuple taken again: %.2f s' % (
              survived, rounds, len(committed), lost, worst))
    return 0 if lost == 0 and survived == rounds else 1


if __name__ == '__main__':
    sys.exit(main())
