/*
 * dbfault: Berkeley DB under kill -9, and bytes written per tuple, for
 * bench/faults and regress/t-dbopen.
 *
 *	dbfault kill dir rounds
 *	dbfault opener dir
 *	dbfault write dir n every
 *	dbfault flood dir n
 *
 * kill runs a greylister (grey_tuple as fast as it goes, reporting the
 * longest call), a spamlogd (grey_white_seen of new hosts, 64 to a
 * transaction, writing each committed host to a pipe) and a spamdb
 * (open, whitelist 8 new hosts in one transaction, report them, close,
 * again: most of its life is opening and closing), each a process with
 * its own handle on the environment in dir, and SIGKILLs one of them at
 * a random moment every round (spamlogd two rounds in four, then spamdb,
 * then the greylister), starting it again.  At the end it checks that
 * every WHITE entry whose commit was reported is in the database and
 * prints:
 *
 *	rounds: N survived, N committed WHITE, N lost
 *	stall: longest grey_tuple call N ms (after N kills)
 *	open: longest open of the environment N ms (N opens)
 *
 * opener opens and closes the environment in dir until killed, so a
 * kill lands inside an open or a close (regress/t-dbopen).
 *
 * write runs n grey_tuple calls of ordinary size through lib/gdb and
 * prints the bytes the process wrote (/proc/self/io wchar, the final
 * checkpoint at close included) per tuple.  every > 0 checkpoints every
 * that many commits through a second handle, as lib/gdb did before.
 *
 * flood writes n GREY tuples as write does, but ten days old, so that
 * the next scan expires them all (regress/t-dbcompact).
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <db.h>
#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gdb.h"
#include "grey.h"
#include "log.h"

static const struct grey_conf gc = {
	PASSTIME, GREYEXP, WHITEEXP, TRAPEXP
};

static void	usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fprintf(stderr, "usage: dbfault kill dir rounds\n"
	    "       dbfault opener dir\n"
	    "       dbfault write dir n every\n"
	    "       dbfault flood dir n\n");
	exit(2);
}

static double
now_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		err(1, "clock_gettime");
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
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

/* The greylister: longest call so far, on fd, whenever it grows. */
static void __attribute__((noreturn))
greylister(const char *dir, int fd, unsigned gen)
{
	struct store	*st = open_db(dir, 0);
	char		 ip[64], to[64];
	double		 t0, d, worst = 0;
	unsigned long	 i;

	for (i = 0;; i++) {
		snprintf(ip, sizeof(ip), "198.18.%u.%lu", gen % 256, i % 250);
		snprintf(to, sizeof(to), "<r%lu@example.net>", i);
		t0 = now_ms();
		if (grey_tuple(st, &gc, time(NULL), ip, "helo.example.org",
		    "<a@example.org>", to, NULL) == GREY_FAIL)
			(void)store_mend(st);
		d = now_ms() - t0;
		if (d > worst) {
			worst = d;
			if (write(fd, &worst, sizeof(worst)) == -1)
				_exit(1);
		}
	}
}

/* The spamlogd: each committed batch of new hosts goes to fd. */
struct wbatch {
	unsigned	 base;
	int		 n;
};

static int
white_txn(struct store *st, void *arg)
{
	struct wbatch	*b = arg;
	struct gdata	 gd;
	enum grey_seen	 res;
	char		 ip[64];
	int		 i, rv;

	for (i = 0; i < b->n; i++) {
		snprintf(ip, sizeof(ip), "2001:db8:%x:%x::1",
		    (b->base + i) >> 16, (b->base + i) & 0xffff);
		if ((rv = grey_white_seen(st, WHITEEXP, time(NULL), ip, 1,
		    &res, &gd)) != STORE_OK)
			return rv;
	}
	return STORE_OK;
}

/* The spamdb: short lives, each timed open reported on ofd. */
static void __attribute__((noreturn))
spamdb(const char *dir, int fd, int ofd, unsigned base)
{
	struct store	*st;
	struct wbatch	 b;
	double		 t0, d;

	for (b.base = base, b.n = 8;; b.base += b.n) {
		t0 = now_ms();
		st = open_db(dir, 0);
		d = now_ms() - t0;
		if (write(ofd, &d, sizeof(d)) == -1)
			_exit(1);
		if (store_txn(st, white_txn, &b) == STORE_OK &&
		    write(fd, &b, sizeof(b)) == -1)
			_exit(1);
		store_close(st);
	}
}

static void __attribute__((noreturn))
writer(const char *dir, int fd, unsigned base)
{
	struct store	*st = open_db(dir, 0);
	struct wbatch	 b;

	for (b.base = base, b.n = 64;; b.base += b.n) {
		if (store_txn(st, white_txn, &b) != STORE_OK) {
			(void)store_mend(st);
			continue;
		}
		if (write(fd, &b, sizeof(b)) == -1)
			_exit(1);
	}
}

static void
reap(pid_t pid)
{
	if (kill(pid, SIGKILL) == -1)
		err(1, "kill %ld", (long)pid);
	if (waitpid(pid, NULL, 0) == -1)
		err(1, "waitpid %ld", (long)pid);
}

static int
readable(int fd)
{
	struct timespec	 z = { 0, 0 };
	fd_set		 fs;

	FD_ZERO(&fs);
	FD_SET(fd, &fs);
	return pselect(fd + 1, &fs, NULL, NULL, &z, NULL) > 0;
}

/* The committed batches on fd, into done. */
static void
drain(int fd, unsigned *done, unsigned *ndone, unsigned cap)
{
	struct wbatch	 b;
	int		 i;

	while (readable(fd) && read(fd, &b, sizeof(b)) == sizeof(b))
		for (i = 0; i < b.n && *ndone < cap; i++)
			done[(*ndone)++] = b.base + i;
}

static int
kill_run(const char *dir, int rounds)
{
	struct store	*st;
	struct gdata	 gd;
	char		 ip[64];
	double		 w, worst = 0, oworst = 0;
	unsigned	*done, ndone = 0, cap = 1 << 20, base = 0, k;
	unsigned long	 nopen = 0;
	pid_t		 gp, wp, sp;
	int		 gfd[2], wfd[2], ofd[2], r, lost = 0;

	if ((done = calloc(cap, sizeof(*done))) == NULL)
		err(1, NULL);
	store_close(open_db(dir, GDB_CREATE));
	if (pipe(gfd) == -1 || pipe(wfd) == -1 || pipe(ofd) == -1)
		err(1, "pipe");
	if ((gp = fork()) == -1)
		err(1, "fork");
	if (gp == 0)
		greylister(dir, gfd[1], 0);
	if ((wp = fork()) == -1)
		err(1, "fork");
	if (wp == 0)
		writer(dir, wfd[1], base);
	base += 1 << 16;
	if ((sp = fork()) == -1)
		err(1, "fork");
	if (sp == 0)
		spamdb(dir, wfd[1], ofd[1], base);
	for (r = 0; r < rounds; r++) {
		usleep(60000 + arc4random_uniform(80000));
		switch (r % 4) {
		case 3:
			reap(gp);
			if ((gp = fork()) == -1)
				err(1, "fork");
			if (gp == 0)
				greylister(dir, gfd[1], r);
			break;
		case 2:
			reap(sp);
			base += 1 << 16;
			if ((sp = fork()) == -1)
				err(1, "fork");
			if (sp == 0)
				spamdb(dir, wfd[1], ofd[1], base);
			break;
		default:
			reap(wp);
			base += 1 << 16;
			if ((wp = fork()) == -1)
				err(1, "fork");
			if (wp == 0)
				writer(dir, wfd[1], base);
			break;
		}
		/* Drain what was committed, the pipe must not fill. */
		drain(wfd[0], done, &ndone, cap);
		while (readable(ofd[0]) && read(ofd[0], &w, sizeof(w)) ==
		    sizeof(w)) {
			nopen++;
			if (w > oworst)
				oworst = w;
		}
	}
	usleep(1500000);	/* a last stall shows up */
	reap(gp);
	reap(wp);
	reap(sp);
	close(gfd[1]);
	close(wfd[1]);
	close(ofd[1]);
	drain(wfd[0], done, &ndone, cap);
	while (read(gfd[0], &w, sizeof(w)) == sizeof(w))
		if (w > worst)
			worst = w;
	while (read(ofd[0], &w, sizeof(w)) == sizeof(w)) {
		nopen++;
		if (w > oworst)
			oworst = w;
	}
	st = open_db(dir, 0);
	for (k = 0; k < ndone; k++) {
		snprintf(ip, sizeof(ip), "2001:db8:%x:%x::1", done[k] >> 16,
		    done[k] & 0xffff);
		if (st->ops->get(st->h, ip, strlen(ip), &gd) != STORE_OK ||
		    gd.pcount < 0)
			lost++;
	}
	store_close(st);
	printf("rounds: %d survived, %u committed WHITE, %d lost\n", rounds,
	    ndone, lost);
	printf("stall: longest grey_tuple call %.0f ms (after %d kills)\n",
	    worst, rounds);
	printf("open: longest open of the environment %.0f ms (%lu opens)\n",
	    oworst, nopen);
	return lost == 0 ? 0 : 1;
}

static unsigned long long
wchar(void)
{
	FILE			*fp;
	char			 line[128];
	unsigned long long	 v = 0;

	if ((fp = fopen("/proc/self/io", "r")) == NULL)
		err(1, "/proc/self/io");
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "wchar: %llu", &v) == 1)
			break;
	fclose(fp);
	return v;
}

static int
write_run(const char *dir, unsigned long n, unsigned long every,
    time_t age)
{
	struct store	*st = open_db(dir, GDB_CREATE);
	DB_ENV		*env = NULL;
	char		 ip[64], helo[64], to[64];
	unsigned long	 i;
	unsigned long long w0, w1;
	int		 ret;

	/* The old way: a forced checkpoint every `every' commits. */
	if (every > 0 && ((ret = db_env_create(&env, 0)) != 0 ||
	    (ret = env->open(env, dir, 0, 0)) != 0))
		errx(1, "join %s: %s", dir, db_strerror(ret));
	w0 = wchar();
	for (i = 0; i < n; i++) {
		snprintf(ip, sizeof(ip), "198.%lu.%lu.%lu", 18 + (i >> 16 & 1),
		    i >> 8 & 0xff, i & 0xff);
		snprintf(helo, sizeof(helo), "mail%lu.example.org", i % 5000);
		snprintf(to, sizeof(to), "<user%lu@example.net>", i);
		if (grey_tuple(st, &gc, time(NULL) - age, ip, helo,
		    "<a@example.org>",
		    to, NULL) == GREY_FAIL)
			errx(1, "tuple %lu failed", i);
		if (env != NULL && (i + 1) % every == 0)
			(void)env->txn_checkpoint(env, 0, 0, 0);
	}
	if (env != NULL)
		env->close(env, 0);
	store_close(st);
	w1 = wchar();
	if (every > 0)
		printf("written: %.0f bytes per tuple (%lu tuples, checkpoint "
		    "every %lu commits)\n", (double)(w1 - w0) / n, n, every);
	else
		printf("written: %.0f bytes per tuple (%lu tuples, checkpoint "
		    "by log size or time)\n", (double)(w1 - w0) / n, n);
	return 0;
}

int
main(int argc, char *argv[])
{
	const char	*e;

	log_init(1, "dbfault");
	if (argc == 4 && strcmp(argv[1], "kill") == 0) {
		int r = (int)strtonum(argv[3], 1, 100000, &e);

		if (e != NULL)
			usage();
		return kill_run(argv[2], r);
	}
	if (argc == 3 && strcmp(argv[1], "opener") == 0)
		for (;;)
			store_close(open_db(argv[2], GDB_RDONLY));
	if (argc == 5 && strcmp(argv[1], "write") == 0) {
		unsigned long n = strtonum(argv[3], 1, 10000000, &e);
		unsigned long every;

		if (e != NULL)
			usage();
		every = strtonum(argv[4], 0, 10000000, &e);
		if (e != NULL)
			usage();
		return write_run(argv[2], n, every, 0);
	}
	if (argc == 4 && strcmp(argv[1], "flood") == 0) {
		unsigned long n = strtonum(argv[3], 1, 10000000, &e);

		if (e != NULL)
			usage();
		return write_run(argv[2], n, 0, 10 * 86400);
	}
	usage();
}
