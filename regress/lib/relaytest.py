"""Helpers of the relay tests (t-relay, t-relay-nocap): a stand-in MTA
(relaysink.py) in a process of its own, and SMTP from a chosen source."""

import atexit
import json
import os
import subprocess
import sys
import tempfile

import spamdtest as st

SINK = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                    'relaysink.py')


class Sink:
    def __init__(self, host, mode, n=0, bysrc=None):
        self.tmp = tempfile.mkdtemp(prefix='relaysink.', dir='/tmp')
        self.log = os.path.join(self.tmp, 'sink.log')
        self.host = host
        self.port = st.free_port(host)
        args = [sys.executable, SINK, host, str(self.port), self.log, mode,
                str(n)] + ['%s=%s' % kv for kv in (bysrc or {}).items()]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE)
        self.proc.stdout.readline()
        atexit.register(self.stop)

    def records(self):
        try:
            with open(self.log) as fp:
                return [json.loads(x) for x in fp if x.strip()]
        except OSError:
            return []

    def record_from(self, src, timeout=10):
        def find():
            r = [x for x in self.records()
                 if x.get('proxy', {}).get('src') == src]
            return r[-1] if r else None
        return st.poll(find, timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        subprocess.run(['rm', '-rf', self.tmp])


def first_line(sd, src, timeout=10):
    s = sd.connect(source=src)
    rd = st.Reader(s)
    try:
        return s, rd, rd.line(timeout)
    except (OSError, EOFError) as e:
        return s, rd, ('%s: %s' % (type(e).__name__, e)).encode()


def spamdb_add(tap, sd, ip):
    r = subprocess.run([st.SPAMDB, '-f', sd.dbdir, '-a', ip],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return tap.ok(r.returncode == 0, 'spamdb -a %s' % ip,
                  r.stdout.decode(errors='replace'))


def attempt(sd, src):
    """HELO, MAIL, RCPT, DATA from src: the reply codes."""
    s = sd.connect(source=src)
    rd = st.Reader(s)
    try:
        codes = [rd.reply(10)[0]]
        for c in (b'HELO relay.example.org', b'MAIL FROM:<a@example.org>',
                  b'RCPT TO:<b@spamd.test>', b'DATA'):
            codes.append(st.chat(s, c, rd)[0])
        return codes
    finally:
        s.close()
