/*
 * spamd-graph's use of librrd: one RRD file, created on first use with
 * archives that cover a day at every step, a week, a month and a year
 * at coarser steps; graphs drawn by rrd_graph into PNG files, each
 * written under a temporary name and renamed, so a web server never
 * serves half a picture.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rrd.h>

#include "graph.h"

#define DAY	86400L
#define ARGMAX	40
#define ARGLEN	(PATH_MAX + 64)	/* an option with a path in it */

const struct g_graph g_graphs[] = {
	{ "connections", "spamd connections per minute, by kind" },
	{ "tarpit", "spammers' time held in the tarpit" },
	{ "entries", "spamd database: GREY, WHITE and TRAPPED entries" },
	{ NULL, NULL }
};
const char *const g_periods[] = { "day", "week", "month", "year", NULL };
static const long	 g_seconds[] = { DAY, 7 * DAY, 31 * DAY, 366 * DAY };
/* Seconds per row of the archive that serves each period. */
static const long	 g_res[] = { 0, 1800, 7200, DAY };

static const char *const ds_names[DS_N] = {
	"grey", "black", "trapped", "passed", "tarpit", "egrey", "ewhite",
	"etrapped"
};

static void	rrd_fail(const char *, const char *);
static int	rrd_create_file(const char *, unsigned long, time_t);

static void
rrd_fail(const char *what, const char *path)
{
	fprintf(stderr, "spamd-graph: %s %s: %s\n", what, path,
	    rrd_test_error() ? rrd_get_error() : "failed");
	rrd_clear_error();
}

static int
rrd_create_file(const char *path, unsigned long step, time_t t)
{
	static char	 defs[DS_N + 8][64];
	const char	*argv[DS_N + 8];
	unsigned long	 steps, rows;
	int		 i, n = 0;

	for (i = 0; i < DS_N; i++) {
		/* DERIVE with a minimum of 0: a restart of spamd is no dip. */
		snprintf(defs[n], sizeof(defs[n]), "DS:%s:%s:%lu:0:U",
		    ds_names[i], i < DS_EGREY ? "DERIVE" : "GAUGE", 2 * step);
		argv[n] = defs[n];
		n++;
	}
	for (i = 0; g_periods[i] != NULL; i++) {
		steps = g_res[i] > (long)step ? g_res[i] / step : 1;
		rows = g_seconds[i] / (steps * step) + 1;
		snprintf(defs[n], sizeof(defs[n]), "RRA:AVERAGE:0.5:%lu:%lu",
		    steps, rows);
		argv[n] = defs[n];
		n++;
	}
	if (rrd_create_r(path, step, t - 1, n, argv) != 0) {
		rrd_fail("create", path);
		return -1;
	}
	return 0;
}

int
g_rrd_update(const char *path, unsigned long step, time_t t,
    const struct g_sample *s)
{
	char		 buf[512];
	const char	*argv[1];
	size_t		 len;
	int		 i, r;

	if (access(path, F_OK) == -1) {
		if (errno != ENOENT) {
			fprintf(stderr, "spamd-graph: %s: %s\n", path,
			    strerror(errno));
			return -1;
		}
		if (rrd_create_file(path, step, t) == -1)
			return -1;
	}
	len = (size_t)snprintf(buf, sizeof(buf), "%lld", (long long)t);
	for (i = 0; i < DS_N && len < sizeof(buf); i++) {
		if (isnan(s->v[i]))
			r = snprintf(buf + len, sizeof(buf) - len, ":U");
		else if (i < DS_EGREY)
			/* DERIVE takes integers: count in milliseconds. */
			r = snprintf(buf + len, sizeof(buf) - len, ":%.0f",
			    i == DS_TARPIT ? s->v[i] * 1000 : s->v[i]);
		else
			r = snprintf(buf + len, sizeof(buf) - len, ":%.0f",
			    s->v[i]);
		len += (size_t)r;
	}
	if (len >= sizeof(buf)) {
		fprintf(stderr, "spamd-graph: sample too long\n");
		return -1;
	}
	argv[0] = buf;
	if (rrd_update_r(path, NULL, 1, argv) != 0) {
		rrd_fail("update", path);
		return -1;
	}
	return 0;
}

/* The DEFs and lines of graph g, after the common options. */
static int
graph_defs(const char *name, const char *rrd, char defs[][ARGLEN], int n)
{
	int	 k = 0;

#define ADD(...) snprintf(defs[n + k++], ARGLEN, __VA_ARGS__)
	if (strcmp(name, "connections") == 0) {
		ADD("--vertical-label=per minute");
		ADD("DEF:g=%s:grey:AVERAGE", rrd);
		ADD("DEF:b=%s:black:AVERAGE", rrd);
		ADD("DEF:t=%s:trapped:AVERAGE", rrd);
		ADD("DEF:p=%s:passed:AVERAGE", rrd);
		ADD("CDEF:gm=g,60,*");
		ADD("CDEF:bm=b,60,*");
		ADD("CDEF:tm=t,60,*");
		ADD("CDEF:pm=p,60,*");
		ADD("AREA:bm#d62728:blacklisted");
		ADD("AREA:tm#9467bd:trapped:STACK");
		ADD("LINE2:gm#1f77b4:greylisted");
		ADD("LINE2:pm#2ca02c:passed (whitelisted)");
	} else if (strcmp(name, "tarpit") == 0) {
		ADD("--vertical-label=clients held");
		ADD("DEF:ms=%s:tarpit:AVERAGE", rrd);
		ADD("CDEF:held=ms,1000,/");
		ADD("VDEF:tot=held,TOTAL");
		ADD("AREA:held#ff7f0e:seconds of spammers' time per second");
		ADD("GPRINT:tot:%%.0lf seconds wasted in this period");
	} else {
		ADD("--vertical-label=entries");
		ADD("DEF:g=%s:egrey:AVERAGE", rrd);
		ADD("DEF:w=%s:ewhite:AVERAGE", rrd);
		ADD("DEF:t=%s:etrapped:AVERAGE", rrd);
		ADD("LINE2:g#1f77b4:GREY");
		ADD("LINE2:w#2ca02c:WHITE");
		ADD("LINE2:t#d62728:TRAPPED");
	}
#undef ADD
	return k;
}

int
g_rrd_graph(const char *rrd, const char *dir, time_t end)
{
	static char defs[ARGMAX][ARGLEN];
	char	 tmp[PATH_MAX], png[PATH_MAX];
	char	*argv[ARGMAX], **calcpr;
	double	 ymin, ymax;
	int	 g, p, n, i, xs, ys, errors = 0;

	for (g = 0; g_graphs[g].name != NULL; g++) {
		for (p = 0; g_periods[p] != NULL; p++) {
			if ((size_t)snprintf(png, sizeof(png), "%s/%s-%s.png",
			    dir, g_graphs[g].name, g_periods[p]) >=
			    sizeof(png) || (size_t)snprintf(tmp, sizeof(tmp),
			    "%s.tmp", png) >= sizeof(tmp)) {
				fprintf(stderr, "spamd-graph: %s: name too "
				    "long\n", dir);
				return -1;
			}
			n = 0;
			snprintf(defs[n++], ARGLEN, "graph");
			snprintf(defs[n++], ARGLEN, "%s", tmp);
			snprintf(defs[n++], ARGLEN, "--imgformat=PNG");
			snprintf(defs[n++], ARGLEN, "--start=%lld",
			    (long long)(end - g_seconds[p]));
			snprintf(defs[n++], ARGLEN, "--end=%lld",
			    (long long)end);
			snprintf(defs[n++], ARGLEN, "--width=640");
			snprintf(defs[n++], ARGLEN, "--height=200");
			snprintf(defs[n++], ARGLEN, "--lower-limit=0");
			snprintf(defs[n++], ARGLEN, "--title=%s, last %s",
			    g_graphs[g].title, g_periods[p]);
			n += graph_defs(g_graphs[g].name, rrd, defs, n);
			for (i = 0; i < n; i++)
				argv[i] = defs[i];
			calcpr = NULL;
			optind = 0;	/* librrd parses with getopt */
			if (rrd_graph(n, argv, &calcpr, &xs, &ys, NULL, &ymin,
			    &ymax) != 0) {
				rrd_fail("graph", png);
				(void)unlink(tmp);
				errors++;
				continue;
			}
			if (calcpr != NULL) {
				for (i = 0; calcpr[i] != NULL; i++)
					rrd_freemem(calcpr[i]);
				rrd_freemem(calcpr);
			}
			if (rename(tmp, png) == -1) {
				fprintf(stderr, "spamd-graph: rename %s: %s\n",
				    png, strerror(errno));
				errors++;
			}
		}
	}
	return errors ? -1 : 0;
}
