/*
 * Trusted networks (/etc/spamd-nft/trusted, spamd -t): the site's own
 * networks, relays and scanners, which etc/spamd.nft lets past spamd
 * (the sets spamd-trusted and spamd-trusted6, filled by spamd-setup).
 * One that reaches spamd anyway, before spamd-setup has filled the
 * sets say, is never tarpitted, stuttered or refused by -L conn=, even
 * when a blacklist names it; the greylister whitelists it at its first
 * tuple, so that its retry goes to the MTA.  Its first session still
 * ends in a temporary failure: spamd cannot deliver mail itself.
 *
 * Both processes read the file: the greylister by its path, the engine
 * before its chroot and, on SIGHUP, through the keeper (keeper.h).  A
 * file that cannot be read whole keeps the list loaded before.  The
 * format is lib/cidrfile.h's; lines wider than /8 or /16 are left out.
 */
#ifndef SPAMD_TRUSTED_H
#define SPAMD_TRUSTED_H

#include "addr.h"
#include "paths.h"


/*
 * The nospamd list (/etc/mail/nospamd, spamd -x) is read the same way:
 * the kernel lets those networks past spamd too (spamd-nospamd), but
 * behind a balancer (-X) or without nftables (-R alone) only spamd can
 * tell them, so relay mode relays them.  Unlike trusted networks they
 * do not win over blacklists.
 */
enum bypass_list {
	BYPASS_TRUSTED,
	BYPASS_NOSPAMD,
	BYPASS_N
};

/* Remember path (NULL: none) and read it now. */
void	bypass_init(enum bypass_list, const char *path);
/* Read the files again: the greylister itself, the engine via the keeper. */
void	trusted_reload(int viakeeper);
/* 1 if a is in a network of the list, else 0. */
int	bypass_match(enum bypass_list, const struct addr *a);

static inline int
trusted_match(const struct addr *a)
{
	return bypass_match(BYPASS_TRUSTED, a);
}

static inline int
nospamd_match(const struct addr *a)
{
	return bypass_match(BYPASS_NOSPAMD, a);
}

#endif
