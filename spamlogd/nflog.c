/*
 * Decoding of the records libpcap hands us from an NFLOG group
 * (DLT_NFLOG): a 4-byte header, then TLVs whose length and type are in
 * host byte order and whose values are big-endian, each padded to four
 * bytes.  TLV 9 holds the packet from its IP header on, cut at the log
 * rule's snaplen.  BPF filters do not work on this link type, so every
 * check is made here, and nothing is read before its bounds are.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <pcap/nflog.h>
#include <stdint.h>
#include <string.h>

#include "spamlogd.h"

#define NFLOG_HDRLEN	4
#define TLV_HDRLEN	4
#define TLV_TYPE_MASK	0x3fff	/* without NLA_F_NESTED, NLA_F_NET_BYTEORDER */
#define IP6_MAXEXT	8	/* extension headers we walk before giving up */

#define TH_SYN		0x02
#define TH_ACK		0x10

/* Netfilter hooks, as in <linux/netfilter.h> */
#define HOOK_PREROUTING	0
#define HOOK_LOCAL_IN	1
#define HOOK_FORWARD	2
#define HOOK_LOCAL_OUT	3
#define HOOK_POSTROUTING 4

static uint16_t
get16h(const uint8_t *p)
{
	uint16_t	v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint16_t
get16n(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32n(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* The TCP header: ports and flags are all we read. */
static enum nflog_res
tcp_decode(const uint8_t *p, size_t len, struct nflog_pkt *pk,
    const char **why)
{
	if (len < 14) {
		*why = "TCP header truncated";
		return NFLOG_MALFORMED;
	}
	if ((p[12] >> 4) < 5) {
		*why = "TCP data offset below 5";
		return NFLOG_MALFORMED;
	}
	pk->sport = get16n(p);
	pk->dport = get16n(p + 2);
	pk->tcpflags = p[13];
	return NFLOG_OK;
}

static enum nflog_res
ip4_decode(const uint8_t *p, size_t len, struct nflog_pkt *pk,
    const char **why)
{
	size_t	 hl, tot;

	if (len < 20) {
		*why = "IPv4 header truncated";
		return NFLOG_MALFORMED;
	}
	hl = (size_t)(p[0] & 0x0f) * 4;
	tot = get16n(p + 2);
	if (hl < 20 || hl > len) {
		*why = "bad IPv4 header length";
		return NFLOG_MALFORMED;
	}
	if (tot < hl) {
		*why = "IPv4 total length below header length";
		return NFLOG_MALFORMED;
	}
	pk->src.af = pk->dst.af = AF_INET;
	memcpy(pk->src.a, p + 12, 4);
	memcpy(pk->dst.a, p + 16, 4);
	if (p[9] != IPPROTO_TCP) {
		*why = "not TCP";
		return NFLOG_NOTTCP;
	}
	if ((get16n(p + 6) & 0x1fff) != 0) {
		*why = "IPv4 fragment without TCP header";
		return NFLOG_NOTTCP;
	}
	/* What was captured, but nothing past the datagram's end. */
	if (tot < len)
		len = tot;
	return tcp_decode(p + hl, len - hl, pk, why);
}

static enum nflog_res
ip6_decode(const uint8_t *p, size_t len, struct nflog_pkt *pk,
    const char **why)
{
	size_t	 off = 40, plen;
	uint8_t	 nxt;
	int	 i;

	if (len < 40) {
		*why = "IPv6 header truncated";
		return NFLOG_MALFORMED;
	}
	plen = get16n(p + 4);
	/* Payload length 0 is a jumbogram: trust the capture. */
	if (plen != 0 && 40 + plen < len)
		len = 40 + plen;
	pk->src.af = pk->dst.af = AF_INET6;
	memcpy(pk->src.a, p + 8, 16);
	memcpy(pk->dst.a, p + 24, 16);
	nxt = p[6];
	for (i = 0; i < IP6_MAXEXT; i++) {
		switch (nxt) {
		case IPPROTO_TCP:
			return tcp_decode(p + off, len - off, pk, why);
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (len - off < 8) {
				*why = "IPv6 extension header truncated";
				return NFLOG_MALFORMED;
			}
			nxt = p[off];
			off += ((size_t)p[off + 1] + 1) * 8;
			break;
		case IPPROTO_FRAGMENT:
			if (len - off < 8) {
				*why = "IPv6 fragment header truncated";
				return NFLOG_MALFORMED;
			}
			if ((get16n(p + off + 2) & 0xfff8) != 0) {
				*why = "IPv6 fragment without TCP header";
				return NFLOG_NOTTCP;
			}
			nxt = p[off];
			off += 8;
			break;
		default:
			*why = "not TCP";
			return NFLOG_NOTTCP;
		}
		if (off > len) {
			*why = "IPv6 extension header overruns the packet";
			return NFLOG_MALFORMED;
		}
	}
	*why = "too many IPv6 extension headers";
	return NFLOG_NOTTCP;
}

enum nflog_res
nflog_decode(const uint8_t *p, size_t caplen, struct nflog_pkt *pk,
    const char **why)
{
	const uint8_t	*payload = NULL, *v;
	size_t		 off, tlen, vlen, plen = 0;
	uint16_t	 type;

	memset(pk, 0, sizeof(*pk));
	pk->hook = -1;
	*why = "";
	if (caplen < NFLOG_HDRLEN) {
		*why = "NFLOG header truncated";
		return NFLOG_MALFORMED;
	}
	off = NFLOG_HDRLEN;
	while (caplen - off >= TLV_HDRLEN) {
		tlen = get16h(p + off);
		type = get16h(p + off + 2) & TLV_TYPE_MASK;
		if (tlen < TLV_HDRLEN || tlen > caplen - off) {
			*why = "NFLOG TLV overruns the record";
			return NFLOG_MALFORMED;
		}
		v = p + off + TLV_HDRLEN;
		vlen = tlen - TLV_HDRLEN;
		switch (type) {
		case NFULA_PACKET_HDR:
			if (vlen >= 3)
				pk->hook = v[2];
			break;
		case NFULA_IFINDEX_INDEV:
			if (vlen >= 4)
				pk->indev = get32n(v);
			break;
		case NFULA_IFINDEX_OUTDEV:
			if (vlen >= 4)
				pk->outdev = get32n(v);
			break;
		case NFULA_PREFIX:
			/* NUL-terminated by the kernel; do not rely on it. */
			if (vlen >= sizeof(pk->prefix))
				vlen = sizeof(pk->prefix) - 1;
			memcpy(pk->prefix, v, vlen);
			pk->prefix[vlen] = '\0';
			break;
		case NFULA_PAYLOAD:
			payload = v;
			plen = vlen;
			break;
		}
		/* Padding of the last TLV may be cut off: the loop ends. */
		tlen = (tlen + 3) & ~(size_t)3;
		if (tlen > caplen - off)
			break;
		off += tlen;
	}
	if (payload == NULL) {
		*why = "no packet in the NFLOG record";
		return NFLOG_MALFORMED;
	}
	if (plen < 1) {
		*why = "empty packet";
		return NFLOG_MALFORMED;
	}
	switch (payload[0] >> 4) {
	case 4:
		return ip4_decode(payload, plen, pk, why);
	case 6:
		return ip6_decode(payload, plen, pk, why);
	}
	*why = "neither IPv4 nor IPv6";
	return NFLOG_MALFORMED;
}

/* Only unicast addresses of other hosts are worth whitelisting. */
static int
addr_remote(const struct addr *a)
{
	static const uint8_t	zero[16], loop6[16] = { [15] = 1 };

	if (a->af == AF_INET)
		return a->a[0] != 0 && a->a[0] != 127 && a->a[0] < 224;
	if (memcmp(a->a, zero, 16) == 0 || memcmp(a->a, loop6, 16) == 0)
		return 0;
	if (a->a[0] == 0xff)				/* multicast */
		return 0;
	if (a->a[0] == 0xfe && (a->a[1] & 0xc0) == 0x80)	/* link-local */
		return 0;
	/* IPv4-mapped: the kernel never routes these on the wire. */
	if (memcmp(a->a, zero, 10) == 0 && a->a[10] == 0xff &&
	    a->a[11] == 0xff)
		return 0;
	return 1;
}

/* Is prefix word, optionally followed by blanks ("spamd-in ")? */
static int
prefix_is(const char *prefix, const char *word)
{
	size_t	 n = strlen(word);

	if (strncmp(prefix, word, n) != 0)
		return 0;
	return prefix[n + strspn(prefix + n, " ")] == '\0';
}

enum pkt_dir
nflog_direction(const struct nflog_pkt *pk, struct addr *peer,
    const char **why)
{
	enum pkt_dir	 dir;

	if (prefix_is(pk->prefix, PREFIX_IN))
		dir = DIR_IN;
	else if (prefix_is(pk->prefix, PREFIX_OUT))
		dir = DIR_OUT;
	else if (pk->prefix[0] != '\0') {
		*why = "foreign log prefix";
		return DIR_NONE;
	} else if (pk->hook == HOOK_PREROUTING || pk->hook == HOOK_LOCAL_IN)
		dir = DIR_IN;
	else if (pk->hook == HOOK_LOCAL_OUT || pk->hook == HOOK_POSTROUTING)
		dir = DIR_OUT;
	else {
		*why = "no prefix, and the hook does not tell the direction";
		return DIR_NONE;
	}
	if (pk->dport != SMTP_PORT) {
		*why = "not to port 25";
		return DIR_NONE;
	}
	/* The first packet of a connection, as OpenBSD's tcp[13]&0x12=0x2 */
	if ((pk->tcpflags & (TH_SYN | TH_ACK)) != TH_SYN) {
		*why = "not a connection attempt (SYN)";
		return DIR_NONE;
	}
	*peer = dir == DIR_IN ? pk->src : pk->dst;
	if (!addr_remote(peer)) {
		*why = "not a remote unicast address";
		return DIR_NONE;
	}
	return dir;
}
