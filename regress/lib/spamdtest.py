"""Helpers for the integration tests that drive a real spamd.

A test starts spamd in the foreground (-d) on a loopback address and a
free port, with a database directory of its own under /tmp, talks SMTP
to it, reads the database back with spamdb, and stops it by pid.  Output
is the TAP-like dialect of regress/run.sh: "ok - what",
"not ok - what: why", "skip - what: why".

As root spamd separates privileges and needs the user _spamd (created
here when missing); as anyone else it runs as one user, which the tests
accept just the same.
"""

import atexit
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SPAMD = os.path.join(ROOT, 'spamd', 'spamd')
SPAMDB = os.path.join(ROOT, 'spamdb', 'spamdb')
SPAMD_USER = '_spamd'

# A banner: "220 host ESMTP name; Sat Nov 22 11:20:00 2025\r\n".
BANNER_TIME = r'[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d \d{4}'


class Tap:
    """Counts checks; done() gives the exit status."""

    def __init__(self):
        self.failed = 0
        self.passed = 0

    def ok(self, cond, what, why=''):
        if cond:
            self.passed += 1
            print('ok - %s' % what, flush=True)
        else:
            self.failed += 1
            print('not ok - %s: %s' % (what, why or 'failed'), flush=True)
        return bool(cond)

    def eq(self, got, want, what):
        return self.ok(got == want, what, 'got %r, want %r' % (got, want))

    def skip(self, what, why):
        print('skip - %s: %s' % (what, why), flush=True)

    def diag(self, text):
        for line in str(text).splitlines():
            print('# %s' % line, flush=True)

    def done(self):
        return 1 if self.failed else 0


def is_root():
    return os.geteuid() == 0


def ensure_user():
    """As root, make sure spamd's unprivileged user exists."""
    if not is_root():
        return
    try:
        pwd.getpwnam(SPAMD_USER)
        return
    except KeyError:
        pass
    subprocess.run(['useradd', '--system', '--no-create-home',
                    '--home-dir', '/var/empty', '--shell',
                    '/usr/sbin/nologin', SPAMD_USER], check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pwd.getpwnam(SPAMD_USER)    # KeyError if that failed


def have_ipv6_loopback():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    except OSError:
        return False
    try:
        s.bind(('::1', 0))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_port(host):
    """A port nobody listens on now (the kernel picks it at random)."""
    fam = socket.AF_INET6 if ':' in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    try:
        s.bind((host, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def listening(port, pid=None):
    """Whether some socket is in LISTEN on port (no connection made), in
    our network namespace or in that of pid."""
    base = '/proc/net' if pid is None else '/proc/%d/net' % pid
    for f in ('tcp', 'tcp6'):
        try:
            with open(os.path.join(base, f)) as fp:
                next(fp)
                for line in fp:
                    fields = line.split()
                    if fields[3] == '0A' and \
                       int(fields[1].rsplit(':', 1)[1], 16) == port:
                        return True
        except OSError:
            pass
    return False


def poll(fn, timeout=3):
    """fn() every 50 ms until it returns something true or time is up;
    its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(0.05)


def make_netns(prefix):
    """As root: a network namespace with only lo up, deleted at exit.
    Returns its name, or None if it cannot be made."""
    if not is_root() or shutil.which('ip') is None:
        return None
    name = '%s%d' % (prefix, os.getpid())
    if subprocess.run(['ip', 'netns', 'add', name],
                      stderr=subprocess.DEVNULL).returncode != 0:
        return None
    atexit.register(subprocess.run, ['ip', 'netns', 'del', name],
                    stderr=subprocess.DEVNULL)
    subprocess.run(['ip', '-n', name, 'link', 'set', 'lo', 'up'],
                   check=True)
    return name


def own_netns(prefix='tns'):
    """As root, run this script again inside a network namespace of its
    own (lo up) and exit with its status.  What a test starts in what it
    takes for the host's namespace (spamd on 127.0.0.1 and the nft sets
    it reconciles, spamdb's updates of those sets, NFLOG groups, ports
    8025 and 8026) then never meets a spamd-nft running on the machine.
    Returns at once inside it (SPAMDTEST_NETNS is set), or not as root."""
    if not is_root() or os.environ.get('SPAMDTEST_NETNS'):
        return
    name = '%s%d' % (prefix, os.getpid())
    if shutil.which('ip') is None or subprocess.run(
            ['ip', 'netns', 'add', name],
            stderr=subprocess.DEVNULL).returncode != 0:
        print('not ok - %s: cannot make network namespace %s' % (
            os.path.basename(sys.argv[0]), name), flush=True)
        sys.exit(1)
    rc = 1
    try:
        subprocess.run(['ip', '-n', name, 'link', 'set', 'lo', 'up'],
                       check=True)
        p = subprocess.Popen(['ip', 'netns', 'exec', name, sys.executable,
                              os.path.abspath(sys.argv[0])] + sys.argv[1:],
                             env=dict(os.environ, SPAMDTEST_NETNS=name))
        # The runner's timeout signals us: the test ends through its
        # own cleanup.
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(sig, lambda n, f: p.send_signal(n))
        rc = p.wait()
    finally:
        # Whatever is left in there is ours.
        r = subprocess.run(['ip', 'netns', 'pids', name],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        for pid in r.stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        subprocess.run(['ip', 'netns', 'del', name],
                       stderr=subprocess.DEVNULL)
    sys.exit(rc)


def ns_attempt(ns, host, port, helo, mfrom, to):
    """One delivery attempt from inside network namespace ns: the reply
    codes to HELO, MAIL, RCPT and DATA (see attempt_main)."""
    r = subprocess.run(['ip', 'netns', 'exec', ns, sys.executable,
                        os.path.abspath(__file__), 'attempt', host,
                        str(port), helo, mfrom, to],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60)
    out = r.stdout.decode(errors='replace').split()
    try:
        return [int(x) for x in out]
    except ValueError:
        return out


def attempt_main(argv):
    """python3 spamdtest.py attempt HOST PORT HELO FROM TO"""
    import smtplib
    host, port, helo, mfrom, to = argv
    s = smtplib.SMTP(timeout=20)
    try:
        s.connect(host, int(port))
        codes = [s.helo(helo)[0], s.mail(mfrom)[0], s.rcpt(to)[0],
                 s.docmd('DATA')[0]]
    finally:
        try:
            s.close()
        except OSError:
            pass
    print(' '.join(str(c) for c in codes))


def children(pid):
    """Direct children of pid."""
    kids = []
    try:
        with open('/proc/%d/task/%d/children' % (pid, pid)) as fp:
            kids = [int(x) for x in fp.read().split()]
    except OSError:
        pass
    return kids


def pid_alive(pid):
    """Running, not a zombie."""
    try:
        with open('/proc/%d/stat' % pid) as fp:
            stat = fp.read()
    except OSError:
        return False
    return stat.rsplit(')', 1)[1].split()[0] not in ('Z', 'X')


class Spamd:
    """One spamd on host:random port with a private database.

    args are extra options, e.g. ['-G', '2s:1h:1h', '-s', '0', '-S', '0'].
    Many run at once in the host's namespace: each has its configuration
    socket at cfgsock, in its own directory, and no TCP one (spamd's
    default; 127.0.0.1:8026 is for one spamd only) unless args choose
    them (-U, -P).
    host None: spamd's default listener, [::] for IPv4 and IPv6 alike
    (then only inside a network namespace of the test's own, netns).
    """

    def __init__(self, args=(), host='127.0.0.1', hostname='spamd.test',
                 netns=None, verbose=True):
        self.args = list(args)
        self.verbose = verbose
        self.host = host
        self.netns = netns
        self.hostname = hostname
        self.port = None
        self.proc = None
        self.tmp = None
        self.dbdir = None
        self.logpath = None
        self.cfgsock = None
        atexit.register(self.stop)

    def start(self, timeout=10):
        """Start spamd; after stop_proc(), again on the same database."""
        ensure_user()
        if self.tmp is None:
            self.tmp = tempfile.mkdtemp(prefix='spamdtest.', dir='/tmp')
        # The greylister opens the database as _spamd: let it in.
        os.chmod(self.tmp, 0o755)
        self.dbdir = os.path.join(self.tmp, 'db')
        self.logpath = os.path.join(self.tmp, 'spamd.log')
        cfg = []
        if '-U' not in self.args:
            self.cfgsock = os.path.join(self.tmp, 'cfg.sock')
            cfg += ['-U', self.cfgsock]
        # The host's /etc/spamd-nft/trusted and /etc/mail/nospamd
        # (spamd's default -t, -x) are no business of a test: files of
        # its own, absent unless written.
        if '-t' not in self.args:
            cfg += ['-t', os.path.join(self.tmp, 'trusted')]
        if '-x' not in self.args:
            cfg += ['-x', os.path.join(self.tmp, 'nospamd')]
        for attempt in range(5):
            if self.netns is not None:
                self.port = 8025
                cmd = ['ip', 'netns', 'exec', self.netns]
            else:
                self.port = free_port(self.host)
                cmd = []
            cmd += [SPAMD, '-d'] + (['-v'] if self.verbose else []) + [
                '-p', str(self.port), '-f', self.dbdir, '-h',
                self.hostname] + cfg + self.args
            if self.host is not None:
                cmd += ['-l', self.host]
            log = open(self.logpath, 'ab')
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log,
                                         close_fds=True)
            log.close()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                if listening(self.port, self.proc.pid) and \
                   self.engine_pid() is not None:
                    return True
                time.sleep(0.05)
            if self.proc.poll() is None:
                break       # alive but not listening: give up
            if 'in use' not in self.log():
                break       # died for another reason than the port
        self.stop_proc()
        raise RuntimeError('spamd did not start: %s' % self.log()[-2000:])

    def engine_pid(self):
        """The SMTP engine: spamd's child (spamd itself with -b)."""
        if self.proc is None or self.proc.poll() is not None:
            return None
        if '-b' in self.args:
            return self.proc.pid
        kids = children(self.proc.pid)
        return kids[0] if kids else None

    def alive(self):
        """Both processes of spamd are running."""
        if self.proc is None or self.proc.poll() is not None:
            return False
        e = self.engine_pid()
        return e is not None and pid_alive(e)

    def log(self):
        try:
            with open(self.logpath, errors='replace') as fp:
                return fp.read()
        except (OSError, TypeError):
            return ''

    def stop_proc(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def stop(self):
        """Stop spamd by pid and remove its files."""
        engine = self.engine_pid()
        self.stop_proc()
        if engine is not None and pid_alive(engine):
            try:
                os.kill(engine, signal.SIGKILL)
            except OSError:
                pass
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def connect(self, source=None, timeout=10):
        fam = socket.AF_INET6 if ':' in self.host else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(timeout)
        if source is not None:
            s.bind((source, 0))
        s.connect((self.host, self.port))
        return s

    def db_lines(self):
        """The database as spamdb lists it (db_dump if spamdb is missing)."""
        if os.access(SPAMDB, os.X_OK):
            r = subprocess.run([SPAMDB, '-f', self.dbdir],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=30)
            if r.returncode != 0:
                raise RuntimeError('spamdb -f %s: status %d: %s' % (
                    self.dbdir, r.returncode, r.stderr.decode(
                        errors='replace')))
            return r.stdout.decode(errors='replace').splitlines()
        return db_dump_lines(self.dbdir)

    def db(self):
        """Parsed entries: list of dicts (see parse_entry)."""
        return [e for e in map(parse_entry, self.db_lines()) if e]

    def poll(self, fn, timeout=3):
        """fn() until it returns something true or time is up: the
        greylister writes the database a moment after the RCPT."""
        return poll(fn, timeout)

    def grey(self, ip, helo=None, mfrom=None, to=None):
        return [e for e in self.db() if e['type'] == 'GREY' and
                e['ip'] == ip and (helo is None or e['helo'] == helo) and
                (mfrom is None or e['from'] == mfrom) and
                (to is None or e['to'] == to)]

    def white(self, ip):
        return [e for e in self.db()
                if e['type'] == 'WHITE' and e['ip'] == ip]


def parse_entry(line):
    """One line of spamdb's output, in OpenBSD's format."""
    f = line.split('|')
    try:
        if f[0] == 'GREY' and len(f) == 10:
            return dict(type='GREY', ip=f[1], helo=f[2], **{'from': f[3]},
                        to=f[4], first=int(f[5]), passt=int(f[6]),
                        expire=int(f[7]), bcount=int(f[8]),
                        pcount=int(f[9]), line=line)
        if f[0] == 'WHITE' and len(f) == 9 and f[2] == '' and f[3] == '':
            return dict(type='WHITE', ip=f[1], first=int(f[4]),
                        passt=int(f[5]), expire=int(f[6]),
                        bcount=int(f[7]), pcount=int(f[8]), line=line)
        if f[0] == 'TRAPPED' and len(f) == 3:
            return dict(type='TRAPPED', ip=f[1], expire=int(f[2]),
                        line=line)
        if f[0] == 'SPAMTRAP' and len(f) == 2:
            return dict(type='SPAMTRAP', ip=f[1], line=line)
    except ValueError:
        pass
    return None


def db_dump_lines(dbdir):
    """Fallback reader: db_dump of the environment, records decoded as
    lib/gdata.h encodes them (version byte, 3 x int64, 2 x int32, big
    endian), printed in spamdb's format."""
    import struct
    r = subprocess.run(['db_dump', '-h', dbdir, 'spamd.db'],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30)
    if r.returncode != 0:
        raise RuntimeError('db_dump: %s' % r.stderr.decode(errors='replace'))
    data = []
    body = False
    for line in r.stdout.decode().splitlines():
        if line == 'HEADER=END':
            body = True
        elif line == 'DATA=END':
            break
        elif body:
            data.append(bytes.fromhex(line.strip()))
    out = []
    for key, val in zip(data[0::2], data[1::2]):
        if not key or key[0] == 0 or len(val) != 33:
            continue
        _, first, passt, expire, bcount, pcount = struct.unpack('>Bqqqii',
                                                                val)
        k = key.decode(errors='replace')
        if '\n' in k:
            p = k.split('\n')
            if len(p) == 3:
                p.insert(1, '')
            out.append('GREY|%s|%s|%s|%s|%d|%d|%d|%d|%d' % (
                p[0], p[1], p[2], p[3], first, passt, expire, bcount,
                pcount))
        elif pcount == -1:
            out.append('TRAPPED|%s|%d' % (k, expire))
        elif pcount == -2:
            out.append('SPAMTRAP|%s' % k)
        else:
            out.append('WHITE|%s|||%d|%d|%d|%d|%d' % (
                k, first, passt, expire, bcount, pcount))
    return out


class Reader:
    """Reads CRLF-terminated SMTP replies from a socket, keeping the raw
    bytes so tests can check the line endings."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b''
        self.raw = b''
        self.eof = False

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout('timed out')
        self.sock.settimeout(left)
        d = self.sock.recv(65536)
        if not d:
            self.eof = True
            raise EOFError('connection closed')
        self.buf += d
        self.raw += d

    def line(self, timeout=10):
        """One reply line, with its line ending."""
        deadline = time.monotonic() + timeout
        while b'\n' not in self.buf:
            self._fill(deadline)
        i = self.buf.index(b'\n') + 1
        ln, self.buf = self.buf[:i], self.buf[i:]
        return ln

    def reply(self, timeout=10):
        """A whole (possibly multi-line) reply: (code, [lines])."""
        lines = []
        while True:
            ln = self.line(timeout)
            lines.append(ln)
            if len(ln) < 4 or ln[3:4] != b'-':
                break
        code = int(lines[-1][:3]) if lines[-1][:3].isdigit() else -1
        return code, lines

    def closed(self, timeout=10):
        """Whether the peer closes with nothing more to say."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                self._fill(deadline)
        except (EOFError, ConnectionResetError):
            # A reset counts: spamd closing with unread input sends one.
            return True
        except (socket.timeout, OSError):
            return False


def crlf_only(data):
    """Every line ends in CRLF: no bare LF, no bare CR, no partial line."""
    return data.endswith(b'\r\n') and \
        data.count(b'\n') == data.count(b'\r\n') and \
        data.count(b'\r') == data.count(b'\r\n')


def chat(sock, cmd, rd, timeout=10):
    """Send one command line, return (code, lines) of the reply."""
    sock.sendall(cmd + b'\r\n')
    return rd.reply(timeout)


def check_normal_client(tap, sd, what, source=None):
    """A new client gets the banner and a 250 to HELO at once."""
    try:
        s = sd.connect(source=source)
    except OSError as e:
        tap.ok(False, what, 'connect: %s' % e)
        return False
    try:
        rd = Reader(s)
        code, lines = rd.reply(10)
        good = code == 220 and re.match(
            rb'^220 ' + re.escape(sd.hostname.encode()) + rb' ESMTP ',
            lines[0]) is not None
        code2, lines2 = chat(s, b'HELO next.example.org', rd)
        good = good and code2 == 250
        s.sendall(b'QUIT\r\n')
        code3, _ = rd.reply(10)
        return tap.ok(good and code3 == 221, what,
                      'banner %r, HELO reply %r, QUIT %d' % (
                          lines, lines2, code3))
    except (OSError, EOFError, ValueError) as e:
        return tap.ok(False, what, '%s: %s' % (type(e).__name__, e))
    finally:
        s.close()


# A participant of spamd's database environment (Python bsddb3,
# DB_REGISTER, no thread tracking of its own) that write-locks one key
# in a transaction, says "locked" and sleeps for argv[3] seconds (or
# until killed).  python3 -c DB_HOLDER HOME KEY SECONDS, as _spamd.
DB_HOLDER = r'''
import sys, time
from bsddb3 import db
home, key = sys.argv[1], sys.argv[2].encode()
env = db.DBEnv()
env.open(home, db.DB_CREATE | db.DB_INIT_LOCK | db.DB_INIT_LOG |
         db.DB_INIT_MPOOL | db.DB_INIT_TXN | db.DB_REGISTER | db.DB_RECOVER)
d = db.DB(env)
d.open('spamd.db', dbtype=db.DB_HASH, flags=db.DB_AUTO_COMMIT)
t = env.txn_begin()
d.put(key, b'x' * 40, txn=t)
print('locked', flush=True)
time.sleep(float(sys.argv[3]))
'''


def as_spamd():
    """preexec_fn: become spamd's unprivileged user."""
    pw = pwd.getpwnam(SPAMD_USER)
    os.setgid(pw.pw_gid)
    os.setuid(pw.pw_uid)


def tuple_from(sd, src, to, helo='crash.example.org',
               mfrom='a@example.org'):
    """HELO, MAIL, RCPT from src; the greylister records it later."""
    s = sd.connect(source=src)
    try:
        rd = Reader(s)
        rd.reply(10)
        for c in (('HELO %s' % helo).encode(),
                  ('MAIL FROM:<%s>' % mfrom).encode(),
                  ('RCPT TO:<%s>' % to).encode()):
            chat(s, c, rd)
    finally:
        s.close()


def logged(sd, pat, timeout):
    """Seconds until spamd's log holds pat, or None."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if pat in sd.log():
            return time.monotonic() - t0
        time.sleep(0.05)
    return None


def prom_samples(path):
    """{'name{labels}': value} of a metrics file (spamd -m); {} if none."""
    out = {}
    try:
        with open(path) as fp:
            for line in fp:
                if line.startswith('#') or not line.strip():
                    continue
                k, v = line.rsplit(' ', 1)
                out[k] = float(v)
    except (OSError, ValueError):
        pass
    return out


def need_binaries(tap, what):
    if not os.access(SPAMD, os.X_OK):
        tap.ok(False, what, '%s is not built (run make)' % SPAMD)
        return False
    return True


def main_guard(fn):
    """Run fn(tap), as root in a network namespace of its own (own_netns),
    and exit with its status; an exception is a failure.
    A TERM or HUP (the runner's timeout) exits through the atexit
    handlers, so spamd and the namespaces are cleaned up."""
    own_netns()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *a: sys.exit(1))
    tap = Tap()
    try:
        fn(tap)
    except Exception as e:  # report, never die silently
        import traceback
        tap.ok(False, 'test ran to the end', '%s: %s' % (
            type(e).__name__, e))
        tap.diag(traceback.format_exc())
    sys.exit(tap.done())


if __name__ == '__main__' and sys.argv[1:2] == ['attempt']:
    attempt_main(sys.argv[2:])
