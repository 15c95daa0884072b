/*
 * spamd -F: the administrator's nft ruleset (table, sets, the redirect
 * and the log rules), loaded by the greylister and kept loaded.  A
 * `flush ruleset', `systemctl restart nftables' or `nft delete table'
 * would otherwise send port 25 of every whitelisted host to spamd
 * again, or leave no redirect at all.  The greylister subscribes to
 * nftables' events; when its table or a whitelist set goes, it loads
 * the file again and refills the sets from the database.  A check every
 * NFTWATCH_CHECK seconds covers events the socket lost.
 */
#ifndef SPAMD_NFTWATCH_H
#define SPAMD_NFTWATCH_H

#include <stdint.h>
#include <time.h>

#include "store.h"

#define NFTWATCH_CHECK	5	/* seconds between existence checks */

/*
 * At start, while privileged: read file and load it; -1 with err set
 * when it cannot be read or nft refuses it.  Names may be NULL.
 */
int	nftwatch_load(const char *file, const char *table, const char *set4,
	    const char *set6, char *err, size_t errlen);
/*
 * In the greylister, while privileged: subscribe to the events.  Does
 * nothing without a file loaded; failures are logged and leave the
 * periodic check alone.
 */
void	nftwatch_open(void);
/* The event socket for poll, or -1. */
int	nftwatch_fd(void);
/* After poll: read the events; reload if the table or a set went. */
void	nftwatch_read(struct store *);
/*
 * Check when a check is due (mono: CLOCK_MONOTONIC seconds); returns
 * the seconds until the next one.
 */
time_t	nftwatch_tick(struct store *, time_t mono);
/* SIGHUP: read the file again and load it. */
void	nftwatch_hup(struct store *);
/* Reloads after the table or a set vanished, since start. */
uint64_t nftwatch_reloads(void);

#endif
