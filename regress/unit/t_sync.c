/*
 * The sync codec against the test vectors of OpenBSD's wire format
 * (key file "spamd-sync-test-key\n"), and every malformed variant.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "gsync.h"
#include "sync.h"
#include "tap.h"

#define KEYHEX	"5abc7b1e899f757f9891c65c481e8b4716abc4e1"
#define TS	1700000000U

static const char *vec_white =
    "02020034000000007d3e7b8293cd82dd34f2fb3f2a4e72b5e4cb7c1c00000000"
    "000200106553f10065836700c000020700000004";
static const char *vec_trapped =
    "0202003400000001066198ccea02c1b8f075b6ba94d1ed23e5623a3300000000"
    "000300106553f10065554280c633640900000004";
static const char *vec_grey =
    "0202007400000002f7847aa23969697a17bf29bfeb212c66008f959500000000"
    "000100506553f100cb00710500100010000f3c61406578616d706c652e6e6574"
    "3e003c62406578616d706c652e6f72673e006d782e6578616d706c652e6e6574"
    "0000000000000000000000000000000000000004";
static const char *vec_white_nokey =
    "02020034000000004084a0d250b66ac259f29b056adfa6383d65702500000000"
    "000200106553f10065836700c000020700000004";

struct got {
	struct sync_entry	 e[8];
	char			 s[8][3][128];
	int			 n;
};

static size_t
unhex(const char *h, uint8_t *out)
{
	size_t	 i, n = strlen(h) / 2;

	for (i = 0; i < n; i++)
		sscanf(h + 2 * i, "%2hhx", &out[i]);
	return n;
}

static void
collect(const struct sync_entry *e, void *arg)
{
	struct got	*g = arg;

	if (g->n >= 8)
		return;
	g->e[g->n] = *e;
	if (e->type == SYNC_GREY) {
		snprintf(g->s[g->n][0], 128, "%s", e->helo);
		snprintf(g->s[g->n][1], 128, "%s", e->from);
		snprintf(g->s[g->n][2], 128, "%s", e->to);
	}
	g->n++;
}

static void
entry(struct sync_entry *e, enum sync_type type, const char *ip,
    uint32_t expire)
{
	memset(e, 0, sizeof(*e));
	e->type = type;
	e->timestamp = TS;
	e->expire = expire;
	if (addr_parse(&e->ip, ip) == -1)
		abort();
}

/* Encode e and compare with the vector, then decode it back. */
static void
vector(const char *name, const struct sync_key *k, uint32_t counter,
    const struct sync_entry *e, const char *hex)
{
	uint8_t		 want[SYNC_MAXLEN], buf[SYNC_MAXLEN];
	struct got	 g;
	size_t		 wlen = unhex(hex, want);
	ssize_t		 n;

	n = sync_encode(buf, sizeof(buf), k, counter, e);
	ok(n == (ssize_t)wlen && memcmp(buf, want, wlen) == 0,
	    "%s encodes byte for byte (%zd bytes)", name, n);
	memset(&g, 0, sizeof(g));
	ok(sync_decode(want, wlen, k, collect, &g) == SYNC_OK && g.n == 1 &&
	    g.e[0].type == e->type && g.e[0].timestamp == e->timestamp &&
	    g.e[0].expire == e->expire &&
	    addr_cmp(&g.e[0].ip, &e->ip) == 0,
	    "%s decodes to the same entry", name);
}

/* Sign a datagram as a peer would, over its header's length. */
static void
sign(const struct sync_key *k, uint8_t *buf)
{
	unsigned int	 mlen = SYNC_MACLEN;

	memset(buf + 8, 0, SYNC_MACLEN);
	HMAC(EVP_sha1(), k->hex, (int)k->len, buf, (size_t)(buf[2] << 8 |
	    buf[3]), buf + 8, &mlen);
}

/* Decode a copy of vec with one change: the reason it is refused. */
static enum sync_err
mutate(const char *hex, const struct sync_key *k, size_t off, int val,
    ssize_t newlen, int resign)
{
	uint8_t		 buf[SYNC_MAXLEN + 16];
	struct got	 g;
	size_t		 len = unhex(hex, buf);

	if (off != (size_t)-1)
		buf[off] = (uint8_t)val;
	if (newlen >= 0)
		len = (size_t)newlen;
	if (resign)
		sign(k, buf);
	memset(&g, 0, sizeof(g));
	return sync_decode(buf, len, k, collect, &g);
}

/* Which addresses a peer may name (spamd/gsync.c). */
static void
addrs(void)
{
	static const char *bad[] = { "0.0.0.0", "0.1.2.3", "127.0.0.1",
	    "169.254.1.1", "224.0.0.1", "239.255.255.250", "240.0.0.1",
	    "255.255.255.255", "::", "::1", "::ffff:198.51.100.77",
	    "::198.51.100.77", "ff02::1", "fe80::1", "febf::1" };
	static const char *good[] = { "192.0.2.7", "198.51.100.77",
	    "10.1.2.3", "223.255.255.254", "2001:db8::7", "fec0::1",
	    "::1:0:0:1" };
	struct addr	 a;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* As sync_decode leaves them: af 24 keeps ::ffff: as is. */
		memset(&a, 0, sizeof(a));
		a.af = strchr(bad[i], ':') ? AF_INET6 : AF_INET;
		inet_pton(a.af, bad[i], a.a);
		ok(!gsync_addr_ok(&a), "a peer may not name %s", bad[i]);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(&a, 0, sizeof(a));
		a.af = strchr(good[i], ':') ? AF_INET6 : AF_INET;
		inet_pton(a.af, good[i], a.a);
		ok(gsync_addr_ok(&a), "a peer may name %s", good[i]);
	}
}

int
main(void)
{
	struct sync_key		 k, k0;
	struct sync_entry	 e;
	struct got		 g;
	uint8_t			 buf[SYNC_MAXLEN + 16], two[SYNC_MAXLEN];
	char			 path[] = "/tmp/t_sync.XXXXXX", err[256];
	char			 big[700];
	ssize_t			 n, n2;
	int			 fd;

	/* The key: the hex SHA-1 of the file, or empty without one. */
	if ((fd = mkstemp(path)) == -1 ||
	    write(fd, "spamd-sync-test-key\n", 20) != 20)
		abort();
	close(fd);
	ok(sync_key_load(path, &k, err, sizeof(err)) == 0 && k.len == 40 &&
	    strcmp(k.hex, KEYHEX) == 0, "key is the hex SHA-1 of the file");
	unlink(path);
	ok(sync_key_load(path, &k0, err, sizeof(err)) == 1 && k0.len == 0,
	    "no key file: the empty key");
	ok(sync_key_load("/", &k0, err, sizeof(err)) == -1 &&
	    strstr(err, "/:") == err, "unreadable key file: an error (%s)",
	    err);
	sync_key_empty(&k0);

	/* OpenBSD's bytes, both ways. */
	entry(&e, SYNC_WHITE, "192.0.2.7", 1703110400U);
	vector("WHITE", &k, 0, &e, vec_white);
	vector("WHITE with the empty key", &k0, 0, &e, vec_white_nokey);
	entry(&e, SYNC_TRAPPED, "198.51.100.9", 1700086400U);
	vector("TRAPPED", &k, 1, &e, vec_trapped);
	entry(&e, SYNC_GREY, "203.0.113.5", 0);
	e.helo = "mx.example.net";
	e.from = "<a@example.net>";
	e.to = "<b@example.org>";
	vector("GREY", &k, 2, &e, vec_grey);
	memset(&g, 0, sizeof(g));
	n = (ssize_t)unhex(vec_grey, buf);
	ok(sync_decode(buf, (size_t)n, &k, collect, &g) == SYNC_OK &&
	    strcmp(g.s[0][0], "mx.example.net") == 0 &&
	    strcmp(g.s[0][1], "<a@example.net>") == 0 &&
	    strcmp(g.s[0][2], "<b@example.org>") == 0,
	    "GREY strings come back as helo, from, to");
	n = (ssize_t)unhex(vec_white_nokey, buf);
	ok(sync_decode(buf, (size_t)n, &k, collect, &g) == SYNC_EMAC,
	    "a datagram signed with another key is refused");

	/* Malformed variants change nothing. */
	ok(mutate(vec_white, &k, 8, 0x7c, -1, 0) == SYNC_EMAC,
	    "a flipped HMAC byte is refused");
	/*
	 * Every byte of the HMAC counts, the last as much as the first: a
	 * comparison of a prefix would pass the one above.  One bit of
	 * each, the lowest and the highest.
	 */
	{
		uint8_t	 orig[SYNC_MAXLEN];
		size_t	 off;
		int	 bit, nbad = 0, firstbad = -1;

		unhex(vec_white, orig);
		for (off = 8; off < 8 + SYNC_MACLEN; off++)
			for (bit = 0; bit < 8; bit += 7)
				if (mutate(vec_white, &k, off,
				    orig[off] ^ (1 << bit), -1, 0) !=
				    SYNC_EMAC) {
					nbad++;
					if (firstbad == -1)
						firstbad = (int)off;
				}
		ok(nbad == 0, "one bit flipped in any of HMAC bytes 8..%d is "
		    "refused (%d accepted, the first at byte %d)",
		    8 + SYNC_MACLEN - 1, nbad, firstbad);
	}
	ok(mutate(vec_white, &k, 40, 0x66, -1, 0) == SYNC_EMAC,
	    "a changed expiry is refused (the HMAC covers it)");
	ok(mutate(vec_white, &k, 0, 1, -1, 1) == SYNC_EVERSION,
	    "version 1 is refused");
	ok(mutate(vec_white, &k, 1, 10, -1, 1) == SYNC_EAF,
	    "af 10 is refused");
	ok(mutate(vec_white, &k, 3, 0x40, -1, 0) == SYNC_ESHORT,
	    "a length beyond the datagram is refused");
	ok(mutate(vec_white, &k, 3, 0x1f, -1, 0) == SYNC_ESHORT,
	    "a length shorter than a header is refused");
	ok(mutate(vec_white, &k, (size_t)-1, 0, 31, 0) == SYNC_ESHORT,
	    "31 bytes are refused");
	ok(mutate(vec_white, &k, (size_t)-1, 0, SYNC_MAXLEN + 1, 0) ==
	    SYNC_ELONG, "%d bytes are refused", SYNC_MAXLEN + 1);
	ok(mutate(vec_white, &k, 35, 15, -1, 1) == SYNC_ETLV,
	    "a WHITE entry of 15 bytes is refused");
	ok(mutate(vec_white, &k, 35, 0, -1, 1) == SYNC_ETLV,
	    "an entry of length 0 is refused");
	ok(mutate(vec_white, &k, 33, 4, -1, 1) == SYNC_ETLV,
	    "an unknown entry type is refused");
	ok(mutate(vec_grey, &k, 65, 'x', -1, 1) == SYNC_ETLV,
	    "a GREY string without its NUL is refused");
	ok(mutate(vec_grey, &k, 52, 0, -1, 1) == SYNC_ETLV,
	    "a GREY string with a NUL inside is refused");
	ok(mutate(vec_grey, &k, 86, '\n', -1, 1) == SYNC_ETLV,
	    "a GREY string with a newline is refused");
	ok(mutate(vec_grey, &k, 47, 0x60, -1, 1) == SYNC_ETLV,
	    "GREY lengths beyond the entry are refused");
	ok(mutate(vec_white, &k, 33, 3, -1, 1) == SYNC_OK,
	    "the same datagram re-signed decodes (the mutations are fair)");

	/* Several entries: all or nothing. */
	entry(&e, SYNC_WHITE, "192.0.2.7", 1703110400U);
	n = sync_encode(two, sizeof(two), &k, 0, &e);
	entry(&e, SYNC_TRAPPED, "198.51.100.9", 1700086400U);
	n2 = sync_encode(buf, sizeof(buf), &k, 0, &e);
	memcpy(two + n - 4, buf + SYNC_HDRLEN, (size_t)(n2 - SYNC_HDRLEN));
	two[3] = (uint8_t)(n + n2 - SYNC_HDRLEN - 4);
	sign(&k, two);
	memset(&g, 0, sizeof(g));
	ok(sync_decode(two, (size_t)(n + n2 - SYNC_HDRLEN - 4), &k, collect,
	    &g) == SYNC_OK && g.n == 2 && g.e[0].type == SYNC_WHITE &&
	    g.e[1].type == SYNC_TRAPPED, "two entries in one datagram");
	two[n - 4 + 3] = 15;
	sign(&k, two);
	memset(&g, 0, sizeof(g));
	ok(sync_decode(two, (size_t)(n + n2 - SYNC_HDRLEN - 4), &k, collect,
	    &g) == SYNC_ETLV && g.n == 0,
	    "a bad second entry: the first is not applied either");

	/* IPv6, beyond OpenBSD: af 24, 16-byte addresses. */
	entry(&e, SYNC_WHITE, "2001:db8::7", 1703110400U);
	n = sync_encode(buf, sizeof(buf), &k, 5, &e);
	memset(&g, 0, sizeof(g));
	ok(n == 64 && buf[1] == 24 && sync_decode(buf, (size_t)n, &k,
	    collect, &g) == SYNC_OK && g.n == 1 &&
	    addr_cmp(&g.e[0].ip, &e.ip) == 0 && g.e[0].expire == 1703110400U,
	    "IPv6 WHITE: af 24, 64 bytes, round trip");
	entry(&e, SYNC_GREY, "2001:db8::5", 0);
	e.helo = "mx.example.net";
	e.from = "<a@example.net>";
	e.to = "<b@example.org>";
	n = sync_encode(buf, sizeof(buf), &k, 6, &e);
	memset(&g, 0, sizeof(g));
	ok(n > 0 && (n - SYNC_HDRLEN - 4) % 16 == 0 &&
	    sync_decode(buf, (size_t)n, &k, collect, &g) == SYNC_OK &&
	    g.n == 1 && addr_cmp(&g.e[0].ip, &e.ip) == 0 &&
	    strcmp(g.s[0][0], "mx.example.net") == 0,
	    "IPv6 GREY: aligned to 16, round trip");

	/* What cannot be encoded. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	e.from = e.to = big;
	ok(sync_encode(buf, sizeof(buf), &k, 7, &e) == -1 && errno == EMSGSIZE,
	    "a GREY entry over %d bytes is not encoded", SYNC_MAXLEN);
	e.from = NULL;
	ok(sync_encode(buf, sizeof(buf), &k, 7, &e) == -1 && errno == EINVAL,
	    "a GREY entry without from is not encoded");
	entry(&e, SYNC_WHITE, "192.0.2.7", 1);
	ok(sync_encode(buf, 51, &k, 7, &e) == -1 && errno == EMSGSIZE,
	    "a buffer one byte short is refused");
	/* The engine's check: the same verdict, the datagram untouched. */
	n = (ssize_t)unhex(vec_white, buf);
	memcpy(two, buf, (size_t)n);
	ok(sync_check(buf, (size_t)n, &k) == SYNC_OK &&
	    memcmp(two, buf, (size_t)n) == 0 &&
	    sync_decode(buf, (size_t)n, &k, collect, &g) == SYNC_OK,
	    "sync_check passes a signed datagram and leaves it as it was");
	n = (ssize_t)unhex(vec_white_nokey, buf);
	ok(sync_check(buf, (size_t)n, &k) == SYNC_EMAC,
	    "sync_check refuses one signed with another key");
	ok(sync_check(buf, SYNC_MAXLEN + 1, &k) == SYNC_ELONG,
	    "sync_check refuses %d bytes", SYNC_MAXLEN + 1);

	addrs();
	return tap_done();
}
