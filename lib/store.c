/*
 * What every user of a store needs beyond the backend's calls: running
 * a transaction to its end through deadlocks, and closing.
 *
 * Used by: spamd, spamdb, spamlogd.
 */
#include <stdlib.h>

#include "store.h"

int
store_txn(struct store *st, int (*fn)(struct store *, void *), void *arg)
{
	const struct store_ops	*o = st->ops;
	int			 i, rv = STORE_RETRY;

	for (i = 0; i < STORE_TRIES; i++) {
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
