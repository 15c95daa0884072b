/*
 * Small helpers shared by the programs: durations with units and the
 * privilege drop.
 */
#ifndef SPAMD_UTIL_H
#define SPAMD_UTIL_H

#include <pwd.h>
#include <stdint.h>
#include <time.h>

/*
 * Parse a duration: a decimal number, optionally followed by one of the
 * units s, m, h, d.  A plain number counts in `unit' seconds (OpenBSD's
 * -G takes minutes and hours).  0 on success; -1 if malformed, negative
 * or absurdly large (over ten years).
 */
int	duration_parse(const char *s, time_t unit, time_t *out);

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
