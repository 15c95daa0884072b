/*
 * spamd/dnssite.c: -D sites in postscreen's syntax, the filters on
 * their answers, the names asked, and the TTL of negative answers.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "dnssite.h"
#include "tap.h"

static int
parses(const char *s, struct dnssite *d)
{
	char	 err[128];

	return dnssite_parse(s, d, err, sizeof(err)) == 0;
}

static int
refused(const char *s, const char *why)
{
	struct dnssite	 d;
	char		 err[128];

	err[0] = '\0';
	return dnssite_parse(s, &d, err, sizeof(err)) == -1 &&
	    strstr(err, why) != NULL;
}

static int
match(const struct dnssite *d, int a, int b, int c, int e)
{
	uint8_t	 x[4] = { a, b, c, e };

	return dnssite_match(d, x);
}

static void
t_parse(void)
{
	struct dnssite	 d;

	ok(parses("zen.example.org", &d) && strcmp(d.domain,
	    "zen.example.org") == 0 && d.weight == 1 && !d.filtered,
	    "a domain alone: weight 1, no filter");
	ok(parses("zen.example.org*3", &d) && d.weight == 3 &&
	    strcmp(d.domain, "zen.example.org") == 0, "*3: weight 3");
	ok(parses("list.dnswl.example=127.0.[0..255].[1..3]*-5", &d) &&
	    d.weight == -5 && d.filtered && strcmp(d.domain,
	    "list.dnswl.example") == 0, "filter and a negative weight");
	ok(strcmp(d.spec, "list.dnswl.example=127.0.[0..255].[1..3]*-5") == 0,
	    "the argument is kept as given (metrics label)");
	ok(match(&d, 127, 0, 9, 2) && match(&d, 127, 0, 255, 1) &&
	    match(&d, 127, 0, 0, 3), "[0..255] and [1..3] match inside");
	ok(!match(&d, 127, 0, 9, 4) && !match(&d, 127, 0, 9, 0) &&
	    !match(&d, 127, 1, 9, 2) && !match(&d, 128, 0, 9, 2),
	    "... and nothing outside");
	ok(parses("wl.example=127.0.0.[17;18;20..22]", &d) && d.weight == 1 &&
	    match(&d, 127, 0, 0, 17) && match(&d, 127, 0, 0, 18) &&
	    match(&d, 127, 0, 0, 21) && !match(&d, 127, 0, 0, 19) &&
	    !match(&d, 127, 0, 0, 23), "a list of numbers and ranges");
	ok(parses("bl.example=127.0.0.2", &d) && match(&d, 127, 0, 0, 2) &&
	    !match(&d, 127, 0, 0, 3), "one address");
	ok(parses("bl.example.", &d) && strcmp(d.domain, "bl.example") == 0,
	    "a trailing dot is dropped");
	ok(parses("bl.example", &d) && match(&d, 1, 2, 3, 4),
	    "no filter: any A record lists");
	ok(parses("a_b-c.example*+2", &d) && d.weight == 2,
	    "'_', '-' and an explicit + sign");
	ok(parses("x.example*1000", &d) && parses("x.example*-1000", &d),
	    "weights up to 1000 either way");

	ok(refused("", "domain"), "empty refused");
	ok(refused("example", "domain"), "one label refused (not a zone)");
	ok(refused("bl..example", "domain"), "an empty label refused");
	ok(refused(".bl.example", "domain"), "a leading dot refused");
	ok(refused("bl.exa mple", "domain"), "a blank refused");
	ok(refused("bl.example*", "weight"), "* without a weight refused");
	ok(refused("bl.example*1001", "weight"), "weight over 1000 refused");
	ok(refused("bl.example*3x", "unexpected"), "junk after the weight");
	ok(refused("bl.example=127.0.0", "four octets"), "three octets");
	ok(refused("bl.example=127.0.0.256", "octet 4"), "octet over 255");
	ok(refused("bl.example=127.0.[3..1].2", "octet 3"),
	    "a backwards range refused");
	ok(refused("bl.example=127.0.[1;2.2", "octet 3"),
	    "an unclosed bracket refused");
	ok(refused("bl.example=127.0.0.[1;2;3;4;5;6;7;8;9]", "more than"),
	    "more than 8 items in an octet refused");
	ok(refused("bl.example=127.0.0.2.5", "unexpected"),
	    "five octets refused");
	ok(refused("a23456789012345678901234567890123456789012345678901234"
	    "5678901234.example", "domain"), "a label of 64 refused");
	{
		char	 big[400];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		big[10] = '.';
		ok(refused(big, "too long"), "an argument too long refused");
	}
}

static void
t_qname(void)
{
	struct dnssite	 d;
	struct addr	 a;
	char		 q[DNSSITE_QNAMEMAX];

	parses("zen.example.org*3", &d);
	addr_parse(&a, "192.0.2.11");
	ok(dnssite_qname(&d, &a, q, sizeof(q)) == 0 &&
	    strcmp(q, "11.2.0.192.zen.example.org") == 0,
	    "IPv4: reversed octets, then the domain (%s)", q);
	addr_parse(&a, "2001:db8::1");
	ok(dnssite_qname(&d, &a, q, sizeof(q)) == 0 && strcmp(q,
	    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
	    "zen.example.org") == 0, "IPv6: reversed nibbles (%s)", q);
	addr_parse(&a, "2001:db8:abcd::ef");
	ok(dnssite_qname(&d, &a, q, sizeof(q)) == 0 &&
	    strncmp(q, "f.e.0.0.", 8) == 0 && strstr(q, ".d.c.b.a.8.b.d.0.1.0.0.2.zen.") != NULL,
	    "IPv6: hex digits in lower case (%s)", q);
	ok(dnssite_qname(&d, &a, q, 20) == -1, "a name too long for the "
	    "buffer refused");
}

/* An NXDOMAIN answer with an SOA of this TTL and minimum. */
static size_t
negative(uint8_t *p, uint32_t ttl, uint32_t min, int soa)
{
	static const uint8_t	 hdr[] = { 0xab, 0xcd, 0x81, 0x83, 0, 1, 0, 0,
				    0, 1, 0, 0 };
	static const uint8_t	 q[] = { 2, '1', '1', 2, 'b', 'l', 4, 't',
				    'e', 's', 't', 0, 0, 1, 0, 1 };
	size_t			 n = 0;
	int			 i;

	memcpy(p, hdr, sizeof(hdr));
	n = sizeof(hdr);
	memcpy(p + n, q, sizeof(q));
	n += sizeof(q);
	/* Owner: a pointer to "bl.test" in the question. */
	p[n++] = 0xc0;
	p[n++] = 12 + 3;
	p[n++] = 0;
	p[n++] = soa ? 6 : 16;
	p[n++] = 0;
	p[n++] = 1;
	for (i = 3; i >= 0; i--)
		p[n++] = (ttl >> (8 * i)) & 0xff;
	p[n++] = 0;
	p[n++] = 2 + 2 + 20;
	/* mname, rname: the root, twice (pointers would do as well) */
	p[n++] = 0;
	p[n++] = 0;
	p[n++] = 0;
	p[n++] = 0;
	for (i = 0; i < 16; i++)
		p[n++] = 0;
	for (i = 3; i >= 0; i--)
		p[n++] = (min >> (8 * i)) & 0xff;
	return n;
}

static void
t_negttl(void)
{
	uint8_t	 p[512];
	size_t	 n;

	n = negative(p, 300, 60, 1);
	ok(dnssite_negttl(p, n, 3600) == 60, "negative TTL: the SOA's "
	    "minimum when lower than its TTL");
	n = negative(p, 30, 60, 1);
	ok(dnssite_negttl(p, n, 3600) == 30, "... its TTL when lower");
	n = negative(p, 86400, 86400, 1);
	ok(dnssite_negttl(p, n, 3600) == 3600, "... at most the cap");
	n = negative(p, 300, 60, 0);
	ok(dnssite_negttl(p, n, 3600) == -1, "no SOA: -1");
	n = negative(p, 300, 60, 1);
	ok(dnssite_negttl(p, n - 1, 3600) == -1, "a cut answer: -1");
	ok(dnssite_negttl(p, 11, 3600) == -1 && dnssite_negttl(NULL, 0,
	    3600) == -1, "no header: -1");
	n = negative(p, 300, 60, 1);
	p[12] = 0x3f;		/* a label longer than the packet */
	ok(dnssite_negttl(p, n, 3600) == -1, "a label past the end: -1");
}

int
main(void)
{
	t_parse();
	t_qname();
	t_negttl();
	return tap_done();
}
