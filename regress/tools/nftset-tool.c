/*
 * nftset-tool: the nft set module (lib/nftset.c) from the command line,
 * for regress/t-nftset and bench/nft.
 *
 *	nftset-tool [-Nv] [-4 set] [-6 set] [-t table] [-u user] command
 *
 * Commands: check, add ADDR TIMEOUT_MS, retry-add ADDR TIMEOUT_MS SECS,
 * del ADDR, lookup ADDR, wait ADDR SECS (poll until present, print
 * CLOCK_MONOTONIC), list [4|6], replace-file FILE, batch FILE,
 * bench-replace N, bench-add N.  With -u the tool becomes user after opening the socket
 * and keeps only CAP_NET_ADMIN (none with -N), as the daemons do.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>		/* before the linux headers */
#include <linux/capability.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libnftnl/common.h>
#include <libnftnl/set.h>

#include "addr.h"
#include "log.h"
#include "nftset.h"
#include "nlbatch.h"
#include "priv.h"

#define LINE_MAX_LEN	256
/* Headers of a GET request with the table and set names. */
#define REQ_LEN		(2 * NFT_NAME_MAXLEN + 128)
/* bench addresses: 198.18.0.0/15 */
#define BENCH_BASE	0xc6120000U
#define BENCH_MAX	131071
#define BENCH_TIMEOUT	3600000ULL	/* 1 h */

struct counter {
	size_t	 n;
	int	 print;
};

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: nftset-tool [-Nv] [-4 set] [-6 set] "
	    "[-t table] [-u user] command [arg ...]\n"
	    "commands: check | add addr timeout_ms | "
	    "retry-add addr timeout_ms secs |\n"
	    "    del addr | lookup addr | wait addr secs |\n"
	    "    list [4|6] | replace-file file | batch file |\n"
	    "    bench-replace n | bench-add n\n");
	exit(2);
}

static double
now(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		err(1, "clock_gettime");
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
parse_addr(struct addr *a, const char *s)
{
	if (addr_parse(a, s) == -1)
		errx(2, "not an address: %s", s);
}

static uint64_t
parse_num(const char *s, long long max, const char *what)
{
	const char	*errstr;
	long long	 v;

	v = strtonum(s, 0, max, &errstr);
	if (errstr != NULL)
		errx(2, "%s %s: %s", what, s, errstr);
	return (uint64_t)v;
}

static int
print_elem(const struct addr *a, uint64_t timeout_ms, uint64_t expires_ms,
    void *arg)
{
	struct counter	*c = arg;
	char		 buf[INET6_ADDRSTRLEN];

	c->n++;
	if (c->print)
		printf("%s timeout=%llu expires=%llu\n",
		    addr_str(a, buf, sizeof(buf)),
		    (unsigned long long)timeout_ms,
		    (unsigned long long)expires_ms);
	return 0;
}

/*
 * Dumps and lookups, which only this tool needs: GETSETELEM requests on
 * a socket of the transport (lib/nlbatch.c) beside the nftset handle.
 */
struct dumper {
	struct nlbatch	*nb;
	const char	*table;
	const char	*set4;
	const char	*set6;
};

struct listctx {
	int		(*cb)(const struct addr *, uint64_t, uint64_t, void *);
	void		*arg;
	int		 stopped;
};

struct lookupctx {
	uint64_t	 timeout_ms;
	uint64_t	 expires_ms;
	int		 found;
};

static void
dumper_open(struct dumper *d, const char *table, const char *set4,
    const char *set6)
{
	d->table = table != NULL ? table : NFTSET_TABLE;
	d->set4 = set4 != NULL ? set4 : NFTSET_SET4;
	d->set6 = set6 != NULL ? set6 : NFTSET_SET6;
	if ((d->nb = nlb_open(d->table)) == NULL)
		exit(1);
}

static const char *
dumper_set(const struct dumper *d, int af)
{
	return af == AF_INET ? d->set4 : d->set6;
}

static int
elem_addr(struct nftnl_set_elem *e, struct addr *a)
{
	const void	*key;
	uint32_t	 len;

	if ((key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len)) == NULL ||
	    (len != 4 && len != 16))
		return -1;
	memset(a, 0, sizeof(*a));
	a->af = len == 4 ? AF_INET : AF_INET6;
	memcpy(a->a, key, len);
	return 0;
}

static uint64_t
elem_u64(struct nftnl_set_elem *e, uint16_t attr)
{
	return nftnl_set_elem_is_set(e, attr) ?
	    nftnl_set_elem_get_u64(e, attr) : 0;
}

/* Parse a NEWSETELEM reply and call fn per element. */
static int
each_elem(const struct nlmsghdr *nlh, int (*fn)(struct nftnl_set_elem *,
    void *), void *arg)
{
	struct nftnl_set		*s;
	struct nftnl_set_elems_iter	*it;
	struct nftnl_set_elem		*e;
	int				 ret = MNL_CB_OK;

	if ((s = nftnl_set_alloc()) == NULL)
		return MNL_CB_ERROR;
	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if ((it = nftnl_set_elems_iter_create(s)) == NULL) {
		nftnl_set_free(s);
		return MNL_CB_ERROR;
	}
	while ((e = nftnl_set_elems_iter_next(it)) != NULL)
		fn(e, arg);
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	return ret;
}

static int
list_elem(struct nftnl_set_elem *e, void *arg)
{
	struct listctx	*lc = arg;
	struct addr	 a;

	if (lc->stopped || elem_addr(e, &a) == -1)
		return 0;
	if (lc->cb(&a, elem_u64(e, NFTNL_SET_ELEM_TIMEOUT),
	    elem_u64(e, NFTNL_SET_ELEM_EXPIRATION), lc->arg) != 0)
		lc->stopped = 1;
	return 0;
}

static int
list_cb(const struct nlmsghdr *nlh, void *arg)
{
	return each_elem(nlh, list_elem, arg);
}

static int
list_one(struct dumper *d, int af, struct listctx *lc)
{
	char		 req[REQ_LEN];
	struct nlmsghdr	*nlh;

	memset(req, 0, sizeof(req));
	nlh = nlb_put_msg(req, sizeof(req), NFT_MSG_GETSETELEM, NLM_F_DUMP,
	    nlb_seq(d->nb), d->table, dumper_set(d, af));
	if (nlh == NULL) {
		errno = EMSGSIZE;
		return -1;
	}
	if (nlb_request(d->nb, nlh, list_cb, lc) == -1) {
		if (errno != EINTR)
			log_warn("nft set inet %s %s: list%s", d->table,
			    dumper_set(d, af), strerror(errno));
		return -1;
	}
	return 0;
}

static int
dump_list(struct dumper *d, int af,
    int (*cb)(const struct addr *, uint64_t, uint64_t, void *), void *arg)
{
	struct listctx	 lc;

	memset(&lc, 0, sizeof(lc));
	lc.cb = cb;
	lc.arg = arg;
	if (af != AF_INET6 && list_one(d, AF_INET, &lc) == -1)
		return -1;
	if (af != AF_INET && !lc.stopped && list_one(d, AF_INET6, &lc) == -1)
		return -1;
	return 0;
}

static int
lookup_elem(struct nftnl_set_elem *e, void *arg)
{
	struct lookupctx	*lk = arg;

	lk->timeout_ms = elem_u64(e, NFTNL_SET_ELEM_TIMEOUT);
	lk->expires_ms = elem_u64(e, NFTNL_SET_ELEM_EXPIRATION);
	lk->found = 1;
	return 0;
}

static int
lookup_cb(const struct nlmsghdr *nlh, void *arg)
{
	return each_elem(nlh, lookup_elem, arg);
}

static int
dump_lookup(struct dumper *d, const struct addr *a, uint64_t *timeout_ms,
    uint64_t *expires_ms)
{
	char			 req[REQ_LEN + NLB_ELEM_MAXLEN];
	char			 as[INET6_ADDRSTRLEN];
	struct lookupctx	 lk;
	struct nlmsghdr		*nlh;
	struct nlattr		*list;

	if (a->af != AF_INET && a->af != AF_INET6) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	memset(req, 0, sizeof(req));
	nlh = nlb_put_msg(req, sizeof(req), NFT_MSG_GETSETELEM, NLM_F_ACK,
	    nlb_seq(d->nb), d->table, dumper_set(d, a->af));
	if (nlh == NULL ||
	    (list = mnl_attr_nest_start_check(nlh, sizeof(req),
	    NFTA_SET_ELEM_LIST_ELEMENTS)) == NULL ||
	    nlb_put_elem(nlh, sizeof(req), a->af, a->a, 0, 0) == -1) {
		errno = EMSGSIZE;
		return -1;
	}
	mnl_attr_nest_end(nlh, list);
	memset(&lk, 0, sizeof(lk));
	if (nlb_request(d->nb, nlh, lookup_cb, &lk) == -1) {
		if (errno != ENOENT)
			log_warn("nft set inet %s %s: get %s%s", d->table,
			    dumper_set(d, a->af), addr_str(a, as, sizeof(as)),
			    strerror(errno));
		return -1;
	}
	if (!lk.found) {
		errno = ENOENT;
		return -1;
	}
	if (timeout_ms != NULL)
		*timeout_ms = lk.timeout_ms;
	if (expires_ms != NULL)
		*expires_ms = lk.expires_ms;
	return 0;
}

static FILE *
open_input(const char *path)
{
	FILE	*fp;

	if (strcmp(path, "-") == 0)
		return stdin;
	if ((fp = fopen(path, "r")) == NULL)
		err(1, "%s", path);
	return fp;
}

/* Split a line into at most max words; returns their number. */
static int
words(char *line, char **w, int max)
{
	char	*p;
	int	 n = 0;

	while (n < max && (p = strsep(&line, " \t\r\n")) != NULL)
		if (*p != '\0')
			w[n++] = p;
	return n;
}

/* replace-file: lines "addr [timeout_ms]", '#' starts a comment. */
static int
cmd_replace_file(struct nftset *ns, const char *path)
{
	struct nftset_elem	*e = NULL, *ne;
	char			 line[LINE_MAX_LEN], *w[3];
	size_t			 n = 0, cap = 0;
	FILE			*fp;
	int			 nw, ret;

	fp = open_input(path);
	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "#")] = '\0';
		if ((nw = words(line, w, 3)) == 0)
			continue;
		if (nw > 2)
			errx(2, "%s: extra words after %s", path, w[1]);
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((ne = reallocarray(e, cap, sizeof(*e))) == NULL)
				err(1, "reallocarray");
			e = ne;
		}
		parse_addr(&e[n].addr, w[0]);
		e[n].timeout_ms = nw > 1 ?
		    parse_num(w[1], LLONG_MAX, "timeout") : 0;
		n++;
	}
	if (ferror(fp))
		err(1, "%s", path);
	if (fp != stdin)
		fclose(fp);
	ret = nftset_replace(ns, e, n);
	free(e);
	return ret == 0 ? 0 : 1;
}

/* batch: lines "add addr timeout_ms" or "del addr", one transaction. */
static int
cmd_batch(struct nftset *ns, const char *path)
{
	char		 line[LINE_MAX_LEN], *w[4];
	struct addr	 a;
	FILE		*fp;
	int		 nw;

	fp = open_input(path);
	nftset_begin(ns);
	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "#")] = '\0';
		if ((nw = words(line, w, 4)) == 0)
			continue;
		if (strcmp(w[0], "add") == 0 && nw == 3) {
			parse_addr(&a, w[1]);
			if (nftset_queue_add(ns, &a,
			    parse_num(w[2], LLONG_MAX, "timeout")) == -1)
				return 1;
		} else if (strcmp(w[0], "del") == 0 && nw == 2) {
			parse_addr(&a, w[1]);
			if (nftset_queue_del(ns, &a) == -1)
				return 1;
		} else
			errx(2, "%s: bad line starting %s", path, w[0]);
	}
	if (ferror(fp))
		err(1, "%s", path);
	if (fp != stdin)
		fclose(fp);
	return nftset_commit(ns) == 0 ? 0 : 1;
}

/*
 * retry-add: add every 100 ms on the same handle until it works or
 * secs pass, as the greylister does while the sets are missing.
 */
static int
cmd_retry_add(struct nftset *ns, const struct addr *a, uint64_t timeout_ms,
    uint64_t secs)
{
	struct timespec	 ts = { 0, 100 * 1000 * 1000 };
	double		 end = now() + secs;
	unsigned int	 fails = 0;

	while (nftset_add(ns, a, timeout_ms) == -1) {
		fails++;
		if (errno != ENOENT || now() > end) {
			printf("retry-add: gave up after %u failures\n", fails);
			return 1;
		}
		if (nanosleep(&ts, NULL) == -1 && errno != EINTR)
			err(1, "nanosleep");
	}
	printf("retry-add: added after %u failures\n", fails);
	return 0;
}

static void
bench_addr(struct addr *a, size_t i)
{
	uint32_t	 v = BENCH_BASE + 1 + (uint32_t)i;

	memset(a, 0, sizeof(*a));
	a->af = AF_INET;
	a->a[0] = v >> 24;
	a->a[1] = v >> 16;
	a->a[2] = v >> 8;
	a->a[3] = v;
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sort v and print its median, 99th percentile and maximum in ms. */
static void
print_dist(const char *name, double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	printf("%s_p50_ms=%.3f %s_p99_ms=%.3f %s_max_ms=%.3f\n",
	    name, v[n / 2] * 1e3, name, v[(n * 99) / 100] * 1e3,
	    name, v[n - 1] * 1e3);
}

static int
count_elems(struct dumper *d, size_t *n)
{
	struct counter	 c;

	memset(&c, 0, sizeof(c));
	if (dump_list(d, AF_UNSPEC, print_elem, &c) == -1)
		return -1;
	*n = c.n;
	return 0;
}

/* bench-replace: the start-up reconcile of n WHITE records. */
static int
cmd_bench_replace(struct nftset *ns, struct dumper *d, size_t n)
{
	struct nftset_elem	*e;
	double			 t0, empty, over, list;
	size_t			 i, got;

	if ((e = calloc(n ? n : 1, sizeof(*e))) == NULL)
		err(1, "calloc");
	for (i = 0; i < n; i++) {
		bench_addr(&e[i].addr, i);
		e[i].timeout_ms = BENCH_TIMEOUT + (i % 3600) * 1000;
	}
	if (nftset_replace(ns, NULL, 0) == -1)
		return 1;
	t0 = now();
	if (nftset_replace(ns, e, n) == -1)
		return 1;
	empty = now() - t0;
	t0 = now();
	if (count_elems(d, &got) == -1)
		return 1;
	list = now() - t0;
	if (got != n) {
		printf("bench-replace: %zu elements in the sets, want %zu\n",
		    got, n);
		return 1;
	}
	for (i = 0; i < n; i++)
		e[i].timeout_ms += 60000;
	t0 = now();
	if (nftset_replace(ns, e, n) == -1)
		return 1;
	over = now() - t0;
	if (count_elems(d, &got) == -1)
		return 1;
	free(e);
	printf("bench-replace n=%zu into_empty_s=%.3f over_existing_s=%.3f "
	    "list_s=%.3f listed=%zu\n", n, empty, over, list, got);
	return got == n ? 0 : 1;
}

/*
 * bench-add: n single adds, one transaction each.  After each add a
 * second socket asks the kernel for the element, so "visible" is the
 * time from the call until another process can see it.
 */
static int
cmd_bench_add(struct nftset *ns, struct dumper *probe, size_t n)
{
	struct addr	 a;
	double		*add, *vis, *re, t0, t1, start;
	uint64_t	 to;
	size_t		 i, retries = 0;
	int		 tries;

	if ((add = calloc(n, sizeof(*add))) == NULL ||
	    (vis = calloc(n, sizeof(*vis))) == NULL ||
	    (re = calloc(n, sizeof(*re))) == NULL)
		err(1, "calloc");
	if (nftset_replace(ns, NULL, 0) == -1)
		return 1;
	start = now();
	for (i = 0; i < n; i++) {
		bench_addr(&a, i);
		if (dump_lookup(probe, &a, NULL, NULL) == 0 ||
		    errno != ENOENT) {
			printf("bench-add: element %zu there before the add\n",
			    i);
			return 1;
		}
		t0 = now();
		if (nftset_add(ns, &a, BENCH_TIMEOUT) == -1)
			return 1;
		t1 = now();
		for (tries = 0; dump_lookup(probe, &a, NULL, NULL) == -1;
		    tries++) {
			if (errno != ENOENT || tries > 1000) {
				printf("bench-add: element %zu never seen\n",
				    i);
				return 1;
			}
			retries++;
		}
		add[i] = t1 - t0;
		vis[i] = now() - t0;
	}
	printf("bench-add n=%zu loop_s=%.3f lookup_retries=%zu\n", n,
	    now() - start, retries);
	/* The same elements again: the refresh of existing elements. */
	for (i = 0; i < n; i++) {
		bench_addr(&a, i);
		t0 = now();
		if (nftset_add(ns, &a, 2 * BENCH_TIMEOUT) == -1)
			return 1;
		re[i] = now() - t0;
	}
	bench_addr(&a, n - 1);
	if (dump_lookup(probe, &a, &to, NULL) == -1 ||
	    to != 2 * BENCH_TIMEOUT) {
		printf("bench-add: refresh did not set the timeout\n");
		return 1;
	}
	print_dist("add", add, n);
	print_dist("visible", vis, n);
	print_dist("refresh", re, n);
	free(add);
	free(vis);
	free(re);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct nftset	*ns;
	struct dumper	 d, probe;
	struct passwd	*pw = NULL;
	struct counter	 c;
	struct addr	 a;
	const char	*table = NULL, *set4 = NULL, *set6 = NULL, *cmd;
	char		 msg[1024];
	uint64_t	 to, ex;
	size_t		 n;
	int		 ch, nocaps = 0, verbose = 0, ret = 1, af;

	while ((ch = getopt(argc, argv, "4:6:Nt:u:v")) != -1) {
		switch (ch) {
		case '4':
			set4 = optarg;
			break;
		case '6':
			set6 = optarg;
			break;
		case 'N':
			nocaps = 1;
			break;
		case 't':
			table = optarg;
			break;
		case 'u':
			if ((pw = getpwnam(optarg)) == NULL)
				errx(2, "no user %s", optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	cmd = argv[0];

	log_init(1, "nftset-tool");
	log_setverbose(verbose);
	if ((ns = nftset_open(table, set4, set6)) == NULL)
		return 1;
	/* Reads go through sockets of their own, as another process's. */
	dumper_open(&d, table, set4, set6);
	dumper_open(&probe, table, set4, set6);
	if (pw != NULL)
		priv_drop(pw, NULL, nocaps ? 0 : 1ULL << CAP_NET_ADMIN);

	if (strcmp(cmd, "check") == 0 && argc == 1) {
		if ((ret = nftset_check(ns, msg, sizeof(msg))) == 0)
			printf("check: ok\n");
		else
			printf("check: %s\n", msg);
		ret = ret == 0 ? 0 : 1;
	} else if (strcmp(cmd, "add") == 0 && argc == 3) {
		parse_addr(&a, argv[1]);
		ret = nftset_add(ns, &a,
		    parse_num(argv[2], LLONG_MAX, "timeout")) == 0 ? 0 : 1;
	} else if (strcmp(cmd, "retry-add") == 0 && argc == 4) {
		parse_addr(&a, argv[1]);
		ret = cmd_retry_add(ns, &a,
		    parse_num(argv[2], LLONG_MAX, "timeout"),
		    parse_num(argv[3], 3600, "seconds"));
	} else if (strcmp(cmd, "del") == 0 && argc == 2) {
		parse_addr(&a, argv[1]);
		ret = nftset_del(ns, &a) == 0 ? 0 : 1;
	} else if (strcmp(cmd, "lookup") == 0 && argc == 2) {
		parse_addr(&a, argv[1]);
		if (dump_lookup(&d, &a, &to, &ex) == 0) {
			printf("%s timeout=%llu expires=%llu\n", argv[1],
			    (unsigned long long)to, (unsigned long long)ex);
			ret = 0;
		} else if (errno == ENOENT)
			printf("%s absent\n", argv[1]);
	} else if (strcmp(cmd, "wait") == 0 && argc == 3) {
		/* Poll until addr is in its set; print CLOCK_MONOTONIC then. */
		double	deadline;

		parse_addr(&a, argv[1]);
		deadline = now() + (double)parse_num(argv[2], 3600, "seconds");
		printf("waiting\n");
		fflush(stdout);
		while (dump_lookup(&d, &a, &to, &ex) == -1) {
			/* Not a busy loop: on 2 cores it would delay spamd. */
			usleep(100);
			if (now() > deadline) {
				printf("%s absent\n", argv[1]);
				break;
			}
		}
		if (now() <= deadline) {
			printf("found %.6f\n", now());
			ret = 0;
		}
	} else if (strcmp(cmd, "list") == 0 && argc <= 2) {
		af = AF_UNSPEC;
		if (argc == 2 && strcmp(argv[1], "4") == 0)
			af = AF_INET;
		else if (argc == 2 && strcmp(argv[1], "6") == 0)
			af = AF_INET6;
		else if (argc == 2)
			usage();
		memset(&c, 0, sizeof(c));
		c.print = 1;
		ret = dump_list(&d, af, print_elem, &c) == 0 ? 0 : 1;
	} else if (strcmp(cmd, "replace-file") == 0 && argc == 2)
		ret = cmd_replace_file(ns, argv[1]);
	else if (strcmp(cmd, "batch") == 0 && argc == 2)
		ret = cmd_batch(ns, argv[1]);
	else if (strcmp(cmd, "bench-replace") == 0 && argc == 2) {
		n = parse_num(argv[1], BENCH_MAX, "count");
		ret = cmd_bench_replace(ns, &d, n);
	} else if (strcmp(cmd, "bench-add") == 0 && argc == 2) {
		n = parse_num(argv[1], BENCH_MAX, "count");
		if (n == 0)
			errx(2, "bench-add needs at least one element");
		ret = cmd_bench_add(ns, &probe, n);
	} else
		usage();

	nlb_close(probe.nb);
	nlb_close(d.nb);
	nftset_close(ns);
	return ret;
}
