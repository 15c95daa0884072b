/*
 * Relay mode's pure parts: the PROXY v2 header spamd writes to the MTA
 * (spamd/relay.c), byte for byte against HAProxy's specification
 * (section 2.2: signature, version 2 and command PROXY, TCP over IPv4 or
 * IPv6, the address block's length, then source and destination
 * addresses and ports in network order); the -R argument; and the
 * engine's WHITE list (spamd/whiteset.c): full lists replace, adds
 * add, IPv4 and IPv4-mapped IPv6 are one host, malformed records are
 * refused, 100,000 hosts are found.  The engine's functions relay.c
 * calls are stubs here: nothing of the network is run.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "con.h"
#include "engine.h"
#include "relay.h"
#include "spamd.h"
#include "stats.h"
#include "tap.h"
#include "trusted.h"
#include "whiteset.h"

struct spamd_conf conf;

int64_t engine_now(void) { return 0; }
void engine_free(struct evsrc *src) { free(src); }
int engine_epfd(void) { return -1; }
int con_setev(struct con *c, uint32_t ev) { (void)c; (void)ev; return 0; }
void con_close(struct con *c, const char *why) { (void)c; (void)why; }
void con_touch(struct con *c) { (void)c; }
void stats_relay(int what) { (void)what; }
void stats_relay_bytes(uint64_t a, uint64_t b) { (void)a; (void)b; }
/* relay_wanted() asks the trusted and nospamd lists (trusted.c): none. */
int
bypass_match(enum bypass_list which, const struct addr *a)
{
	(void)which;
	(void)a;
	return 0;
}

static struct addr
A(const char *s)
{
	struct addr	 a;

	if (addr_parse(&a, s) == -1) {
		printf("not ok - parse %s\n", s);
		exit(1);
	}
	return a;
}

static void
wmsg(struct grey_msg *m, int type)
{
	memset(m, 0, sizeof(*m));
	m->version = GREYMSG_VERSION;
	m->type = type;
}

int
main(void)
{
	static const uint8_t v4[] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49,
		0x54, 0x0a, 0x21, 0x11, 0x00, 0x0c,
		192, 0, 2, 10,  198, 51, 100, 25,  0xd4, 0x31,  0x00, 0x19
	};
	uint8_t			 buf[RELAY_HDRMAX];
	struct sockaddr_storage	 ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct grey_msg		 m;
	struct addr		 a, b, c;
	socklen_t		 len;
	char			 err[256];
	size_t			 n, i, missing;
	int			 bad;

	a = A("192.0.2.10");
	b = A("198.51.100.25");
	n = relay_proxyhdr(buf, &a, 54321, &b, 25);
	ok(n == sizeof(v4) && memcmp(buf, v4, n) == 0,
	    "IPv4: the 28-byte header of the specification");
	a = A("2001:db8::5");
	b = A("2001:db8::25");
	n = relay_proxyhdr(buf, &a, 1, &b, 25);
	ok(n == 52 && buf[12] == 0x21 && buf[13] == 0x21 && buf[14] == 0 &&
	    buf[15] == 36 && memcmp(buf + 16, a.a, 16) == 0 &&
	    memcmp(buf + 32, b.a, 16) == 0 && buf[48] == 0 && buf[49] == 1 &&
	    buf[50] == 0 && buf[51] == 25,
	    "IPv6: TCP over IPv6, 36 bytes of addresses and ports");
	memset(&b, 0, sizeof(b));
	a = A("192.0.2.10");
	n = relay_proxyhdr(buf, &a, 7, &b, 25);
	ok(n == 28 && memcmp(buf + 20, "\0\0\0\0", 4) == 0 &&
	    buf[26] == 0 && buf[27] == 0,
	    "no destination known: 0.0.0.0 port 0, the client's family");

	ok(relay_parse("192.0.2.1:25", &ss, &len, err, sizeof(err)) == 0 &&
	    ss.ss_family == AF_INET && len == sizeof(*sin) &&
	    ntohs(sin->sin_port) == 25 &&
	    sin->sin_addr.s_addr == htonl(0xc0000201), "-R 192.0.2.1:25");
	ok(relay_parse("[2001:db8::1]:10025", &ss, &len, err,
	    sizeof(err)) == 0 && ss.ss_family == AF_INET6 &&
	    ntohs(sin6->sin6_port) == 10025 && sin6->sin6_addr.s6_addr[15] == 1,
	    "-R [2001:db8::1]:10025");
	ok(relay_parse("2001:db8::1:25", &ss, &len, err, sizeof(err)) == -1 &&
	    strstr(err, "brackets") != NULL, "an IPv6 address without "
	    "brackets is refused: %s", err);
	ok(relay_parse("192.0.2.1:65536", &ss, &len, err, sizeof(err)) == -1,
	    "port 65536 is refused: %s", err);

	/* The WHITE list. */
	a = A("192.0.2.10");
	ok(!whiteset_lookup(&a), "an empty list holds nobody");
	wmsg(&m, GM_WHITE_ADD);
	m.len = 2;
	m.white[0] = A("192.0.2.10");
	m.white[1] = A("2001:db8::5");
	b = A("2001:db8::5");
	c = A("192.0.2.11");
	ok(whiteset_msg(&m) == 0 && whiteset_lookup(&a) &&
	    whiteset_lookup(&b) && !whiteset_lookup(&c),
	    "an add of two: both are found, a neighbour is not");
	m.white[0].af = AF_INET6;	/* ::ffff:192.0.2.10 */
	memset(m.white[0].a, 0, 16);
	m.white[0].a[10] = m.white[0].a[11] = 0xff;
	m.white[0].a[12] = 192;
	m.white[0].a[14] = 2;
	m.white[0].a[15] = 10;
	m.len = 1;
	ok(whiteset_msg(&m) == 0 && whiteset_count() == 2,
	    "IPv4-mapped IPv6 is the same host (%zu held)", whiteset_count());
	m.len = GM_WHITE_MAX + 1;
	ok(whiteset_msg(&m) == -1, "a count over GM_WHITE_MAX is refused");
	m.len = 1;
	m.white[0].af = 99;
	ok(whiteset_msg(&m) == -1, "an unknown family is refused");
	wmsg(&m, GM_WHITE_END);
	ok(whiteset_msg(&m) == -1, "an end without a begin is refused");

	/* A full list of 100,000 replaces the lot, in batches. */
	wmsg(&m, GM_WHITE_BEGIN);
	bad = whiteset_msg(&m);
	for (i = 0; i < 100000; i += m.len) {
		wmsg(&m, GM_WHITE_ADD);
		for (m.len = 0; m.len < GM_WHITE_MAX && i + m.len < 100000;
		    m.len++) {
			m.white[m.len].af = AF_INET;
			m.white[m.len].a[0] = 198;
			m.white[m.len].a[1] = 18 + ((i + m.len) >> 16);
			m.white[m.len].a[2] = (i + m.len) >> 8;
			m.white[m.len].a[3] = i + m.len;
		}
		bad |= whiteset_msg(&m);
	}
	ok(whiteset_lookup(&a), "while a full list comes, the old one holds");
	wmsg(&m, GM_WHITE_END);
	bad |= whiteset_msg(&m);
	for (missing = 0, i = 0; i < 100000; i++) {
		b.af = AF_INET;
		b.a[0] = 198;
		b.a[1] = 18 + (i >> 16);
		b.a[2] = i >> 8;
		b.a[3] = i;
		missing += !whiteset_lookup(&b);
	}
	ok(bad == 0 && missing == 0 && whiteset_count() == 100000,
	    "a full list of 100,000 in %d-address records: all found "
	    "(%zu missing)", (int)GM_WHITE_MAX, missing);
	b = A("2001:db8::5");
	ok(!whiteset_lookup(&a) && !whiteset_lookup(&b),
	    "and it replaced the hosts it does not name");
	ok(whiteset_bytes() <= 100000 * 48, "%zu bytes, %.1f a host",
	    whiteset_bytes(), whiteset_bytes() / 100000.0);
	return tap_done();
}
