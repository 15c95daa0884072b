/*
 * spamd-setup: load the blacklists of spamd.conf into spamd (and, with
 * -b, into the nftables sets of blacklist-only mode).
 *
 * Lists are fetched one after the other.  In the order of `all', each
 * black list starts a result, and each white list that follows it, up
 * to the next black list, is subtracted from it.  A list that cannot be
 * fetched or parsed is skipped and so is every black list it belongs
 * to (a missing white list would blacklist its exceptions); spamd keeps
 * its previous copy of those, and the exit status is 1.  A black list
 * wider than the bounds of setup.h is refused too (lists.c), since
 * spamd takes the WHITE hosts it covers off the whitelist for good.
 * The bypass list (nospamd.c) is taken out of what spamd and the -b
 * sets get.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfgproto.h"
#include "log.h"
#include "nftblack.h"
#include "opt.h"
#include "setup.h"

static int	 debug;		/* -d */

static void	usage(void) __attribute__((noreturn));
static int	make_results(struct sdconf *, struct slist *, struct slist **,
		    size_t *, char **, size_t *);
static int	load_nft(struct slist *const *, size_t, const char *,
		    const char *, const char *, int);

static void
usage(void)
{
	fprintf(stderr, "usage: spamd-setup [-bDdno] [-f file] "
	    "[-N table:set:set6]\n"
	    "                   [-P cfgport | -U cfgsocket] [-t trusted] "
	    "[-x nospamd]\n");
	exit(1);
}

/*
 * The black lists as spamd gets them, white lists subtracted; names
 * gets every black list's name.  Returns the number of black lists
 * that could not be computed.
 */
static int
make_results(struct sdconf *sc, struct slist *lists, struct slist **res,
    size_t *nres, char **names, size_t *nnames)
{
	struct slist	*cur = NULL, *l;
	size_t		 i, j;
	int		 failed = 0, curbad = 0;

	*nres = *nnames = 0;
	for (i = 0; i <= sc->norder; i++) {
		l = i < sc->norder ? &lists[sc->order[i]] : NULL;
		if (l != NULL && l->conf->type == SDCONF_WHITE) {
			if (cur == NULL && l->ok)
				log_debug("white list %s comes before any "
				    "black list: no effect", l->conf->name);
			else if (cur != NULL && !l->ok && !curbad) {
				log_warnx("black list %s skipped: its white "
				    "list %s is missing", cur->conf->name,
				    l->conf->name);
				curbad = 1;
			} else if (cur != NULL && !curbad &&
			    (cidr_list_subtract(&cur->v4, &l->v4) == -1 ||
			    cidr_list_subtract(&cur->v6, &l->v6) == -1))
				fatal("subtracting %s", l->conf->name);
			continue;
		}
		/* A black list, or the end: the previous one is done. */
		if (cur != NULL) {
			if (curbad) {
				slist_free(cur);
				free(cur);
				failed++;
			} else {
				log_debug("blacklist %s: %zu IPv4 and %zu "
				    "IPv6 ranges after white lists",
				    cur->conf->name, cur->v4.n, cur->v6.n);
				res[(*nres)++] = cur;
			}
			cur = NULL;
		}
		if (l == NULL)
			break;
		for (j = 0; j < *nnames; j++)
			if (strcmp(names[j], l->conf->name) == 0)
				break;
		if (j == *nnames)
			names[(*nnames)++] = l->conf->name;
		if ((cur = calloc(1, sizeof(*cur))) == NULL)
			fatal("calloc");
		cur->conf = l->conf;
		cidr_list_init(&cur->v4, AF_INET);
		cidr_list_init(&cur->v6, AF_INET6);
		curbad = !l->ok;
		if (!l->ok)
			continue;
		if ((cur->msg = strdup(l->msg)) == NULL ||
		    cidr_list_union(&cur->v4, &l->v4) == -1 ||
		    cidr_list_union(&cur->v6, &l->v6) == -1)
			fatal("copying %s", l->conf->name);
	}
	return failed;
}

/*
 * Take the bypass list out of the black lists, before spamd or the -b
 * sets get them: spamd never takes a bypass host off the whitelist,
 * and a bypassed host the -b sets held would be sent to a spamd that
 * does not list it, greylisted, and sent there again: 451 for ever.
 */
static void
bypass(struct slist **res, size_t nres, const struct cidr_list *v4,
    const struct cidr_list *v6)
{
	size_t	 i;

	for (i = 0; i < nres; i++)
		if (cidr_list_subtract(&res[i]->v4, v4) == -1 ||
		    cidr_list_subtract(&res[i]->v6, v6) == -1)
			fatal("taking the bypass list out of %s",
			    res[i]->conf->name);
}

/*
 * The union of the black lists into the nft sets.  Not when a list is
 * missing: its old entries would go, so the sets stay as they were.
 */
static int
load_nft(struct slist *const *res, size_t nres, const char *table,
    const char *set4, const char *set6, int dryrun)
{
	struct cidr_list	 v4, v6;
	size_t			 i;
	int			 ret = 0;

	cidr_list_init(&v4, AF_INET);
	cidr_list_init(&v6, AF_INET6);
	for (i = 0; i < nres; i++)
		if (cidr_list_union(&v4, &res[i]->v4) == -1 ||
		    cidr_list_union(&v6, &res[i]->v6) == -1)
			fatal("union of the black lists");
	/* Normalized: the whole space is one range. */
	if ((v4.n == 1 && v4.r[0].start.lo == 0 &&
	    v4.r[0].end.lo == 0xffffffffULL) || (v6.n == 1 &&
	    v6.r[0].start.hi == 0 && v6.r[0].start.lo == 0 &&
	    v6.r[0].end.hi == UINT64_MAX && v6.r[0].end.lo == UINT64_MAX))
		log_warnx("the black lists cover a whole address family: "
		    "every client of that family will be tarpitted");
	if (dryrun)
		printf("# nft sets %s %s: %zu and %zu ranges\n", set4, set6,
		    v4.n, v6.n);
	else if (nftblack_load(table, set4, set6, &v4, &v6) == -1)
		ret = -1;
	else
		log_debug("nft sets %s and %s: %zu and %zu ranges", set4,
		    set6, v4.n, v6.n);
	cidr_list_free(&v4);
	cidr_list_free(&v6);
	return ret;
}

int
main(int argc, char *argv[])
{
	struct sdconf	 sc;
	struct cfgdest	 dst = { SPAMD_CFG_PATH, 0 };
	struct slist	*lists, **res;
	const char	*path = SPAMDCONF_PATH, *nospamd = NOSPAMD_PATH;
	const char	*trusted = TRUSTED_PATH;
	char		 errbuf[1024], **names;
	char		*table = NULL, *set4 = NULL, *set6 = NULL;
	const char	*errstr;
	size_t		 nres, nnames, i;
	int		 ch, bflag = 0, daemonize = 0, dryrun = 0, status = 0;
	int		 failed = 0, bad, fd = -1, wstatus, uflag = 0;
	int		 oversize = 0;
	pid_t		 pid;
	struct cidr_list by4, by6, tr4, tr6;
	int		 byrc, trrc;

	while ((ch = getopt(argc, argv, "bDdf:N:noP:t:U:x:")) != -1) {
		switch (ch) {
		case 'b':
			bflag = 1;
			break;
		case 'D':
			daemonize = 1;
			break;
		case 'd':
			debug = 1;
			break;
		case 'f':
			path = optarg;
			break;
		case 'N':
			/* Before 2026-12, -N was the nospamd file's path. */
			if (strchr(optarg, '/') != NULL) {
				warnx("-N %s: a path, taken as -x %s; -N now "
				    "names the nft table and sets", optarg,
				    optarg);
				nospamd = optarg;
			} else if (opt_nftnames(optarg, &table, &set4, &set6,
			    errbuf, sizeof(errbuf)) == -1)
				errx(1, "-N %s: %s", optarg, errbuf);
			break;
		case 'n':
			dryrun = 1;
			break;
		case 'o':
			oversize = 1;
			break;
		case 'P':
			dst.port = strtonum(optarg, 1, 65535, &errstr);
			if (errstr != NULL)
				errx(1, "-P %s: port is %s (allowed 1 to "
				    "65535)", optarg, errstr);
			break;
		case 't':
			trusted = optarg;
			break;
		case 'U':
			dst.path = optarg;
			uflag = 1;
			break;
		case 'x':
			nospamd = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();
	if (uflag && dst.port != 0)
		errx(1, "-P and -U: spamd-setup talks to one socket");
	if (set4 == NULL)
		set4 = NFTBLACK_SET4;
	if (set6 == NULL)
		set6 = NFTBLACK_SET6;

	/* Messages go to the terminal, and to syslog once detached. */
	log_init(!daemonize, "spamd-setup");
	log_procname("spamd-setup");
	log_setverbose(debug);
	if (sdconf_load(path, &sc, errbuf, sizeof(errbuf)) == -1)
		errx(1, "%s", errbuf);
	if (daemonize && daemon(0, 0) == -1)
		err(1, "daemon");
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		err(1, "signal");

	if ((lists = calloc(sc.nlists + 1, sizeof(*lists))) == NULL ||
	    (res = calloc(sc.norder + 1, sizeof(*res))) == NULL ||
	    (names = calloc(sc.norder + 1, sizeof(*names))) == NULL)
		err(1, "calloc");
	for (i = 0; i < sc.nlists; i++) {
		lists[i].conf = &sc.lists[i];
		if (slist_load(&lists[i], oversize) == -1)
			failed++;
	}
	bad = make_results(&sc, lists, res, &nres, names, &nnames);
	if (bad > 0 || failed > 0)
		status = 1;
	for (i = 0; i < sc.nlists; i++)
		slist_free(&lists[i]);

	if (bflag && (failed > 0 || bad > 0)) {
		log_warnx("nft sets %s and %s left as they were: a list is "
		    "missing", set4, set6);
		status = 1;
		bflag = 0;
	}
	/* The bypass list first: spamd and the -b sets get lists without it. */
	cidr_list_init(&by4, AF_INET);
	cidr_list_init(&by6, AF_INET6);
	switch (byrc = nospamd_read(nospamd, &by4, &by6)) {
	case -1:
		cidr_list_free(&by4);
		cidr_list_free(&by6);
		if (bflag) {
			log_warnx("nft sets %s and %s left as they were: "
			    "without %s they could hold its hosts", set4, set6,
			    nospamd);
			bflag = 0;
		}
		status = 1;
		break;
	case NOSPAMD_WIDE:
		status = 1;
		break;
	}
	bypass(res, nres, &by4, &by6);
	/*
	 * With -b, a child feeds spamd while we feed the kernel: the two
	 * take about as long, and each has a core.  spamd's lists are in
	 * place once the child has its answer; both are, once we have it.
	 */
	pid = -1;
	if (bflag && !dryrun) {
		fflush(stdout);
		fflush(stderr);
		if ((pid = fork()) == -1)
			err(1, "fork");
		if (pid == 0) {
			if (cfgsend_lists(&dst, res, nres, names, nnames, 0,
			    &fd) == -1 || cfgsend_wait(fd) == -1)
				_exit(1);
			_exit(0);
		}
	} else if (cfgsend_lists(&dst, res, nres, names, nnames, dryrun,
	    &fd) == -1)
		status = 1;
	if (bflag && load_nft(res, nres, table, set4, set6, dryrun) == -1)
		status = 1;
	if (netlist_load(nospamd, byrc, table, NOSPAMD_SET4, NOSPAMD_SET6,
	    &by4, &by6, dryrun) == -1)
		status = 1;
	/* The trusted list: its own sets, ahead of the blacklist sets. */
	cidr_list_init(&tr4, AF_INET);
	cidr_list_init(&tr6, AF_INET6);
	if ((trrc = trusted_read(trusted, &tr4, &tr6)) == -1 ||
	    trrc == NOSPAMD_WIDE)
		status = 1;
	if (netlist_load(trusted, trrc, table, TRUSTED_SET4, TRUSTED_SET6,
	    &tr4, &tr6, dryrun) == -1)
		status = 1;
	cidr_list_free(&tr4);
	cidr_list_free(&tr6);
	if (pid > 0) {
		while (waitpid(pid, &wstatus, 0) == -1)
			if (errno != EINTR)
				err(1, "waitpid");
		if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
			status = 1;
	} else if (fd != -1 && cfgsend_wait(fd) == -1)
		status = 1;
	for (i = 0; i < nres; i++) {
		slist_free(res[i]);
		free(res[i]);
	}
	cidr_list_free(&by4);
	cidr_list_free(&by6);
	free(res);
	free(names);
	free(lists);
	sdconf_free(&sc);
	return status;
}
