/*
 * SPF-aware passing, the engine's side (spfq.c): a tuple whose MAIL
 * FROM has a domain goes to the resolver first (DM_SPF), which sends
 * it back with its SPF result, and only then to the greylister.  The
 * client's replies never waited for the greylister, so nobody waits
 * for SPF either; the engine keeps no state for it.
 */
#ifndef SPAMD_SPFQ_H
#define SPAMD_SPFQ_H

#include "dnsmsg.h"
#include "grey.h"

/* 0: t went to the resolver; -1: send it to the greylister now. */
int	spfq_ask(const struct grey_tuple *t);
/* The resolver's answer: its tuple to the greylister. */
void	spfq_answer(const struct dns_msg *);

#endif
