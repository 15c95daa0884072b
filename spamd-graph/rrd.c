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
	{ "delays", "greylisting delay of passed mail, first attempt to pass" },
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

/* The delays' RRD: every data source a count. */
static const char *const dd_names[DD_N] = {
	"d30m", "d1h", "d2h", "d4h", "dall", "dsum"
};

static void	rrd_fail(const char *, const char *);
static int	rrd_create_file(const char *, unsigned long, time_t,
		    const char *const *, int, int);
static int	rrd_put(const char *, unsigned long, time_t,
		    const char *const *, const double *, int, int);

static void
rrd_fail(const char *what, const char *path)
{
	fprintf(stderr, "spamd-graph: %s %s: %s\n", what, path,
	    rrd_test_error() ? rrd_get_error() : "failed");
	rrd_clear_error();
}

/* Data sources names[0..nds), the first nderive of them counters. */
static int
rrd_create_file(const char *path, unsigned long step, time_t t,
    const char *const *names, int nds, int nderive)
{
	static char	 defs[DS_N + DD_N + 8][64];
	const char	*argv[DS_N + DD_N + 8];
	unsigned long	 steps, rows;
	int		 i, n = 0;

	for (i = 0; i < nds; i++) {
		/* DERIVE with a minimum of 0: a restart of spamd is no dip. */
		snprintf(defs[n], sizeof(defs[n]), "DS:%s:%s:%lu:0:U",
		    names[i], i < nderive ? "DERIVE" : "GAUGE", 2 * step);
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
g_delay_rrd(const char *rrd, char *buf, size_t len)
{
	size_t	 n = strlen(rrd);

	if (n > 4 && strcmp(rrd + n - 4, ".rrd") == 0)
		n -= 4;
	if ((size_t)snprintf(buf, len, "%.*s-delay.rrd", (int)n, rrd) >=
	    len) {
		fprintf(stderr, "spamd-graph: %s: name too long\n", rrd);
		return -1;
	}
	return 0;
}

int
g_rrd_update(const char *path, unsigned long step, time_t t,
    const struct g_sample *s)
{
	char	 dpath[PATH_MAX];
	double	 v[DS_N];
	int	 i;

	/* DERIVE takes integers: the tarpit counts in milliseconds. */
	for (i = 0; i < DS_N; i++)
		v[i] = i == DS_TARPIT ? s->v[i] * 1000 : s->v[i];
	if (rrd_put(path, step, t, ds_names, v, DS_N, DS_EGREY) == -1 ||
	    g_delay_rrd(path, dpath, sizeof(dpath)) == -1)
		return -1;
	return rrd_put(dpath, step, t, dd_names, s->d, DD_N, DD_N);
}

/* One sample of values v[0..nds) into path, made on first use. */
static int
rrd_put(const char *path, unsigned long step, time_t t,
    const char *const *names, const double *v, int nds, int nderive)
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
		if (rrd_create_file(path, step, t, names, nds, nderive) == -1)
			return -1;
	}
	len = (size_t)snprintf(buf, sizeof(buf), "%lld", (long long)t);
	for (i = 0; i < nds && len < sizeof(buf); i++) {
		if (isnan(v[i]))
			r = snprintf(buf + len, sizeof(buf) - len, ":U");
		else
			r = snprintf(buf + len, sizeof(buf) - len, ":%.0f",
			    v[i]);
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

/*
 * The DEFs and lines of graph g, after the common options; drrd is the
 * delays' RRD.
 */
static int
graph_defs(const char *name, const char *rrd, const char *drrd,
    char defs[][ARGLEN], int n)
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
		/* 0.25, not "250 m": milli-clients read as minutes. */
		ADD("--units-exponent=0");
		ADD("--left-axis-format=%%.3lg");
		ADD("DEF:ms=%s:tarpit:AVERAGE", rrd);
		ADD("CDEF:held=ms,1000,/");
		ADD("VDEF:tot=held,TOTAL");
		ADD("AREA:held#ff7f0e:seconds of spammers' time per second");
		ADD("GPRINT:tot:%%.0lf seconds wasted in this period");
	} else if (strcmp(name, "delays") == 0) {
		/* Passes per hour in bands of delay, the buckets' steps. */
		ADD("--vertical-label=passes per hour");
		ADD("--units-exponent=0");
		ADD("--left-axis-format=%%.3lg");
		ADD("DEF:a=%s:d30m:AVERAGE", drrd);
		ADD("DEF:b=%s:d1h:AVERAGE", drrd);
		ADD("DEF:c=%s:d2h:AVERAGE", drrd);
		ADD("DEF:d=%s:d4h:AVERAGE", drrd);
		ADD("DEF:n=%s:dall:AVERAGE", drrd);
		ADD("DEF:s=%s:dsum:AVERAGE", drrd);
		ADD("CDEF:b1=a,3600,*");
		ADD("CDEF:b2=b,a,-,3600,*");
		ADD("CDEF:b3=c,b,-,3600,*");
		ADD("CDEF:b4=d,c,-,3600,*");
		ADD("CDEF:b5=n,d,-,3600,*");
		ADD("CDEF:mean=n,0,GT,s,n,/,60,/,UNKN,IF");
		ADD("VDEF:m=mean,AVERAGE");
		ADD("AREA:b1#2ca02c:within 30 min");
		ADD("AREA:b2#bcbd22:30 min to 1 h:STACK");
		ADD("AREA:b3#ff7f0e:1 to 2 h:STACK");
		ADD("AREA:b4#d62728:2 to 4 h:STACK");
		ADD("AREA:b5#8c564b:over 4 h:STACK");
		ADD("GPRINT:m:mean delay %%.1lf minutes");
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
	char	 tmp[PATH_MAX], png[PATH_MAX], drrd[PATH_MAX];
	char	*argv[ARGMAX], **calcpr;
	double	 ymin, ymax;
	int	 g, p, n, i, xs, ys, errors = 0;

	if (g_delay_rrd(rrd, drrd, sizeof(drrd)) == -1)
		return -1;
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
			n += graph_defs(g_graphs[g].name, rrd, drrd, defs, n);
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
