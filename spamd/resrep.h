/*
 * DM_REP in the resolver (resrep.c): every -D site asked at once for an
 * address, answers cached for their TTL in a table of fixed size, the
 * verdict sent by the deadline with what is known by then.
 */
#ifndef SPAMD_RESREP_H
#define SPAMD_RESREP_H

#include <stdint.h>

#include "dnsmsg.h"

#define RESREP_MAXREQ	1024	/* requests in flight at once */
#define RESREP_SETS	2048	/* cache: sets of RESREP_WAYS addresses */
#define RESREP_WAYS	4
#define RESREP_MAXTTL	3600	/* seconds an answer is kept at most */
#define RESREP_NEGTTL	300	/* "not listed" without an SOA to say */

void	resrep_init(void);
/* A DM_REP request from the engine. */
void	resrep_request(const struct dns_msg *);
/* ms of the next answer due (INT64_MAX: none); send those due by now. */
int64_t	resrep_due(void);
void	resrep_expire(int64_t now);

#endif
