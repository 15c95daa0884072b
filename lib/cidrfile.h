/*
 * Files of networks, one address, CIDR block or range a line, '#'
 * comments (cidr_parse_line): the nospamd and trusted lists.  Read
 * whole or not at all: a line that does not parse makes the file bad,
 * and is named as file:line.  A line wider than the caller's bound
 * (a mistake such as 0.0.0.0/0 would let everyone past spamd) is left
 * out and named, and the rest is read: the hosts it named meet spamd,
 * the safe side of a mistake.
 *
 * Used by: spamd-setup (nospamd, trusted), spamd (trusted).
 */
#ifndef SPAMD_CIDRFILE_H
#define SPAMD_CIDRFILE_H

#include <stdio.h>

#include "cidr.h"

#define CIDRFILE_LINEMAX	1024
#define CIDRFILE_SHOWN		5	/* bad or wide lines quoted */
/* The widest line of the trusted list: an organisation's /8 or /16. */
#define TRUSTED_MIN4		8
#define TRUSTED_MIN6		16

/*
 * Read fp (named name in messages) into v4 and v6, normalized; lines
 * wider than /min4 (IPv4) or /min6 (IPv6) are left out and counted in
 * *wide.  Returns the number of bad lines (each logged, up to
 * CIDRFILE_SHOWN): 0 for a good file; otherwise v4 and v6 hold a part
 * and the caller should use neither.
 */
unsigned long cidrfile_read(FILE *fp, const char *name, int min4, int min6,
	    struct cidr_list *v4, struct cidr_list *v6, unsigned long *wide);

#endif
