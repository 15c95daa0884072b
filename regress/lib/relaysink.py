"""A stand-in MTA for the relay tests: it listens, reads the PROXY
protocol v2 header spamd sends first (parsed here from HAProxy's
specification, independently of spamd's code), and then plays one of:

  smtp    a minimal SMTP server: banner, 250 to everything, DATA until
          the lone dot, whose size and SHA-256 it records, 221 at QUIT
  halfup  reads until the client's FIN, records size and SHA-256, then
          sends "bye <size>\\r\\n" and closes (the client half-closed)
  halfdn  sends N bytes of a pattern, shuts down its sending side at once,
          then reads until the client's FIN, recording what came

Each session is one JSON line in the log file:
  {"proxy": {"src": ..., "sport": ..., "dst": ..., "dport": ...} or
   {"error": "..."}, "mode": ..., "size": ..., "sha256": ...}

    python3 relaysink.py HOST PORT LOGFILE MODE [N] [SRC=MODE ...]

MODE is what every session plays unless its PROXY source is named in a
SRC=MODE argument.
"""

import hashlib
import json
import socket
import struct
import sys
import threading
import time

SIG = b'\r\n\r\n\x00\r\nQUIT\n'


def recv_exact(c, n):
    b = b''
    while len(b) < n:
        x = c.recv(n - len(b))
        if not x:
            raise EOFError('closed after %d of %d header bytes' % (len(b), n))
        b += x
    return b


def read_proxy(c):
    h = recv_exact(c, 16)
    if h[:12] != SIG:
        return {'error': 'bad signature %r' % h[:12]}
    if h[12] != 0x21:
        return {'error': 'version/command 0x%02x' % h[12]}
    fam, ln = h[13], struct.unpack('!H', h[14:16])[0]
    body = recv_exact(c, ln)
    if fam == 0x11 and ln >= 12:
        src = socket.inet_ntop(socket.AF_INET, body[0:4])
        dst = socket.inet_ntop(socket.AF_INET, body[4:8])
        sport, dport = struct.unpack('!HH', body[8:12])
    elif fam == 0x21 and ln >= 36:
        src = socket.inet_ntop(socket.AF_INET6, body[0:16])
        dst = socket.inet_ntop(socket.AF_INET6, body[16:32])
        sport, dport = struct.unpack('!HH', body[32:36])
    else:
        return {'error': 'family 0x%02x length %d' % (fam, ln)}
    return {'src': src, 'sport': sport, 'dst': dst, 'dport': dport}


def smtp(c, rec):
    c.sendall(b'220 sink.test ESMTP relaysink\r\n')
    f = c.makefile('rb')
    while True:
        line = f.readline()
        if not line:
            return
        u = line.strip().upper()
        if u == b'DATA':
            c.sendall(b'354 go ahead\r\n')
            h = hashlib.sha256()
            n = 0
            while True:
                line = f.readline()
                if not line:
                    return
                if line == b'.\r\n':
                    break
                if line.startswith(b'.'):
                    line = line[1:]
                h.update(line)
                n += len(line)
            rec['size'] = n
            rec['sha256'] = h.hexdigest()
            c.sendall(b'250 2.0.0 Ok: queued\r\n')
        elif u == b'QUIT':
            c.sendall(b'221 2.0.0 Bye\r\n')
            return
        else:
            c.sendall(b'250 ok\r\n')


def halfup(c, rec):
    h = hashlib.sha256()
    n = 0
    while True:
        x = c.recv(1 << 16)
        if not x:
            break
        h.update(x)
        n += len(x)
    rec['size'] = n
    rec['sha256'] = h.hexdigest()
    c.sendall(b'bye %d\r\n' % n)


def halfdn(c, rec, n):
    pat = bytes(range(256)) * 256
    left = n
    while left > 0:
        k = c.send(pat[:min(left, len(pat))])
        left -= k
    c.shutdown(socket.SHUT_WR)
    got = b''
    while True:
        x = c.recv(4096)
        if not x:
            break
        got += x
    rec['size'] = len(got)
    rec['got'] = got.decode(errors='replace')[:200]


def rst(c, rec):
    """A banner, then a reset a second later (the test stops spamd's
    engine meanwhile, so that it finds both sockets ready at once)."""
    c.sendall(b'220 sink.test ESMTP relaysink\r\n')
    time.sleep(1)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                 struct.pack('ii', 1, 0))
    rec['reset'] = True


def session(c, path, mode, n, bysrc, lock):
    rec = {'mode': mode}
    try:
        rec['proxy'] = read_proxy(c)
        if 'error' not in rec['proxy']:
            mode = rec['mode'] = bysrc.get(rec['proxy']['src'], mode)
            if mode == 'smtp':
                smtp(c, rec)
            elif mode == 'halfup':
                halfup(c, rec)
            elif mode == 'rst':
                rst(c, rec)
            else:
                halfdn(c, rec, n)
    except (OSError, EOFError) as e:
        rec['exc'] = str(e)
    finally:
        c.close()
    with lock:
        with open(path, 'a') as fp:
            fp.write(json.dumps(rec) + '\n')


def main():
    host, port, path, mode = sys.argv[1:5]
    n = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    bysrc = dict(a.split('=', 1) for a in sys.argv[6:])
    fam = socket.AF_INET6 if ':' in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(port)))
    s.listen(128)
    print('listening', flush=True)
    lock = threading.Lock()
    while True:
        c, _ = s.accept()
        threading.Thread(target=session, args=(c, path, mode, n, bysrc, lock),
                         daemon=True).start()


if __name__ == '__main__':
    main()
