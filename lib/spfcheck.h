/*
 * Whether a domain's SPF record authorises one address (RFC 7208
 * check_host(), without macros, ptr and exists), evaluated
 * asynchronously on the caller's c-ares channel: the caller runs the
 * channel's sockets in its own loop and calls spf_check_expire() for
 * the time bound.  Terms are read by spf_term() (spf.c), the reader
 * spfwalk uses too.
 *
 * Bounded: at most SPF_CHECK_LOOKUPS DNS-querying terms (include, a,
 * mx, redirect; RFC 7208 4.6.4), SPF_CHECK_VOIDS answers with no data
 * among them, SPF_MAXMX exchanges per mx, SPF_CHECK_DEPTH nested
 * records, and the caller's time bound: past it the check is a
 * temperror.  A pass through "+all" (or a pass qualifier on a network
 * wider than CIDR_SENDER_MIN4 or CIDR_SENDER_MIN6, which spf_term
 * skips) authorises everybody, so nobody in particular: it is reported
 * as neutral.
 *
 * Used by: spamd (the resolver, for SPF-aware passing).
 */
#ifndef SPAMD_SPFCHECK_H
#define SPAMD_SPFCHECK_H

#include <ares.h>
#include <stdint.h>

#include "addr.h"
#include "spf.h"

#define SPF_CHECK_LOOKUPS	10	/* RFC 7208 4.6.4 */
#define SPF_CHECK_VOIDS		2	/* RFC 7208 4.6.4 */
#define SPF_CHECK_DEPTH		(SPF_CHECK_LOOKUPS + 1)

/*
 * Called once per check with the result and a short reason; the check
 * is gone after it returns.  May be called from inside spf_check(),
 * when c-ares fails at once.
 */
typedef void	spf_check_fn(void *arg, enum spf_result, const char *why);

/*
 * Start evaluating the SPF of domain for ip at now_ms, to finish by
 * now_ms + ms (one ms for every check: they are kept in order).  0, or -1 (errno) when domain is no host name or memory
 * is short: then fn is not called.
 */
int		spf_check(ares_channel, const char *domain,
		    const struct addr *ip, int64_t now_ms, int ms,
		    spf_check_fn *fn, void *arg);
/* End the checks past their time bound (temperror). */
void		spf_check_expire(int64_t now_ms);
/* The earliest time bound of a running check, or -1 if none. */
int64_t		spf_check_next(void);
/* Checks running now. */
int		spf_check_running(void);

#endif
