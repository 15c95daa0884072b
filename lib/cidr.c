/*
 * Address ranges: parsing, merging, subtraction and CIDR covers.
 * Used by: spamd (blacklists, config socket), spamd-setup (lists),
 * spfwalk (the addresses an SPF walk finds).
 *
 * Ranges are inclusive at both ends, so that a range reaching the last
 * address of the space needs no end+1 that would not fit; every step
 * that computes end+1 or start-1 first checks for the end of the space.
 * IPv4 lives in the low 32 bits of the 128-bit number, and its "end of
 * the space" is 2^32-1, not 2^128-1.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"

#define V4MAX	0xffffffffULL

static int	ip_is_max(int, const struct cidr_ip *);
static int	ip_inc(int, struct cidr_ip *);
static void	ip_dec(struct cidr_ip *);
static void	ip_sub(const struct cidr_ip *, const struct cidr_ip *,
		    struct cidr_ip *);
static int	ip_tz(int, const struct cidr_ip *);
static int	ip_log2(const struct cidr_ip *);
static void	host_mask(int, int, struct cidr_ip *);
static int	range_cmp(const void *, const void *);
static int	parse_addr(const char *, size_t, int *, struct cidr_ip *);
static size_t	addr_span(const char *, size_t);
static int	parse_entry(const char *, size_t, size_t *, int *,
		    struct cidr_range *, char *, size_t);

int
cidr_bits(int af)
{
	return af == AF_INET ? 32 : 128;
}

int
cidr_cmp(const struct cidr_ip *a, const struct cidr_ip *b)
{
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return 0;
}

static int
ip_is_max(int af, const struct cidr_ip *ip)
{
	if (af == AF_INET)
		return ip->lo == V4MAX;
	return ip->hi == UINT64_MAX && ip->lo == UINT64_MAX;
}

/* ip + 1; returns 1 (and leaves ip alone) at the end of the space. */
static int
ip_inc(int af, struct cidr_ip *ip)
{
	if (ip_is_max(af, ip))
		return 1;
	if (++ip->lo == 0)
		ip->hi++;
	return 0;
}

/* ip - 1, for ip > 0. */
static void
ip_dec(struct cidr_ip *ip)
{
	if (ip->lo-- == 0)
		ip->hi--;
}

/* d = a - b, for a >= b. */
static void
ip_sub(const struct cidr_ip *a, const struct cidr_ip *b, struct cidr_ip *d)
{
	d->lo = a->lo - b->lo;
	d->hi = a->hi - b->hi - (a->lo < b->lo);
}

/* Trailing zero bits: the largest block ip can start, as a bit count. */
static int
ip_tz(int af, const struct cidr_ip *ip)
{
	if (af == AF_INET)
		return ip->lo == 0 ? 32 : __builtin_ctzll(ip->lo);
	if (ip->lo != 0)
		return __builtin_ctzll(ip->lo);
	if (ip->hi != 0)
		return 64 + __builtin_ctzll(ip->hi);
	return 128;
}

/* floor(log2(x)) for x > 0. */
static int
ip_log2(const struct cidr_ip *x)
{
	if (x->hi != 0)
		return 127 - __builtin_clzll(x->hi);
	return 63 - __builtin_clzll(x->lo);
}

/* The host part of a block of `bits' as a mask. */
static void
host_mask(int af, int bits, struct cidr_ip *m)
{
	int	 h = cidr_bits(af) - bits;	/* host bits, 0..128 */

	m->hi = m->lo = 0;
	if (h >= 64) {
		m->lo = UINT64_MAX;
		m->hi = h == 128 ? UINT64_MAX : (1ULL << (h - 64)) - 1;
	} else
		m->lo = h == 0 ? 0 : (1ULL << h) - 1;
}

void
cidr_ip_from_bytes(int af, const void *p, struct cidr_ip *ip)
{
	uint32_t	 v4;
	uint64_t	 v6[2];

	if (af == AF_INET) {
		memcpy(&v4, p, 4);
		ip->hi = 0;
		ip->lo = be32toh(v4);
		return;
	}
	memcpy(v6, p, 16);
	ip->hi = be64toh(v6[0]);
	ip->lo = be64toh(v6[1]);
}

void
cidr_ip_to_bytes(int af, const struct cidr_ip *ip, void *p)
{
	uint32_t	 v4;
	uint64_t	 v6[2];

	if (af == AF_INET) {
		v4 = htobe32((uint32_t)ip->lo);
		memcpy(p, &v4, 4);
		return;
	}
	v6[0] = htobe64(ip->hi);
	v6[1] = htobe64(ip->lo);
	memcpy(p, v6, 16);
}

const char *
cidr_ip_str(int af, const struct cidr_ip *ip, char *buf, size_t len)
{
	uint8_t	 b[16];

	cidr_ip_to_bytes(af, ip, b);
	if (inet_ntop(af, b, buf, len) == NULL && len > 0)
		buf[0] = '\0';
	return buf;
}

int
cidr_block(int af, const struct cidr_ip *ip, int bits, struct cidr_range *r)
{
	struct cidr_ip	 m;

	if (bits < 0 || bits > cidr_bits(af))
		return -1;
	host_mask(af, bits, &m);
	r->start.hi = ip->hi & ~m.hi;
	r->start.lo = ip->lo & ~m.lo;
	r->end.hi = r->start.hi | m.hi;
	r->end.lo = r->start.lo | m.lo;
	return 0;
}

/* An address of n bytes of s; 0 or -1. */
static int
parse_addr(const char *s, size_t n, int *af, struct cidr_ip *ip)
{
	char	 buf[INET6_ADDRSTRLEN];
	uint8_t	 b[16];

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (memchr(buf, ':', n) == NULL) {
		if (inet_pton(AF_INET, buf, b) != 1)
			return -1;
		*af = AF_INET;
	} else {
		if (inet_pton(AF_INET6, buf, b) != 1)
			return -1;
		*af = AF_INET6;
	}
	cidr_ip_from_bytes(*af, b, ip);
	return 0;
}

/* Length of the run of address characters at s. */
static size_t
addr_span(const char *s, size_t len)
{
	size_t	 i;
	char	 c;

	for (i = 0; i < len; i++) {
		c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		    (c >= 'A' && c <= 'F') || c == '.' || c == ':'))
			break;
	}
	return i;
}

#define ERR(...)	do {						\
	if (errlen > 0)							\
		snprintf(err, errlen, __VA_ARGS__);			\
	return -1;							\
} while (0)

/*
 * The entry at the start of s (len bytes); *used gets how far it went.
 * Entries are short, so error messages quote at most 48 bytes.
 */
static int
parse_entry(const char *s, size_t len, size_t *used, int *af,
    struct cidr_range *r, char *err, size_t errlen)
{
	struct cidr_ip	 a, b;
	size_t		 n, p, q;
	int		 af2, bits;

	n = addr_span(s, len);
	if (parse_addr(s, n, af, &a) == -1)
		ERR("bad address \"%.*s\"", (int)(n > 0 ? (n > 48 ? 48 : n) :
		    (len > 16 ? 16 : len)), s);
	p = n;
	if (p < len && s[p] == '/') {
		p++;
		for (bits = 0, q = p; q < len && s[q] >= '0' && s[q] <= '9' &&
		    q - p < 3; q++)
			bits = bits * 10 + (s[q] - '0');
		if (q == p || (q < len && s[q] >= '0' && s[q] <= '9') ||
		    bits > cidr_bits(*af))
			ERR("bad prefix length in \"%.*s\"",
			    (int)(q > 48 ? 48 : q), s);
		cidr_block(*af, &a, bits, r);
		*used = q;
		return 0;
	}
	r->start = r->end = a;
	/* A range?  Blanks around the dash are optional. */
	for (q = p; q < len && (s[q] == ' ' || s[q] == '\t'); q++)
		;
	if (q < len && s[q] == '-') {
		for (q++; q < len && (s[q] == ' ' || s[q] == '\t'); q++)
			;
		n = addr_span(s + q, len - q);
		if (parse_addr(s + q, n, &af2, &b) == -1)
			ERR("bad range end \"%.*s\"",
			    (int)(n > 0 ? (n > 48 ? 48 : n) :
			    (len - q > 16 ? 16 : len - q)), s + q);
		if (af2 != *af)
			ERR("range \"%.*s\" mixes IPv4 and IPv6",
			    (int)(q + n > 96 ? 96 : q + n), s);
		if (cidr_cmp(&b, &a) < 0)
			ERR("range \"%.*s\" ends before it starts",
			    (int)(q + n > 96 ? 96 : q + n), s);
		r->end = b;
		p = q + n;
	}
	*used = p;
	return 0;
}

int
cidr_parse(const char *s, int *af, struct cidr_range *r, char *err,
    size_t errlen)
{
	size_t	 len = strlen(s), used;

	if (parse_entry(s, len, &used, af, r, err, errlen) == -1)
		return -1;
	if (used != len)
		ERR("junk after the address in \"%.*s\"",
		    (int)(len > 64 ? 64 : len), s);
	return 0;
}

int
cidr_parse_line(const char *line, size_t len, int *af, struct cidr_range *r,
    char *err, size_t errlen)
{
	size_t	 i, used;
	char	 c;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	if (i == len || line[i] == '#' || line[i] == ';')
		return 0;
	if (parse_entry(line + i, len - i, &used, af, r, err, errlen) == -1)
		return -1;
	i += used;
	if (i < len) {
		c = line[i];
		if (c != ' ' && c != '\t' && c != '#' && c != ';' && c != ',')
			ERR("junk after the address in \"%.*s\"",
			    (int)(len > 64 ? 64 : len), line);
	}
	return 1;
}

void
cidr_list_init(struct cidr_list *l, int af)
{
	memset(l, 0, sizeof(*l));
	l->af = af;
}

void
cidr_list_free(struct cidr_list *l)
{
	free(l->r);
	l->r = NULL;
	l->n = l->cap = 0;
}

int
cidr_list_add(struct cidr_list *l, const struct cidr_range *r)
{
	struct cidr_range	*p;
	size_t			 cap;

	if (l->n == l->cap) {
		if (l->cap >= CIDR_MAXENTRIES) {
			errno = E2BIG;
			return -1;
		}
		cap = l->cap == 0 ? 64 : l->cap * 2;
		if ((p = reallocarray(l->r, cap, sizeof(*p))) == NULL)
			return -1;
		l->r = p;
		l->cap = cap;
	}
	l->r[l->n++] = *r;
	return 0;
}

static int
range_cmp(const void *a, const void *b)
{
	const struct cidr_range	*x = a, *y = b;
	int			 c;

	if ((c = cidr_cmp(&x->start, &y->start)) != 0)
		return c;
	return cidr_cmp(&x->end, &y->end);
}

void
cidr_list_normalize(struct cidr_list *l)
{
	struct cidr_range	*out;
	struct cidr_ip		 next;
	size_t			 i, n;
	int			 sorted = 1;

	if (l->n < 2)
		return;
	/* Lists arrive sorted more often than not: check before sorting. */
	for (i = 1; i < l->n && sorted; i++)
		if (range_cmp(&l->r[i - 1], &l->r[i]) > 0)
			sorted = 0;
	if (!sorted)
		qsort(l->r, l->n, sizeof(*l->r), range_cmp);
	out = l->r;
	for (i = 1, n = 0; i < l->n; i++) {
		next = out[n].end;
		/* Overlapping or adjacent: one range. */
		if (ip_inc(l->af, &next) == 1 ||
		    cidr_cmp(&l->r[i].start, &next) <= 0) {
			if (cidr_cmp(&l->r[i].end, &out[n].end) > 0)
				out[n].end = l->r[i].end;
			continue;
		}
		out[++n] = l->r[i];
	}
	l->n = n + 1;
}

int
cidr_list_subtract(struct cidr_list *black, const struct cidr_list *white)
{
	struct cidr_list	 out;
	struct cidr_range	 piece;
	const struct cidr_range	*b, *w;
	struct cidr_ip		 cur;
	size_t			 i, j = 0, k;
	int			 live;

	if (white->n == 0 || black->n == 0)
		return 0;
	cidr_list_init(&out, black->af);
	for (i = 0; i < black->n; i++) {
		b = &black->r[i];
		cur = b->start;
		live = 1;
		/* White ranges wholly before this one are before the rest. */
		while (j < white->n && cidr_cmp(&white->r[j].end, &cur) < 0)
			j++;
		for (k = j; k < white->n; k++) {
			w = &white->r[k];
			if (cidr_cmp(&w->start, &b->end) > 0)
				break;
			if (cidr_cmp(&w->start, &cur) > 0) {
				piece.start = cur;
				piece.end = w->start;
				ip_dec(&piece.end);
				if (cidr_list_add(&out, &piece) == -1)
					goto fail;
			}
			if (cidr_cmp(&w->end, &b->end) >= 0) {
				live = 0;
				break;
			}
			/* w->end < b->end: end+1 exists. */
			cur = w->end;
			ip_inc(black->af, &cur);
		}
		if (live) {
			piece.start = cur;
			piece.end = b->end;
			if (cidr_list_add(&out, &piece) == -1)
				goto fail;
		}
	}
	free(black->r);
	black->r = out.r;
	black->n = out.n;
	black->cap = out.cap;
	return 0;
 fail:
	cidr_list_free(&out);
	return -1;
}

int
cidr_list_union(struct cidr_list *dst, const struct cidr_list *src)
{
	struct cidr_range	*p;
	size_t			 cap;

	if (src->n > CIDR_MAXENTRIES - dst->n) {
		errno = E2BIG;
		return -1;
	}
	if (dst->n + src->n > dst->cap) {
		cap = dst->n + src->n;
		if ((p = reallocarray(dst->r, cap, sizeof(*p))) == NULL)
			return -1;
		dst->r = p;
		dst->cap = cap;
	}
	if (src->n > 0)
		memcpy(dst->r + dst->n, src->r, src->n * sizeof(*src->r));
	dst->n += src->n;
	cidr_list_normalize(dst);
	return 0;
}

uint64_t
cidr_list_size(const struct cidr_list *l)
{
	struct cidr_ip	 d;
	uint64_t	 sum = 0, v;
	size_t		 i;

	for (i = 0; i < l->n; i++) {
		ip_sub(&l->r[i].end, &l->r[i].start, &d);
		if (d.hi != 0 || d.lo == UINT64_MAX)
			return UINT64_MAX;
		v = d.lo + 1;
		if (sum > UINT64_MAX - v)
			return UINT64_MAX;
		sum += v;
	}
	return sum;
}

int
cidr_first_block(int af, const struct cidr_ip *ip, const struct cidr_ip *end)
{
	struct cidr_ip	 d;
	int		 w = cidr_bits(af), k, kd;

	k = ip_tz(af, ip);
	ip_sub(end, ip, &d);
	/* Blocks of 2^kd addresses fit in the d+1 addresses left. */
	if (ip_is_max(af, &d))
		kd = w;
	else {
		ip_inc(AF_INET6, &d);
		kd = ip_log2(&d);
	}
	if (kd < k)
		k = kd;
	return w - k;
}

int
cidr_next_block(int af, struct cidr_ip *ip, int bits,
    const struct cidr_ip *end)
{
	struct cidr_ip	 old = *ip;
	int		 k = cidr_bits(af) - bits;

	if (k >= 128)
		return 1;
	if (k >= 64) {
		ip->hi += 1ULL << (k - 64);
		if (ip->hi < old.hi)
			return 1;
	} else {
		ip->lo += 1ULL << k;
		if (ip->lo < old.lo && ++ip->hi == 0)
			return 1;
	}
	if (af == AF_INET && ip->lo > V4MAX)
		return 1;
	return cidr_cmp(ip, end) > 0;
}

size_t
cidr_list_nblocks(const struct cidr_list *l)
{
	struct cidr_ip	 ip;
	size_t		 i, n = 0;
	int		 bits;

	for (i = 0; i < l->n; i++) {
		ip = l->r[i].start;
		do {
			bits = cidr_first_block(l->af, &ip, &l->r[i].end);
			n++;
		} while (cidr_next_block(l->af, &ip, bits, &l->r[i].end) == 0);
	}
	return n;
}

/* The prefix length of the smallest block of at least n addresses. */
static int
ceil_prefix(int af, const struct cidr_ip *n)
{
	int	 k = ip_log2(n);

	if (ip_tz(AF_INET6, n) != k)	/* not a power of two */
		k++;
	return k >= cidr_bits(af) ? 0 : cidr_bits(af) - k;
}

int
cidr_range_prefix(int af, const struct cidr_range *r)
{
	struct cidr_ip	 n;

	ip_sub(&r->end, &r->start, &n);
	if (ip_inc(af, &n) != 0)
		return 0;		/* the whole space */
	return ceil_prefix(af, &n);
}

int
cidr_list_prefix(const struct cidr_list *l)
{
	struct cidr_ip	 sum = { 0, 0 }, old, n;
	size_t		 i;
	int		 carry;

	if (l->n == 0)
		return cidr_bits(l->af);
	for (i = 0; i < l->n; i++) {
		ip_sub(&l->r[i].end, &l->r[i].start, &n);
		if (ip_inc(l->af, &n) != 0)
			return 0;
		old = sum;
		sum.lo += n.lo;
		carry = sum.lo < n.lo;
		sum.hi += n.hi + carry;
		if (sum.hi < old.hi || (sum.hi == old.hi && (n.hi || carry)))
			return 0;	/* 2^128 or more: the whole space */
	}
	return ceil_prefix(l->af, &sum);
}
