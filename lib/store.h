/*
 * The small storage interface the greylisting policy (grey.c) works on.
 * Backends: Berkeley DB (gdb.c) for the programs, memory
 * (regress/unit/store_mem.c) for unit tests.  Every call inside
 * begin/commit is one transaction; store_txn() runs one, again after a
 * deadlock, so no caller writes that loop by hand.
 *
 * Used by: spamd, spamdb, spamlogd.
 */
#ifndef SPAMD_STORE_H
#define SPAMD_STORE_H

#include <stddef.h>

#include "gdata.h"

#define STORE_OK	 0
#define STORE_NOTFOUND	 1
#define STORE_ERR	-1
#define STORE_RETRY	-2	/* deadlock: abort the transaction, run it again */

/* Walk callback: return 0 to go on, non-zero to stop the walk. */
typedef int (*store_walk_cb)(const char *key, size_t keylen,
    const struct gdata *, void *arg);

struct store_ops {
	int	(*begin)(void *);
	int	(*commit)(void *);
	void	(*abort)(void *);
	int	(*get)(void *, const char *key, size_t keylen, struct gdata *);
	int	(*put)(void *, const char *key, size_t keylen,
		    const struct gdata *);
	int	(*del)(void *, const char *key, size_t keylen);
	/*
	 * Visit every record outside any transaction of the caller; the
	 * backend may split the walk into several short transactions.
	 * Metadata keys are skipped.  Records that do not decode are
	 * reported through the log and skipped.
	 */
	int	(*walk)(void *, store_walk_cb, void *arg);
	void	(*close)(void *);
	/*
	 * Non-zero once the backend can do nothing more until reopened
	 * (a panicked Berkeley DB environment); every call fails
	 * meanwhile.  reopen: make it usable again, or say why not in
	 * err.  Both may be NULL: never broken.
	 */
	int	(*broken)(void *);
	int	(*reopen)(void *, char *err, size_t errlen);
	/*
	 * One bounded step of giving the space of deleted records back to
	 * the file system, outside any transaction of the caller.  *pos
	 * is the backend's place, 0 to start.  Returns 1 while there is
	 * more, STORE_OK when done, STORE_RETRY (*pos kept) or STORE_ERR.
	 * May be NULL: nothing to give back.
	 */
	int	(*compact)(void *, unsigned int *pos);
};

struct store {
	const struct store_ops	*ops;
	void			*h;
};

#define STORE_TRIES	16	/* runs of a transaction that met a lock */
#define STORE_NAP_MS	250	/* the longest back-off between two runs */

/*
 * Begin, run fn, commit; abort when fn returns anything but STORE_OK,
 * and return that.  A STORE_RETRY from fn or from the commit runs it
 * all again after a back-off (1 ms, doubling, at most STORE_NAP_MS:
 * about 2 s in all), at most STORE_TRIES times, then STORE_RETRY is
 * returned.  fn must therefore start from its arguments each time.
 */
int	store_txn(struct store *, int (*fn)(struct store *, void *arg),
	    void *arg);
/* Close the backend and free st; NULL is fine. */
void	store_close(struct store *);
/* The backend's broken and reopen (see struct store_ops). */
int	store_broken(struct store *);
int	store_reopen(struct store *, char *err, size_t errlen);
/*
 * For daemons: 0 when st is usable, reopening a broken backend first
 * (logging what happened; after a failed reopen, not again for a
 * second); -1 while it stays broken.
 */
int	store_mend(struct store *);
int	store_compact(struct store *, unsigned int *pos);

#endif
