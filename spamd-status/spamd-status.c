/*
 * spamd-status: one screen that answers "is spamd in the mail path and
 * working?", and an exit status for monitoring: 0 when healthy, else
 * the code (status.h, spamd-status(8)) of the first check that failed,
 * in the order printed.  It reads only: /proc, nftables over netlink,
 * the database (read only), the saved blacklists and the metrics file.
 */
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "nftset.h"
#include "opt.h"
#include "paths.h"
#include "status.h"

#define DEFAULTS_PATH	"/etc/default/spamd-nft"
/* spamd-graph's default: read when it exists and nothing else is named. */
#define METRICS_PATH	"/var/lib/prometheus/node-exporter/spamd.prom"
#define SPAMD_PORT	8025
#define BLACK_MAX	(24 * 60 * 60)	/* spamd-setup.timer: hourly */
#define METRICS_MAX	60		/* spamd writes every 5 s */
#define DRIFT_SHOWN	3		/* addresses named per direction */
#define DRIFT_RECHECK	2		/* reads before drift is drift */

enum { C_SPAMD, C_NFT, C_SPAMLOGD, C_DRIFT, C_DB, C_BLACK, C_BYPASS,
    C_METRICS, C_SYNC, C_N };

static void	usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fprintf(stderr, "usage: spamd-status [-L] [-a maxage] "
	    "[-D defaults] [-f dbpath] [-M maxage]\n"
	    "                    [-m metricsfile] [-N table:set:set6] "
	    "[-p port] [-y maxage]\n");
	exit(ST_ERROR);
}

void
ck_set(struct check *ck, int state, int code, const char *fmt, ...)
{
	va_list	 ap;

	ck->state = state;
	ck->code = code;
	va_start(ap, fmt);
	vsnprintf(ck->text, sizeof(ck->text), fmt, ap);
	va_end(ap);
}

void
ck_append(struct check *ck, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 n = strlen(ck->text);

	if (n + 1 >= sizeof(ck->text))
		return;
	va_start(ap, fmt);
	vsnprintf(ck->text + n, sizeof(ck->text) - n, fmt, ap);
	va_end(ap);
}

const char *
ck_age(time_t s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	/* Two units at most, the second left out when it is zero. */
	if (s < 120)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 2 * 3600)
		snprintf(buf, len, s % 60 ? "%lldm%02llds" : "%lldm",
		    (long long)s / 60, (long long)s % 60);
	else if (s < 2 * 86400)
		snprintf(buf, len, s / 60 % 60 ? "%lldh%02lldm" : "%lldh",
		    (long long)s / 3600, (long long)s / 60 % 60);
	else
		snprintf(buf, len, s / 3600 % 24 ? "%lldd%02lldh" : "%lldd",
		    (long long)s / 86400, (long long)s / 3600 % 24);
	return buf;
}

static const char *
bytes(uint64_t n, char *buf, size_t len)
{
	if (n < 10 * 1024)
		snprintf(buf, len, "%" PRIu64 " B", n);
	else if (n < 10 * 1024 * 1024)
		snprintf(buf, len, "%" PRIu64 " KB", n / 1024);
	else if (n < 10ULL * 1024 * 1024 * 1024)
		snprintf(buf, len, "%" PRIu64 " MB", n / (1024 * 1024));
	else
		snprintf(buf, len, "%" PRIu64 " GB", n >> 30);
	return buf;
}

int
alist_add(struct alist *l, const struct addr *a)
{
	struct addr	*p;
	size_t		 ncap;

	if (l->n == l->cap) {
		ncap = l->cap ? l->cap * 2 : 256;
		if ((p = reallocarray(l->a, ncap, sizeof(*p))) == NULL)
			return -1;
		l->a = p;
		l->cap = ncap;
	}
	l->a[l->n++] = *a;
	return 0;
}

static int
acmp(const void *a, const void *b)
{
	return addr_cmp(a, b);
}

void
alist_sort(struct alist *l)
{
	if (l->n > 1)
		qsort(l->a, l->n, sizeof(*l->a), acmp);
}

int
alist_has(const struct alist *l, const struct addr *a)
{
	return l->n > 0 && bsearch(a, l->a, l->n, sizeof(*l->a), acmp) !=
	    NULL;
}

void
alist_free(struct alist *l)
{
	free(l->a);
	memset(l, 0, sizeof(*l));
}

/* Addresses of a not in b (nor in forgive): count, first few named. */
static size_t
only_in(const struct alist *a, const struct alist *b,
    const struct alist *forgive, char *names, size_t len)
{
	char	 s[INET6_ADDRSTRLEN + 2];
	size_t	 i, n = 0;

	names[0] = '\0';
	for (i = 0; i < a->n; i++) {
		if (alist_has(b, &a->a[i]) ||
		    (forgive != NULL && alist_has(forgive, &a->a[i])))
			continue;
		if (n < DRIFT_SHOWN) {
			addr_str(&a->a[i], s + 2, sizeof(s) - 2);
			strlcat(names, n == 0 ? s + 2 : (s[0] = ',',
			    s[1] = ' ', s), len);
		} else if (n == DRIFT_SHOWN)
			strlcat(names, ", ...", len);
		n++;
	}
	return n;
}

static void
check_spamd(const struct sconf *conf, const struct procs *pr,
    struct check *ck)
{
	int	 l;

	ck->name = "spamd";
	if (pr->spamd == 0) {
		ck_set(ck, CK_FAIL, ST_SPAMD, "not running in this network "
		    "namespace");
		return;
	}
	ck_set(ck, CK_OK, 0, "greylister pid %ld (%d processes)",
	    (long)pr->spamd, pr->nspamd);
	if ((l = procs_listening(conf->port)) == 1)
		ck_append(ck, ", listening on port %d", conf->port);
	else {
		ck->state = CK_FAIL;
		ck->code = ST_SPAMD;
		ck_append(ck, l == 0 ? ", but nothing listens on port %d" :
		    ", cannot tell whether port %d listens", conf->port);
	}
}

static void
check_nft(const struct sconf *conf, const struct nftstate *nf,
    struct check *ck)
{
	ck->name = "nft";
	if (!nf->table) {
		ck_set(ck, CK_FAIL, ST_NFT, "no table inet %s: port 25 "
		    "reaches the MTA unfiltered", conf->table);
		return;
	}
	if (nf->missing != NULL) {
		ck_set(ck, CK_FAIL, ST_NFT, "table inet %s has no set %s",
		    conf->table, nf->missing);
		return;
	}
	if (!nf->redirect) {
		ck_set(ck, CK_FAIL, ST_NFT, "no redirect rule in table inet "
		    "%s: port 25 bypasses spamd", conf->table);
		return;
	}
	ck_set(ck, CK_OK, 0, "table inet %s, sets %s and %s, redirect",
	    conf->table, conf->set4, conf->set6);
	if (nf->redir_port != 0)
		ck_append(ck, " to :%d", nf->redir_port);
	ck_append(ck, " in chain %s", nf->redir_chain);
	if (nf->redir_port != 0 && nf->redir_port != conf->port) {
		ck->state = CK_FAIL;
		ck->code = ST_NFT;
		ck_append(ck, ", not spamd's port %d", conf->port);
	}
}

static void
check_drift(const struct nftstate *nf, const struct dbstate *db,
    struct check *ck)
{
	char	 ex[256], mi[256];
	size_t	 nex, nmi;

	ck->name = "drift";
	nex = only_in(&nf->elems, &db->white, &db->near, ex, sizeof(ex));
	nmi = only_in(&db->white, &nf->elems, NULL, mi, sizeof(mi));
	if (nex == 0 && nmi == 0) {
		ck_set(ck, CK_OK, 0, "the sets hold exactly the %zu WHITE "
		    "entr%s of the database", db->white.n,
		    db->white.n == 1 ? "y" : "ies");
		return;
	}
	ck_set(ck, CK_FAIL, ST_DRIFT, "sets and database differ:");
	if (nex > 0)
		ck_append(ck, " %zu element%s not WHITE in the database "
		    "(%s)%s", nex, nex == 1 ? "" : "s", ex, nmi > 0 ? ";" : "");
	if (nmi > 0)
		ck_append(ck, " %zu WHITE entr%s not in the sets (%s)", nmi,
		    nmi == 1 ? "y" : "ies", mi);
	ck_append(ck, "; SIGHUP to spamd reconciles them");
}

int
main(int argc, char *argv[])
{
	struct sconf	 conf;
	struct check	 ck[C_N];
	struct procs	 pr;
	struct nftstate	 nf;
	struct dbstate	 db;
	const char	*defaults = DEFAULTS_PATH, *errstr;
	char		*table = NULL, *set4 = NULL, *set6 = NULL;
	char		 err[512], b1[32], b2[32];
	int		 ch, i, nfok, dbok, tries, first = -1, nfail = 0;
	static const char *mark[] = { "ok", "--", "FAIL" };

	memset(&conf, 0, sizeof(conf));
	conf.black_max = BLACK_MAX;
	conf.metrics_max = METRICS_MAX;
	conf.need_spamlogd = 1;
	conf.trust4 = NFTSET_TRUSTED4;
	conf.trust6 = NFTSET_TRUSTED6;
	while ((ch = getopt(argc, argv, "a:D:f:LM:m:N:p:y:")) != -1) {
		switch (ch) {
		case 'a':
		case 'M':
		case 'y':
			{
				time_t	 t;

				if (duration_parse(optarg, 1, &t) == -1)
					errx(ST_ERROR, "-%c %s: not a duration "
					    "(seconds, or with s, m, h, d)",
					    ch, optarg);
				if (ch == 'a')
					conf.black_max = t;
				else if (ch == 'M')
					conf.metrics_max = t;
				else
					conf.sync_max = t;
			}
			break;
		case 'D':
			defaults = optarg;
			break;
		case 'f':
			conf.dbpath = optarg;
			break;
		case 'L':
			conf.need_spamlogd = 0;
			break;
		case 'm':
			conf.metrics = optarg;
			break;
		case 'N':
			if (opt_nftnames(optarg, &table, &set4, &set6, err,
			    sizeof(err)) == -1)
				errx(ST_ERROR, "-N %s: %s", optarg, err);
			conf.table = table;
			conf.set4 = set4;
			conf.set6 = set6;
			break;
		case 'p':
			conf.port = (int)strtonum(optarg, 1, 65535, &errstr);
			if (errstr != NULL)
				errx(ST_ERROR, "-p %s: port is %s", optarg,
				    errstr);
			break;
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();
	/* Messages of the shared code (netlink, database) to stderr. */
	log_init(1, "spamd-status");
	if (defaults_read(defaults, &conf, err, sizeof(err)) == -1)
		errx(ST_ERROR, "%s", err);
	if (conf.dbpath == NULL)
		conf.dbpath = PATH_SPAMD_DB;
	if (conf.metrics == NULL && access(METRICS_PATH, F_OK) == 0)
		conf.metrics = METRICS_PATH;
	if (conf.table == NULL)
		conf.table = NFTSET_TABLE;
	if (conf.set4 == NULL)
		conf.set4 = NFTSET_SET4;
	if (conf.set6 == NULL)
		conf.set6 = NFTSET_SET6;
	if (conf.port == 0)
		conf.port = SPAMD_PORT;
	memset(ck, 0, sizeof(ck));

	if (procs_scan(&pr, err, sizeof(err)) == -1) {
		ck[C_SPAMD].name = "spamd";
		ck_set(&ck[C_SPAMD], CK_FAIL, ST_ERROR, "%s", err);
		memset(&pr, 0, sizeof(pr));
	} else
		check_spamd(&conf, &pr, &ck[C_SPAMD]);
	ck[C_SPAMLOGD].name = "spamlogd";
	if (pr.spamlogd != 0)
		ck_set(&ck[C_SPAMLOGD], CK_OK, 0, "pid %ld",
		    (long)pr.spamlogd);
	else
		ck_set(&ck[C_SPAMLOGD], conf.need_spamlogd ? CK_FAIL :
		    CK_INFO, ST_SPAMLOGD, "not running: whitelisted hosts "
		    "that keep sending expire all the same");

	/*
	 * The sets and the database, read again if they differ: spamd
	 * may have changed one and not yet the other between our reads.
	 */
	memset(&nf, 0, sizeof(nf));
	memset(&db, 0, sizeof(db));
	for (tries = 0; tries < DRIFT_RECHECK; tries++) {
		if (tries > 0) {
			nft_free(&nf);
			db_free(&db);
			sleep(1);
		}
		conf.now = time(NULL);
		ck[C_DB].name = "database";
		if ((dbok = db_read(&conf, &db, err, sizeof(err))) == -1)
			ck_set(&ck[C_DB], CK_FAIL, ST_DB, "%s", err);
		ck[C_NFT].name = "nft";
		if ((nfok = nft_read(&conf, &nf, err, sizeof(err))) == -1)
			ck_set(&ck[C_NFT], CK_FAIL, ST_ERROR, "%s", err);
		else
			check_nft(&conf, &nf, &ck[C_NFT]);
		ck[C_DRIFT].name = "drift";
		if (dbok == -1 || nfok == -1 || !nf.table ||
		    nf.missing != NULL) {
			ck_set(&ck[C_DRIFT], CK_INFO, 0, "not compared: "
			    "%s missing", dbok == -1 ? "database" : "sets");
			break;
		}
		check_drift(&nf, &db, &ck[C_DRIFT]);
		if (ck[C_DRIFT].state == CK_OK)
			break;
	}
	if (dbok == 0)
		ck_set(&ck[C_DB], CK_OK, 0, "%s: GREY %" PRIu64 ", WHITE %"
		    PRIu64 ", TRAPPED %" PRIu64 ", SPAMTRAP %" PRIu64
		    "; %s, %s free", conf.dbpath, db.n[0], db.n[1], db.n[2],
		    db.n[3], bytes(db.bytes, b1, sizeof(b1)),
		    bytes(db.avail, b2, sizeof(b2)));
	ck[C_BYPASS].name = "bypass";
	if (nfok == 0 && nf.table) {
		ck_set(&ck[C_BYPASS], CK_INFO, 0, "trusted: ");
		ck_append(&ck[C_BYPASS], nf.trusted < 0 ? "no sets" :
		    "%ld range%s", nf.trusted, nf.trusted == 1 ? "" : "s");
		ck_append(&ck[C_BYPASS], ", nospamd: ");
		ck_append(&ck[C_BYPASS], nf.nospamd < 0 ? "no sets" :
		    "%ld range%s", nf.nospamd, nf.nospamd == 1 ? "" : "s");
	} else
		ck_set(&ck[C_BYPASS], CK_INFO, 0, "not read");
	black_check(&conf, &ck[C_BLACK]);
	metrics_check(&conf, &ck[C_METRICS], &ck[C_SYNC]);
	nft_free(&nf);
	db_free(&db);

	for (i = 0; i < C_N; i++) {
		printf("%-4s %-10s %s\n", mark[ck[i].state], ck[i].name,
		    ck[i].text);
		if (ck[i].state == CK_FAIL) {
			nfail++;
			if (first == -1)
				first = i;
		}
	}
	if (first == -1) {
		printf("spamd-status: healthy\n");
		return ST_OK;
	}
	printf("spamd-status: %d problem%s, first: %s (exit %d)\n", nfail,
	    nfail == 1 ? "" : "s", ck[first].name, ck[first].code);
	return ck[first].code;
}
