/*
 * dbbench: load, scan and update spamd's database, for bench/db.
 *
 *	dbbench load dir n now
 *	dbbench scan dir now
 *	dbbench update dir n
 *
 * load creates the database in dir (which must not hold one) and writes
 * n entries through lib/gdb's store, 1000 to a transaction: 70% GREY
 * tuples, 24% WHITE, 5% TRAPPED, 1% SPAMTRAP, IPv4 and IPv6.  Every
 * other entry expired at `now' (seconds since the epoch); one GREY tuple
 * in a thousand has passed, so a scan at `now' deletes about half of
 * them and promotes a few.
 *
 * scan forks an updater, a second process with its own handle on the
 * environment that feeds new tuples to grey_tuple() as fast as it can,
 * lets it run alone for a second, then runs grey_scan() at `now' and
 * reports the time the scan took and the updates per second the
 * updater managed alone and while the scan ran:
 *
 *	scan: seen N deleted N promoted N in X s
 *	updates: alone N/s, during the scan N/s (N updates)
 *
 * update runs n grey_tuple() calls and prints how long they took.
 */
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gdb.h"
#include "grey.h"
#include "log.h"

#define BATCH	1000

static const struct grey_conf gc = {
	PASSTIME, GREYEXP, WHITEEXP, TRAPEXP
};

static void	usage(void) __attribute__((noreturn));
static double	now_s(void);
static struct store *open_db(const char *, int);
static void	entry(unsigned long, time_t, char *, size_t, size_t *,
		    struct gdata *);
static void	load(const char *, unsigned long, time_t);
static void	updater(const char *, volatile uint64_t *);
static void	scan(const char *, time_t);
static void	update(const char *, unsigned long);

static void
usage(void)
{
	fprintf(stderr, "usage: dbbench load dir n now\n"
	    "       dbbench scan dir now\n"
	    "       dbbench update dir n\n");
	exit(2);
}

static double
now_s(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		err(1, "clock_gettime");
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct store *
open_db(const char *dir, int flags)
{
	struct store	*st;
	char		 e[512];

	if ((st = gdb_open(dir, flags, e, sizeof(e))) == NULL)
		errx(1, "%s", e);
	return st;
}

/* The i-th entry of a load at time t. */
static void
entry(unsigned long i, time_t t, char *key, size_t len, size_t *keylen,
    struct gdata *gd)
{
	char		ip[64];
	unsigned long	kind = i % 100, a = i / 2;
	int		n;

	if (i % 3 == 0)
		snprintf(ip, sizeof(ip), "2001:db8:%lx:%lx::%lx",
		    (a >> 32) & 0xffff, (a >> 16) & 0xffff, a & 0xffff);
	else
		snprintf(ip, sizeof(ip), "198.%lu.%lu.%lu",
		    18 + ((a >> 16) & 1), (a >> 8) & 0xff, a & 0xff);
	memset(gd, 0, sizeof(*gd));
	gd->first = t - 3600;
	gd->bcount = 1;
	gd->expire = i % 2 ? t + GREYEXP : t - 60;
	if (kind < 70) {
		gd->pass = i % 1000 == 1 ? t - 10 : gd->expire;
		n = snprintf(key, len, "%s\nmail%lu.example.net\n"
		    "<sender%lu@example.net>\n<rcpt%lu@example.org>",
		    ip, i % 97, i, i % 1013);
	} else if (kind < 94) {
		/* Distinct ips: 198.18.0.0/15 first, then IPv6. */
		unsigned long w = i / 100 * 24 + kind - 70;

		gd->pass = t - 1800;
		gd->pcount = (int)(i % 7);
		if (w < 131072)
			n = snprintf(key, len, "198.%lu.%lu.%lu",
			    18 + (w >> 16), (w >> 8) & 0xff, w & 0xff);
		else
			n = snprintf(key, len, "2001:db8:ffff:%lx::%lx",
			    (w >> 16) & 0xffff, w & 0xffff);
	} else if (kind < 99) {
		gd->pcount = GD_TRAPPED;
		n = snprintf(key, len, "2001:db8:eeee:%lx::%lx",
		    (i >> 16) & 0xffff, i & 0xffff);
	} else {
		gd->pcount = GD_SPAMTRAP;
		gd->expire = 0;
		n = snprintf(key, len, "trap%lu@example.org", i);
	}
	if (n < 0 || (size_t)n >= len)
		errx(1, "key too long");
	*keylen = (size_t)n;
}

static void
load(const char *dir, unsigned long n, time_t t)
{
	struct store	*st;
	struct gdata	 gd;
	char		 key[GD_KEY_MAX];
	size_t		 keylen;
	unsigned long	 i, j;
	double		 t0;
	int		 r;

	st = open_db(dir, GDB_CREATE);
	t0 = now_s();
	for (i = 0; i < n; i += BATCH) {
		if (st->ops->begin(st->h) != STORE_OK)
			errx(1, "begin");
		for (j = i; j < n && j < i + BATCH; j++) {
			entry(j, t, key, sizeof(key), &keylen, &gd);
			if ((r = st->ops->put(st->h, key, keylen, &gd)) !=
			    STORE_OK)
				errx(1, "put: %d", r);
		}
		if (st->ops->commit(st->h) != STORE_OK)
			errx(1, "commit");
	}
	store_close(st);
	printf("load: %lu entries in %.2f s\n", n, now_s() - t0);
}

/*
 * Feed new tuples to the greylister's policy until told to stop
 * (count[1]).  Never kill a process inside Berkeley DB: it would leave
 * its locks and mutexes taken, and the others would wait for ever.
 */
static void
updater(const char *dir, volatile uint64_t *count)
{
	struct store	*st;
	char		 ip[64], from[64];
	unsigned long	 i;

	st = open_db(dir, 0);
	for (i = 0; !__atomic_load_n(&count[1], __ATOMIC_RELAXED); i++) {
		snprintf(ip, sizeof(ip), "2001:db8:dddd:%lx::%lx",
		    (i >> 16) & 0xffff, i & 0xffff);
		snprintf(from, sizeof(from), "<u%lu@example.net>", i);
		if (grey_tuple(st, &gc, time(NULL), ip, "mx.example.net",
		    from, "<bob@example.org>", NULL) == GREY_FAIL)
			errx(1, "grey_tuple failed");
		__atomic_add_fetch(count, 1, __ATOMIC_RELAXED);
	}
	store_close(st);
}

static void
scan(const char *dir, time_t t)
{
	struct store		*st;
	struct grey_scan_stats	 stats;
	volatile uint64_t	*count;
	uint64_t		 c0, c1, c2;
	double			 t0, t1, t2;
	pid_t			 pid;
	int			 status;

	count = mmap(NULL, 2 * sizeof(*count), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (count == MAP_FAILED)
		err(1, "mmap");
	count[0] = count[1] = 0;
	switch (pid = fork()) {
	case -1:
		err(1, "fork");
	case 0:
		updater(dir, count);
		_exit(0);
	}
	st = open_db(dir, 0);
	/* Give the updater a second alone, once it has started. */
	while (__atomic_load_n(count, __ATOMIC_RELAXED) == 0) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			errx(1, "updater failed");
		usleep(1000);
	}
	t0 = now_s();
	c0 = __atomic_load_n(count, __ATOMIC_RELAXED);
	usleep(1000000);
	t1 = now_s();
	c1 = __atomic_load_n(count, __ATOMIC_RELAXED);
	if (grey_scan(st, &gc, t, NULL, &stats) == -1)
		errx(1, "grey_scan failed");
	t2 = now_s();
	c2 = __atomic_load_n(count, __ATOMIC_RELAXED);
	__atomic_store_n(&count[1], 1, __ATOMIC_RELAXED);
	if (waitpid(pid, &status, 0) == -1)
		err(1, "waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		errx(1, "updater failed");
	store_close(st);
	printf("scan: seen %lu deleted %lu promoted %lu in %.2f s\n",
	    stats.seen, stats.deleted, stats.promoted, t2 - t1);
	printf("updates: alone %.0f/s, during the scan %.0f/s "
	    "(%llu updates)\n", (c1 - c0) / (t1 - t0),
	    (c2 - c1) / (t2 - t1), (unsigned long long)(c2 - c1));
}

static void
update(const char *dir, unsigned long n)
{
	struct store	*st;
	char		 ip[64], from[64];
	unsigned long	 i;
	double		 t0, t;

	st = open_db(dir, 0);
	t0 = now_s();
	for (i = 0; i < n; i++) {
		snprintf(ip, sizeof(ip), "2001:db8:cccc:%lx::%lx",
		    (i >> 16) & 0xffff, i & 0xffff);
		snprintf(from, sizeof(from), "<u%lu@example.net>", i);
		if (grey_tuple(st, &gc, time(NULL), ip, "mx.example.net",
		    from, "<bob@example.org>", NULL) == GREY_FAIL)
			errx(1, "grey_tuple failed");
	}
	t = now_s() - t0;
	store_close(st);
	printf("update: %lu tuples in %.2f s, %.0f/s\n", n, t, n / t);
}

int
main(int argc, char *argv[])
{
	const char	*e;
	long long	 n;

	log_init(1, "dbbench");
	if (argc < 3)
		usage();
	if (strcmp(argv[1], "load") == 0 && argc == 5) {
		long long	t;

		n = strtonum(argv[3], 0, 100000000, &e);
		if (e != NULL)
			errx(2, "n %s: %s", argv[3], e);
		t = strtonum(argv[4], 1, INT64_MAX, &e);
		if (e != NULL)
			errx(2, "now %s: %s", argv[4], e);
		load(argv[2], (unsigned long)n, (time_t)t);
	} else if (strcmp(argv[1], "scan") == 0 && argc == 4) {
		n = strtonum(argv[3], 1, INT64_MAX, &e);
		if (e != NULL)
			errx(2, "now %s: %s", argv[3], e);
		scan(argv[2], (time_t)n);
	} else if (strcmp(argv[1], "update") == 0 && argc == 4) {
		n = strtonum(argv[3], 1, 100000000, &e);
		if (e != NULL)
			errx(2, "n %s: %s", argv[3], e);
		update(argv[2], (unsigned long)n);
	} else
		usage();
	return 0;
}
