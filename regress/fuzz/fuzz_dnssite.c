/*
 * libFuzzer harness: -D sites (spamd/dnssite.c).  The input's first
 * line is parsed as a site; the rest is taken as a DNS answer for
 * dnssite_negttl, and its first 20 bytes as an A record to match and
 * an address to make the name of.
 *
 * Checked: a site that parses has a domain of 1..253 characters with a
 * dot, a weight within the bound, filters of at most DNSSITE_ITEMS
 * ordered ranges; its name for any address fits DNSSITE_QNAMEMAX and
 * ends in the domain; a negative TTL is -1 or within 0..cap.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "dnssite.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct dnssite	 d;
	struct addr	 a;
	char		 line[DNSSITE_SPECMAX + 64], err[128];
	char		 q[DNSSITE_QNAMEMAX];
	const uint8_t	*nl, *rest;
	size_t		 n, dl, ql;
	int		 i, j, ttl;

	nl = memchr(data, '\n', len);
	n = nl != NULL ? (size_t)(nl - data) : len;
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	memcpy(line, data, n);
	line[n] = '\0';
	rest = nl != NULL ? nl + 1 : data + len;

	ttl = dnssite_negttl(rest, (int)(data + len - rest), 3600);
	if (ttl < -1 || ttl > 3600)
		abort();
	if (dnssite_parse(line, &d, err, sizeof(err)) == -1) {
		if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0')
			abort();
		return 0;
	}
	dl = strlen(d.domain);
	if (dl == 0 || dl >= DNSSITE_DOMAINMAX || strchr(d.domain, '.') ==
	    NULL || d.weight < -DNSSITE_WEIGHTMAX ||
	    d.weight > DNSSITE_WEIGHTMAX)
		abort();
	for (i = 0; i < 4; i++) {
		if (d.oct[i].n > DNSSITE_ITEMS || (d.filtered &&
		    d.oct[i].n == 0))
			abort();
		for (j = 0; j < d.oct[i].n; j++)
			if (d.oct[i].r[j].lo > d.oct[i].r[j].hi)
				abort();
	}
	if (data + len - rest >= 20) {
		(void)dnssite_match(&d, rest);
		a.af = rest[4] & 1 ? AF_INET6 : AF_INET;
		memset(a.a, 0, sizeof(a.a));
		memcpy(a.a, rest + 4, a.af == AF_INET ? 4 : 16);
		if (dnssite_qname(&d, &a, q, sizeof(q)) == -1)
			abort();
		ql = strlen(q);
		if (ql <= dl || strcmp(q + ql - dl, d.domain) != 0 ||
		    q[ql - dl - 1] != '.')
			abort();
	}
	return 0;
}
