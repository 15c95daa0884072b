/*
 * The small storage interface the greylisting policy (grey.c) works on.
 * Backends: Berkeley DB (gdb.c) for the programs, memory (store_mem.c)
 * for unit tests.  Every call inside begin/commit is one transaction.
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
};

struct store {
	const struct store_ops	*ops;
	void			*h;
};

struct store	*store_mem_open(void);

#endif
