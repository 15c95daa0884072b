/*
 * Option values shared by the programs (opt.h).  Durations for -G and
 * -W: OpenBSD counts plain numbers in minutes or hours; a unit suffix
 * lets tests and impatient admins say seconds.
 * Used by: spamd, spamlogd.
 */
#include <netinet/in.h>	/* before the linux headers, which defer to it */
#include <linux/netfilter/nf_tables.h>	/* NFT_NAME_MAXLEN */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "opt.h"

#define DURATION_MAX	(10LL * 366 * 24 * 60 * 60)

int
duration_parse(const char *s, time_t unit, time_t *out)
{
	char		*end;
	long long	 v;
	time_t		 mult;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0)
		return -1;
	switch (*end) {
	case '\0':
		mult = unit;
		break;
	case 's':
		mult = 1;
		break;
	case 'm':
		mult = 60;
		break;
	case 'h':
		mult = 60 * 60;
		break;
	case 'd':
		mult = 24 * 60 * 60;
		break;
	default:
		return -1;
	}
	if (*end != '\0' && end[1] != '\0')
		return -1;
	if (v > DURATION_MAX / mult)
		return -1;
	*out = (time_t)(v * mult);
	return 0;
}

int
opt_nftnames(const char *arg, char **table, char **set4, char **set6,
    char *err, size_t errlen)
{
	char	*copy, *s, *f[3];
	size_t	 i;

	if ((copy = s = strdup(arg)) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	for (i = 0; i < 3; i++) {
		if ((f[i] = strsep(&s, ":")) == NULL)
			continue;
		if (strlen(f[i]) >= NFT_NAME_MAXLEN) {
			snprintf(err, errlen, "name too long");
			goto fail;
		}
		if (strspn(f[i], "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") !=
		    strlen(f[i])) {
			snprintf(err, errlen, "names may hold letters, digits, "
			    "'_', '-' and '.' only");
			goto fail;
		}
		if (*f[i] == '\0')
			f[i] = NULL;
	}
	if (s != NULL) {
		snprintf(err, errlen, "expected table:set:set6");
		goto fail;
	}
	*table = f[0];
	*set4 = f[1];
	*set6 = f[2];
	return 0;
 fail:
	free(copy);
	return -1;
}
