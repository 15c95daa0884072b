/*
 * The engine's copy of the WHITE list with -R (relay.c): the addresses
 * the greylister says are whitelisted, so that a chrooted engine
 * without the database knows whom to relay to the MTA.
 */
#ifndef SPAMD_WHITESET_H
#define SPAMD_WHITESET_H

#include <stddef.h>

#include "addr.h"
#include "greymsg.h"

/* Take a GM_WHITE_* record from the greylister; -1 if it is malformed. */
int	whiteset_msg(const struct grey_msg *);
/* Is a WHITE? */
int	whiteset_lookup(const struct addr *);
/* Addresses held, and the bytes their table takes. */
size_t	whiteset_count(void);
size_t	whiteset_bytes(void);

#endif
