/*
 * Durations for -G and -W: OpenBSD counts plain numbers in minutes or
 * hours; a unit suffix lets tests and impatient admins say seconds.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "util.h"

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
