/*
 * Firewall glue (stub until the nft set module lands).
 */
#include "firewall.h"

void
fw_init(void)
{
}

void
fw_reconcile(struct store *st)
{
	(void)st;
}

void
fw_white_add(const char *ip, time_t expire, time_t now)
{
	(void)ip; (void)expire; (void)now;
}

void
fw_white_del(const char *ip)
{
	(void)ip;
}

void
fw_retry(struct store *st)
{
	(void)st;
}
