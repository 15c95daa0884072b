/*
 * Entries of the database by state, with the oldest and newest first
 * sighting and the passes of the last day: the greylister's gauges
 * (spamd -m) and spamdb -s, from one walk.
 *
 * Used by: spamd, spamdb.
 */
#ifndef SPAMD_GCOUNT_H
#define SPAMD_GCOUNT_H

#include <stdint.h>
#include <time.h>

#include "gdata.h"
#include "store.h"

#define GCOUNT_DAY	86400

struct gcount {
	uint64_t	n[GD_META];	/* by enum gd_type: GREY .. SPAMTRAP */
	int64_t		oldest;		/* GREY, WHITE: smallest first, 0: none */
	int64_t		newest;		/* ... largest first, 0: none */
	uint64_t	passed_day;	/* WHITE entries that passed since */
	time_t		now;		/* ... now - GCOUNT_DAY */
	uint64_t	white_live;	/* WHITE entries not expired at now */
};

/* Walk st and fill *gc; 0, or -1 when the walk failed. */
int	gcount_walk(struct store *st, time_t now, struct gcount *gc);
/* The state names of spamdb's listing: "GREY", "WHITE", ... */
const char *gcount_name(int type);

#endif
