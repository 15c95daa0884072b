/*
 * The few samples spamd-graph keeps, from the text exposition format
 * spamd -m writes.  Lines are bounded; anything else is skipped.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"

#define PROM_MAXVAL	9007199254740992.0	/* 2^53 */

static const char *const	 names[DS_N] = {
	"spamd_connections_total{kind=\"greylisted\"}",
	"spamd_connections_total{kind=\"blacklisted\"}",
	"spamd_connections_total{kind=\"trapped\"}",
	"spamd_whitelisted_total",
	"spamd_tarpit_seconds_total",
	"spamd_entries{state=\"GREY\"}",
	"spamd_entries{state=\"WHITE\"}",
	"spamd_entries{state=\"TRAPPED\"}",
};

static const char *const	 dnames[DD_N] = {
	"spamd_pass_delay_seconds_bucket{le=\"1800\"}",
	"spamd_pass_delay_seconds_bucket{le=\"3600\"}",
	"spamd_pass_delay_seconds_bucket{le=\"7200\"}",
	"spamd_pass_delay_seconds_bucket{le=\"14400\"}",
	"spamd_pass_delay_seconds_count",
	"spamd_pass_delay_seconds_sum",
};

int
prom_read(const char *path, struct g_sample *s)
{
	FILE	*fp;
	char	 line[512], *sp, *end;
	double	 v;
	int	 i, saved;

	for (i = 0; i < DS_N; i++)
		s->v[i] = NAN;
	for (i = 0; i < DD_N; i++)
		s->d[i] = NAN;
	if ((fp = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (line[0] == '#' || (sp = strrchr(line, ' ')) == NULL)
			continue;
		*sp++ = '\0';
		errno = 0;
		v = strtod(sp, &end);
		if (errno != 0 || end == sp || (*end != '\n' && *end != '\0'))
			continue;
		/*
		 * Counts only: anything else (inf, nan, negative, beyond
		 * what a double holds exactly) would fail the whole update,
		 * so it stays unknown.
		 */
		if (!isfinite(v) || v < 0 || v > PROM_MAXVAL)
			continue;
		for (i = 0; i < DS_N; i++)
			if (strcmp(line, names[i]) == 0)
				s->v[i] = v;
		for (i = 0; i < DD_N; i++)
			if (strcmp(line, dnames[i]) == 0)
				s->d[i] = v;
	}
	saved = errno;
	if (ferror(fp)) {
		(void)fclose(fp);
		errno = saved ? saved : EIO;
		return -1;
	}
	if (fclose(fp) == EOF)
		return -1;
	return 0;
}
