/*
 * The engine's copy of the greytrap list: the TRAPPED ips the
 * greylister sends, treated as the internal blacklist spamd-greytrap.
 */
#ifndef SPAMD_GREYTRAP_H
#define SPAMD_GREYTRAP_H

#include <time.h>

#include "addr.h"
#include "greymsg.h"

#define GREYTRAP_NAME	"spamd-greytrap"
#define GREYTRAP_MSG	"Your address %A has mailed to spamtraps here\n"

/* Take one record from the greylister; -1 if it is malformed. */
int	greytrap_msg(const struct grey_msg *);
/* Is a trapped until after now? */
int	greytrap_lookup(const struct addr *, time_t now);

#endif
