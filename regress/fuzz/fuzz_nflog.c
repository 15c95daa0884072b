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

#define RECMAX	256

/* A TLV as the kernel writes it; returns the room it takes, padded. */
static size_t
put_tlv(uint8_t *p, uint16_t type, const void *v, size_t vlen)
{
	uint16_t	 hdr[2] = { (uint16_t)(4 + vlen), type };

	memcpy(p, hdr, sizeof(hdr));
	memcpy(p + sizeof(hdr), v, vlen);
	return (sizeof(hdr) + vlen + 3) & ~(size_t)3;
}

static void
be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/*
 * The record of pk's fields, with IP and TCP headers of the minimum
 * size; returns its length.
 */
static size_t
encode(const struct nflog_pkt *pk, uint8_t *w)
{
	uint8_t	 v[4], pkt[60], *tcp;
	size_t	 len = 4, iplen, alen;
	int	 v4 = pk->src.af == AF_INET;

	memset(w, 0, RECMAX);
	w[0] = pk->src.af;
	if (pk->hook != -1) {
		memset(v, 0, sizeof(v));
		v[2] = (uint8_t)pk->hook;
		len += put_tlv(w + len, NFULA_PACKET_HDR, v, 4);
	}
	be32(v, pk->indev);
	len += put_tlv(w + len, NFULA_IFINDEX_INDEV, v, 4);
	be32(v, pk->outdev);
	len += put_tlv(w + len, NFULA_IFINDEX_OUTDEV, v, 4);
	if (pk->prefix[0] != '\0')
		len += put_tlv(w + len, NFULA_PREFIX, pk->prefix,
		    strlen(pk->prefix) + 1);
	/* IPv4: total length 40; IPv6: payload length 20. */
	memset(pkt, 0, sizeof(pkt));
	iplen = v4 ? 20 : 40;
	alen = v4 ? 4 : 16;
	pkt[0] = v4 ? 0x45 : 0x60;
	pkt[v4 ? 3 : 5] = v4 ? 40 : 20;
	pkt[v4 ? 9 : 6] = IPPROTO_TCP;
	memcpy(pkt + (v4 ? 12 : 8), pk->src.a, alen);
	memcpy(pkt + (v4 ? 16 : 24), pk->dst.a, alen);
	tcp = pkt + iplen;
	tcp[0] = pk->sport >> 8;
	tcp[1] = pk->sport & 0xff;
	tcp[2] = pk->dport >> 8;
	tcp[3] = pk->dport & 0xff;
	tcp[12] = 5 << 4;
	tcp[13] = pk->tcpflags;
	return len + put_tlv(w + len, NFULA_PAYLOAD, pkt, iplen + 20);
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
	uint8_t			 w[RECMAX];
	size_t			 wlen;
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
	wlen = encode(&pk, w);
	if (nflog_decode(w, wlen, &pk2, &why) != NFLOG_OK || !same(&pk, &pk2))
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
