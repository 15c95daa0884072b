/*
 * The greylister's side of DNS reputation (-D): an address the engine
 * found on DNS allow lists (GM_DNSWHITE) becomes WHITE at once.
 */
#ifndef SPAMD_GPDNS_H
#define SPAMD_GPDNS_H

#include "greymsg.h"
#include "store.h"

void	gpdns_white(struct store *, const struct grey_msg *);

#endif
