/*
 * The greylister's view of the firewall: the nft whitelist sets.  Every
 * call logs its own failures; none of them is fatal, because greylisting
 * into the database goes on while the sets are missing.
 */
#ifndef SPAMD_FIREWALL_H
#define SPAMD_FIREWALL_H

#include <time.h>

#include "store.h"

void	fw_init(void);
/* Make the sets hold exactly the WHITE entries of the database. */
void	fw_reconcile(struct store *);
/* Whitelist ip until expire (wall clock). */
void	fw_white_add(const char *ip, time_t expire, time_t now);
void	fw_white_del(const char *ip);
/* Called after each scan: reconcile again if the sets were missing. */
void	fw_retry(struct store *);

#endif
