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


/* Remember path (NULL: none) and read it now. */
void	trusted_init(const char *path);
/* Read the file again: the greylister itself, the engine via the keeper. */
void	trusted_reload(int viakeeper);
/* 1 if a is in a trusted network, else 0.  For any relay decision too. */
int	trusted_match(const struct addr *a);

#endif
