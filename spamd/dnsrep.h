/*
 * DNS reputation (-D), the engine's side: lookups start when the
 * client's address is known, and their verdict may hold the banner.
 * The lookups themselves run in the resolver process (resolver.c).
 */
#ifndef SPAMD_DNSREP_H
#define SPAMD_DNSREP_H

#include <stdint.h>

struct con;
struct dnsrep_rq;

/* The resolver's socket (conf.resolverfd) into the engine's epoll set. */
void	dnsrep_init(int epfd);
/*
 * Start the lookups for c.  1 if c must wait silently for the verdict
 * (CP_HOLD): then dnsrep.c calls relay_start() or con_greet() later.
 */
int	dnsrep_hold(struct con *c);
/* Does a looked-up client wait for its verdict before the banner? */
int	dnsrep_holds(void);
/* Forget c's pending lookups (con_close). */
void	dnsrep_free(struct con *c);
/* ms of the next deadline (INT64_MAX: none); run those due by now. */
int64_t	dnsrep_due(void);
void	dnsrep_expire(int64_t now);
/* The counters to the greylister, with each GM_STATS (stats.c). */
void	dnsrep_stats_send(int fd);
/* The socket to the resolver, -1 without one (spfq.c). */
int	dnsrep_fd(void);

#endif
