/*
 * spamd-graph: keep a round-robin history of spamd's metrics file and
 * draw it (graph.h).  Run every step seconds, by spamd-graph.timer:
 *
 *	spamd-graph [-n] [-m metrics] [-o dir] [-r rrdfile] [-s step]
 *	    [-t time]
 *
 * reads the metrics file, adds one sample to the RRD (made on first
 * use), then draws the graphs and index.html into dir unless -n.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "graph.h"

#define PATH_METRICS	"/var/lib/prometheus/node-exporter/spamd.prom"
#define PATH_RRD	"/var/lib/spamd-graph/spamd.rrd"
#define PATH_WWW	"/var/lib/spamd-graph/www"
#define STEP		300

static void	usage(void) __attribute__((noreturn));
static int	write_index(const char *);

static void
usage(void)
{
	fprintf(stderr, "usage: spamd-graph [-n] [-m metrics] [-o dir] "
	    "[-r rrdfile] [-s step] [-t time]\n");
	exit(2);
}

/* index.html: every graph of every period, written as the PNGs are. */
static int
write_index(const char *dir)
{
	char	 path[PATH_MAX], tmp[PATH_MAX];
	FILE	*fp;
	int	 fd, g, p;

	if ((size_t)snprintf(path, sizeof(path), "%s/index.html", dir) >=
	    sizeof(path) || (size_t)snprintf(tmp, sizeof(tmp), "%s.tmp",
	    path) >= sizeof(tmp)) {
		warnx("%s: name too long", dir);
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0644)) == -1 || (fp = fdopen(fd, "w")) == NULL) {
		warn("%s", tmp);
		if (fd != -1)
			(void)close(fd);
		return -1;
	}
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<title>spamd statistics</title>\n"
	    "<style>body{font-family:sans-serif}img{display:block;"
	    "margin:1em 0}</style>\n</head>\n<body>\n"
	    "<h1>spamd statistics</h1>\n", fp);
	for (p = 0; g_periods[p] != NULL; p++) {
		fprintf(fp, "<h2>Last %s</h2>\n", g_periods[p]);
		for (g = 0; g_graphs[g].name != NULL; g++)
			fprintf(fp, "<img src=\"%s-%s.png\" alt=\"%s, last "
			    "%s\">\n", g_graphs[g].name, g_periods[p],
			    g_graphs[g].title, g_periods[p]);
	}
	fputs("</body>\n</html>\n", fp);
	if (fflush(fp) == EOF || ferror(fp)) {
		warn("%s", tmp);
		(void)fclose(fp);
		(void)unlink(tmp);
		return -1;
	}
	if (fclose(fp) == EOF || rename(tmp, path) == -1) {
		warn("%s", path);
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct g_sample	 s;
	const char	*metrics = PATH_METRICS, *rrd = PATH_RRD;
	const char	*dir = PATH_WWW, *errstr;
	long long	 step = STEP, t;
	int		 ch, nflag = 0;

	t = time(NULL);
	while ((ch = getopt(argc, argv, "m:no:r:s:t:")) != -1) {
		switch (ch) {
		case 'm':
			metrics = optarg;
			break;
		case 'n':
			nflag = 1;
			break;
		case 'o':
			dir = optarg;
			break;
		case 'r':
			rrd = optarg;
			break;
		case 's':
			step = strtonum(optarg, 1, 86400, &errstr);
			if (errstr != NULL)
				errx(2, "-s %s: step is %s", optarg, errstr);
			break;
		case 't':
			t = strtonum(optarg, 1, LLONG_MAX, &errstr);
			if (errstr != NULL)
				errx(2, "-t %s: time is %s", optarg, errstr);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	/* A missing file is a spamd that is not running: record unknowns. */
	if (prom_read(metrics, &s) == -1)
		warn("%s (recording unknown values)", metrics);
	if (g_rrd_update(rrd, (unsigned long)step, (time_t)t, &s) == -1)
		return 1;
	if (nflag)
		return 0;
	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		err(1, "%s", dir);
	if (g_rrd_graph(rrd, dir, (time_t)t) == -1)
		return 1;
	return write_index(dir) == -1 ? 1 : 0;
}
