/*
 * Dropping root for good.
 * Used by: spamd, spamlogd, spamd-setup.
 */
#ifndef SPAMD_PRIV_H
#define SPAMD_PRIV_H

#include <pwd.h>
#include <stdint.h>

/*
 * Become pw's user and group.  With chroot_dir, chroot there first.
 * caps is a mask of CAP_* bits (1ULL << CAP_NET_ADMIN ...) kept in the
 * effective and permitted sets; every other capability is dropped,
 * also from the bounding set, and no_new_privs is set.  Calls fatal()
 * on any failure: a half-dropped process must not go on.
 */
void	priv_drop(const struct passwd *pw, const char *chroot_dir,
	    uint64_t caps);

#endif
