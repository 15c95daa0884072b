/*
 * The greylister's side of the engine's WHITE list with -R
 * (whiteset.c has the engine's): what it sends, and when.
 */
#ifndef SPAMD_GPWHITE_H
#define SPAMD_GPWHITE_H

#include "addr.h"

/* The socket to the engine; nothing is sent without -R. */
void	gpwhite_init(int fd);
/* a was whitelisted (a pass, a peer, a lost element): tell the engine. */
void	gpwhite_add(const struct addr *);
/* A scan met a live WHITE entry. */
void	gpwhite_live(const struct addr *);
/*
 * The scan is over: if it was complete and the list changed, send the
 * whole list; either way start over for the next scan.
 */
void	gpwhite_scan_end(int complete);

#endif
