/*
 * spamlogd's decoding of NFLOG records (nflog.c) and what it writes to
 * the database (update.c, on the memory store): well-formed records of
 * both families, every truncation, broken lengths, random damage; new,
 * extended, left-alone entries and coalescing.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../spamlogd/nflog.c"
#include "../../spamlogd/update.c"
#include "store_mem.h"
#include "tap.h"

struct sl_stats		stats;

struct rec {
	uint8_t	 b[512];
	size_t	 len;
};

static void
tlv(struct rec *r, uint16_t type, const void *v, size_t vlen)
{
	uint16_t	 len = (uint16_t)(4 + vlen);

	memcpy(r->b + r->len, &len, 2);
	memcpy(r->b + r->len + 2, &type, 2);
	memcpy(r->b + r->len + 4, v, vlen);
	r->len += (4 + vlen + 3) & ~(size_t)3;
}

static size_t
tcphdr(uint8_t *p, uint16_t sport, uint16_t dport, uint8_t flags)
{
	memset(p, 0, 20);
	p[0] = sport >> 8;
	p[1] = sport & 0xff;
	p[2] = dport >> 8;
	p[3] = dport & 0xff;
	p[12] = 5 << 4;
	p[13] = flags;
	return 20;
}

/* An NFLOG record: header, packet header (hook), prefix, payload last. */
static void
record(struct rec *r, int hook, const char *prefix, const uint8_t *pkt,
    size_t plen)
{
	uint8_t	 ph[4] = { 0x08, 0x00, 0, 0 };

	memset(r, 0, sizeof(*r));
	r->b[0] = AF_INET;
	r->len = 4;
	if (hook >= 0) {
		ph[2] = (uint8_t)hook;
		tlv(r, NFULA_PACKET_HDR, ph, sizeof(ph));
	}
	if (prefix != NULL)
		tlv(r, NFULA_PREFIX, prefix, strlen(prefix) + 1);
	tlv(r, NFULA_PAYLOAD, pkt, plen);
}

static size_t
ip4(uint8_t *p, const char *src, const char *dst, uint16_t dport,
    uint8_t flags)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	p[2] = 0;
	p[3] = 40;
	p[8] = 64;
	p[9] = IPPROTO_TCP;
	inet_pton(AF_INET, src, p + 12);
	inet_pton(AF_INET, dst, p + 16);
	return 20 + tcphdr(p + 20, 40000, dport, flags);
}

static size_t
ip6(uint8_t *p, const char *src, const char *dst, int hbh)
{
	size_t	 off = 40;

	memset(p, 0, 40);
	p[0] = 0x60;
	p[6] = hbh ? IPPROTO_HOPOPTS : IPPROTO_TCP;
	p[7] = 64;
	inet_pton(AF_INET6, src, p + 8);
	inet_pton(AF_INET6, dst, p + 24);
	if (hbh) {
		memset(p + off, 0, 8);
		p[off] = IPPROTO_TCP;
		p[off + 1] = 0;		/* 8 bytes */
		off += 8;
	}
	off += tcphdr(p + off, 40000, 25, 0x02);
	p[4] = (uint8_t)((off - 40) >> 8);
	p[5] = (uint8_t)((off - 40) & 0xff);
	return off;
}

static int
peer_is(const struct addr *a, const char *s)
{
	char	 buf[INET6_ADDRSTRLEN];

	return strcmp(addr_str(a, buf, sizeof(buf)), s) == 0;
}

/* Decode and classify; DIR_NONE for anything not usable. */
static enum pkt_dir
classify(const struct rec *r, struct addr *peer, enum nflog_res *res)
{
	struct nflog_pkt	 pk;
	const char		*why;

	*res = nflog_decode(r->b, r->len, &pk, &why);
	if (*res != NFLOG_OK)
		return DIR_NONE;
	return nflog_direction(&pk, peer, &why);
}

static void
test_decode(void)
{
	struct rec		 r, t;
	struct addr		 peer;
	enum nflog_res		 res;
	uint8_t			 pkt[128];
	size_t			 plen, cut;
	int			 bad, i, j;
	enum pkt_dir		 d;

	plen = ip4(pkt, "192.0.2.10", "198.51.100.25", 25, 0x02);
	record(&r, 0, "spamd-in ", pkt, plen);
	d = classify(&r, &peer, &res);
	ok(res == NFLOG_OK && d == DIR_IN && peer_is(&peer, "192.0.2.10"),
	    "IPv4 SYN with prefix spamd-in: inbound from the source");
	record(&r, 3, "spamd-out ", pkt, plen);
	d = classify(&r, &peer, &res);
	ok(d == DIR_OUT && peer_is(&peer, "198.51.100.25"),
	    "prefix spamd-out: outbound to the destination");
	record(&r, 3, "spamd-out", pkt, plen);
	ok(classify(&r, &peer, &res) == DIR_OUT,
	    "prefix without the trailing blank");
	record(&r, 0, "spamd-outx ", pkt, plen);
	ok(classify(&r, &peer, &res) == DIR_NONE, "foreign prefix ignored");
	record(&r, 3, NULL, pkt, plen);
	ok(classify(&r, &peer, &res) == DIR_OUT,
	    "no prefix, output hook: outbound");
	record(&r, 0, "", pkt, plen);
	ok(classify(&r, &peer, &res) == DIR_IN,
	    "empty prefix, prerouting hook: inbound");
	record(&r, 2, NULL, pkt, plen);
	ok(classify(&r, &peer, &res) == DIR_NONE,
	    "no prefix, forward hook: direction unknown, ignored");
	record(&r, -1, NULL, pkt, plen);
	ok(classify(&r, &peer, &res) == DIR_NONE,
	    "no prefix, no hook: ignored");

	plen = ip4(pkt, "192.0.2.10", "198.51.100.25", 25, 0x12);
	record(&r, 0, "spamd-in ", pkt, plen);
	ok(classify(&r, &peer, &res) == DIR_NONE && res == NFLOG_OK,
	    "SYN+ACK ignored");
	plen = ip4(pkt, "192.0.2.10", "198.51.100.25", 25, 0x10);
	record(&r, 0, "spamd-in ", pkt, plen);
	ok(classify(&r, &peer, &res) == DIR_NONE, "ACK ignored");
	plen = ip4(pkt, "192.0.2.10", "198.51.100.25", 587, 0x02);
	record(&r, 0, "spamd-in ", pkt, plen);
	ok(classify(&r, &peer, &res) == DIR_NONE, "port 587 ignored");
	plen = ip4(pkt, "192.0.2.10", "127.0.0.1", 25, 0x02);
	record(&r, 3, "spamd-out ", pkt, plen);
	ok(classify(&r, &peer, &res) == DIR_NONE, "outbound to loopback "
	    "ignored");
	plen = ip4(pkt, "192.0.2.10", "224.0.0.9", 25, 0x02);
	record(&r, 3, "spamd-out ", pkt, plen);
	ok(classify(&r, &peer, &res) == DIR_NONE, "outbound to multicast "
	    "ignored");

	plen = ip6(pkt, "2001:db8:1::10", "2001:db8:2::25", 0);
	record(&r, 0, "spamd-in ", pkt, plen);
	d = classify(&r, &peer, &res);
	ok(d == DIR_IN && peer_is(&peer, "2001:db8:1::10"),
	    "IPv6 SYN: inbound from the source");
	plen = ip6(pkt, "2001:db8:1::10", "2001:db8:2::25", 1);
	record(&r, 3, "spamd-out ", pkt, plen);
	d = classify(&r, &peer, &res);
	ok(d == DIR_OUT && peer_is(&peer, "2001:db8:2::25"),
	    "IPv6 behind a hop-by-hop header: outbound to the destination");
	plen = ip6(pkt, "fe80::1", "2001:db8:2::25", 0);
	record(&r, 0, "spamd-in ", pkt, plen);
	ok(classify(&r, &peer, &res) == DIR_NONE, "link-local source "
	    "ignored");

	/* Every truncation of a record whose payload comes last. */
	plen = ip6(pkt, "2001:db8:1::10", "2001:db8:2::25", 1);
	record(&r, 0, "spamd-in ", pkt, plen);
	bad = 0;
	for (cut = 0; cut < r.len; cut++) {
		t = r;
		t.len = cut;
		if (classify(&t, &peer, &res) != DIR_NONE ||
		    res != NFLOG_MALFORMED)
			bad++;
	}
	ok(bad == 0, "all %zu truncations of an IPv6 record are malformed "
	    "(%d not)", r.len, bad);
	plen = ip4(pkt, "192.0.2.10", "198.51.100.25", 25, 0x02);
	record(&r, 0, "spamd-in ", pkt, plen);
	bad = 0;
	for (cut = 0; cut < r.len; cut++) {
		t = r;
		t.len = cut;
		if (classify(&t, &peer, &res) != DIR_NONE ||
		    res != NFLOG_MALFORMED)
			bad++;
	}
	ok(bad == 0, "all %zu truncations of an IPv4 record are malformed "
	    "(%d not)", r.len, bad);

	/* Lengths that lie. */
	t = r;
	t.b[4] = 2;
	t.b[5] = 0;
	ok(classify(&t, &peer, &res) == DIR_NONE && res == NFLOG_MALFORMED,
	    "TLV length below its header: malformed");
	t = r;
	t.b[4] = 0xff;
	t.b[5] = 0x7f;
	ok(classify(&t, &peer, &res) == DIR_NONE && res == NFLOG_MALFORMED,
	    "TLV length past the record: malformed");
	plen = ip4(pkt, "192.0.2.10", "198.51.100.25", 25, 0x02);
	pkt[0] = 0x44;
	record(&t, 0, "spamd-in ", pkt, plen);
	ok(classify(&t, &peer, &res) == DIR_NONE && res == NFLOG_MALFORMED,
	    "IPv4 header length 16: malformed");
	pkt[0] = 0x4f;
	record(&t, 0, "spamd-in ", pkt, plen);
	ok(classify(&t, &peer, &res) == DIR_NONE && res == NFLOG_MALFORMED,
	    "IPv4 header length past the capture: malformed");
	pkt[0] = 0x45;
	pkt[3] = 10;
	record(&t, 0, "spamd-in ", pkt, plen);
	ok(classify(&t, &peer, &res) == DIR_NONE && res == NFLOG_MALFORMED,
	    "IPv4 total length below the header: malformed");
	pkt[3] = 30;
	record(&t, 0, "spamd-in ", pkt, plen);
	ok(classify(&t, &peer, &res) == DIR_NONE && res == NFLOG_MALFORMED,
	    "IPv4 total length cutting the TCP header: malformed");
	pkt[3] = 40;
	pkt[9] = IPPROTO_UDP;
	record(&t, 0, "spamd-in ", pkt, plen);
	ok(classify(&t, &peer, &res) == DIR_NONE && res == NFLOG_NOTTCP,
	    "UDP: not TCP");
	pkt[9] = IPPROTO_TCP;
	pkt[6] = 0x00;
	pkt[7] = 0x10;
	record(&t, 0, "spamd-in ", pkt, plen);
	ok(classify(&t, &peer, &res) == DIR_NONE && res == NFLOG_NOTTCP,
	    "IPv4 non-first fragment: no TCP header");
	pkt[7] = 0;
	pkt[32] = 0x40;
	record(&t, 0, "spamd-in ", pkt, plen);
	ok(classify(&t, &peer, &res) == DIR_NONE && res == NFLOG_MALFORMED,
	    "TCP data offset 4: malformed");
	pkt[0] = 0x75;
	pkt[32] = 0x50;
	record(&t, 0, "spamd-in ", pkt, plen);
	ok(classify(&t, &peer, &res) == DIR_NONE && res == NFLOG_MALFORMED,
	    "IP version 7: malformed");
	plen = ip6(pkt, "2001:db8:1::10", "2001:db8:2::25", 1);
	pkt[41] = 200;			/* hop-by-hop of 1608 bytes */
	record(&t, 0, "spamd-in ", pkt, plen);
	ok(classify(&t, &peer, &res) == DIR_NONE && res == NFLOG_MALFORMED,
	    "IPv6 extension header past the packet: malformed");
	plen = ip4(pkt, "192.0.2.10", "198.51.100.25", 25, 0x02);
	memset(&t, 0, sizeof(t));
	t.len = 4;
	tlv(&t, NFULA_PREFIX, "spamd-in spamd-in spamd-in spamd-in "
	    "spamd-in spamd-in spamd-in spamd-in", 71);	/* no NUL */
	tlv(&t, NFULA_PAYLOAD, pkt, plen);
	ok(classify(&t, &peer, &res) == DIR_NONE && res == NFLOG_OK,
	    "long prefix without NUL: cut, foreign");
	memset(&t, 0, sizeof(t));
	t.len = 4;
	tlv(&t, NFULA_PREFIX, "spamd-in ", 10);
	ok(classify(&t, &peer, &res) == DIR_NONE && res == NFLOG_MALFORMED,
	    "record without a payload: malformed");

	/* Random damage: never a crash, never a bogus direction. */
	srandom(7);
	bad = 0;
	for (i = 0; i < 200000; i++) {
		plen = i & 1 ? ip6(pkt, "2001:db8:1::10", "2001:db8:2::25",
		    i & 2) : ip4(pkt, "192.0.2.10", "198.51.100.25", 25, 2);
		record(&t, 0, "spamd-in ", pkt, plen);
		for (j = random() % 4; j >= 0; j--)
			t.b[random() % t.len] = (uint8_t)random();
		t.len = (size_t)random() % (t.len + 1);
		d = classify(&t, &peer, &res);
		if (d != DIR_NONE && d != DIR_IN && d != DIR_OUT)
			bad++;
	}
	ok(bad == 0, "200000 damaged records decoded without harm");
}

static int
db_get(struct store *st, const char *ip, struct gdata *gd)
{
	return st->ops->get(st->h, ip, strlen(ip), gd);
}

static void
queue(const char *ip, enum pkt_dir dir)
{
	struct addr	 a;

	addr_parse(&a, ip);
	update_queue(&a, dir);
}

static void
test_update(void)
{
	struct store	*st;
	struct gdata	 gd, w;
	time_t		 now = time(NULL), whiteexp = 3600;

	st = store_mem_open();
	update_init(st, NULL, whiteexp, NULL, NULL);

	/* A WHITE host, one that expires later, a trapped one. */
	memset(&w, 0, sizeof(w));
	w.first = w.pass = now - 100;
	w.expire = now + 10;
	w.bcount = 1;
	w.pcount = 3;
	st->ops->begin(st->h);
	st->ops->put(st->h, "192.0.2.10", 10, &w);
	w.expire = now + 99999;
	st->ops->put(st->h, "192.0.2.11", 10, &w);
	w.pcount = GD_TRAPPED;
	w.expire = now + 50;
	st->ops->put(st->h, "192.0.2.12", 10, &w);
	st->ops->commit(st->h);

	queue("192.0.2.10", DIR_IN);
	queue("192.0.2.11", DIR_IN);
	queue("192.0.2.12", DIR_OUT);
	queue("192.0.2.13", DIR_IN);
	queue("198.51.100.7", DIR_OUT);
	queue("2001:db8:2::7", DIR_OUT);
	update_flush();

	ok(db_get(st, "192.0.2.10", &gd) == STORE_OK && gd.pcount == 4 &&
	    gd.expire >= now + whiteexp && gd.expire <= now + whiteexp + 5 &&
	    gd.first == now - 100 && gd.pass == now - 100,
	    "inbound from a WHITE host: pcount+1, expire now+whiteexp, "
	    "first and pass kept");
	ok(db_get(st, "192.0.2.11", &gd) == STORE_OK && gd.pcount == 4 &&
	    gd.expire == now + 99999,
	    "an expiry later than now+whiteexp is never moved back");
	ok(db_get(st, "192.0.2.12", &gd) == STORE_OK &&
	    gd.pcount == GD_TRAPPED && gd.expire == now + 50,
	    "a TRAPPED host stays TRAPPED, unchanged");
	ok(db_get(st, "192.0.2.13", &gd) == STORE_NOTFOUND,
	    "inbound from a host not in the database creates nothing");
	ok(db_get(st, "198.51.100.7", &gd) == STORE_OK && gd.pcount == 0 &&
	    gd.bcount == 1 && gd.first >= now && gd.pass == gd.first &&
	    gd.expire == gd.first + whiteexp,
	    "outbound to a new host: WHITE, first=pass=now, bcount 1, "
	    "pcount 0");
	ok(db_get(st, "2001:db8:2::7", &gd) == STORE_OK && gd.pcount == 0,
	    "outbound to a new IPv6 host: WHITE");
	ok(stats.extended == 2 && stats.created == 2 &&
	    stats.notwhite == 1 && stats.trapped == 1,
	    "counters: 2 extended, 2 new, 1 not WHITE, 1 TRAPPED");

	/* The same host again at once: not written again. */
	queue("198.51.100.7", DIR_OUT);
	queue("198.51.100.7", DIR_OUT);
	queue("192.0.2.10", DIR_IN);
	update_flush();
	ok(stats.coalesced == 3 && db_get(st, "198.51.100.7", &gd) ==
	    STORE_OK && gd.pcount == 0,
	    "packets of the same host within a second are coalesced");
	queue("198.51.100.7", DIR_IN);
	update_flush();
	ok(db_get(st, "198.51.100.7", &gd) == STORE_OK && gd.pcount == 1,
	    "the other direction is not coalesced with the first");
	store_close(st);
}

int
main(void)
{
	test_decode();
	test_update();
	return tap_done();
}
