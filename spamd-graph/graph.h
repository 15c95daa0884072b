/*
 * spamd-graph: a round-robin history of spamd's metrics file (spamd -m)
 * in an RRDtool database, and PNG graphs of it for the last day, week,
 * month and year with an index.html.  main.c: options and the page;
 * prom.c: reading the metrics file; rrd.c: librrd.
 */
#ifndef SPAMD_GRAPH_H
#define SPAMD_GRAPH_H

#include <time.h>

/* The figures kept, in the order of the RRD's data sources. */
enum g_ds {
	DS_GREY,	/* connections_total{kind="greylisted"} */
	DS_BLACK,	/* ... "blacklisted" */
	DS_TRAPPED,	/* ... "trapped" */
	DS_PASSED,	/* whitelisted_total */
	DS_TARPIT,	/* tarpit_seconds_total */
	DS_EGREY,	/* entries{state="GREY"} */
	DS_EWHITE,	/* entries{state="WHITE"} */
	DS_ETRAPPED,	/* entries{state="TRAPPED"} */
	DS_N
};

/*
 * The pass delays (spamd_pass_delay_seconds), kept in an RRD of their
 * own beside the first (g_delay_rrd), so that one made before them
 * goes on being updated as it is.
 */
enum g_dd {
	DD_30M,		/* _bucket{le="1800"}: passed within 30 minutes */
	DD_1H,		/* ... le="3600" */
	DD_2H,		/* ... le="7200" */
	DD_4H,		/* ... le="14400" */
	DD_ALL,		/* _count: every pass */
	DD_SUM,		/* _sum: their delays, seconds */
	DD_N
};

struct g_sample {
	double	v[DS_N];	/* NAN: missing from the file */
	double	d[DD_N];	/* ... */
};

/* prom.c: read path; 0, or -1 with errno set (logged by the caller). */
int	prom_read(const char *path, struct g_sample *);

/* rrd.c: each returns 0, or -1 after printing librrd's error. */
int	g_rrd_update(const char *rrd, unsigned long step, time_t t,
	    const struct g_sample *);
/* The delays' RRD beside rrd: its .rrd suffix becomes -delay.rrd. */
int	g_delay_rrd(const char *rrd, char *buf, size_t len);
/* The PNGs of every graph and period into dir; names in g_pngs. */
int	g_rrd_graph(const char *rrd, const char *dir, time_t end);

struct g_graph {
	const char	*name;		/* file name prefix */
	const char	*title;
};
extern const struct g_graph	 g_graphs[];
extern const char *const	 g_periods[];	/* "day", ... NULL */

#endif
