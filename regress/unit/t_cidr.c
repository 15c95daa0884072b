/*
 * Range arithmetic of lib/cidr.c: parsing of list entries, merging,
 * subtraction, CIDR covers, IPv6 and the ends of the address space,
 * plus random lists checked against a bitmap of a small window of
 * addresses at the bottom, in the middle and at the top of each space.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "tap.h"


#define WIN	2048		/* addresses in a random-test window */

static char	 out[8192];

/* Parse one entry as text "start-end" (or the error), for comparisons. */
static const char *
p1(const char *s)
{
	struct cidr_range	 r;
	char			 a[CIDR_STRLEN], b[CIDR_STRLEN], err[128];
	int			 af;

	if (cidr_parse(s, &af, &r, err, sizeof(err)) == -1) {
		snprintf(out, sizeof(out), "error: %s", err);
		return out;
	}
	snprintf(out, sizeof(out), "%s%s-%s", af == AF_INET6 ? "6:" : "",
	    cidr_ip_str(af, &r.start, a, sizeof(a)),
	    cidr_ip_str(af, &r.end, b, sizeof(b)));
	return out;
}

static int
iserr(const char *s, const char *what)
{
	p1(s);
	return strncmp(out, "error: ", 7) == 0 && strstr(out, what) != NULL;
}

/* Build a list from "a b c" entries (each parsed by cidr_parse). */
static void
mk(struct cidr_list *l, int af, const char *spec)
{
	struct cidr_range	 r;
	char			 buf[1024], *p, *tok, err[128];
	int			 gotaf;

	cidr_list_init(l, af);
	strlcpy(buf, spec, sizeof(buf));
	for (p = buf; (tok = strsep(&p, ",")) != NULL;) {
		while (*tok == ' ')
			tok++;
		if (*tok == '\0')
			continue;
		if (cidr_parse(tok, &gotaf, &r, err, sizeof(err)) == -1 ||
		    gotaf != af) {
			printf("# bad test entry %s: %s\n", tok, err);
			exit(1);
		}
		cidr_list_add(l, &r);
	}
}

/* The list as "a-b,c-d". */
static const char *
show(const struct cidr_list *l)
{
	char	 a[CIDR_STRLEN], b[CIDR_STRLEN];
	size_t	 i, len = 0;

	out[0] = '\0';
	for (i = 0; i < l->n && len < sizeof(out) - 200; i++)
		len += snprintf(out + len, sizeof(out) - len, "%s%s-%s",
		    i ? "," : "", cidr_ip_str(l->af, &l->r[i].start, a,
		    sizeof(a)), cidr_ip_str(l->af, &l->r[i].end, b,
		    sizeof(b)));
	return out;
}

/* The CIDR cover of the list as "a/n,b/m". */
static const char *
blocks(const struct cidr_list *l)
{
	struct cidr_ip	 ip;
	char		 a[CIDR_STRLEN];
	size_t		 i, len = 0;
	int		 bits;

	out[0] = '\0';
	for (i = 0; i < l->n; i++) {
		ip = l->r[i].start;
		do {
			bits = cidr_first_block(l->af, &ip, &l->r[i].end);
			if (len < sizeof(out) - 100)
				len += snprintf(out + len, sizeof(out) - len,
				    "%s%s/%d", len ? "," : "",
				    cidr_ip_str(l->af, &ip, a, sizeof(a)),
				    bits);
		} while (cidr_next_block(l->af, &ip, bits,
		    &l->r[i].end) == 0);
	}
	return out;
}

static int
eq(const char *got, const char *want)
{
	if (strcmp(got, want) == 0)
		return 1;
	printf("# got  %s\n# want %s\n", got, want);
	return 0;
}

static void
t_parse(void)
{
	struct cidr_range	 r;
	char			 err[128];
	int			 af;

	ok(eq(p1("192.0.2.7"), "192.0.2.7-192.0.2.7"), "single IPv4");
	ok(eq(p1("192.0.2.0/24"), "192.0.2.0-192.0.2.255"), "IPv4 CIDR");
	ok(eq(p1("10.0.0.5/24"), "10.0.0.0-10.0.0.255"),
	    "host bits of a CIDR are masked (not 10.0.0.5-10.0.1.4)");
	ok(eq(p1("198.51.100.7/32"), "198.51.100.7-198.51.100.7"), "/32");
	ok(eq(p1("0.0.0.0/0"), "0.0.0.0-255.255.255.255"), "IPv4 /0");
	ok(eq(p1("203.0.113.9/0"), "0.0.0.0-255.255.255.255"),
	    "/0 of any address is the whole space");
	ok(eq(p1("192.0.2.10 - 192.0.2.20"), "192.0.2.10-192.0.2.20"),
	    "range with blanks");
	ok(eq(p1("192.0.2.10-192.0.2.20"), "192.0.2.10-192.0.2.20"),
	    "range without blanks");
	ok(eq(p1("192.0.2.10\t-\t192.0.2.10"), "192.0.2.10-192.0.2.10"),
	    "one-address range, tabs");
	ok(eq(p1("0.0.0.0 - 255.255.255.255"), "0.0.0.0-255.255.255.255"),
	    "range over the whole IPv4 space");
	ok(eq(p1("2001:db8::1"), "6:2001:db8::1-2001:db8::1"),
	    "single IPv6");
	ok(eq(p1("2001:db8::1/32"), "6:2001:db8::-2001:db8:ffff:ffff:ffff:"
	    "ffff:ffff:ffff"), "IPv6 CIDR, host bits masked");
	ok(eq(p1("::/0"), "6:::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
	    "IPv6 /0");
	ok(eq(p1("2001:db8::/128"), "6:2001:db8::-2001:db8::"), "IPv6 /128");
	ok(eq(p1("2001:db8::/65"), "6:2001:db8::-2001:db8::7fff:ffff:"
	    "ffff:ffff"), "IPv6 /65 crosses the 64-bit halves");
	ok(eq(p1("2001:db8::5 - 2001:db8::1:0"), "6:2001:db8::5-2001:db8::"
	    "1:0"), "IPv6 range");
	ok(eq(p1("::ffff:192.0.2.1"), "6:::ffff:192.0.2.1-::ffff:192.0.2.1"),
	    "IPv4-mapped IPv6 stays IPv6");

	ok(iserr("192.0.2.0/33", "prefix length"), "/33 refused");
	ok(iserr("2001:db8::/129", "prefix length"), "/129 refused");
	ok(iserr("192.0.2.0/", "prefix length"), "empty prefix refused");
	ok(iserr("192.0.2.0/0024", "prefix length"), "/0024 refused");
	ok(iserr("192.0.2.20 - 192.0.2.10", "ends before it starts"),
	    "reversed range refused");
	ok(iserr("2001:db8::9-2001:db8::1", "ends before it starts"),
	    "reversed IPv6 range refused");
	ok(iserr("192.0.2.1 - 2001:db8::1", "mixes"), "mixed range refused");
	ok(iserr("192.0.2", "bad address"), "three-part address refused");
	ok(iserr("256.0.0.1", "bad address"), "octet 256 refused");
	ok(iserr("example.org", "bad address"), "host name refused");
	ok(iserr("", "bad address"), "empty string refused");
	ok(iserr("192.0.2.1 -", "bad range end"), "range without end");
	ok(iserr("192.0.2.1 junk", "junk"), "trailing junk refused by "
	    "cidr_parse");
	ok(iserr("192.0.2.0/24 - 192.0.2.255", "junk"),
	    "CIDR cannot start a range");

	ok(cidr_parse_line("", 0, &af, &r, err, sizeof(err)) == 0,
	    "empty line is no entry");
	ok(cidr_parse_line("  # comment\n", 12, &af, &r, err,
	    sizeof(err)) == 0, "comment line");
	ok(cidr_parse_line("; Spamhaus DROP\r\n", 17, &af, &r, err,
	    sizeof(err)) == 0, "';' comment line");
	ok(cidr_parse_line(" \t\r\n", 4, &af, &r, err, sizeof(err)) == 0,
	    "blank line with CRLF");
	ok(cidr_parse_line("  192.0.2.0/24 ; SBL123\r\n", 25, &af, &r, err,
	    sizeof(err)) == 1 && af == AF_INET && r.start.lo == 0xc0000200 &&
	    r.end.lo == 0xc00002ff, "entry with trailing comment");
	ok(cidr_parse_line("192.0.2.9,listed 2024", 21, &af, &r, err,
	    sizeof(err)) == 1 && r.start.lo == 0xc0000209,
	    "entry followed by a comma");
	ok(cidr_parse_line("192.0.2.9#x", 11, &af, &r, err,
	    sizeof(err)) == 1, "entry followed by '#'");
	ok(cidr_parse_line("192.0.2.9x", 10, &af, &r, err,
	    sizeof(err)) == -1 && strstr(err, "junk") != NULL,
	    "glued junk refused: %s", err);
	ok(cidr_parse_line("<html>", 6, &af, &r, err, sizeof(err)) == -1,
	    "HTML refused");
	ok(cidr_parse_line("192.0.2.9", 9, &af, &r, err, sizeof(err)) == 1 &&
	    r.start.lo == 0xc0000209, "no newline at the end");
}

static void
t_normalize(void)
{
	struct cidr_list	 l;

	mk(&l, AF_INET, "192.0.2.10-192.0.2.20, 192.0.2.15-192.0.2.30, "
	    "192.0.2.31, 192.0.2.40/29, 192.0.2.0-192.0.2.5");
	cidr_list_normalize(&l);
	ok(eq(show(&l), "192.0.2.0-192.0.2.5,192.0.2.10-192.0.2.31,"
	    "192.0.2.40-192.0.2.47"), "unsorted overlapping and adjacent "
	    "ranges merge");
	cidr_list_free(&l);

	mk(&l, AF_INET, "198.51.100.0/24, 198.51.100.7, 198.51.100.0/24, "
	    "198.51.100.128/25");
	cidr_list_normalize(&l);
	ok(eq(show(&l), "198.51.100.0-198.51.100.255"),
	    "duplicates and contained ranges vanish");
	cidr_list_free(&l);

	mk(&l, AF_INET, "255.255.255.255, 255.255.255.0/24, 0.0.0.0, "
	    "0.0.0.1");
	cidr_list_normalize(&l);
	ok(eq(show(&l), "0.0.0.0-0.0.0.1,255.255.255.0-255.255.255.255"),
	    "merging at both ends of the IPv4 space");
	cidr_list_free(&l);

	mk(&l, AF_INET, "128.0.0.0/1, 0.0.0.0/1");
	cidr_list_normalize(&l);
	ok(eq(show(&l), "0.0.0.0-255.255.255.255"), "two halves make /0");
	ok(eq(blocks(&l), "0.0.0.0/0"), "... and its cover is 0.0.0.0/0");
	cidr_list_free(&l);

	mk(&l, AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff, "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0/124, ::/1, 8000::/1");
	cidr_list_normalize(&l);
	ok(eq(show(&l), "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
	    "IPv6 merging up to the last address");
	cidr_list_free(&l);

	mk(&l, AF_INET6, "2001:db8::1:0-2001:db8::1:ffff, "
	    "2001:db8::2:0/112, 2001:db8::ffff");
	cidr_list_normalize(&l);
	ok(eq(show(&l), "2001:db8::ffff-2001:db8::2:ffff"),
	    "IPv6 adjacent ranges merge");
	cidr_list_free(&l);

	cidr_list_init(&l, AF_INET);
	cidr_list_normalize(&l);
	ok(l.n == 0, "empty list normalizes");
	cidr_list_free(&l);
}

static void
t_subtract(void)
{
	struct cidr_list	 b, w;

	mk(&b, AF_INET, "192.0.2.0/24");
	mk(&w, AF_INET, "192.0.2.7, 192.0.2.100-192.0.2.110");
	cidr_list_normalize(&w);
	ok(cidr_list_subtract(&b, &w) == 0 && eq(show(&b),
	    "192.0.2.0-192.0.2.6,192.0.2.8-192.0.2.99,"
	    "192.0.2.111-192.0.2.255"), "holes in the middle");
	ok(eq(blocks(&b), "192.0.2.0/30,192.0.2.4/31,192.0.2.6/32,"
	    "192.0.2.8/29,192.0.2.16/28,192.0.2.32/27,192.0.2.64/27,"
	    "192.0.2.96/30,192.0.2.111/32,192.0.2.112/28,192.0.2.128/25"),
	    "minimal cover of the remainder");
	cidr_list_free(&b);
	cidr_list_free(&w);

	mk(&b, AF_INET, "192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24");
	mk(&w, AF_INET, "192.0.2.128-198.51.100.127, 203.0.113.0/24");
	cidr_list_normalize(&b);
	cidr_list_normalize(&w);
	ok(cidr_list_subtract(&b, &w) == 0 && eq(show(&b),
	    "192.0.2.0-192.0.2.127,198.51.100.128-198.51.100.255"),
	    "white spanning two black ranges, and one covering a range");
	cidr_list_free(&b);
	cidr_list_free(&w);

	mk(&b, AF_INET, "0.0.0.0/0");
	mk(&w, AF_INET, "0.0.0.0, 255.255.255.255");
	cidr_list_normalize(&w);
	ok(cidr_list_subtract(&b, &w) == 0 && eq(show(&b),
	    "0.0.0.1-255.255.255.254"), "both ends cut from /0");
	ok(eq(blocks(&b), "0.0.0.1/32,0.0.0.2/31,0.0.0.4/30,0.0.0.8/29,"
	    "0.0.0.16/28,0.0.0.32/27,0.0.0.64/26,0.0.0.128/25,0.0.1.0/24,"
	    "0.0.2.0/23,0.0.4.0/22,0.0.8.0/21,0.0.16.0/20,0.0.32.0/19,"
	    "0.0.64.0/18,0.0.128.0/17,0.1.0.0/16,0.2.0.0/15,0.4.0.0/14,"
	    "0.8.0.0/13,0.16.0.0/12,0.32.0.0/11,0.64.0.0/10,0.128.0.0/9,"
	    "1.0.0.0/8,2.0.0.0/7,4.0.0.0/6,8.0.0.0/5,16.0.0.0/4,32.0.0.0/3,"
	    "64.0.0.0/2,128.0.0.0/2,192.0.0.0/3,224.0.0.0/4,240.0.0.0/5,"
	    "248.0.0.0/6,252.0.0.0/7,254.0.0.0/8,255.0.0.0/9,255.128.0.0/10,"
	    "255.192.0.0/11,255.224.0.0/12,255.240.0.0/13,255.248.0.0/14,"
	    "255.252.0.0/15,255.254.0.0/16,255.255.0.0/17,255.255.128.0/18,"
	    "255.255.192.0/19,255.255.224.0/20,255.255.240.0/21,"
	    "255.255.248.0/22,255.255.252.0/23,255.255.254.0/24,"
	    "255.255.255.0/25,255.255.255.128/26,255.255.255.192/27,"
	    "255.255.255.224/28,255.255.255.240/29,255.255.255.248/30,"
	    "255.255.255.252/31,255.255.255.254/32"),
	    "cover of 0.0.0.1-255.255.255.254: 62 blocks");
	ok(cidr_list_nblocks(&b) == 62, "cidr_list_nblocks agrees");
	cidr_list_free(&b);
	cidr_list_free(&w);

	mk(&b, AF_INET, "192.0.2.0/24");
	mk(&w, AF_INET, "0.0.0.0/0");
	ok(cidr_list_subtract(&b, &w) == 0 && b.n == 0,
	    "white /0 leaves nothing");
	cidr_list_free(&b);
	cidr_list_free(&w);

	mk(&b, AF_INET, "192.0.2.0/24");
	mk(&w, AF_INET, "198.51.100.0/24");
	ok(cidr_list_subtract(&b, &w) == 0 &&
	    eq(show(&b), "192.0.2.0-192.0.2.255"), "disjoint white");
	cidr_list_free(&b);
	cidr_list_free(&w);

	mk(&b, AF_INET6, "::/0");
	mk(&w, AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff, ::");
	cidr_list_normalize(&w);
	ok(cidr_list_subtract(&b, &w) == 0 && eq(show(&b),
	    "::1-ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"),
	    "both ends cut from IPv6 /0");
	ok(cidr_list_nblocks(&b) == 254, "its cover takes 254 blocks");
	cidr_list_free(&b);
	cidr_list_free(&w);

	mk(&b, AF_INET6, "2001:db8::/32");
	mk(&w, AF_INET6, "2001:db8:0:1::/64");
	ok(cidr_list_subtract(&b, &w) == 0 && eq(blocks(&b),
	    "2001:db8::/64,2001:db8:0:2::/63,2001:db8:0:4::/62,"
	    "2001:db8:0:8::/61,2001:db8:0:10::/60,2001:db8:0:20::/59,"
	    "2001:db8:0:40::/58,2001:db8:0:80::/57,2001:db8:0:100::/56,"
	    "2001:db8:0:200::/55,2001:db8:0:400::/54,2001:db8:0:800::/53,"
	    "2001:db8:0:1000::/52,2001:db8:0:2000::/51,2001:db8:0:4000::/50,"
	    "2001:db8:0:8000::/49,2001:db8:1::/48,2001:db8:2::/47,"
	    "2001:db8:4::/46,2001:db8:8::/45,2001:db8:10::/44,"
	    "2001:db8:20::/43,2001:db8:40::/42,2001:db8:80::/41,"
	    "2001:db8:100::/40,2001:db8:200::/39,2001:db8:400::/38,"
	    "2001:db8:800::/37,2001:db8:1000::/36,2001:db8:2000::/35,"
	    "2001:db8:4000::/34,2001:db8:8000::/33"), "IPv6 hole, cover");
	cidr_list_free(&b);
	cidr_list_free(&w);
}

static void
t_cover(void)
{
	struct cidr_list	 l;

	mk(&l, AF_INET, "10.0.0.5-10.0.1.4");
	ok(eq(blocks(&l), "10.0.0.5/32,10.0.0.6/31,10.0.0.8/29,10.0.0.16/28,"
	    "10.0.0.32/27,10.0.0.64/26,10.0.0.128/25,10.0.1.0/30,"
	    "10.0.1.4/32"), "cover of an unaligned range");
	cidr_list_free(&l);

	mk(&l, AF_INET, "255.255.255.255");
	ok(eq(blocks(&l), "255.255.255.255/32"), "last IPv4 address");
	cidr_list_free(&l);

	mk(&l, AF_INET, "255.255.255.0 - 255.255.255.255");
	ok(eq(blocks(&l), "255.255.255.0/24"), "block at the end of space");
	cidr_list_free(&l);

	mk(&l, AF_INET, "0.0.0.0 - 0.0.0.0");
	ok(eq(blocks(&l), "0.0.0.0/32"), "address 0.0.0.0 (OpenBSD's "
	    "terminator) is an ordinary block");
	cidr_list_free(&l);

	mk(&l, AF_INET6, "::/0");
	ok(eq(blocks(&l), "::/0"), "IPv6 whole space");
	cidr_list_free(&l);

	mk(&l, AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120");
	ok(eq(blocks(&l), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120"),
	    "IPv6 block at the end of space");
	cidr_list_free(&l);

	mk(&l, AF_INET6, "::ffff:ffff:ffff:ffff-::1:0:0:0:1");
	ok(eq(blocks(&l), "::ffff:ffff:ffff:ffff/128,0:0:0:1::/127"),
	    "IPv6 range across the 64-bit carry");
	cidr_list_free(&l);
}

/*
 * Random lists in a window of WIN addresses at base, against a bitmap.
 * Checks subtraction, union, and that the cover is exact and minimal:
 * no two neighbouring blocks of one size make an aligned parent.
 */
static int
rand_round(int af, const struct cidr_ip *base, unsigned seed)
{
	static unsigned char	 want[WIN], got[WIN];
	struct cidr_list	 b, w, u;
	struct cidr_range	 r;
	struct cidr_ip		 ip, prev = { 0, 0 };
	size_t			 i;
	unsigned		 s, e, k, j, nb, nw;
	int			 bits, prevbits = -1, bad = 0;

	srandom(seed);
	cidr_list_init(&b, af);
	cidr_list_init(&w, af);
	cidr_list_init(&u, af);
	memset(want, 0, sizeof(want));
	nb = 1 + random() % 20;
	nw = random() % 10;
	for (k = 0; k < nb + nw; k++) {
		s = random() % WIN;
		e = s + random() % (random() % 4 == 0 ? WIN : 64);
		if (e >= WIN)
			e = WIN - 1;
		r.start = r.end = *base;
		r.start.lo += s;
		r.end.lo += e;
		for (j = s; j <= e; j++)
			want[j] = k < nb ? (want[j] | 1) : (want[j] | 2);
		cidr_list_add(k < nb ? &b : &w, &r);
	}
	cidr_list_normalize(&b);
	cidr_list_normalize(&w);
	cidr_list_union(&u, &b);
	cidr_list_union(&u, &w);
	if (cidr_list_subtract(&b, &w) == -1)
		bad = 1;

	/* The union: every address in some list. */
	memset(got, 0, sizeof(got));
	for (i = 0; i < u.n; i++)
		for (j = u.r[i].start.lo - base->lo;
		    j <= u.r[i].end.lo - base->lo; j++)
			got[j] = 1;
	for (j = 0; j < WIN; j++)
		if (got[j] != (want[j] != 0))
			bad = 1;
	for (i = 1; i < u.n; i++) {
		ip = u.r[i - 1].end;
		ip.lo++;
		if (cidr_cmp(&ip, &u.r[i].start) >= 0)
			bad = 1;	/* not normalized */
	}

	/* The cover of black minus white, block by block. */
	memset(got, 0, sizeof(got));
	for (i = 0; i < b.n; i++) {
		ip = b.r[i].start;
		prevbits = -1;
		do {
			bits = cidr_first_block(af, &ip, &b.r[i].end);
			if (cidr_bits(af) - bits > 12)
				return 0;
			for (j = 0; j < (1U << (cidr_bits(af) - bits)); j++)
				got[ip.lo - base->lo + j]++;
			/* Minimal: a block and its buddy would be one. */
			if (bits == prevbits &&
			    ((prev.lo >> (cidr_bits(af) - bits + 0)) & 1) == 0 &&
			    bits > 0)
				bad = 1;
			prev = ip;
			prevbits = bits;
		} while (cidr_next_block(af, &ip, bits, &b.r[i].end) == 0);
	}
	for (j = 0; j < WIN; j++)
		if (got[j] != (want[j] == 1))
			bad = 1;
	cidr_list_free(&b);
	cidr_list_free(&w);
	cidr_list_free(&u);
	return !bad;
}

static void
t_random(void)
{
	struct cidr_ip	 base;
	unsigned	 seed;
	int		 good;

	good = 1;
	base.hi = 0;
	base.lo = 0;
	for (seed = 1; seed <= 300 && good; seed++)
		good = rand_round(AF_INET, &base, seed);
	ok(good, "random IPv4 lists at 0.0.0.0 match a bitmap (seed %u)",
	    seed - 1);

	good = 1;
	base.lo = 0xc0000000;
	for (seed = 1; seed <= 300 && good; seed++)
		good = rand_round(AF_INET, &base, seed);
	ok(good, "random IPv4 lists at 192.0.0.0 match a bitmap");

	good = 1;
	base.lo = 0xffffffffULL - WIN + 1;
	for (seed = 1; seed <= 300 && good; seed++)
		good = rand_round(AF_INET, &base, seed);
	ok(good, "random IPv4 lists at the top of the space match a bitmap");

	good = 1;
	base.hi = UINT64_MAX;
	base.lo = UINT64_MAX - WIN + 1;
	for (seed = 1; seed <= 300 && good; seed++)
		good = rand_round(AF_INET6, &base, seed);
	ok(good, "random IPv6 lists at the top of the space match a bitmap");

	good = 1;
	base.hi = 0x20010db800000000ULL;
	base.lo = 0;
	for (seed = 1; seed <= 300 && good; seed++)
		good = rand_round(AF_INET6, &base, seed);
	ok(good, "random IPv6 lists in 2001:db8:: match a bitmap");
}

static void
t_limits(void)
{
	struct cidr_list	 l;
	struct cidr_range	 r;
	size_t			 i;
	int			 fail = 0;

	cidr_list_init(&l, AF_INET);
	memset(&r, 0, sizeof(r));
	for (i = 0; i < 100000; i++) {
		r.start.lo = r.end.lo = 0xc6120000 + (99999 - i) * 2;
		if (cidr_list_add(&l, &r) == -1)
			fail = 1;
	}
	cidr_list_normalize(&l);
	ok(!fail && l.n == 100000 && l.r[0].start.lo == 0xc6120000 &&
	    cidr_list_size(&l) == 100000, "100,000 reversed entries sort");
	ok(cidr_list_nblocks(&l) == 100000, "... one block each");
	cidr_list_free(&l);
}

/* The width of one entry, as a prefix length. */
static int
w1(const char *s)
{
	struct cidr_range	 r;
	char			 err[128];
	int			 af;

	if (cidr_parse(s, &af, &r, err, sizeof(err)) == -1)
		return -1;
	return cidr_range_prefix(af, &r);
}

static int
wl(int af, const char *spec)
{
	struct cidr_list	 l;
	int			 w;

	mk(&l, af, spec);
	cidr_list_normalize(&l);
	w = cidr_list_prefix(&l);
	cidr_list_free(&l);
	return w;
}

static void
t_width(void)
{
	ok(w1("192.0.2.1") == 32, "width: one IPv4 address is /32");
	ok(w1("2001:db8::1") == 128, "width: one IPv6 address is /128");
	ok(w1("192.0.2.0/24") == 24, "width: a /24 is /24");
	ok(w1("0.0.0.0/0") == 0, "width: 0.0.0.0/0 is /0");
	ok(w1("::/0") == 0, "width: ::/0 is /0");
	ok(w1("128.0.0.0/1") == 1, "width: a /1 is /1");
	ok(w1("0.0.0.0 - 255.255.255.254") == 0,
	    "width: all but one IPv4 address is /0");
	ok(w1("192.0.2.0 - 192.0.2.128") == 24,
	    "width: 129 addresses need a /24");
	ok(w1("192.0.2.1 - 192.0.2.4") == 30, "width: 4 addresses are /30");
	ok(w1("8000:: - ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") == 1,
	    "width: the upper half of IPv6 is /1");
	ok(w1("2001:db8::/32") == 32, "width: 2001:db8::/32 is /32");
	ok(wl(AF_INET, "") == 32, "width: an empty list is a /32");
	ok(wl(AF_INET, "10.0.0.0/9, 192.0.0.0/9") == 8,
	    "width: two /9 apart add up to a /8");
	ok(wl(AF_INET, "10.0.0.0/9, 192.0.0.0/9, 203.0.113.1") == 7,
	    "width: two /9 and one address more need a /7");
	ok(wl(AF_INET, "0.0.0.0/1, 128.0.0.0/1") == 0,
	    "width: two /1 halves are the whole space");
	ok(wl(AF_INET6, "::/1, 8000::/2, c000::/2") == 0,
	    "width: IPv6 halves and quarters add up to the whole space");
	ok(wl(AF_INET6, "::/2, 8000::/2, c000::/3") == 0,
	    "width: IPv6 blocks adding up to 5/8 of the space: /0");
	ok(wl(AF_INET6, "2001:db8::/33, 2001:db9::/33") == 32,
	    "width: two IPv6 /33 are a /32");
	ok(wl(AF_INET6, "2001:db8::/16, 3001:db8::/64") == 15,
	    "width: an IPv6 /16 and a /64 need a /15");
}

int
main(void)
{
	t_parse();
	t_normalize();
	t_subtract();
	t_cover();
	t_random();
	t_limits();
	t_width();
	return tap_done();
}
