/*
 * spamdb -s: a short summary of the database for admins without a
 * monitoring system: the entries of each state, the oldest and newest
 * first sighting, and the hosts that passed greylisting in the last day
 * (WHITE entries whose pass time is that recent).  One walk, the same
 * as spamd -m's gauges (lib/gcount.c).
 */
#include <err.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "gcount.h"
#include "spamdb.h"

static void	when(const char *, int64_t);

static void
when(const char *what, int64_t t)
{
	char		 buf[64];
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	if (t == 0) {
		printf("%-9s -\n", what);
		return;
	}
	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %z", &tm) == 0)
		buf[0] = '\0';
	printf("%-9s %s (%lld)\n", what, buf, (long long)t);
}

int
spamdb_summary(struct store *st, time_t now)
{
	struct gcount	 gc;
	uint64_t	 total = 0;
	int		 i;

	if (gcount_walk(st, now, &gc) == -1) {
		warnx("cannot walk the database");
		return 1;
	}
	for (i = 0; i < GD_META; i++) {
		printf("%-9s %" PRIu64 "\n", gcount_name(i), gc.n[i]);
		total += gc.n[i];
	}
	printf("%-9s %" PRIu64 "\n", "total", total);
	when("oldest", gc.oldest);
	when("newest", gc.newest);
	printf("passed in the last day: %" PRIu64 "\n", gc.passed_day);
	return 0;
}
