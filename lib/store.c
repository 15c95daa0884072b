/*
 * What every user of a store needs beyond the backend's calls: running
 * a transaction to its end through deadlocks, closing, and getting a
 * broken backend going again.
 *
 * Used by: spamd, spamdb, spamlogd.
 */
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <time.h>

#include "log.h"
#include "store.h"

#define MEND_WARN_EVERY	60	/* seconds between warnings while broken */

/* The back-off before run i + 1: the lock's holder may be descheduled. */
static void
store_nap(int i)
{
	struct timespec	 ts;
	long		 ms = 1L << (i - 1 < 8 ? i - 1 : 8);

	if (ms > STORE_NAP_MS)
		ms = STORE_NAP_MS;
	ts.tv_sec = 0;
	ts.tv_nsec = ms * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int
store_txn(struct store *st, int (*fn)(struct store *, void *), void *arg)
{
	const struct store_ops	*o = st->ops;
	int			 i, rv = STORE_RETRY;

	for (i = 0; i < STORE_TRIES; i++) {
		if (i > 0)
			store_nap(i);
		if ((rv = o->begin(st->h)) != STORE_OK)
			return rv;
		if ((rv = fn(st, arg)) == STORE_OK) {
			/* A failed commit has aborted the transaction. */
			if ((rv = o->commit(st->h)) != STORE_RETRY)
				return rv;
			continue;
		}
		o->abort(st->h);
		if (rv != STORE_RETRY)
			return rv;
	}
	return rv;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	st->ops->close(st->h);
	free(st);
}

int
store_broken(struct store *st)
{
	return st->ops->broken != NULL && st->ops->broken(st->h);
}

int
store_compact(struct store *st, unsigned int *pos)
{
	if (st->ops->compact == NULL)
		return STORE_OK;
	return st->ops->compact(st->h, pos);
}

int
store_reopen(struct store *st, char *err, size_t errlen)
{
	if (st->ops->reopen == NULL) {
		snprintf(err, errlen, "the store cannot be reopened");
		return -1;
	}
	return st->ops->reopen(st->h, err, errlen);
}

/*
 * Only a failed reopen waits a second before the next try: two
 * recoveries in a row (two peers killed while opening) must not cost
 * the work that met the second.
 */
int
store_mend(struct store *st)
{
	static time_t	 last_fail, last_warn;
	struct timespec	 ts;
	char		 err[512];

	if (!store_broken(st))
		return 0;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return -1;
	if (last_fail != 0 && ts.tv_sec - last_fail < 1)
		return -1;
	if (store_reopen(st, err, sizeof(err)) == -1) {
		last_fail = ts.tv_sec;
		if (log_nag(&last_warn, MEND_WARN_EVERY))
			log_warnx("database broken and not reopened: %s; "
			    "trying again every second", err);
		return -1;
	}
	log_warnx("database was broken (a process died inside it or "
	    "recovery ran): reopened it");
	last_fail = last_warn = 0;
	return 0;
}
