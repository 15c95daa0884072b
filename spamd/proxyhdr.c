/*
 * PROXY protocol header parsing (proxyhdr.h).  The input comes from the
 * balancer, but a balancer relays what clients do to it and may be
 * misconfigured: everything is checked, nothing is allocated, and a
 * header is taken whole or not at all.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <string.h>

#include "addr.h"
#include "proxyhdr.h"

static const uint8_t	v2sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};
static const char	v1sig[] = "PROXY ";

#define V1SIGLEN	(sizeof(v1sig) - 1)

/* v2: the command (low nibble of byte 12). */
#define V2_LOCAL	0x0
#define V2_PROXY	0x1
/* v2: family and transport (byte 13). */
#define V2_UNSPEC	0x00
#define V2_TCP4		0x11
#define V2_TCP6		0x21
#define V2_TCP4LEN	12	/* two addresses, two ports */
#define V2_TCP6LEN	36

static enum proxyhdr_res v1_parse(const uint8_t *, size_t, struct proxyhdr *,
		    const char **);
static enum proxyhdr_res v1_line(const char *, size_t, struct proxyhdr *,
		    const char **);
static int	v1_addr(const char *, size_t, int, struct addr *);
static int	v1_port(const char *, size_t, uint16_t *);
static enum proxyhdr_res v2_parse(const uint8_t *, size_t, struct proxyhdr *,
		    const char **);
static int	v2_tlvs(const uint8_t *, size_t);

enum proxyhdr_res
proxyhdr_parse(const uint8_t *buf, size_t len, struct proxyhdr *h,
    const char **why)
{
	size_t	 n;

	memset(h, 0, sizeof(*h));
	*why = NULL;
	if (len == 0)
		return PH_MORE;
	/* Which signature the bytes so far can still be. */
	n = len < V1SIGLEN ? len : V1SIGLEN;
	if (memcmp(buf, v1sig, n) == 0)
		return len < V1SIGLEN ? PH_MORE : v1_parse(buf, len, h, why);
	n = len < sizeof(v2sig) ? len : sizeof(v2sig);
	if (memcmp(buf, v2sig, n) == 0)
		return len < sizeof(v2sig) ? PH_MORE :
		    v2_parse(buf, len, h, why);
	*why = "no PROXY signature";
	return PH_ERROR;
}

/*
 * v1: printable ASCII up to CRLF within 107 bytes.  A bad byte is an
 * error at once, not after the client has sent 107 of them.
 */
static enum proxyhdr_res
v1_parse(const uint8_t *buf, size_t len, struct proxyhdr *h,
    const char **why)
{
	size_t	 i;

	for (i = 0; i < len && i < PROXYHDR_V1MAX; i++) {
		if (buf[i] == '\r') {
			if (i + 2 > PROXYHDR_V1MAX)
				break;
			if (i + 1 == len)
				return PH_MORE;
			if (buf[i + 1] != '\n') {
				*why = "v1: CR without LF";
				return PH_ERROR;
			}
			h->len = i + 2;
			h->version = 1;
			return v1_line((const char *)buf, i, h, why);
		}
		if (buf[i] < 0x20 || buf[i] > 0x7e) {
			*why = "v1: not printable";
			return PH_ERROR;
		}
	}
	if (i == len && i < PROXYHDR_V1MAX)
		return PH_MORE;
	*why = "v1: longer than 107 bytes";
	return PH_ERROR;
}

/* The line without its CRLF: fields separated by one space each. */
static enum proxyhdr_res
v1_line(const char *line, size_t len, struct proxyhdr *h, const char **why)
{
	const char	*f[6], *p, *end = line + len;
	size_t		 flen[6];
	int		 af, nf = 0;

	for (p = line; p <= end && nf < 6; nf++) {
		const char	*sp = memchr(p, ' ', end - p);

		f[nf] = p;
		flen[nf] = (sp != NULL ? sp : end) - p;
		p += flen[nf] + 1;
	}
	/* UNKNOWN: the balancer's own connection; the rest is ignored. */
	if (nf >= 2 && flen[1] == 7 && memcmp(f[1], "UNKNOWN", 7) == 0) {
		h->local = 1;
		return PH_DONE;
	}
	if (nf >= 2 && flen[1] == 4 && memcmp(f[1], "TCP4", 4) == 0)
		af = AF_INET;
	else if (nf >= 2 && flen[1] == 4 && memcmp(f[1], "TCP6", 4) == 0)
		af = AF_INET6;
	else {
		*why = "v1: protocol is not TCP4, TCP6 or UNKNOWN";
		return PH_ERROR;
	}
	if (nf != 6 || p <= end) {
		*why = "v1: not 4 fields after the protocol";
		return PH_ERROR;
	}
	if (v1_addr(f[2], flen[2], af, &h->src) == -1 ||
	    v1_addr(f[3], flen[3], af, &h->dst) == -1) {
		*why = "v1: bad address";
		return PH_ERROR;
	}
	if (v1_port(f[4], flen[4], &h->sport) == -1 ||
	    v1_port(f[5], flen[5], &h->dport) == -1) {
		*why = "v1: bad port";
		return PH_ERROR;
	}
	return PH_DONE;
}

static int
v1_addr(const char *s, size_t len, int af, struct addr *a)
{
	char	 tmp[INET6_ADDRSTRLEN];

	if (len == 0 || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	memset(a, 0, sizeof(*a));
	a->af = af;
	if (inet_pton(af, tmp, a->a) != 1)
		return -1;
	/* ::ffff:a.b.c.d is a.b.c.d, as for a socket's peer. */
	return addr_norm(a);
}

/* Decimal 0 to 65535, no sign, no leading zero. */
static int
v1_port(const char *s, size_t len, uint16_t *port)
{
	unsigned long	 v = 0;
	size_t		 i;

	if (len == 0 || len > 5 || (len > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static enum proxyhdr_res
v2_parse(const uint8_t *buf, size_t len, struct proxyhdr *h,
    const char **why)
{
	size_t	 total, alen;

	if (len < PROXYHDR_V2MIN)
		return PH_MORE;
	if ((buf[12] >> 4) != 2) {
		*why = "v2: version is not 2";
		return PH_ERROR;
	}
	if ((buf[12] & 0x0f) != V2_LOCAL && (buf[12] & 0x0f) != V2_PROXY) {
		*why = "v2: unknown command";
		return PH_ERROR;
	}
	total = PROXYHDR_V2MIN + ((size_t)buf[14] << 8 | buf[15]);
	if (total > PROXYHDR_MAX) {
		*why = "v2: longer than spamd takes";
		return PH_ERROR;
	}
	/* The family and the length are checked before waiting for more. */
	if ((buf[12] & 0x0f) == V2_PROXY) {
		switch (buf[13]) {
		case V2_UNSPEC:
			alen = 0;
			break;
		case V2_TCP4:
			alen = V2_TCP4LEN;
			break;
		case V2_TCP6:
			alen = V2_TCP6LEN;
			break;
		default:
			*why = "v2: unsupported family or transport";
			return PH_ERROR;
		}
		if (total - PROXYHDR_V2MIN < alen) {
			*why = "v2: too short for its addresses";
			return PH_ERROR;
		}
	} else
		alen = 0;
	if (len < total)
		return PH_MORE;
	h->len = total;
	h->version = 2;
	/* LOCAL, or PROXY of an unknown family: the socket's endpoints. */
	if ((buf[12] & 0x0f) == V2_LOCAL || buf[13] == V2_UNSPEC) {
		h->local = 1;
		return PH_DONE;
	}
	if (v2_tlvs(buf + PROXYHDR_V2MIN + alen,
	    total - PROXYHDR_V2MIN - alen) == -1) {
		*why = "v2: TLVs do not fill the header";
		return PH_ERROR;
	}
	buf += PROXYHDR_V2MIN;
	if (buf[-3] == V2_TCP4) {
		h->src.af = h->dst.af = AF_INET;
		memcpy(h->src.a, buf, 4);
		memcpy(h->dst.a, buf + 4, 4);
		buf += 8;
	} else {
		h->src.af = h->dst.af = AF_INET6;
		memcpy(h->src.a, buf, 16);
		memcpy(h->dst.a, buf + 16, 16);
		buf += 32;
	}
	h->sport = (uint16_t)(buf[0] << 8 | buf[1]);
	h->dport = (uint16_t)(buf[2] << 8 | buf[3]);
	if (addr_norm(&h->src) == -1 || addr_norm(&h->dst) == -1) {
		*why = "v2: bad address";
		return PH_ERROR;
	}
	return PH_DONE;
}

/* Type, 16-bit length, value, one after the other to the very end. */
static int
v2_tlvs(const uint8_t *p, size_t len)
{
	size_t	 vlen;

	while (len > 0) {
		if (len < 3)
			return -1;
		vlen = (size_t)p[1] << 8 | p[2];
		if (vlen > len - 3)
			return -1;
		p += 3 + vlen;
		len -= 3 + vlen;
	}
	return 0;
}
