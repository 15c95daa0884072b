/*
 * The greylister's view of the firewall: the nft whitelist sets.  Every
 * call logs its own failures; none of them is fatal, because greylisting
 * into the database goes on while the sets are missing, and the sets are
 * reconciled with the database again at the next scan.
 */
#ifndef SPAMD_FIREWALL_H
#define SPAMD_FIREWALL_H

#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "gdata.h"
#include "store.h"

/* Open the netlink socket: call while privileged.  Names may be NULL. */
void	fw_init(const char *table, const char *set4, const char *set6);
/* Make the sets hold exactly the live WHITE entries of the database. */
void	fw_reconcile(struct store *, time_t now);
/*
 * Whitelist an address until expire (wall clock).  Outside a scan the element is
 * sent at once even if we remember having added it: a WHITE host that
 * reaches spamd lost its element behind our back (nft flush, delete).
 */
void	fw_white_add(const struct addr *, time_t expire, time_t now);
void	fw_white_del(const struct addr *);
/*
 * Around a burst of records: the changes of fw_white_add and
 * fw_white_del between the two calls go to the kernel as one
 * transaction at fw_batch_end, which comes microseconds later.
 */
void	fw_batch_begin(void);
void	fw_batch_end(void);
/*
 * Around each database scan: fw_scan_live() for every WHITE entry that
 * stays; fw_scan_end() then drops elements whose entry went away behind
 * our back (spamdb -d) and refreshes changed timeouts (spamlogd), or
 * reconciles everything if the sets were missing.
 */
void	fw_scan_begin(void);
void	fw_scan_live(const struct addr *, const struct gdata *,
	    time_t now);
void	fw_scan_end(struct store *, time_t now);
/* nft transactions sent since start, and how many of them failed. */
void	fw_counts(uint64_t *ops, uint64_t *fails);

/*
 * Elements in the whitelist sets now, as the kernel lists them: -1
 * when they cannot be counted (no sets, no netlink).
 */
long long fw_elements(void);

#endif
