/*
 * The engine's DNS reputation counters (dnsrep.c), sent to the
 * greylister with its GM_STATS snapshot as a GM_DNSSTATS record
 * (greymsg.h) for the metrics file (metrics.c).  Sites are by their
 * index in conf.dnssites, which both processes parsed from the same -D
 * options.
 */
#ifndef SPAMD_DNSSTATS_H
#define SPAMD_DNSSTATS_H

#include <stdint.h>

#include "dnsmsg.h"

/* Verdict latency histogram: upper bounds in ms, then +Inf. */
#define DNSSTATS_BOUNDS	{ 5, 10, 25, 50, 100, 250, 500, 1000, 2000, 5000 }
#define DNSSTATS_NB	10

struct dnsstats_site {
	uint64_t	lookups;	/* asked of DNS (not from the cache) */
	uint64_t	cached;		/* answered by the resolver's cache */
	uint64_t	listed;		/* hits */
	uint64_t	timeouts;	/* no answer in time: counted 0 */
	uint64_t	failures;	/* SERVFAIL, REFUSED...: counted 0 */
	uint64_t	ms_sum;		/* latency of the lookups */
};

struct dnsstats {
	uint64_t		asked;		/* clients looked up */
	uint64_t		unasked;	/* ... not: no resolver, busy */
	uint64_t		black;		/* verdicts: score >= dnsblack */
	uint64_t		white;		/* ... score <= dnswhite */
	uint64_t		late;		/* no verdict by the deadline */
	uint64_t		hist[DNSSTATS_NB + 1];	/* verdict ms, by bound */
	uint64_t		ms_sum;		/* verdict ms, all */
	struct dnsstats_site	site[DNS_MAXSITES];
};

#endif
