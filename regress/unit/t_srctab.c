/*
 * The per-source counters (spamd/srctab.c): a limit holds for every
 * source however many there are (the exact table full, the rest in the
 * sketch), the networks (IPv4 /24, IPv6 /48) share a wider limit,
 * counts return to zero, and a source is never counted below what it
 * holds.  Each flood is driven as the greylister does: add while the
 * count is under the limit.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "log.h"
#include "srctab.h"
#include "tap.h"

#define CAP	64

/* The i-th address: 2001:db8:<net>:<i>::1, or 10.<i/256>.<i%256>.1. */
static void
v6(struct addr *a, unsigned int net, unsigned int i, unsigned int host)
{
	char	 s[64];

	snprintf(s, sizeof(s), "2001:db8:%x:%x::%x", net, i & 0xffff,
	    host + 1);
	if (addr_parse(a, s) == -1)
		printf("not ok - parse %s\n", s);
}

static void
v4(struct addr *a, unsigned int i, unsigned int host)
{
	char	 s[64];

	snprintf(s, sizeof(s), "10.%u.%u.%u", (i >> 8) & 0xff, i & 0xff,
	    host & 0xff);
	if (addr_parse(a, s) == -1)
		printf("not ok - parse %s\n", s);
}

/* Add for a as the greylister does, at most tries times; what went in. */
static unsigned int
flood(struct srctab *t, const struct addr *a, unsigned int max,
    unsigned int tries)
{
	unsigned int	 n;

	for (n = 0; n < tries && srctab_count(t, a) < max; n++)
		srctab_add(t, a, 1);
	return n;
}

/* Many more sources than the table holds: each stops at its limit. */
static void
many_sources(void)
{
	struct srctab	*t;
	struct addr	 a;
	unsigned int	 i, n, over = 0, under = 0, zero = 0;

	srctab_limits(20, 0, "entries", "");
	if ((t = srctab_new(CAP)) == NULL) {
		ok(0, "srctab_new");
		return;
	}
	for (i = 0; i < 20 * CAP; i++) {
		v4(&a, i, 1);
		n = flood(t, &a, 20, 100);
		if (n > 20)
			over++;
		if (srctab_count(t, &a) < n)
			under++;
	}
	ok(over == 0, "%u IPv4 sources, table of %u: none stored more than "
	    "its limit (%u did)", 20 * CAP, CAP, over);
	ok(under == 0, "no source counted below what it holds (%u were)",
	    under);
	/* Every count given back: all zero, and exact again. */
	for (i = 0; i < 20 * CAP; i++) {
		v4(&a, i, 1);
		n = srctab_count(t, &a);
		srctab_add(t, &a, -(int)n);
	}
	for (i = 0; i < 20 * CAP; i++) {
		v4(&a, i, 1);
		if (srctab_count(t, &a) != 0)
			zero++;
	}
	ok(zero == 0, "every count back to 0 after removal (%u not)", zero);
	srctab_clear(t);
	v4(&a, 1, 1);
	ok(srctab_count(t, &a) == 0, "clear: forgotten");
	srctab_free(t);
}

/*
 * Many sources of one entry each (the first step of the attack): a
 * source never seen is not refused for what the others hold.
 */
static void
late_source(void)
{
	struct srctab	*t;
	struct addr	 a;
	unsigned int	 i;

	srctab_limits(1000, 0, "entries", "");
	if ((t = srctab_new(CAP)) == NULL) {
		ok(0, "srctab_new");
		return;
	}
	for (i = 0; i < 10 * CAP; i++) {
		v4(&a, i, 1);
		srctab_add(t, &a, 1);
	}
	v4(&a, 0xfff0, 9);
	ok(flood(t, &a, 1000, 2000) >= 900, "after %u sources of one "
	    "entry, a new one still gets about its limit (%u)", 10 * CAP,
	    srctab_count(t, &a));
	srctab_free(t);
}

/* One IPv6 /48, 65536 /64s: the network's limit holds for all of them. */
static void
one_net(void)
{
	struct srctab	*t;
	struct addr	 a;
	unsigned int	 i, total = 0, max = 0, n;

	srctab_limits(10, 500, "entries", "-L netgrey=");
	if ((t = srctab_new(CAP)) == NULL) {
		ok(0, "srctab_new");
		return;
	}
	for (i = 0; i < 65536; i++) {
		v6(&a, 0xa, i, 0);
		n = flood(t, &a, 10, 100);
		total += n;
		if (n > max)
			max = n;
	}
	ok(total == 500, "65536 /64s of one /48: %u entries stored, the "
	    "network's limit 500", total);
	ok(max <= 10, "none of them more than its own 10 (%u)", max);
	/* Another /48, and an IPv4 address, are untouched. */
	v6(&a, 0xb, 1, 0);
	ok(flood(t, &a, 10, 100) == 10, "another /48: its full 10");
	v4(&a, 7, 1);
	ok(flood(t, &a, 10, 100) == 10, "an IPv4 source: its full 10");
	/* Two addresses of one /64 are one source. */
	v6(&a, 0xc, 1, 0);
	flood(t, &a, 10, 100);
	v6(&a, 0xc, 1, 5);
	ok(srctab_count(t, &a) == 10, "an address of the same /64 "
	    "shares its count");
	srctab_free(t);
}

/* IPv4: a /24's sources share its limit; the engine's +1/-1 balance. */
static void
ipv4_net(void)
{
	struct srctab	*t;
	struct addr	 a;
	unsigned int	 i, total = 0;

	srctab_limits(5, 40, "connections", "-L netconn=");
	if ((t = srctab_new(CAP)) == NULL) {
		ok(0, "srctab_new");
		return;
	}
	for (i = 0; i < 256; i++) {
		v4(&a, 3, i);
		total += flood(t, &a, 5, 100);
	}
	ok(total == 40, "256 addresses of one /24: %u counted, limit 40",
	    total);
	/* One closes: one more may come, from any address of the /24. */
	v4(&a, 3, 0);
	srctab_add(t, &a, -1);
	v4(&a, 3, 200);
	ok(srctab_count(t, &a) < 5, "after one is given back, another "
	    "address of the /24 may connect");
	srctab_free(t);
}

int
main(void)
{
	log_init(1, "t_srctab");
	many_sources();
	late_source();
	one_net();
	ipv4_net();
	return tap_done();
}
