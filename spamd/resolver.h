/*
 * The resolver: spamd's process that asks DNS (resolver.c).  Started by
 * main before the engine forks, it runs as _spamd without capabilities
 * and without a chroot (c-ares reads /etc/resolv.conf, and again when
 * it changes), holding nothing but its socket to the engine.  The
 * engine sends it dns_msg records (dnsmsg.h) and it answers each, by
 * its id, within the deadline; it never sends anything unasked.
 */
#ifndef SPAMD_RESOLVER_H
#define SPAMD_RESOLVER_H

#include <pwd.h>

#include <ares.h>

#include "dnsmsg.h"

/* Default of -L dnswait=, ms: the longest a verdict may take. */
#define RESOLVER_WAIT	2000

/*
 * Is a resolver needed (-D given)?  Fork it (detached: it is nobody's
 * child, and ends when the engine's end of the socket closes) and
 * return the engine's end of the socket, or -1 when none is needed.
 * pw: the user to become, NULL when not started as root.
 */
int	resolver_wanted(void);
int	resolver_start(const struct passwd *pw);

/*
 * For the kinds handled in the resolver's process: its c-ares channel
 * (re-made when resolv.conf changes: fetch it for every query), and
 * the way back to the engine (0, or -1: dropped, logged).
 */
ares_channel resolver_channel(void);
int	resolver_answer(const struct dns_msg *);
/* CLOCK_MONOTONIC ms, as of this turn of the resolver's loop. */
int64_t	resolver_now(void);

#endif
