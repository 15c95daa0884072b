/*
 * Command-line values that more than one program takes.
 * Used by: spamd (-G, -N), spamlogd (-W, -N).
 */
#ifndef SPAMD_OPT_H
#define SPAMD_OPT_H

#include <stddef.h>
#include <time.h>

/*
 * Parse a duration: a decimal number, optionally followed by one of the
 * units s, m, h, d.  A plain number counts in `unit' seconds (OpenBSD's
 * -G takes minutes and hours).  0 on success; -1 if malformed, negative
 * or absurdly large (over ten years).
 */
int	duration_parse(const char *s, time_t unit, time_t *out);

/*
 * The -N option: "table:set:set6", the nftables names.  An empty or
 * missing field leaves its name NULL (the default); the names point
 * into a copy of arg, kept for the life of the program.  0, or -1 with
 * a message in err and nothing allocated.
 */
int	opt_nftnames(const char *arg, char **table, char **set4,
	    char **set6, char *err, size_t errlen);

#endif
