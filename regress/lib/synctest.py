"""The spamd sync protocol for tests and benchmarks (regress/t-sync,
bench/sync): OpenBSD's datagrams built from the format itself, not from
lib/sync.c, so that each checks the other; and a lab of network
namespaces on one bridged link, with helpers that run inside them
(python3 synctest.py send|listen|attempt|syn ...)."""

import hashlib
import hmac
import os
import socket
import struct
import subprocess
import sys
import time

import spamdtest as T

KEYFILE_BYTES = b'spamd-sync-test-key\n'
KEY = hashlib.sha1(KEYFILE_BYTES).hexdigest().encode()


def datagram(entries, counter=0, key=KEY, af=2, version=2, length=None):
    body = b''.join(entries) + struct.pack('>HH', 0, 4)
    n = 32 + len(body) if length is None else length
    hdr = struct.pack('>BBHI20s4x', version, af, n, counter, b'\0' * 20)
    pkt = hdr + body
    mac = hmac.new(key, pkt[:32 + len(body)], hashlib.sha1).digest()
    return pkt[:8] + mac + pkt[28:]


def ipbytes(ip):
    fam = socket.AF_INET6 if ':' in ip else socket.AF_INET
    return socket.inet_pton(fam, ip)


def tw(kind, ip, ts, expire):
    a = ipbytes(ip)
    return struct.pack('>HHII', kind, 12 + len(a), ts, expire) + a


def grey(ip, ts, helo, mfrom, to):
    a = ipbytes(ip)
    f, t, h = ((s if isinstance(s, bytes) else s.encode()) + b'\0'
               for s in (mfrom, to, helo))
    fixed = 4 + 4 + len(a) + 6
    n = (fixed + len(f) + len(t) + len(h) + 15) & ~15
    e = struct.pack('>HHI', 1, n, ts) + a + struct.pack(
        '>HHH', len(f), len(t), len(h)) + f + t + h
    return e + b'\0' * (n - len(e))


def parse(pkt, key=KEY):
    """A datagram as spamd sent it: checked, and its entries."""
    ver, af, n, counter = struct.unpack('>BBHI', pkt[:8])
    mac = pkt[8:28]
    want = hmac.new(key, pkt[:8] + b'\0' * 20 + pkt[28:n],
                    hashlib.sha1).digest()
    out = dict(version=ver, af=af, length=n, len=len(pkt),
               macok=(mac == want), pad=pkt[28:32], entries=[])
    alen = 4 if af == 2 else 16
    off = 32
    while off < n:
        typ, tl = struct.unpack('>HH', pkt[off:off + 4])
        if typ == 0:
            out['end'] = (tl, off + tl == n)
            break
        e = dict(type=typ, tlen=tl)
        if typ == 1:
            e['ts'], = struct.unpack('>I', pkt[off + 4:off + 8])
            e['ip'] = socket.inet_ntop(
                socket.AF_INET if alen == 4 else socket.AF_INET6,
                pkt[off + 8:off + 8 + alen])
            p = off + 8 + alen
            fl, tl2, hl = struct.unpack('>HHH', pkt[p:p + 6])
            s = pkt[p + 6:p + 6 + fl + tl2 + hl]
            e['from'], e['to'], e['helo'] = s[:fl], s[fl:fl + tl2], \
                s[fl + tl2:]
            e['padzero'] = pkt[p + 6 + fl + tl2 + hl:off + tl] == \
                b'\0' * (off + tl - (p + 6 + fl + tl2 + hl))
        else:
            e['ts'], e['expire'] = struct.unpack('>II', pkt[off + 4:off + 12])
            e['ip'] = socket.inet_ntop(
                socket.AF_INET if alen == 4 else socket.AF_INET6,
                pkt[off + 12:off + 12 + alen])
        out['entries'].append(e)
        off += tl
    return out


def inns(ns, *args, **kw):
    return subprocess.run(['ip', 'netns', 'exec', ns] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=kw.get('timeout', 60))


def me(ns, *args, **kw):
    """This file's sub_main inside namespace ns."""
    return inns(ns, sys.executable, os.path.abspath(__file__), *args, **kw)


def send(ns, host, *pkts):
    return me(ns, 'send', host, *[p.hex() for p in pkts]).returncode


def attempt(ns, src, dst, helo, mfrom, to):
    r = me(ns, 'attempt', src, dst, helo, mfrom, to)
    try:
        return [int(x) for x in r.stdout.split()]
    except ValueError:
        return r.stdout.decode(errors='replace')


def attemptx(ns, src, dst, helo, mfrom, to):
    """attempt() with bytes: the HELO, MAIL and RCPT codes."""
    r = me(ns, 'attemptx', src, dst, helo.hex(), mfrom.hex(), to.hex())
    try:
        return [int(x) for x in r.stdout.split()]
    except ValueError:
        return r.stdout.decode(errors='replace')


def elems(ns, setname):
    r = inns(ns, 'nft', 'list', 'set', 'inet', 'spamd', setname)
    out = r.stdout.decode()
    if 'elements' not in out:
        return set()
    body = out.split('elements = {', 1)[1].split('}', 1)[0]
    return {x.split()[0] for x in body.replace('\n', ' ').split(',')
            if x.strip()}


def wait_for(fn, timeout=3.0):
    return T.poll(fn, timeout)


def entry(sp, kind, ip):
    return [e for e in sp.db() if e['type'] == kind and e['ip'] == ip]


NFT = os.path.join(T.ROOT, 'etc', 'spamd.nft')


def build_net(prefix, NS):
    """Namespaces br (the bridge), mx1 192.0.2.1, mx2 192.0.2.2 and cli
    192.0.2.10-14, each link named sync0, etc/spamd.nft in mx1 and mx2.
    Fills NS with their names; raises RuntimeError on failure."""
    for name in ('br', 'mx1', 'mx2', 'cli'):
        ns = T.make_netns('%s%s' % (prefix, name))
        if ns is None:
            raise RuntimeError('cannot make namespace %s' % name)
        NS[name] = ns
    run = lambda *a: subprocess.run(a, check=True)  # noqa: E731
    run('ip', '-n', NS['br'], 'link', 'add', 'br0', 'type', 'bridge')
    run('ip', '-n', NS['br'], 'link', 'set', 'br0', 'up')
    addrs = {'mx1': ['192.0.2.1/24', '2001:db8::1/64'],
             'mx2': ['192.0.2.2/24', '2001:db8::2/64'],
             'cli': ['192.0.2.10/24', '192.0.2.11/24', '192.0.2.12/24',
                     '192.0.2.13/24', '192.0.2.14/24', '2001:db8::10/64']}
    for i, h in enumerate(('mx1', 'mx2', 'cli')):
        tmp = '%s%d%d' % (prefix, os.getpid() % 10000, i)
        run('ip', 'link', 'add', tmp, 'netns', NS[h], 'type', 'veth',
            'peer', 'name', 'p%d' % i, 'netns', NS['br'])
        run('ip', '-n', NS[h], 'link', 'set', tmp, 'name', 'sync0')
        run('ip', '-n', NS['br'], 'link', 'set', 'p%d' % i, 'master', 'br0')
        run('ip', '-n', NS['br'], 'link', 'set', 'p%d' % i, 'up')
        for a in addrs[h]:
            extra = ['nodad'] if ':' in a else []
            run('ip', '-n', NS[h], 'addr', 'add', a, 'dev', 'sync0', *extra)
        run('ip', '-n', NS[h], 'link', 'set', 'sync0', 'up')
    for h in ('mx1', 'mx2'):
        r = inns(NS[h], 'nft', '-f', NFT)
        if r.returncode != 0:
            raise RuntimeError('etc/spamd.nft in %s: %s' % (
                h, r.stdout.decode()))


def sub_main(argv):
    cmd = argv[0]
    if cmd == 'send':           # send HOST HEX...
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for h in argv[2:]:
            s.sendto(bytes.fromhex(h), (argv[1], 8025))
        return 0
    if cmd == 'listen':         # listen ADDR SECS [GROUP IFADDR]: hex lines
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((argv[1], 8025))
        s.settimeout(float(argv[2]))
        print('listening', flush=True)
        try:
            while True:
                print(s.recv(4096).hex(), flush=True)
        except socket.timeout:
            return 0
    if cmd == 'attempt':        # attempt SRC DST HELO FROM TO: 4 codes
        import smtplib
        src, dst, helo, mfrom, to = argv[1:]
        c = smtplib.SMTP(timeout=20, source_address=(src, 0))
        c.connect(dst, 8025)
        codes = [c.helo(helo)[0], c.mail(mfrom)[0], c.rcpt(to)[0]]
        c.close()
        print(' '.join(map(str, codes)))
        return 0
    if cmd == 'attemptx':       # attemptx SRC DST HELO FROM TO, in hex
        # Raw bytes (UTF-8, bars, control bytes), which smtplib refuses.
        src, dst = argv[1:3]
        helo, mfrom, to = (bytes.fromhex(a) for a in argv[3:6])
        s = socket.create_connection((dst, 8025), 20, (src, 0))
        f = s.makefile('rb')
        codes = []
        for cmd in (None, b'HELO ' + helo, b'MAIL FROM:' + mfrom,
                    b'RCPT TO:' + to):
            if cmd is not None:
                s.sendall(cmd + b'\r\n')
            line = f.readline()
            while line[3:4] == b'-':
                line = f.readline()
            if cmd is not None:
                codes.append(int(line[:3]))
        s.close()
        print(' '.join(map(str, codes)))
        return 0
    if cmd == 'rcpt':           # rcpt SRC DST HELO FROM TO: time of RCPT
        import smtplib
        src, dst, helo, mfrom, to = argv[1:]
        c = smtplib.SMTP(timeout=20, source_address=(src, 0))
        c.connect(dst, 8025)
        c.helo(helo)
        c.mail(mfrom)
        t = time.monotonic()
        c.rcpt(to)
        c.close()
        print('%.6f' % t)
        return 0
    if cmd == 'blast':          # blast HOST white|grey|forged N RATE: sent, secs
        host, kind, n, rate = argv[1], argv[2], int(argv[3]), \
            float(argv[4])
        now = int(time.time())
        pkts = []
        for i in range(n):
            ip = socket.inet_ntoa(struct.pack('>I', 0xc6120000 + i))
            e = tw(2, ip, now, now + 3600) if kind != 'grey' else \
                grey(ip, now, 'bench.example', '<b@example.net>',
                     '<r@example.org>')
            # forged: signed with a key nobody holds
            pkts.append(datagram([e], i, key=b'forged' if kind == 'forged'
                                 else KEY))
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        t0 = time.monotonic()
        for i, p in enumerate(pkts):
            # Paced in slices of 1 ms, so the rate holds over the run.
            # (sleeping, not spinning: spamd needs the cores).
            if i % max(1, int(rate / 1000)) == 0:
                ahead = t0 + i / rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
            s.sendto(p, (host, 8025))
        print('%d %.3f' % (n, time.monotonic() - t0))
        return 0
    if cmd == 'syn':            # syn HOST: one connection to port 25
        fam = socket.AF_INET6 if ':' in argv[1] else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect((argv[1], 25))
        except OSError:
            pass
        return 0
    return 2


if __name__ == '__main__':
    sys.exit(sub_main(sys.argv[1:]))
