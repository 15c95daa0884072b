/*
 * Parsing -D sites and matching their answers (dnssite.h).  The input
 * is an administrator's argument, but it is bounded and checked as if
 * it came from anyone: every part has a fixed-size home.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnssite.h"

static int	parse_num(const char **, long, long, long *);
static int	parse_octet(const char **, struct dnssite_octet *, char *,
		    size_t, int);
static const unsigned char *skip_name(const unsigned char *,
		    const unsigned char *);

/* A decimal number of at most 4 digits in [min, max]; 0 or -1. */
static int
parse_num(const char **pp, long min, long max, long *v)
{
	const char	*p = *pp;
	long		 n = 0;
	int		 neg = 0, digits = 0;

	if (*p == '-' && min < 0) {
		neg = 1;
		p++;
	} else if (*p == '+')
		p++;
	while (isdigit((unsigned char)*p) && digits < 5) {
		n = n * 10 + (*p++ - '0');
		digits++;
	}
	if (digits == 0 || digits == 5)
		return -1;
	if (neg)
		n = -n;
	if (n < min || n > max)
		return -1;
	*pp = p;
	*v = n;
	return 0;
}

/* One octet of a filter: a number, or [a;b..c;...]. */
static int
parse_octet(const char **pp, struct dnssite_octet *o, char *err,
    size_t errlen, int idx)
{
	const char	*p = *pp;
	long		 lo, hi;

	o->n = 0;
	if (*p != '[') {
		if (parse_num(&p, 0, 255, &lo) == -1)
			goto bad;
		o->r[0].lo = o->r[0].hi = (uint8_t)lo;
		o->n = 1;
		*pp = p;
		return 0;
	}
	p++;
	for (;;) {
		if (o->n == DNSSITE_ITEMS) {
			snprintf(err, errlen, "octet %d of the filter has more "
			    "than %d items", idx + 1, DNSSITE_ITEMS);
			return -1;
		}
		if (parse_num(&p, 0, 255, &lo) == -1)
			goto bad;
		hi = lo;
		if (p[0] == '.' && p[1] == '.') {
			p += 2;
			if (parse_num(&p, 0, 255, &hi) == -1 || hi < lo)
				goto bad;
		}
		o->r[o->n].lo = (uint8_t)lo;
		o->r[o->n].hi = (uint8_t)hi;
		o->n++;
		if (*p == ']')
			break;
		if (*p != ';')
			goto bad;
		p++;
	}
	*pp = p + 1;
	return 0;
 bad:
	snprintf(err, errlen, "octet %d of the filter: expected a number "
	    "0..255 or [a;b..c]", idx + 1);
	return -1;
}

int
dnssite_parse(const char *s, struct dnssite *site, char *err, size_t errlen)
{
	const char	*p, *lab, *dot;
	size_t		 len;
	long		 w;
	int		 i;

	memset(site, 0, sizeof(*site));
	site->weight = 1;
	if (strlcpy(site->spec, s, sizeof(site->spec)) >= sizeof(site->spec)) {
		snprintf(err, errlen, "too long");
		return -1;
	}
	/* The domain: letters, digits, '-', '_', labels of 1..63. */
	for (p = s; *p != '\0' && *p != '=' && *p != '*'; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' &&
		    *p != '.')
			goto baddomain;
	len = p - s;
	/* One trailing dot is allowed and dropped. */
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len >= DNSSITE_DOMAINMAX || memchr(s, '.', len) ==
	    NULL)
		goto baddomain;
	for (lab = s; lab < s + len; lab = dot + 1) {
		if ((dot = memchr(lab, '.', s + len - lab)) == NULL)
			dot = s + len;
		if (dot == lab || dot - lab > 63)
			goto baddomain;
	}
	memcpy(site->domain, s, len);
	site->domain[len] = '\0';

	if (*p == '=') {
		p++;
		site->filtered = 1;
		for (i = 0; i < 4; i++) {
			if (parse_octet(&p, &site->oct[i], err, errlen, i) ==
			    -1)
				return -1;
			if (i < 3 && *p++ != '.') {
				snprintf(err, errlen, "filter: expected four "
				    "octets a.b.c.d");
				return -1;
			}
		}
	}
	if (*p == '*') {
		p++;
		if (parse_num(&p, -DNSSITE_WEIGHTMAX, DNSSITE_WEIGHTMAX,
		    &w) == -1) {
			snprintf(err, errlen, "weight: expected an integer "
			    "from %d to %d", -DNSSITE_WEIGHTMAX,
			    DNSSITE_WEIGHTMAX);
			return -1;
		}
		site->weight = (int)w;
	}
	if (*p != '\0') {
		snprintf(err, errlen, "unexpected \"%.20s\" (expected "
		    "domain[=filter][*weight])", p);
		return -1;
	}
	return 0;
 baddomain:
	snprintf(err, errlen, "bad domain (expected domain[=filter][*weight])");
	return -1;
}

int
dnssite_match(const struct dnssite *site, const uint8_t a[4])
{
	const struct dnssite_octet	*o;
	int				 i, j;

	if (!site->filtered)
		return 1;
	for (i = 0; i < 4; i++) {
		o = &site->oct[i];
		for (j = 0; j < o->n; j++)
			if (a[i] >= o->r[j].lo && a[i] <= o->r[j].hi)
				break;
		if (j == o->n)
			return 0;
	}
	return 1;
}

int
dnssite_qname(const struct dnssite *site, const struct addr *ip, char *buf,
    size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	char			 rev[72];
	size_t			 n = 0;
	int			 i, r;

	if (ip->af == AF_INET)
		n = snprintf(rev, sizeof(rev), "%u.%u.%u.%u", ip->a[3],
		    ip->a[2], ip->a[1], ip->a[0]);
	else if (ip->af == AF_INET6) {
		for (i = 15; i >= 0; i--) {
			rev[n++] = hex[ip->a[i] & 0xf];
			rev[n++] = '.';
			rev[n++] = hex[ip->a[i] >> 4];
			rev[n++] = i > 0 ? '.' : '\0';
		}
		n--;
	} else
		return -1;
	r = snprintf(buf, len, "%.*s.%s", (int)n, rev, site->domain);
	return r < 0 || (size_t)r >= len ? -1 : 0;
}

/* A name in a message: skip it (labels or a pointer); NULL if bad. */
static const unsigned char *
skip_name(const unsigned char *p, const unsigned char *end)
{
	int	 n;

	for (n = 0; n < 128 && p < end; n++) {
		if (*p == 0)
			return p + 1;
		if ((*p & 0xc0) == 0xc0)
			return p + 2 <= end ? p + 2 : NULL;
		if (*p & 0xc0)
			return NULL;
		p += *p + 1;
	}
	return NULL;
}

int
dnssite_negttl(const unsigned char *abuf, int alen, int maxttl)
{
	const unsigned char	*p, *end;
	unsigned int		 qd, an, ns, i, type, rdlen;
	uint32_t		 ttl, min;

	if (abuf == NULL || alen < 12)
		return -1;
	end = abuf + alen;
	qd = abuf[4] << 8 | abuf[5];
	an = abuf[6] << 8 | abuf[7];
	ns = abuf[8] << 8 | abuf[9];
	p = abuf + 12;
	for (i = 0; i < qd; i++) {
		if ((p = skip_name(p, end)) == NULL || end - p < 4)
			return -1;
		p += 4;
	}
	for (i = 0; i < an + ns; i++) {
		if ((p = skip_name(p, end)) == NULL || end - p < 10)
			return -1;
		type = p[0] << 8 | p[1];
		ttl = (uint32_t)p[4] << 24 | p[5] << 16 | p[6] << 8 | p[7];
		rdlen = p[8] << 8 | p[9];
		p += 10;
		if ((unsigned int)(end - p) < rdlen)
			return -1;
		if (i >= an && type == 6 /* SOA */ && rdlen >= 20) {
			min = (uint32_t)p[rdlen - 4] << 24 |
			    p[rdlen - 3] << 16 | p[rdlen - 2] << 8 |
			    p[rdlen - 1];
			if (min < ttl)
				ttl = min;
			return ttl > (uint32_t)maxttl ? maxttl : (int)ttl;
		}
		p += rdlen;
	}
	return -1;
}
