#!/usr/bin/python3
"""bench/delays: the senders, in the senders' namespace.

    delays_sim.py CONFIG.json RESULT.json

Plays every message of CONFIG (made by bench/delays) against the
gateway's port 25, in compressed time: one simulated minute lasts
`scale' real seconds.  Each attempt is one SMTP connection from the
sender's address (a pool sender picks another address of its pool for
every retry), and the attempt's outcome decides the next: delivered
(the message reached the stub MTA: 250 after the final dot), or
deferred and retried on the sender's schedule, or given up.  Writes
every message's attempts (simulated start time, outcome) to RESULT.
"""

import asyncio
import json
import math
import random
import sys
import time

CFG = None
T0 = 0.0


def now_sim():
    return (time.monotonic() - T0) / CFG['scale']


def at_run(due, phase, every):
    """The first queue run at or after due; runs at phase + k * every."""
    ph = phase % every
    return ph + math.ceil((due - ph) / every) * every


def next_attempt(m, st, t_prev):
    """When the sender tries message m again after a failed attempt that
    started at t_prev (simulated minutes), or None when it gives up."""
    s = m['sched']
    first = st['first']
    n = len(st['attempts'])            # attempts made so far
    if s == 'never':
        return None
    if s == 'early':
        # ratware that retries at once: +1, +2, +4 minutes, then stops
        if n > 3:
            return None
        return t_prev + 2 ** (n - 1)
    if s == 'postfix':
        # the next attempt is due one message age later, clamped to
        # [minimal_backoff_time, maximal_backoff_time] (300 s, 4000 s),
        # and happens at the next deferred-queue scan (queue_run_delay
        # 300 s); after maximal_queue_lifetime (5 d) it bounces
        age = t_prev - first
        due = t_prev + min(max(age, 5.0), 4000 / 60.0)
        if due - first > 5 * 1440:
            return None
        return at_run(due, m['phase'], 5.0)
    if s == 'exim':
        # retry rule F,2h,15m; G,16h,1h,1.5; F,4d,6h, as hints: a
        # queue runner started every 30 minutes does the retry
        e = t_prev - first
        if e < 120:
            iv = 15.0
        elif e < 960:
            iv = st.get('g', 60.0)
            st['g'] = iv * 1.5
        else:
            iv = 360.0
        due = t_prev + iv
        if due - first > 4 * 1440:
            return None
        return at_run(due, m['phase'], 30.0)
    if s == 'exchange':
        # TransientFailureRetryCount 6 at TransientFailureRetryInterval
        # 5 min, then OutboundConnectionFailureRetryInterval 10 min
        # (Hub Transport defaults); MessageExpirationTimeout 2 days
        due = t_prev + (5.0 if n <= 6 else 10.0)
        if due - first > 2 * 1440:
            return None
        return due
    raise ValueError(s)


async def reply(r):
    """One SMTP reply (all its lines); returns its code, 0 on EOF."""
    code = 0
    while True:
        ln = await r.readline()
        if not ln:
            return 0
        code = int(ln[:3]) if ln[:3].isdigit() else 0
        if ln[3:4] != b'-':
            return code


async def dialogue(m, src, attempt):
    host = CFG['gw6'] if ':' in src else CFG['gw4']
    r, w = await asyncio.open_connection(host, CFG['port'],
                                         local_addr=(src, 0))
    try:
        helo = CFG['senders'][m['sid']]['helo'][src]
        if m.get('pregreet'):
            # bots talk first: EHLO before the banner is over
            w.write(b'EHLO ' + helo.encode() + b'\r\n')
            await w.drain()
            if await reply(r) == 0:
                return 'closed'
        else:
            c = await reply(r)
            if c != 220:
                return 'banner %d' % c
            w.write(b'EHLO ' + helo.encode() + b'\r\n')
            await w.drain()
        c = await reply(r)
        if c != 250:
            return 'ehlo %d' % c
        for cmd in (b'MAIL FROM:<' + m['from'].encode() + b'>',
                    b'RCPT TO:<' + m['to'].encode() + b'>', b'DATA'):
            w.write(cmd + b'\r\n')
            await w.drain()
            c = await reply(r)
            if cmd == b'DATA' and c == 354:
                break
            if c // 100 != 2:
                return '%s %d' % (cmd[:4].decode().lower(), c)
        w.write(('From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n'
                 'X-Bench: %s %d\r\n\r\nbench/delays\r\n.\r\n' % (
                     m['from'], m['to'], m['id'], m['id'], attempt)
                 ).encode())
        await w.drain()
        c = await reply(r)
        if c // 100 == 2:
            w.write(b'QUIT\r\n')
            return 'delivered'
        return 'dot %d' % c
    finally:
        w.close()


async def one_message(m, out):
    st = {'first': m['t0'], 'attempts': []}
    out[m['id']] = st['attempts']
    snd = CFG['senders'][m['sid']]
    rnd = random.Random(m['id'])
    prev = None
    t = m['t0']
    while t is not None and t < CFG['horizon']:
        delay = T0 + t * CFG['scale'] - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        addrs = snd['addrs']
        if snd['pool'] and prev is not None and len(addrs) > 1:
            src = rnd.choice([a for a in addrs if a != prev])
        elif snd['pool']:
            src = rnd.choice(addrs)
        else:
            src = addrs[0]
        prev = src
        start = now_sim()
        try:
            res = await asyncio.wait_for(
                dialogue(m, src, len(st['attempts'])), CFG['session'])
        except asyncio.TimeoutError:
            res = 'timeout'
        except (ConnectionError, OSError) as e:
            res = 'error %s' % type(e).__name__
        st['attempts'].append([round(t, 3), round(start, 3), src, res])
        if res == 'delivered':
            return
        t = next_attempt(m, st, t)


async def main(result):
    global T0
    out = {}
    T0 = time.monotonic() + 0.5
    tasks = [asyncio.ensure_future(one_message(m, out))
             for m in CFG['messages']]
    end = T0 + CFG['horizon'] * CFG['scale'] + CFG['session']
    await asyncio.wait(tasks, timeout=max(1.0, end - time.monotonic()))
    for t in tasks:
        t.cancel()
    with open(result, 'w') as fp:
        json.dump(out, fp)


if __name__ == '__main__':
    with open(sys.argv[1]) as fp:
        CFG = json.load(fp)
    asyncio.run(main(sys.argv[2]))
