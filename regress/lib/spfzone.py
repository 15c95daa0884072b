#!/usr/bin/python3
"""Test zones for spfwalk, served by nsd in a network namespace.

    spfzone.py DIR ADDR4 ADDR6 BULK

writes DIR/nsd.conf and DIR/walk.test.zone: hand-made records that use
every SPF mechanism spfwalk follows or skips, nested includes, a
diamond, a redirect (and one that "all" overrides), a loop, a missing
include, a record that is not SPF and a domain over the lookup bound;
the pool and anyone domains of t-spfpass;
then BULK domains bulkN.walk.test of about ten lookups each, for the
parallel test and the benchmark.  It prints the networks the bulk
domains authorize, as spfwalk should print them, to DIR/bulk.expect,
and their names to DIR/bulk.domains.
"""
import ipaddress
import os
import sys

d, a4, a6, bulk = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

Z = """$ORIGIN walk.test.
$TTL 300
@	SOA ns hostmaster 1 3600 600 86400 300
@	NS ns
ns	A %(a4)s
ns	AAAA %(a6)s
; every mechanism: ip4 (two halves that merge), ip6, a, a:/28, mx,
; mx://64, include; ptr, exists and a macro are skipped; ~all
big	TXT "v=spf1 ip4:198.51.100.0/25 +ip4:198.51.100.128/25 ip6:2001:db8:10::/48 a a:host.walk.test/28 mx mx:mx2.walk.test//64 include:inc1.walk.test ptr exists:%%{i}.x.walk.test ~all"
big	A 203.0.113.1
big	MX 10 mx1
mx1	A 203.0.113.65
mx1	AAAA 2001:db8:20::1
host	A 203.0.113.200
mx2	MX 10 mx3
mx3	A 203.0.113.130
mx3	AAAA 2001:db8:30::5
; a fail-qualified network is not authorized
inc1	TXT "v=spf1 include:inc2.walk.test -ip4:192.0.2.200 ip4:192.0.2.128/26 -all"
; a record in two strings
inc2	TXT "v=spf1 ip6:2001:db8:40::/64 include:%%{d}.macro.walk.test " "ip4:192.0.2.64/27 ?all"
; a diamond: inc2 twice, no loop
dia	TXT "v=spf1 include:inc2.walk.test include:inc3.walk.test"
inc3	TXT "v=spf1 include:inc2.walk.test ip4:192.0.2.96/27 ip4:203.0.113.100/31"
redir	TXT "v=spf1 redirect=target.walk.test"
target	TXT "v=spf1 ip4:203.0.113.240/29 -all"
; with "all", redirect= does not apply
redirall TXT "v=spf1 ip4:203.0.113.16/30 redirect=target2.walk.test -all"
target2	TXT "v=spf1 ip4:203.0.113.32/27"
; a TXT record, and a second one that is SPF
txt2	TXT "google-site-verification=abc"
txt2	TXT "v=spf1 ip4:203.0.113.48/28"
; networks wider than spfwalk's floor (/12, /24): skipped with a warning,
; the rest of the record still counts; edge: the floor itself passes
wide	TXT "v=spf1 ip4:0.0.0.0/0 ip6:::/0 +ip4:0.0.0.0/1 ip4:128.0.0.0/1 a/0 mx//0 a:host.walk.test/11 ip4:192.0.2.32/28 -all"
wide	A 203.0.113.5
wide	MX 10 mx1
edge	TXT "v=spf1 ip4:192.0.2.0/12 ip4:192.0.2.0/11 ip6:2001:db8::/24 ip6:2001:db8::/23 -all"
; failures
loop1	TXT "v=spf1 ip4:192.0.2.8/29 include:loop2.walk.test"
loop2	TXT "v=spf1 include:loop1.walk.test"
nospf	TXT "hello, world"
badinc	TXT "v=spf1 include:gone.walk.test"
many	TXT %(many)s
; SPF-aware passing (t-spfpass): a pool of senders behind an include,
; and a domain whose record lets anybody by
pool	TXT "v=spf1 include:poolnets.walk.test -all"
poolnets TXT "v=spf1 ip4:203.0.113.80/29 ~all"
anyone	TXT "v=spf1 +all"
""" % {'a4': a4, 'a6': a6,
       'many': ' '.join('"%s "' % ' '.join('a:h%d.walk.test' % i
                                             for i in range(k, k + 10))
                        for k in range(0, 40, 10)).replace('"a', '"v=spf1 a', 1)}

# Bulk domain N: two levels of include, a, mx; four networks.
expect4, expect6, names = [], [], []
for n in range(bulk):
    v4 = ipaddress.ip_address('198.51.100.0') + n
    b = 'bulk%d' % n
    Z += '%s\tTXT "v=spf1 include:%s-i.walk.test a mx -all"\n' % (b, b)
    Z += '%s-i\tTXT "v=spf1 include:%s-j.walk.test ip4:%s"\n' % (b, b, v4)
    Z += '%s-j\tTXT "v=spf1 ip6:2001:db8:100:%x::/64"\n' % (b, n)
    Z += '%s\tA 203.0.113.%d\n' % (b, n)
    Z += '%s\tMX 10 %s-mx\n' % (b, b)
    Z += '%s-mx\tAAAA 2001:db8:200::%x\n' % (b, n)
    expect4 += [ipaddress.ip_network('%s/32' % v4),
                ipaddress.ip_network('203.0.113.%d/32' % n)]
    expect6 += [ipaddress.ip_network('2001:db8:100:%x::/64' % n),
                ipaddress.ip_network('2001:db8:200::%x/128' % n)]
    names.append(b + '.walk.test')

with open(os.path.join(d, 'walk.test.zone'), 'w') as f:
    f.write(Z)
with open(os.path.join(d, 'bulk.expect'), 'w') as f:
    for l in (expect4, expect6):
        for net in ipaddress.collapse_addresses(l):
            f.write('%s\n' % net)
with open(os.path.join(d, 'bulk.domains'), 'w') as f:
    f.write(''.join(x + '\n' for x in names))
with open(os.path.join(d, 'nsd.conf'), 'w') as f:
    f.write("""server:
	ip-address: %(a4)s
	ip-address: %(a6)s
	port: 53
	username: ""
	chroot: ""
	zonesdir: "%(d)s"
	database: ""
	zonelistfile: "%(d)s/zone.list"
	xfrdfile: "%(d)s/xfrd.state"
	xfrdir: "%(d)s"
	pidfile: "%(d)s/nsd.pid"
	logfile: "%(d)s/nsd.log"
	server-count: 1
	verbosity: 1
	hide-version: yes
remote-control:
	control-enable: no
zone:
	name: walk.test
	zonefile: walk.test.zone
""" % {'a4': a4, 'a6': a6, 'd': d})
