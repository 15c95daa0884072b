#!/usr/bin/python3
"""A DNS forwarder over UDP that holds every query MS milliseconds
before passing it on, for kernels without netem (sch_netem).  It stops
by itself after LIFE seconds.

    dnsdelay.py LISTEN_ADDR UPSTREAM_ADDR MS LIFE
"""
import socket
import sys
import threading
import time

listen, upstream, ms, life = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((listen, 53))
s.settimeout(0.5)
end = time.monotonic() + life


def forward(q, client):
    time.sleep(ms / 1000.0)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(2)
    try:
        u.sendto(q, (upstream, 53))
        s.sendto(u.recv(65535), client)
    except OSError:
        pass
    finally:
        u.close()


while time.monotonic() < end:
    try:
        q, client = s.recvfrom(65535)
    except OSError:
        # a timeout, or an ICMP error from an earlier answer's client:
        # the forwarder must outlive both
        continue
    threading.Thread(target=forward, args=(q, client), daemon=True).start()
