/*
 * A DNS reputation site (-D), in postscreen's syntax:
 *
 *	domain[=filter][*weight]
 *
 * filter is four octets a.b.c.d, each a number, or a list in brackets of
 * numbers and ranges separated by ';': 127.0.[0..255].[1;3..5].  An A
 * record of the domain for the reversed address lists it when it
 * matches the filter (any A record without one); the site then adds
 * weight (default 1, negative for an allow list) to the score.
 * Parsed once at start-up (main), so both processes have the table.
 */
#ifndef SPAMD_DNSSITE_H
#define SPAMD_DNSSITE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define DNSSITE_DOMAINMAX	254	/* with NUL; 253 characters */
#define DNSSITE_SPECMAX		320	/* the argument as given */
#define DNSSITE_ITEMS		8	/* numbers or ranges in one octet */
#define DNSSITE_WEIGHTMAX	1000	/* |weight| */
/* "f.e.d....1.0.2.ip6.arpa"-like name: 64 nibble bytes, the domain. */
#define DNSSITE_QNAMEMAX	(64 + DNSSITE_DOMAINMAX)

struct dnssite_octet {
	uint8_t	 n;			/* items; 0: any value */
	struct {
		uint8_t lo, hi;
	}	 r[DNSSITE_ITEMS];
};

struct dnssite {
	char			 domain[DNSSITE_DOMAINMAX];
	char			 spec[DNSSITE_SPECMAX];
	int			 weight;
	int			 filtered;	/* a filter was given */
	struct dnssite_octet	 oct[4];
};

/*
 * Parse s into *site: 0, or -1 with why (a message naming the part
 * that is wrong) in err.
 */
int	dnssite_parse(const char *s, struct dnssite *site, char *err,
	    size_t errlen);
/* Does the A record a (4 bytes, network order) list under site? */
int	dnssite_match(const struct dnssite *site, const uint8_t a[4]);
/*
 * The name to ask for ip on site: reversed octets (IPv4) or nibbles
 * (IPv6), then the domain.  0, or -1 if it does not fit in len.
 */
int	dnssite_qname(const struct dnssite *site, const struct addr *ip,
	    char *buf, size_t len);

/*
 * The TTL of a negative answer (RFC 2308: the SOA's TTL, at most its
 * minimum field; at most maxttl) from the raw answer abuf, or -1 if it
 * holds no SOA in its authority section.
 */
int	dnssite_negttl(const unsigned char *abuf, int alen, int maxttl);

#endif
