/*
 * The greylister's compaction of the database after a flood: once the
 * scans have expired many entries, the file is given back its space in
 * bounded steps between the tuples, never in the tuple path.
 */
#ifndef SPAMD_GPCOMPACT_H
#define SPAMD_GPCOMPACT_H

#include "store.h"

#define GPC_EXPIRED	10000	/* entries expired that call for it */

/* A scan expired n entries; complete: it got to the end of the store. */
void	gpc_expired(unsigned long n, int complete);

/*
 * One step, if compaction is due.  Returns 1 while there is more: the
 * caller reads what is queued and calls again at once.
 */
int	gpc_step(struct store *);

#endif
