/*
 * spamdb's side of the nft whitelist sets (stub until lib/nftset lands).
 */
#include <time.h>

#include "spamdb.h"

void
spamdb_fw_add(const char *ip, time_t expire, time_t now)
{
	(void)ip; (void)expire; (void)now;
}

void
spamdb_fw_del(const char *ip)
{
	(void)ip;
}

void
spamdb_fw_flush(void)
{
}
