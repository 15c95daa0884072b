/*
 * Counts per source: connections in the engine, GREY entries in the
 * greylister.  A source is an IPv4 address or an IPv6 /64, the
 * smallest network a site is given; its network, an IPv4 /24 or an
 * IPv6 /48 (an end site's allocation), is counted as well, so that the
 * sources of one network share a wider limit.
 *
 * Memory is allocated once and bounded by the capacity, never by what
 * clients send.  The first sources and networks are counted exactly;
 * when the exact table is full, the others are counted in a sketch
 * that may count too much but never too little, so that no number of
 * sources gets one past its limit.  Hashing is seeded at random, so
 * that chosen addresses do not pile into one chain or one counter.
 */
#ifndef SPAMD_SRCTAB_H
#define SPAMD_SRCTAB_H

#include <stddef.h>

#include "addr.h"

struct srctab;

/*
 * The limits tables made from now on in this process apply: srcmax per
 * source, netmax per network, 0 for none.  srctab_count() reports a
 * source whose network holds netmax as holding srcmax, so that a
 * caller's "count < srcmax" refuses it; the refusal is logged, worded
 * with what is counted ("connections") and the option that sets
 * netmax ("-L netconn=").
 */
void		 srctab_limits(unsigned int srcmax, unsigned int netmax,
		    const char *what, const char *netopt);
/* A table counting about cap sources exactly; NULL if out of memory. */
struct srctab	*srctab_new(size_t cap);
void		 srctab_free(struct srctab *);
/* Forget every source. */
void		 srctab_clear(struct srctab *);
/* The source a belongs to: a itself, or its /64. */
void		 srctab_source(struct addr *src, const struct addr *a);
/* The network a belongs to: its IPv4 /24, its IPv6 /48. */
void		 srctab_net(struct addr *net, const struct addr *a);
/*
 * The count of a's source, at least srcmax when its network has
 * reached netmax (srctab_limits).
 */
unsigned int	 srctab_count(const struct srctab *, const struct addr *);
/* The count of a's source alone, whatever its network holds. */
unsigned int	 srctab_count_src(const struct srctab *, const struct addr *);
/*
 * Add delta to the counts of a's source and network; a count dropping
 * to 0 is forgotten.  Returns the source's new count (never -1 now:
 * every source fits).
 */
long		 srctab_add(struct srctab *, const struct addr *, int delta);

#endif
