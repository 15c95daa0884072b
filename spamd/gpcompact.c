/*
 * Compaction after a flood.  A Berkeley DB hash file never shrinks by
 * itself, so a flood of GREY entries would keep its disk space after
 * the scans expired them.  Each step is one slice of the hash table
 * (lib/gdb.c), with the tuples the engine queued read in between; the
 * longest step is logged at the end, as what a tuple may have waited.
 */
#include <time.h>

#include "gpcompact.h"
#include "log.h"

#define GPC_RETRIES	5	/* lock timeouts in a row: give up */

static unsigned long	gpc_count;	/* expired since the last one */
static int		gpc_due;
static unsigned int	gpc_pos;	/* the store's place */
static unsigned int	gpc_steps;
static unsigned int	gpc_retries;	/* in a row */
static long		gpc_longest;	/* ms */

void
gpc_expired(unsigned long n, int complete)
{
	gpc_count += n;
	if (!complete || gpc_count < GPC_EXPIRED)
		return;
	log_info("%lu entries expired: compacting the database", gpc_count);
	gpc_count = 0;
	/* Again from the start: what follows the place may have moved. */
	gpc_due = 1;
	gpc_pos = 0;
	gpc_steps = 0;
	gpc_retries = 0;
	gpc_longest = 0;
}

static long
gpc_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
gpc_step(struct store *st)
{
	long	 t;
	int	 r;

	if (!gpc_due || store_broken(st))
		return 0;
	t = gpc_ms();
	r = store_compact(st, &gpc_pos);
	t = gpc_ms() - t;
	if (t > gpc_longest)
		gpc_longest = t;
	gpc_steps++;
	/* A lock wait that timed out costs a second: not for ever. */
	gpc_retries = r == STORE_RETRY ? gpc_retries + 1 : 0;
	if (r == 1 || (r == STORE_RETRY && gpc_retries < GPC_RETRIES))
		return 1;
	gpc_due = 0;
	if (r == STORE_OK)
		log_info("database compacted in %u steps, the longest %ld ms",
		    gpc_steps, gpc_longest);
	else
		log_warnx("database compaction stopped after %u steps",
		    gpc_steps);
	return 0;
}
