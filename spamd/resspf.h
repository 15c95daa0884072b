/*
 * DM_SPF in the resolver (resspf.c): the SPF of a tuple's MAIL FROM
 * domain for its address, evaluated by lib/spfcheck.c on the
 * resolver's channel, cached, and the tuple sent back with the result.
 */
#ifndef SPAMD_RESSPF_H
#define SPAMD_RESSPF_H

#include <stdint.h>

#include "dnsmsg.h"

#define RESSPF_MAXREQ	512	/* checks running at once */
#define RESSPF_WAIT	10000	/* ms a check may take */
#define RESSPF_CACHE	4096	/* cached results (domain, address) */
#define RESSPF_TTL	600	/* seconds a result is kept */

/* A DM_SPF request from the engine: always answered. */
void	resspf_request(const struct dns_msg *);
/* ms of the next time bound (INT64_MAX: none); end those due by now. */
int64_t	resspf_due(void);
void	resspf_expire(int64_t now);

#endif
