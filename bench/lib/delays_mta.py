#!/usr/bin/python3
"""bench/delays: the stub MTA behind spamd, in the gateway's namespace.

    delays_mta.py LOG PORT [proxy:PORT...]

Listens on every address (IPv4 and IPv6) on each PORT: 25 takes what the
nft ruleset lets past spamd (whitelisted and nospamd sources), a
proxy:PORT what spamd relays (-R), each session after the PROXY header
that names the client.  It accepts every message and appends one
line per message to LOG: the monotonic time, the port, the peer and the
X-Bench header (message id and attempt), which bench/delays counts as
the delivery.  Nothing is checked; it is the receiving end only.
"""

import asyncio
import socket
import sys
import time

LOG = None


V2SIG = b'\r\n\r\n\x00\r\nQUIT\n'


async def proxy_header(reader):
    """The client's address from the PROXY header spamd -R sends first
    (v2, or v1 in case), or None when there is none."""
    head = await reader.readexactly(6)
    if head == b'PROXY ':
        f = (await reader.readline()).split()
        return f[1].decode() if len(f) > 1 else None
    head += await reader.readexactly(10)
    if not head.startswith(V2SIG):
        return None
    body = await reader.readexactly(int.from_bytes(head[14:16], 'big'))
    fam = head[13] >> 4
    if fam == 1:
        return socket.inet_ntop(socket.AF_INET, body[:4])
    if fam == 2:
        return socket.inet_ntop(socket.AF_INET6, body[:16])
    return 'local'


async def session(reader, writer, port, proxied):
    peer = writer.get_extra_info('peername')
    peer = peer[0] if peer else '?'
    tag = '-'
    indata = False
    if proxied:
        try:
            peer = await asyncio.wait_for(proxy_header(reader), 10) or \
                'no-proxy-header'
        except (asyncio.TimeoutError, asyncio.IncompleteReadError,
                ConnectionError, OSError):
            writer.close()
            return

    def say(text):
        writer.write(text.encode() + b'\r\n')

    try:
        say('220 mta.test ESMTP stub')
        await writer.drain()
        while True:
            line = await asyncio.wait_for(reader.readline(), 60)
            if not line:
                break
            if indata:
                if line.rstrip(b'\r\n') == b'.':
                    indata = False
                    LOG.write('%.3f %d %s %s\n' % (time.monotonic(), port,
                                                  peer, tag))
                    LOG.flush()
                    say('250 2.0.0 queued')
                elif line.lower().startswith(b'x-bench:'):
                    tag = line.split(b':', 1)[1].strip().decode(
                        'ascii', 'replace')
                continue
            verb = line[:4].upper()
            if verb in (b'EHLO', b'HELO'):
                say('250 mta.test')
            elif verb == b'DATA':
                indata = True
                say('354 go ahead')
            elif verb == b'QUIT':
                say('221 bye')
                await writer.drain()
                break
            else:
                say('250 ok')
            await writer.drain()
    except (asyncio.TimeoutError, ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def main():
    servers = []
    for p in sys.argv[2:]:
        proxied = p.startswith('proxy:')
        port = int(p.split(':')[-1])
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(('::', port))
        s.listen(512)
        servers.append(await asyncio.start_server(
            lambda r, w, port=port, pr=proxied: session(r, w, port, pr),
            sock=s))
    print('listening', flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == '__main__':
    LOG = open(sys.argv[1], 'a')
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
