#!/usr/bin/python3
"""Abuse figures for bench/faults: what one hostile client can do to a
real spamd on loopback, with the -L limits at their defaults and again
with them set very high (as before they existed), in one run.

  1. tuples recorded from one client sending 5,000 RCPTs;
  2. connection slots one source holds when it opens 200 (-c 100);
  3. database growth under a one-IP flood of FLOOD distinct
     maximum-size tuples (sessions of up to 100 RCPTs).

usage: bench/lib/abuse.py [FLOOD]   (default 5000)
Prints figures and the CPU model; exits 0.  Needs the built programs.
"""

import os
import platform
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', '..', 'regress', 'lib'))
import spamdtest as st  # noqa: E402

HOST = '127.0.0.1'
BASE = ['-G', '1h:4h:4h', '-s', '0', '-S', '0']
HIGH = ['-L', 'rcpt=1000000,conn=1000000,grey=100000000,free=0,'
        'netconn=1000000,netgrey=100000000']


def cpu_model():
    try:
        with open('/proc/cpuinfo') as fp:
            for line in fp:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown'


def du(path):
    total = 0
    for d, _, files in os.walk(path):
        for f in files:
            try:
                total += os.stat(os.path.join(d, f)).st_blocks * 512
            except OSError:
                pass
    return total


def greys(sd):
    return sum(1 for ln in sd.db_lines() if ln.startswith('GREY|'))


def settle(sd, timeout=60):
    """GREY count once the greylister has caught up."""
    last, since = -1, time.monotonic()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        n = greys(sd)
        if n != last:
            last, since = n, time.monotonic()
        elif time.monotonic() - since > 2:
            break
        time.sleep(0.5)
    return last


def session(sd, rcpts, width=0, tag=''):
    """One session: HELO, MAIL, then RCPTs until the server refuses."""
    s = sd.connect()
    rd = st.Reader(s)
    pad = 'x' * width
    n = 0
    try:
        rd.reply(10)
        st.chat(s, ('HELO h%s.example.org' % pad[:400]).encode(), rd)
        st.chat(s, ('MAIL FROM:<f%s@example.org>' % pad).encode(), rd)
        for i in range(rcpts):
            code = st.chat(s, ('RCPT TO:<%s%d%s@example.net>' % (
                tag, i, pad)).encode(), rd)[0]
            if code != 250:
                break
            n += 1
    except (OSError, EOFError):
        pass
    s.close()
    return n


def rcpt_flood(args):
    sd = st.Spamd(BASE + args, host=HOST, verbose=False)
    sd.start()
    session(sd, 5000)
    n = settle(sd)
    sd.stop()
    return n


def slots(args):
    sd = st.Spamd(BASE + ['-c', '100', '-B', '0'] + args, host=HOST,
                  verbose=False)
    sd.start()
    held, socks = 0, []
    for _ in range(200):
        try:
            s = sd.connect(timeout=2)
            socks.append(s)
            if st.Reader(s).reply(2)[0] == 220:
                held += 1
        except (OSError, EOFError):
            pass
    other = 'no'
    try:
        s = sd.connect(source='127.0.0.2', timeout=3)
        if st.Reader(s).reply(3)[0] == 220:
            other = 'yes'
        s.close()
    except (OSError, EOFError):
        pass
    for s in socks:
        s.close()
    sd.stop()
    return held, other


def db_flood(args, flood):
    sd = st.Spamd(BASE + args, host=HOST, verbose=False)
    sd.start()
    time.sleep(0.5)
    before = du(sd.dbdir)
    t0 = time.monotonic()
    sent, k = 0, 0
    while sent < flood:
        n = session(sd, min(100, flood - sent), width=450, tag='s%d-' % k)
        k += 1
        sent += max(n, 1)
    n = settle(sd)
    took = time.monotonic() - t0
    after = du(sd.dbdir)
    sd.stop()
    return n, before, after, took


def main():
    flood = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    print('abuse: CPU %s, %d cores, kernel %s' % (cpu_model(),
          os.cpu_count() or 0, platform.release()))
    for name, args in (('defaults', []), ('caps very high', HIGH)):
        print('[%s]' % name)
        print('  tuples recorded from one 5,000-RCPT client: %d'
              % rcpt_flood(args))
        held, other = slots(args)
        print('  slots held by one source opening 200 (maxcon 100): %d; '
              'another source served: %s' % (held, other))
        n, before, after, took = db_flood(args, flood)
        print('  one-IP flood of %d max-size tuples: %d GREY entries, '
              'database %.1f -> %.1f MB (+%.0f KB per entry) in %.1f s'
              % (flood, n, before / 1e6, after / 1e6,
                 (after - before) / 1e3 / max(n, 1), took))
    return 0


if __name__ == '__main__':
    sys.exit(main())
