/*
 * libFuzzer harness: NFLOG records (spamlogd/nflog.c) as libpcap hands
 * them over, any bytes a packet on the wire or a damaged record may
 * hold.  The decoder must read nothing outside the record (libFuzzer's
 * copy is exact-size, so ASan sees every overrun).
 *
 * Checked: a decoded packet is sound (one family for both addresses, a
 * NUL-terminated prefix); written back as a plain record of its own
 * fields it decodes to the same fields; and the direction it is given
 * holds (port 25, SYN without ACK, the peer one of its two addresses).
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <pcap/nflog.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spamlogd.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct wbuf {
	uint8_t	 b[256];
	size_t	 len;
};

/* A TLV as the kernel writes it: length and type in host order. */
static void
put_tlv(struct wbuf *w, uint16_t type, const void *v, size_t vlen)
{
	uint16_t	 tlen = (uint16_t)(4 + vlen);

	memcpy(w->b + w->len, &tlen, 2);
	memcpy(w->b + w->len + 2, &type, 2);
	memcpy(w->b + w->len + 4, v, vlen);
	w->len += (4 + vlen + 3) & ~(size_t)3;
}

static void
be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* The record of pk's fields: IP and TCP headers of the minimum size. */
static void
encode(const struct nflog_pkt *pk, struct wbuf *w)
{
	uint8_t	 v[4], pkt[60], *tcp;
	size_t	 iplen;

	memset(w, 0, sizeof(*w));
	w->b[0] = pk->src.af;
	w->len = 4;
	if (pk->hook != -1) {
		memset(v, 0, sizeof(v));
		v[2] = (uint8_t)pk->hook;
		put_tlv(w, NFULA_PACKET_HDR, v, 4);
	}
	be32(v, pk->indev);
	put_tlv(w, NFULA_IFINDEX_INDEV, v, 4);
	be32(v, pk->outdev);
	put_tlv(w, NFULA_IFINDEX_OUTDEV, v, 4);
	if (pk->prefix[0] != '\0')
		put_tlv(w, NFULA_PREFIX, pk->prefix, strlen(pk->prefix) + 1);
	memset(pkt, 0, sizeof(pkt));
	if (pk->src.af == AF_INET) {
		iplen = 20;
		pkt[0] = 0x45;
		pkt[3] = 40;
		pkt[9] = IPPROTO_TCP;
		memcpy(pkt + 12, pk->src.a, 4);
		memcpy(pkt + 16, pk->dst.a, 4);
	} else {
		iplen = 40;
		pkt[0] = 0x60;
		pkt[5] = 20;
		pkt[6] = IPPROTO_TCP;
		memcpy(pkt + 8, pk->src.a, 16);
		memcpy(pkt + 24, pk->dst.a, 16);
	}
	tcp = pkt + iplen;
	tcp[0] = pk->sport >> 8;
	tcp[1] = pk->sport & 0xff;
	tcp[2] = pk->dport >> 8;
	tcp[3] = pk->dport & 0xff;
	tcp[12] = 5 << 4;
	tcp[13] = pk->tcpflags;
	put_tlv(w, NFULA_PAYLOAD, pkt, iplen + 20);
}

static int
same(const struct nflog_pkt *a, const struct nflog_pkt *b)
{
	return a->hook == b->hook && a->indev == b->indev &&
	    a->outdev == b->outdev && strcmp(a->prefix, b->prefix) == 0 &&
	    addr_cmp(&a->src, &b->src) == 0 &&
	    addr_cmp(&a->dst, &b->dst) == 0 && a->sport == b->sport &&
	    a->dport == b->dport && a->tcpflags == b->tcpflags;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct nflog_pkt	 pk, pk2;
	struct addr		 peer;
	struct wbuf		 w;
	const char		*why;
	enum nflog_res		 res;
	enum pkt_dir		 dir;

	res = nflog_decode(data, len, &pk, &why);
	if (why == NULL || memchr(pk.prefix, '\0', sizeof(pk.prefix)) == NULL)
		abort();
	if (res != NFLOG_OK)
		return 0;
	if ((pk.src.af != AF_INET && pk.src.af != AF_INET6) ||
	    pk.dst.af != pk.src.af)
		abort();
	encode(&pk, &w);
	if (nflog_decode(w.b, w.len, &pk2, &why) != NFLOG_OK || !same(&pk, &pk2))
		abort();
	why = NULL;
	dir = nflog_direction(&pk, &peer, &why);
	if (dir == DIR_NONE) {
		if (why == NULL)
			abort();
		return 0;
	}
	if (pk.dport != SMTP_PORT || (pk.tcpflags & 0x12) != 0x02 ||
	    (addr_cmp(&peer, dir == DIR_IN ? &pk.src : &pk.dst) != 0))
		abort();
	return 0;
}
