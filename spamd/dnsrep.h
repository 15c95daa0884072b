/*
 * DNS reputation (-D), the engine's side: lookups start when the
 * client's address is known, and their verdict may hold the banner.
 */
#ifndef SPAMD_DNSREP_H
#define SPAMD_DNSREP_H

struct con;

/*
 * Start the lookups for c.  1 if c must wait silently for the verdict
 * (CP_HOLD): then dnsrep.c calls relay_start() or con_greet() later.
 */
int	dnsrep_hold(struct con *c);
/* Forget c's pending lookups (con_close). */
void	dnsrep_free(struct con *c);

#endif
