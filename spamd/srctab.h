/*
 * Counts per source: connections in the engine, GREY entries in the
 * greylister.  A source is an IPv4 address or an IPv6 /64, the
 * smallest network a site is given.  The table has a fixed capacity,
 * allocated once, so that an attacker's addresses cost no memory
 * beyond it; hashing is seeded at random, so that chosen addresses do
 * not pile into one chain.
 */
#ifndef SPAMD_SRCTAB_H
#define SPAMD_SRCTAB_H

#include <stddef.h>

#include "addr.h"

struct srctab;

/* A table for at most cap sources; NULL if out of memory. */
struct srctab	*srctab_new(size_t cap);
void		 srctab_free(struct srctab *);
/* Forget every source. */
void		 srctab_clear(struct srctab *);
/* The source a belongs to: a itself, or its /64. */
void		 srctab_source(struct addr *src, const struct addr *a);
/* The count of a's source. */
unsigned int	 srctab_count(const struct srctab *, const struct addr *);
/*
 * Add delta to the count of a's source; a source dropping to 0 is
 * forgotten.  The new count, or -1 when a new source does not fit.
 */
long		 srctab_add(struct srctab *, const struct addr *, int delta);

#endif
